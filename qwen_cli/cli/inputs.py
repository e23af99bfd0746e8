"""What the user attaches: text files, piped stdin, images and message files, read and checked.

Every problem becomes a UsageError (exit 2) before any network. The caller hands in the stdin stream,
so this module never reaches for sys.stdin itself. Everything is read in chunks under a size cap, and text
is checked as it arrives: /dev/zero or /dev/urandom given as a file is refused at its first chunk.
"""

from __future__ import annotations

import base64
import codecs
import contextlib
import os
import select
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

from qwen_cli.bounds import MAX_TEXT_BYTES, MIB, NotJSON, loads, non_finite_at
from qwen_cli.errors import UsageError
from qwen_cli.api.request import Attachment, UserInput

MAX_IMAGE_BYTES = 20 * MIB  # the API's documented limit for an image
READ_CHUNK = 64 * 1024  # the first chunk of a text input decides whether it is text at all
IMAGE_SIGNATURES = {
    b"\x89PNG\r\n\x1a\n": "image/png",
    b"\xff\xd8\xff": "image/jpeg",
    b"GIF87a": "image/gif",
    b"GIF89a": "image/gif",
    b"BM": "image/bmp",
    b"II*\x00": "image/tiff",
    b"MM\x00*": "image/tiff",
}


@contextlib.contextmanager
def opened(path: str) -> Iterator[BinaryIO]:
    """The file open for reading; every failure to open or read it is a UsageError that names it."""
    try:
        with open(path, "rb") as file:
            yield file
    except FileNotFoundError as exc:
        raise UsageError(f"no such file: {path}") from exc
    except IsADirectoryError as exc:
        raise UsageError(f"{path} is a directory; attach files one by one with -f") from exc
    except PermissionError as exc:
        raise UsageError(f"cannot read {path}: permission denied") from exc
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from exc


def regular_size(file: BinaryIO) -> int | None:
    """The size of a regular file, known before reading it; None for a pipe, a terminal or a device."""
    try:
        status = os.fstat(file.fileno())
    except (OSError, ValueError, AttributeError):  # a test double has no descriptor
        return None
    return status.st_size if stat.S_ISREG(status.st_mode) else None


def too_large(name: str, limit: int, size: int | None, rule: str, advice: str = "") -> UsageError:
    # Exact byte counts: a file just over the limit must not read as "32 MiB; up to 32 MiB".
    held = f"is {size:,} bytes" if size is not None else f"holds more than {limit // MIB} MiB"
    return UsageError(f"{name} {held}; {rule} up to {limit // MIB} MiB ({limit:,} bytes){advice}")


TEXT_RULE, TEXT_ADVICE = "qwen reads text files and stdin", ": send an excerpt (head, tail, grep)"
IMAGE_RULE = "the API takes images"


def read_bytes(path: str, limit: int) -> bytes:
    """An image file's bytes, refused once past `limit` (before reading, when the file says its size)."""
    with opened(path) as file:
        size = regular_size(file)
        if size is not None and size > limit:
            raise too_large(path, limit, size, IMAGE_RULE)
        data = file.read(limit + 1)
    if len(data) > limit:
        raise too_large(path, limit, None, IMAGE_RULE)
    return data


def read_text(path: str, limit: int = MAX_TEXT_BYTES) -> str:
    """A text file, checked as it is read (see `read_text_from`)."""
    with opened(path) as file:
        size = regular_size(file)
        if size is not None and size > limit:
            raise too_large(path, limit, size, TEXT_RULE, TEXT_ADVICE)
        return read_text_from(file, path, limit)


def read_text_from(stream: BinaryIO, name: str, limit: int = MAX_TEXT_BYTES) -> str:
    """UTF-8 text from a file or pipe, read in chunks: a NUL byte or invalid UTF-8 is refused in the chunk that
    holds it, so binary input is refused at its first chunk, and anything past `limit` bytes as soon as it is."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    parts: list[str] = []
    size = 0
    while chunk := stream.read(READ_CHUNK):
        size += len(chunk)
        if size > limit:
            raise too_large(name, limit, None, TEXT_RULE, TEXT_ADVICE)
        parts.append(checked_text(decoder, chunk, name, size - len(chunk)))
    parts.append(checked_text(decoder, b"", name, size, final=True))
    text = "".join(parts)
    return text[1:] if text.startswith("\ufeff") else text  # a UTF-8 byte order mark is dropped


def checked_text(decoder: codecs.IncrementalDecoder, chunk: bytes, name: str, offset: int, final: bool = False) -> str:
    """One chunk decoded; `offset` is where it starts in the input, for the message about a bad byte."""
    if b"\x00" in chunk:
        raise UsageError(f"{name} looks like a binary file (it contains NUL bytes); attach text files only")
    pending = len(decoder.getstate()[0])  # the start of a character cut by the previous chunk
    try:
        return decoder.decode(chunk, final)
    except UnicodeDecodeError as exc:
        at = offset - pending + exc.start
        raise UsageError(f"{name} is not valid UTF-8 (bad byte at offset {at}); convert it with iconv first") from exc


def read_attachment(path: str, stdin: BinaryIO | None) -> Attachment:
    """`-f PATH` attaches a text file under its name; `-f -` attaches all of stdin."""
    if path == "-":
        if stdin is None:
            raise UsageError("-f - reads stdin, but stdin is turned off (--no-stdin) or is a terminal")
        return Attachment(name="stdin", text=read_text_from(stdin, "stdin"))
    return Attachment(name=path, text=read_text(path))


@dataclass(frozen=True)
class Sources:
    """Where a request's input comes from, as the user named it."""

    prompt: str = ""
    files: tuple[str, ...] = ()
    images: tuple[str, ...] = ()
    messages: str | None = None


