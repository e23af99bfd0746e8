"""What the user attaches: text files, piped stdin, images and message files, read and checked.

Every problem becomes a UsageError (exit 2) before any network. The caller hands in the stdin stream,
so this module never reaches for sys.stdin itself. Everything is read in chunks under a size cap, and text
is checked as it arrives: /dev/zero or /dev/urandom given as a file is refused at its first chunk.
"""

from __future__ import annotations

import base64
import os
import select
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, BinaryIO

from qwen_cli.api.request import Attachment, UserInput
from qwen_cli.bounds import MIB
from qwen_cli.errors import UsageError
from qwen_cli.settings.files import (
    IMAGE_RULE,
    image_kind,
    parse_json_or_yaml,
    read_bytes,
    read_text,
    read_text_from,
    too_large,
)

ANNOUNCE_AFTER = 1.0  # seconds of waiting on stdin before saying so (on a terminal)
MAX_IMAGE_BYTES = 20 * MIB  # the API's documented limit for an image


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


@dataclass(frozen=True)
class StdinPolicy:
    """How a piped stdin is read: `grace` says how long it may stay silent when other input is given (called
    only then: it looks at who writes to the pipe), `waiting` is told when a wait passes a second (a note on a
    terminal), and `note` says that qwen went on without it."""

    grace: Callable[[], float | None]
    note: Callable[[str], None]
    waiting: Callable[[], None] = lambda: None
    quiet_after_data: Callable[[], None] = lambda: None  # the writer went quiet without ending its input


@dataclass(frozen=True)
class Collected:
    """What the user attached, and whether an open stdin was left unread after its grace period."""

    user_input: UserInput
    stdin_left: bool = False


def collect(
    sources: Sources,
    stdin: BinaryIO | None,
    policy: StdinPolicy,
    items: tuple[dict[str, Any], ...] = (),
) -> Collected:
    """Read everything the user attached; piped text is the material, or the prompt itself when there is none.

    `stdin` is None when it is a terminal or turned off. With other input given, an open stdin that stays
    silent for its grace period is left alone (CI runners leave one open); `-f -` always waits for it.
    `items` (answers to function calls) follow the --messages items and come before the prompt.
    """
    if sources.files.count("-") + sources.images.count("-") > 1:
        raise UsageError("stdin is named twice (-f -, --image -): it can be read only once")
    attachments = [read_attachment(path, stdin) for path in sources.files]
    images = tuple(load_image(ref, stdin) for ref in sources.images)
    messages = (load_messages(sources.messages) if sources.messages else ()) + items or None
    prompt = sources.prompt
    left = False
    if stdin is not None and "-" not in sources.files and "-" not in sources.images:
        has_other_input = bool(prompt.strip() or attachments or images or messages)
        quiet: list[bool] = []  # the writer went quiet without ending: what it sends later must not go unnoticed
        watched = replace(policy, quiet_after_data=lambda: quiet.append(True))
        piped = piped_text(stdin, policy.grace() if has_other_input else None, watched)
        left = piped is None or bool(quiet)
        if piped and not prompt.strip():
            prompt = piped.rstrip()
        elif piped:
            attachments.insert(0, Attachment(name="stdin", text=piped))
    user_input = UserInput(prompt=prompt, attachments=tuple(attachments), images=images, messages=messages)
    return Collected(user_input, left)


def piped_text(stdin: BinaryIO, wait: float | None, policy: StdinPolicy) -> str | None:
    """The piped text ("" when it is empty or blank), or None when it stayed silent for `wait` seconds."""

    def went_quiet() -> None:
        policy.note(
            f"stdin sent some text, then nothing more for {wait:g} s without ending; going on with what it sent"
        )
        policy.quiet_after_data()

    text = read_piped_stdin(stdin, wait, policy.waiting, went_quiet)
    if text is None:
        policy.note(
            f"stdin sent nothing within {wait:g} s; going on without it (--stdin-wait SECONDS waits longer, -f - waits for its end, --no-stdin skips it)"
        )
        return None
    return text if text.strip() else ""


