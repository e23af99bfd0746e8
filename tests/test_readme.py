"""The README is checked against the command's own help and against CI, never kept apart by hand."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from conftest import qwen_executable

from qwen_cli.errors import ExitCode

ROOT = Path(__file__).parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


COMMANDS = [
    "ask",
    "stream",
    "continue",
    "emulator",
    "history list",
    "history show",
    "history thread",
    "history clear",
    "history usage",
    "response get",
    "response delete",
    "response items",
    "conversation create",
    "conversation items",
    "conversation delete",
    "tools list",
    "tools show",
    "tools check",
    "presets list",
    "presets show",
    "presets path",
    "presets trust",
    "presets untrust",
    "config show",
    "config path",
    "config init",
    "batch run",
    "batch submit",
    "batch status",
    "batch list",
    "batch cancel",
    "batch fetch",
]


def long_options(command: str) -> set[str]:
    help_text = subprocess.run(
        [qwen_executable(), *command.split(), "--help"], capture_output=True, text=True, timeout=30
    ).stdout
    assert "Usage:" in help_text
    return set(re.findall(r"(?<![\w-])--[a-z][a-z-]+", help_text)) - {"--help"}


def documented(option: str) -> bool:
    return any(form in README for form in (f"`{option}", f"{option}/", f"/{option}", f" {option} ", f"[{option}"))


@pytest.mark.parametrize("command", COMMANDS)
def test_every_option_of_the_command_is_documented(command: str) -> None:
    assert sorted(option for option in long_options(command) if not documented(option)) == []


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_is_in_the_readme(command: str) -> None:
    assert f"qwen {command}" in README


def fenced_commands(section: str) -> list[str]:
    body = README.split(f"## {section}", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```sh\n(.*?)```", body, re.DOTALL)
    return [line for block in blocks for line in block.splitlines() if line and not line.startswith("#")]


def test_ci_runs_the_readme_test_command_exactly() -> None:
    (test_command,) = fenced_commands("Run the tests")
    ci_lines = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert test_command in ci_lines


def test_the_readme_install_command_installs_from_the_checkout_and_asks() -> None:
    commands = fenced_commands("Install and run")
    assert any(
        line.startswith("python3 -m venv .venv && .venv/bin/pip install . && .venv/bin/qwen ask ") for line in commands
    )


def test_every_exit_code_is_documented() -> None:
    table = README.split("| exit code | meaning |", 1)[1]
    assert re.findall(r"^\| (\d+) \|", table, re.MULTILINE) == [str(int(code)) for code in sorted(ExitCode)]


def test_the_batch_mapping_in_the_readme_is_the_one_submit_applies() -> None:
    from qwen_cli.batch.chat_lines import mapping_table

    assert mapping_table() in README
