"""Reading the user's local files within limits: text (bounded, binary refused at its first chunk), image bytes,
and JSON or YAML documents (bounded nesting and aliases, no NaN). Every failure is a UsageError naming the file.

Used by the command line for attachments, by the tools catalogue for tools files, and by settings; no printing.
"""

from __future__ import annotations

import codecs
import contextlib
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

from qwen_cli.bounds import MAX_TEXT_BYTES, MIB, NotJSON, loads, non_finite_at
from qwen_cli.errors import UsageError

READ_CHUNK = 64 * 1024  # the first chunk of a text input decides whether it is text at all


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
    kind = image_kind(chunk) if offset == 0 else None
    if kind is not None:
        where = "-" if name == "stdin" else name
        raise UsageError(f"{name} is an image ({kind}), not text; send it with --image {where}")
    if b"\x00" in chunk:
        raise UsageError(f"{name} looks like a binary file (it contains NUL bytes); attach text files only")
    pending = len(decoder.getstate()[0])  # the start of a character cut by the previous chunk
    try:
        return decoder.decode(chunk, final)
    except UnicodeDecodeError as exc:
        at = offset - pending + exc.start
        raise UsageError(f"{name} is not valid UTF-8 (bad byte at offset {at}); convert it with iconv first") from exc


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


def replace_private(path: Path, text: str) -> None:
    """Write `text` to `path` readable by its owner alone (0600), replacing any file there whole: written to a
    temporary file beside it, synced, then renamed over it, so no reader ever sees half of it."""
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-")  # created 0600
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


IMAGE_SIGNATURES = {
    b"\x89PNG\r\n\x1a\n": "image/png",
    b"\xff\xd8\xff": "image/jpeg",
    b"GIF87a": "image/gif",
    b"GIF89a": "image/gif",
    b"BM": "image/bmp",
    b"II*\x00": "image/tiff",
    b"MM\x00*": "image/tiff",
}
HEIC_BRANDS = (b"ftypheic", b"ftypheix", b"ftyphevc", b"ftypmif1")


def image_kind(data: bytes) -> str | None:
    """The image type the first bytes of `data` show (the bytes decide, never a file's name), or None."""
    for signature, mime in IMAGE_SIGNATURES.items():
        if data.startswith(signature):
            return mime
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data[4:12] in HEIC_BRANDS:
        return "image/heic"
    if data[4:12] == b"ftypavif":
        return "image/avif"
    return None