def read_piped_stdin(
    stdin: BinaryIO,
    wait: float | None,
    waiting: Callable[[], None] = lambda: None,
    went_quiet: Callable[[], None] = lambda: None,
) -> str | None:
    """All of a piped stdin as text, or None when it delivers nothing within `wait` seconds (None: wait for it).

    CI runners often leave stdin open and idle; with a prompt given, qwen must not hang on it. A wait that
    passes a second is announced (`waiting`). With no grace period (a pipeline's producer, or no other input)
    the rest is read to the end, however long the writer takes; with one, a writer that sends something and
    then stays silent for `wait` seconds without closing the pipe ends the reading (`went_quiet` is told).
    """
    first = ANNOUNCE_AFTER if wait is None else min(wait, ANNOUNCE_AFTER)
    if not has_data_within(stdin, first):
        if wait is not None and wait <= ANNOUNCE_AFTER:
            return None
        waiting()
        if wait is not None and not has_data_within(stdin, wait - first):
            return None
    if wait is None:
        return read_text_from(stdin, "stdin")
    limited = IdleLimited(stdin, wait)
    text = read_text_from(limited, "stdin")  # type: ignore[arg-type]
    if limited.went_quiet:
        went_quiet()
    return text


class IdleLimited:
    """A stream whose reading ends, as at the end of input, once it stays silent for `idle` seconds: a parent that
    writes a line to qwen's stdin and then waits for qwen to exit before closing it must not hang them both."""

    def __init__(self, stream: BinaryIO, idle: float) -> None:
        self.stream, self.idle, self.went_quiet = stream, idle, False

    def read(self, size: int) -> bytes:
        if not has_data_within(self.stream, self.idle):
            self.went_quiet = True
            return b""
        try:
            return os.read(self.stream.fileno(), size)  # unbuffered: no byte may hide from the next select
        except (AttributeError, OSError, ValueError):
            return self.stream.read(size)


def late_data(stdin: BinaryIO) -> bool:
    """Whether stdin, left unread after its grace period, holds data now (an end of input holds none)."""
    if not has_data_within(stdin, 0):
        return False
    try:
        return bool(stdin.read1(1) if hasattr(stdin, "read1") else stdin.read(1))
    except (OSError, ValueError):
        return False


def has_data_within(stdin: BinaryIO, seconds: float) -> bool:
    try:
        ready, _, _ = select.select([stdin], [], [], seconds)
    except (OSError, ValueError, TypeError):
        return True  # not a selectable descriptor (a test double, a Windows pipe): just read it
    return bool(ready)


def load_image(ref: str, stdin: BinaryIO | None = None) -> str:
    """An image URL (https or data:) is sent as it is; a local file, or stdin for `-`, becomes a data URL."""
    if ref.startswith(("http://", "https://", "data:")):
        return ref
    data = read_image_from_stdin(stdin) if ref == "-" else read_bytes(ref, MAX_IMAGE_BYTES)
    mime = image_type(data, "stdin" if ref == "-" else ref)
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def image_type(data: bytes, name: str) -> str:
    # The bytes decide, not the name: a text file called x.png must not be sent as an image.
    mime = image_kind(data)
    if mime is None:
        raise UsageError(
            f"{name} is not an image qwen recognises (PNG, JPEG, GIF, WebP, BMP, TIFF, HEIC, AVIF); pass a URL instead"
        )
    return mime


def read_image_from_stdin(stdin: BinaryIO | None) -> bytes:
    if stdin is None:
        raise UsageError("--image - reads the image from stdin, but stdin is turned off (--no-stdin) or is a terminal")
    data = stdin.read(MAX_IMAGE_BYTES + 1)
    if len(data) > MAX_IMAGE_BYTES:
        raise too_large("stdin", MAX_IMAGE_BYTES, None, IMAGE_RULE)
    return data


def load_messages(path: str) -> tuple[dict[str, Any], ...]:
    """`--messages` takes a JSON or YAML file holding the complete `input` array."""
    items = parse_json_or_yaml(read_text(path), path)
    if isinstance(items, dict) and isinstance(items.get("input"), list):
        items = items["input"]  # a whole request body is accepted too
    if not isinstance(items, list) or not items:
        raise UsageError(
            f"{path}: expected a non-empty list of input items (messages like {{role: user, content: ...}})"
        )
    for index, item in enumerate(items):
        if not isinstance(item, dict) or not ("role" in item or "type" in item):
            raise UsageError(f"{path}: item {index + 1} is not an input item (it needs a 'role' or a 'type')")
    return tuple(items)
