"""Everything one run of qwen takes from outside the process: the environment, the standard streams, the working
directory, the clock (and how to wait), the HTTP transport and the secrets to hide. Built once at the entry and passed down, so
the orchestration below it can be run in-process by a test with a world of its own (no module reads os.environ,
sys.stdout or the working directory deep down, and no secret lives in a module-global registry).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, BinaryIO, TextIO

from qwen_cli.redaction import Secrets, neutralise_controls
from qwen_cli.settings.config import API_KEY_ENV


@dataclass(frozen=True)
class World:
    env: Mapping[str, str]
    stdin: BinaryIO | None  # None when there is no stdin at all (a closed descriptor)
    stdout: TextIO
    stderr: TextIO
    cwd: Path
    stdin_is_terminal: bool = False
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep  # how a retry waits; a test's world records the wait instead
    transport: Any = None  # an httpx transport (httpx.MockTransport in tests); None: the network
    secrets: Secrets = field(default_factory=Secrets)  # the key, and every secret learnt since

    @classmethod
    def of_process(cls) -> World:
        """The world of this process, at the entry: the environment, stdio and working directory as they are."""
        from qwen_cli.cli.terminal import guarded

        stdin = sys.stdin.buffer if sys.stdin is not None else None
        return cls(
            env=os.environ,
            stdin=stdin,
            stdout=guarded(sys.stdout),
            stderr=CurrentStderr(),  # type: ignore[arg-type]
            cwd=Path.cwd(),
            stdin_is_terminal=bool(sys.stdin is not None and sys.stdin.isatty()),
            secrets=Secrets.of(key_in(os.environ)),
        )

    def knowing(self, secrets: Secrets) -> World:
        """This world, hiding `secrets` too (learnt when a request is built: MCP header values, a URL's password)."""
        return replace(self, secrets=self.secrets.merged(secrets))

    def stdout_is_terminal(self) -> bool:
        try:
            return bool(self.stdout.isatty())
        except (AttributeError, ValueError):
            return False

    def stderr_is_terminal(self) -> bool:
        try:
            return bool(self.stderr.isatty())
        except (AttributeError, ValueError):
            return False

    def note(self, message: str) -> None:
        """A line on stderr, which is usually a terminal even when stdout is piped: no secret, no control sequence."""
        print(self.for_stderr(f"qwen: {message}"), file=self.stderr, flush=True)

    def note_all(self, messages: Iterable[str]) -> None:
        for message in messages:
            self.note(message)

    def for_stderr(self, line: str) -> str:
        return neutralise_controls(self.secrets.text(line))

    def for_screen(self, text: str) -> str:
        """Text from outside (a stored prompt, a server's item, a project's preset) bound for stdout: never a secret
        (an entry recorded by an older qwen may hold one); on a terminal, control characters shown as symbols."""
        text = self.secrets.text(text)
        return neutralise_controls(text) if self.stdout_is_terminal() else text

    def print_for_screen(self, text: str, end: str = "\n") -> None:
        print(self.for_screen(text), end=end, file=self.stdout)


def key_in(env: Mapping[str, str]) -> str | None:
    """The key as the environment holds it, for hiding only: whether it is a valid key is the settings' business."""
    return (env.get(API_KEY_ENV) or "").strip() or None


class CurrentStderr:
    """The process's stderr, looked up each time it is written: while rich draws a live answer it swaps sys.stderr
    for a proxy that prints notes above the answer, and a note must go there, not under the redraw."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(sys.stderr, name)  # isatty, fileno, encoding
