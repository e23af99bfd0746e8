"""The fast entry point: `--version` and every `--help` answered without typer, byte for byte as the Typer app
prints them, and only at the width the stored texts were rendered for; everything else reaches the Typer app."""

from __future__ import annotations

import fcntl
import os
import pty
import struct
import subprocess
import sys
import termios
import time

import pytest
from conftest import qwen_executable, read_until_closed

from qwen_cli import __version__
from qwen_cli.cli._help_texts import COLUMNS, HELP
from qwen_cli.dev import generate

# The Typer app itself, bypassing the fast entry point: what every fast answer must equal.
TYPER_APP = [sys.executable, "-c", "import sys; sys.argv[0] = 'qwen'; from qwen_cli.cli.app import main; main()"]
REGENERATE = (
    "the stored help texts are out of date: run `.venv/bin/python -m qwen_cli.dev.generate` and commit the result"
)


def plain_env(**extra: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("COLUMNS", "LINES") and not key.startswith("_QWEN")
    }
    return {**env, **extra}


def run(argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL, timeout=30)


def run_on_terminal(argv: list[str], columns: int) -> str:
    """What `argv` shows on a terminal `columns` wide (COLUMNS unset, as in an interactive shell)."""
    controller, terminal = pty.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
    process = subprocess.Popen(argv, stdin=terminal, stdout=terminal, stderr=terminal, env=plain_env(TERM="xterm"))
    os.close(terminal)
    try:
        return read_until_closed(controller, time.monotonic() + 30).decode()
    finally:
        process.wait(timeout=5)
        os.close(controller)


def test_stored_help_texts_are_what_the_typer_app_prints() -> None:
    live = generate.help_texts()
    stale = sorted({path for path in live if HELP.get(path) != live[path]} | (HELP.keys() - live.keys()))
    assert not stale, f"{REGENERATE} (differs: {', '.join('qwen ' + ' '.join(path) for path in stale)})"


@pytest.mark.parametrize("path", sorted(HELP), ids=lambda path: " ".join(path) or "qwen")
def test_help_through_the_fast_path_is_byte_for_byte_the_typer_apps(path: tuple[str, ...]) -> None:
    fast = run([qwen_executable(), *path, "--help"], plain_env())
    typer = run([*TYPER_APP, *path, "--help"], plain_env())
    assert (fast.returncode, fast.stdout, fast.stderr) == (0, HELP[path], "")
    assert fast.stdout == typer.stdout, REGENERATE


@pytest.mark.parametrize("path", [(), ("ask",), ("history", "list")], ids=["qwen", "ask", "history list"])
def test_dash_h_prints_the_same_help(path: tuple[str, ...]) -> None:
    result = run([qwen_executable(), *path, "-h"], plain_env())
    assert (result.returncode, result.stdout) == (0, HELP[path])


@pytest.mark.parametrize("flag", ["--version", "-V"])
def test_version_is_answered_like_the_typer_app(flag: str) -> None:
    fast = run([qwen_executable(), flag], plain_env())
    typer = run([*TYPER_APP, flag], plain_env())
    assert (fast.returncode, fast.stdout, fast.stderr) == (0, f"qwen {__version__}\n", "")
    assert (typer.returncode, typer.stdout) == (fast.returncode, fast.stdout)


def test_python_dash_m_uses_the_same_entry_point() -> None:
    assert run([sys.executable, "-m", "qwen_cli", "--version"], plain_env()).stdout == f"qwen {__version__}\n"
    assert run([sys.executable, "-m", "qwen_cli", "ask", "--help"], plain_env()).stdout == HELP[("ask",)]


def test_a_narrow_columns_setting_gets_the_typer_apps_own_wrapping() -> None:
    fast = run([qwen_executable(), "ask", "--help"], plain_env(COLUMNS="60"))
    typer = run([*TYPER_APP, "ask", "--help"], plain_env(COLUMNS="60"))
    assert fast.stdout == typer.stdout
    assert (
        fast.stdout != HELP[("ask",)]
        and "  Send one prompt and print the answer once it is\n  complete." in fast.stdout
    )


def test_a_wide_columns_setting_gets_the_stored_text() -> None:
    assert run([qwen_executable(), "ask", "--help"], plain_env(COLUMNS="200")).stdout == HELP[("ask",)]


@pytest.mark.parametrize("columns", [60, COLUMNS, 132])
def test_on_a_terminal_help_is_wrapped_to_its_width_as_typer_does(columns: int) -> None:
    fast = run_on_terminal([qwen_executable(), "history", "--help"], columns)
    typer = run_on_terminal([*TYPER_APP, "history", "--help"], columns)
    assert fast == typer
    assert (fast == HELP[("history",)].replace("\n", "\r\n")) == (columns >= COLUMNS)


@pytest.mark.parametrize(
    "args",
    [
        ["ask", "-m", "qwen-max", "--help"],
        ["--help", "ask"],
        ["--version", "ask"],
    ],
    ids=["flags before --help", "--help first", "--version then more"],
)
def test_anything_else_is_left_to_the_typer_app(args: list[str]) -> None:
    fast = run([qwen_executable(), *args], plain_env())
    typer = run([*TYPER_APP, *args], plain_env())
    assert (fast.returncode, fast.stdout, fast.stderr) == (typer.returncode, typer.stdout, typer.stderr)


@pytest.mark.parametrize("args", [["history list", "--help"], ["nosuch", "--help"]], ids=["a sentence", "a word"])
def test_help_after_a_prompt_is_asks_help(args: list[str]) -> None:
    """Words that start with no command are a prompt for ask (see default_command), so --help is ask's."""
    fast = run([qwen_executable(), *args], plain_env())
    typer = run([*TYPER_APP, "ask", *args], plain_env())
    assert (fast.returncode, fast.stdout, fast.stderr) == (typer.returncode, typer.stdout, typer.stderr)
    assert fast.stdout.startswith("Usage: qwen ask [OPTIONS] [PROMPT]")


def test_no_arguments_still_show_help_on_stderr_with_exit_2() -> None:
    result = run([qwen_executable()], plain_env())
    assert result.returncode == 2 and result.stdout == "" and "Usage: qwen [OPTIONS] COMMAND" in result.stderr
