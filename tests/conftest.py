"""Shared fixtures: an emulator on 127.0.0.1, and the installed `qwen` run as a real process against it.

Every qwen process gets its own HOME and XDG directories, so no test sees the developer's config or history.
"""

from __future__ import annotations

import os
import pty
import select
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from qwen_cli.emulator import Emulator

FIXTURES = Path(__file__).parent / "fixtures"
API_KEY = "sk-test-0123456789abcdef"


def qwen_executable(name: str = "qwen") -> str:
    """The console script installed next to this interpreter (`qwen`, or the same program as `qwen-cli`): the tests
    run what a user runs."""
    found = shutil.which(name, path=os.path.dirname(sys.executable))
    assert found, f"the {name} command is not installed in this environment; install the project first (see README)"
    return found


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture(scope="session")
def emulator_server() -> Iterator[Emulator]:
    with Emulator() as server:
        yield server


@pytest.fixture
def emulator(emulator_server: Emulator) -> Emulator:
    emulator_server.reset()
    return emulator_server


@pytest.fixture
def qwen_env(tmp_path: Path, emulator: Emulator) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("QWEN_", "DASHSCOPE_", "XDG_"))}
    env.pop("NO_COLOR", None)
    env.update(
        HOME=str(tmp_path / "home"),
        XDG_CONFIG_HOME=str(tmp_path / "config"),
        XDG_DATA_HOME=str(tmp_path / "data"),
        DASHSCOPE_API_KEY=API_KEY,
        QWEN_BASE_URL=emulator.base_url,
        PYTHONIOENCODING="utf-8",
    )
    return env


@pytest.fixture
def qwen(qwen_env: dict[str, str]):
    """Run `qwen ARGS...` with stdin closed (or fed `input`) and return its exit code and outputs."""

    def run(
        *args: str,
        input: str | bytes | None = None,
        env: dict[str, str] | None = None,
        timeout: float = 30,
        cwd: Path | None = None,
    ) -> Result:
        data = input.encode("utf-8") if isinstance(input, str) else input
        completed = subprocess.run(
            [qwen_executable(), *args],
            cwd=cwd,
            input=data,
            stdin=None if data is not None else subprocess.DEVNULL,
            capture_output=True,
            env={**qwen_env, **(env or {})},
            timeout=timeout,
        )
        result = Result(completed.returncode, completed.stdout.decode("utf-8"), completed.stderr.decode("utf-8"))
        assert_no_secret(result)
        return result

    return run


def assert_no_secret(result: Result) -> None:
    """Every run of every test checks that the API key never reaches the user's screen or files."""
    assert API_KEY not in result.stdout and API_KEY not in result.stderr, "the API key leaked into the output"


@pytest.fixture
def qwen_pty(qwen_env: dict[str, str]):
    """Run `qwen ARGS...` with stdin, stdout and stderr on a pseudo-terminal, as a person at a shell would."""

    def run(*args: str, env: dict[str, str] | None = None, timeout: float = 30, columns: int = 80) -> Result:
        result = run_in_pty(
            [qwen_executable(), *args], {**qwen_env, "COLUMNS": str(columns), "LINES": "40", **(env or {})}, timeout
        )
        assert_no_secret(result)
        return result

    return run


def run_in_pty(argv: list[str], env: dict[str, str], timeout: float) -> Result:
    controller, terminal = pty.openpty()
    process = subprocess.Popen(argv, stdin=terminal, stdout=terminal, stderr=terminal, env=env, close_fds=True)
    os.close(terminal)
    screen = read_until_closed(controller, time.monotonic() + timeout)
    process.wait(timeout=5)
    os.close(controller)
    return Result(process.returncode, screen.decode("utf-8", "replace"), "")


def read_until_closed(fd: int, deadline: float) -> bytes:
    chunks: list[bytes] = []
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.1)
        if not ready:
            continue
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # EIO: the other side closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


def answer_ctrl_c() -> None:
    """In the child: SIGINT as at an interactive shell, even when pytest itself runs as a background job
    (a shell starts those with SIGINT ignored, and Python then never raises KeyboardInterrupt)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