def collect(
    sources: Sources, stdin: BinaryIO | None, stdin_wait: float, note: Callable[[str], None], items: tuple[dict[str, Any], ...] = ()
) -> UserInput:
    """Read everything the user attached; piped text is the material, or the prompt itself when there is none.

    `stdin` is None when it is a terminal or turned off. With other input given, an open stdin that stays
    silent for `stdin_wait` seconds is left alone (CI runners leave one open); `-f -` always waits for it.
    `items` (answers to function calls) follow the --messages items and come before the prompt.
    """
    if sources.files.count("-") > 1:
        raise UsageError("-f - is given twice: stdin can be read only once")
    attachments = [read_attachment(path, stdin) for path in sources.files]
    images = tuple(load_image(ref) for ref in sources.images)
    messages = (load_messages(sources.messages) if sources.messages else ()) + items or None
    prompt = sources.prompt
    if stdin is not None and "-" not in sources.files:
        has_other_input = bool(prompt.strip() or attachments or images or messages)
        piped = piped_text(stdin, stdin_wait if has_other_input else None, note)
        if piped and not prompt.strip():
            prompt = piped.rstrip()
        elif piped:
            attachments.insert(0, Attachment(name="stdin", text=piped))
    return UserInput(prompt=prompt, attachments=tuple(attachments), images=images, messages=messages)


def piped_text(stdin: BinaryIO, wait: float | None, note: Callable[[str], None]) -> str:
    text = read_piped_stdin(stdin, wait)
    if text is None:
        note(f"stdin sent nothing within {wait:g} s; going on without it (-f - waits for slow input, --no-stdin skips stdin)")
        return ""
    return text if text.strip() else ""


def read_piped_stdin(stdin: BinaryIO, wait: float | None) -> str | None:
    """All of a piped stdin as text, or None when it delivers nothing within `wait` seconds (None: wait for it).

    CI runners often leave stdin open and idle; with a prompt given, qwen must not hang on it.
    Once the first byte arrives the rest is read to the end (up to the cap), however long the writer takes.
    """
    if wait is not None and not has_data_within(stdin, wait):
        return None
    return read_text_from(stdin, "stdin")


def has_data_within(stdin: BinaryIO, seconds: float) -> bool:
    try:
        ready, _, _ = select.select([stdin], [], [], seconds)
    except (OSError, ValueError, TypeError):
        return True  # not a selectable descriptor (a test double, a Windows pipe): just read it
    return bool(ready)


def load_image(ref: str) -> str:
    """An image URL (https or data:) is sent as it is; a local file becomes a data URL."""
    if ref.startswith(("http://", "https://", "data:")):
        return ref
    data = read_bytes(ref, MAX_IMAGE_BYTES)
    mime = image_type(data, ref)
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def image_type(data: bytes, name: str) -> str:
    for signature, mime in IMAGE_SIGNATURES.items():
        if data.startswith(signature):
            return mime
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    brand = data[4:12]
    if brand in (b"ftypheic", b"ftypheix", b"ftyphevc", b"ftypmif1"):
        return "image/heic"
    if brand == b"ftypavif":
        return "image/avif"
    # The bytes decide, not the name: a text file called x.png must not be sent as an image.
    raise UsageError(f"{name} is not an image qwen recognises (PNG, JPEG, GIF, WebP, BMP, TIFF, HEIC, AVIF); pass a URL instead")


def load_messages(path: str) -> tuple[dict[str, Any], ...]:
    """`--messages` takes a JSON or YAML file holding the complete `input` array."""
    items = parse_json_or_yaml(read_text(path), path)
    if isinstance(items, dict) and isinstance(items.get("input"), list):
        items = items["input"]  # a whole request body is accepted too
    if not isinstance(items, list) or not items:
        raise UsageError(f"{path}: expected a non-empty list of input items (messages like {{role: user, content: ...}})")
    for index, item in enumerate(items):
        if not isinstance(item, dict) or not ("role" in item or "type" in item):
            raise UsageError(f"{path}: item {index + 1} is not an input item (it needs a 'role' or a 'type')")
    return tuple(items)


def parse_json_or_yaml(text: str, path: str) -> Any:
    """A JSON file (or, when its name does not say .json, one that reads as JSON), else YAML.

    Either way the value is bounded (nesting, YAML aliases) and holds no number JSON cannot carry (NaN, infinities):
    it is headed for a request body.
    """
    if os.path.splitext(path)[1].lower() not in (".yaml", ".yml"):
        try:
            return refuse_non_finite(loads(text, finite=True), path)
        except NotJSON as exc:
            if exc.line is None:  # valid JSON syntax, but nested too deep or holding NaN: no YAML reading saves it
                raise UsageError(f"{path}: not JSON qwen can send: {exc}") from exc
            if path.lower().endswith(".json"):
                raise UsageError(f"{path}:{exc.line}: invalid JSON: {exc.reason}") from exc
    from qwen_cli.settings import yamlfile

    return yamlfile.parse(text, path)


def refuse_non_finite(value: Any, path: str) -> Any:
    where = non_finite_at(value)
    if where is not None:
        raise UsageError(f"{path}: the number at {where} is not finite (NaN or an infinity), which JSON cannot carry")
    return value
