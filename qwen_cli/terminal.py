"""The process's edge: notes on stderr, the one error boundary, and choosing the output mode; part of the cli layer.

Failures become one line on stderr (and a JSON document on stdout in `-o json`) and an exit code here only.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Iterator
from typing import NoReturn

import typer

from qwen_cli.errors import ExitCode, QwenError


def choose_mode(output: str) -> str:
    """`auto` is pretty on a terminal and plain text anywhere else: pipes never get colour or wrapping."""
    if output != "auto":
        return output
    return "pretty" if sys.stdout.isatty() else "text"


def note(message: str) -> None:
    print(f"qwen: {message}", file=sys.stderr, flush=True)


@contextlib.contextmanager
def error_boundary(debug: bool, json_errors: bool) -> Iterator[None]:
    """The one place where failures become a line on stderr and an exit code; no traceback unless --debug."""
    try:
        yield
    except QwenError as exc:
        fail(exc, json_errors)
    except KeyboardInterrupt:
        fail(QwenError("interrupted"), json_errors, ExitCode.INTERRUPTED)
    except BrokenPipeError:
        silence_stdout()
        raise typer.Exit(0) from None
    except typer.Exit:
        raise
    except Exception as exc:
        if debug:
            raise
        fail(QwenError(f"internal error: {type(exc).__name__}: {exc} (run again with --debug for details)"), json_errors)


def fail(error: QwenError, json_errors: bool, exit_code: int | None = None) -> NoReturn:
    code = exit_code if exit_code is not None else int(error.exit_code)
    with contextlib.suppress(BrokenPipeError):
        if json_errors:
            document = error.to_json()
            document["error"]["exit_code"] = code
            print(json.dumps(document, ensure_ascii=False), flush=True)
        print(f"qwen: error: {error.line()}", file=sys.stderr, flush=True)
    raise typer.Exit(code)


def silence_stdout() -> None:
    """After the reader of stdout went away, point stdout at /dev/null so the final flush stays quiet."""
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())


