"""The process's edge: notes on stderr, the one error boundary, and choosing the output mode; part of the cli layer.

Failures become one line on stderr (and a JSON document on stdout in `-o json`) and an exit code here only.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn, TextIO

from qwen_cli.errors import ExitCode, OutputError, QwenError
from qwen_cli.modes import OutputMode
from qwen_cli.redaction import Secrets, neutralise_controls


def choose_mode(output: OutputMode) -> OutputMode:
    """`auto` is pretty on a terminal and plain text anywhere else: pipes never get colour or wrapping."""
    if output is not OutputMode.AUTO:
        return output
    return OutputMode.PRETTY if sys.stdout is not None and sys.stdout.isatty() else OutputMode.TEXT


def note(message: str) -> None:
    print(for_stderr(f"qwen: {message}"), file=sys.stderr, flush=True)


def note_all(messages: Iterable[str]) -> None:
    for message in messages:
        note(message)


@dataclass
class Boundary:
    """What the boundary must know about the command it guards; `json_errors` is settled once settings are."""

    json_errors: bool


@contextlib.contextmanager
def error_boundary(debug: bool, json_errors: bool) -> Iterator[Boundary]:
    """The one place where failures become a line on stderr and an exit code; no traceback unless --debug."""
    boundary = Boundary(json_errors)
    try:
        with stdout_guard():
            yield boundary
    except QwenError as exc:
        fail(exc, boundary.json_errors)
    except KeyboardInterrupt:
        fail(QwenError("interrupted"), boundary.json_errors, ExitCode.INTERRUPTED)
    except BrokenPipeError:
        silence_stdout()
        raise SystemExit(0) from None
    except Exception as exc:
        if debug:
            raise
        fail(
            QwenError(f"internal error: {type(exc).__name__}: {exc} (run again with --debug for details)"),
            boundary.json_errors,
        )


@contextlib.contextmanager
def stdout_guard() -> Iterator[None]:
    """While a command runs, a stdout that cannot be written (a full disk) is exit 6 with one line, never a
    traceback or an "internal error"; what is still buffered is written before the guard ends, inside it."""
    original = sys.stdout
    sys.stdout = guarded(original)
    try:
        yield
        sys.stdout.flush()
    except OutputError as exc:
        silence_stdout()  # the buffered rest would fail again at exit
        fail(exc, json_errors=False)
    finally:
        sys.stdout = original


class GuardedOutput:
    """stdout as commands write it: a write or flush that fails (a full disk, an I/O error) raises OutputError,
    so it is reported as what it is. A closed pipe stays BrokenPipeError: a reader that left ends qwen quietly."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise output_failure(exc) from None

    def flush(self) -> None:
        try:
            self._stream.flush()
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise output_failure(exc) from None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)  # isatty, fileno, encoding, buffer: as the real stream has them


def guarded(stream: TextIO | None) -> Any:
    if stream is None or isinstance(stream, GuardedOutput):
        return stream
    return GuardedOutput(stream)


def output_failure(exc: OSError) -> OutputError:
    return OutputError(f"cannot write the answer: {exc.strerror or exc}")


def fail(error: QwenError, json_errors: bool, exit_code: int | None = None) -> NoReturn:
    code = exit_code if exit_code is not None else int(error.exit_code)
    with contextlib.suppress(
        OSError, ValueError, OutputError
    ):  # a closed or full stdout must not turn into a traceback
        if json_errors and error.json_on_stdout:
            document = error.to_json()
            document["error"]["exit_code"] = code
            print(without_secrets(json.dumps(document, ensure_ascii=False)), flush=True)
        print(for_stderr(f"qwen: error: {error.line()}"), file=sys.stderr, flush=True)
    raise SystemExit(code)


# The secrets of this command's request (the key, MCP header values, a URL's password), for whatever an error
# quotes; the key is also read from the environment, for errors raised before the request was built.
SECRETS = Secrets()


def remember_secrets(secrets: Secrets) -> None:
    global SECRETS
    SECRETS = SECRETS.merged(secrets)


def without_secrets(text: str) -> str:
    """The last line of defence: whatever an error quotes (a header, a URL), no secret reaches a screen.

    The same rule as everywhere (see `redaction`): the key and secrets of at least 8 characters, in any text.
    """
    key = os.environ.get("DASHSCOPE_API_KEY", "").strip()
    return SECRETS.merged(Secrets.of(key or None)).text(text)


def for_stderr(line: str) -> str:
    """A line for stderr, which is usually a terminal even when stdout is piped: no secret, no control sequence."""
    return neutralise_controls(without_secrets(line))


def for_screen(text: str) -> str:
    """Text from outside (a stored prompt, a server's item, a project's preset) bound for stdout: on a terminal its
    control characters are shown as symbols, so it cannot drive the terminal; in a pipe it passes unchanged."""
    text = without_secrets(text)  # an entry recorded before qwen redacted echoed keys may still hold one
    return neutralise_controls(text) if sys.stdout is not None and sys.stdout.isatty() else text


def print_for_screen(text: str, end: str = "\n") -> None:
    print(for_screen(text), end=end)


def silence_stdout() -> None:
    """After the reader of stdout went away, point stdout at /dev/null so the final flush stays quiet."""
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())


def json_requested(argv: Sequence[str]) -> bool:
    """Whether the command line asked for JSON, for errors found before the flags could be parsed."""
    return (
        "--json" in argv
        or any(a in ("-o", "--output") and b == "json" for a, b in zip(argv, argv[1:]))
        or "--output=json" in argv
    )
