"""The process's edge: the one error boundary, a stdout that cannot be written, and choosing the output mode.

Failures become one line on stderr (and a JSON document on stdout in `-o json`) and an exit code here only, in
the world the command runs in (its streams, and the secrets it hides).
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn, TextIO

from qwen_cli.cli.world import World
from qwen_cli.errors import ExitCode, OutputError, QwenError
from qwen_cli.modes import OutputMode
from qwen_cli.redaction import Secrets


def choose_mode(output: OutputMode, world: World) -> OutputMode:
    """`auto` is pretty on a terminal and plain text anywhere else: pipes never get colour or wrapping."""
    if output is not OutputMode.AUTO:
        return output
    return OutputMode.PRETTY if world.stdout_is_terminal() else OutputMode.TEXT


@dataclass
class Boundary:
    """What the boundary must know about the command it guards: its world (which learns the request's secrets
    once it is built, so no error line shows them) and whether errors go to stdout as JSON too."""

    world: World
    json_errors: bool

    def learn(self, secrets: Secrets) -> World:
        """Hide `secrets` in every line from here on; the world that does so, for the rest of the command."""
        self.world = self.world.knowing(secrets)
        return self.world


@contextlib.contextmanager
def error_boundary(world: World, debug: bool, json_errors: bool) -> Iterator[Boundary]:
    """The one place where failures become a line on stderr and an exit code; no traceback unless --debug."""
    boundary = Boundary(world, json_errors)
    try:
        yield boundary
        boundary.world.stdout.flush()  # what is still buffered fails here, inside the boundary, not at exit
    except OutputError as exc:
        silence_stdout(boundary.world.stdout)  # the buffered rest would fail again at exit
        fail(exc, boundary.world, json_errors=False)
    except QwenError as exc:
        fail(exc, boundary.world, boundary.json_errors)
    except KeyboardInterrupt:
        fail(QwenError("interrupted"), boundary.world, boundary.json_errors, ExitCode.INTERRUPTED)
    except BrokenPipeError:
        silence_stdout(boundary.world.stdout)
        raise SystemExit(0) from None
    except Exception as exc:
        if debug:
            raise
        fail(
            QwenError(f"internal error: {type(exc).__name__}: {exc} (run again with --debug for details)"),
            boundary.world,
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
        silence_stdout(sys.stdout)  # the buffered rest would fail again at exit
        fail(exc, World.of_process(), json_errors=False)
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


def fail(error: QwenError, world: World, json_errors: bool, exit_code: int | None = None) -> NoReturn:
    code = exit_code if exit_code is not None else int(error.exit_code)
    # A closed or full stdout must not turn into a traceback, nor keep the line on stderr from being written.
    with contextlib.suppress(OSError, ValueError):
        print(world.for_stderr(f"qwen: error: {error.line()}"), file=world.stderr, flush=True)
    if json_errors and error.json_on_stdout:
        document = error.to_json()
        document["error"]["exit_code"] = code
        with contextlib.suppress(OSError, ValueError, OutputError):
            print(world.secrets.text(json.dumps(document, ensure_ascii=False)), file=world.stdout, flush=True)
    raise SystemExit(code)


def silence_stdout(stream: TextIO) -> None:
    """After the reader of stdout went away (or it cannot be written), point it at /dev/null so the final flush
    stays quiet. A stream with no descriptor (a test's) needs nothing."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        fileno = stream.fileno()
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, fileno)


def json_requested(argv: Sequence[str]) -> bool:
    """Whether the command line asked for JSON, for errors found before the flags could be parsed."""
    return (
        "--json" in argv
        or any(a in ("-o", "--output") and b == "json" for a, b in zip(argv, argv[1:]))
        or "--output=json" in argv
    )
