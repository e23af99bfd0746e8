"""Hostile terminals and unlucky files, end to end: every screen qwen draws neutralises control characters, the
history's files stay private, and a stdout that cannot be written is its own documented failure (exit 6).
"""

from __future__ import annotations

import subprocess
import time

import pytest
from conftest import Result, qwen_executable, read_until_closed
from test_fault_matrix import RESP, Place, assert_no_secrets, place, place_env, recorded, run_qwen, screen_text, start  # noqa: F401

from qwen_cli.emulator import Emulator, x_lines

NO_SPACE = "cannot write the answer: No space left on device"


def run_into_full_disk(place: Place, *args: str) -> Result:
    """`qwen ARGS` with stdout on /dev/full, where every write fails with ENOSPC, as on a full disk."""
    with open("/dev/full", "w") as full:
        completed = subprocess.run(
            [qwen_executable(), *args],
            stdin=subprocess.DEVNULL,
            stdout=full,
            stderr=subprocess.PIPE,
            env=place.env,
            timeout=60,
        )
    result = Result(completed.returncode, "", completed.stderr.decode("utf-8"))
    assert_no_secrets(result, place)
    return result


# --- a stdout that cannot be written ----------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["ask", "stream"])
@pytest.mark.parametrize("mode", ["text", "json", "jsonl", "pretty"])
def test_a_full_disk_is_exit_6_with_one_line_and_the_history_keeps_the_answer(
    place: Place, emulator: Emulator, command: str, mode: str
) -> None:
    result = run_into_full_disk(place, command, "-o", mode, "@@bytes=200000")
    assert result.returncode == 6
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith(f"qwen: error: {NO_SPACE} (response resp_")
    assert result.stderr.endswith("; the history keeps the answer)\n")
    assert recorded(place) == [
        ("completed", x_lines(200_000))
    ]  # the whole answer, even when the stream's shown part failed


def test_a_full_disk_without_history_names_the_response_only(place: Place, emulator: Emulator) -> None:
    result = run_into_full_disk(place, "stream", "--no-history", "@@bytes=200000")
    assert result.returncode == 6
    assert result.stderr.startswith(f"qwen: error: {NO_SPACE} (response resp_") and result.stderr.endswith(")\n")
    assert "history" not in result.stderr


def test_a_full_disk_under_local_commands_is_exit_6_too(place: Place, emulator: Emulator) -> None:
    assert run_qwen(place, ("ask", "hello")).returncode == 0
    for args in (
        ("history", "list"),
        ("history", "show", "last"),
        ("presets", "path"),
        ("config", "show"),
        ("--help",),
        ("--version",),
    ):
        result = run_into_full_disk(place, *args)
        assert (result.returncode, result.stderr) == (6, f"qwen: error: {NO_SPACE}\n"), args


def test_a_closed_pipe_is_still_quiet_and_exit_0(place: Place, emulator: Emulator) -> None:
    pipeline = f"set -o pipefail; '{qwen_executable()}' ask -o json @@bytes=1000000 | head -c 10"
    completed = subprocess.run(
        ["bash", "-c", pipeline], env=place.env, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL
    )
    assert (completed.returncode, completed.stderr) == (0, "")


# --- every screen neutralises control characters ----------------------------------------------------------------

HOSTILE = (
    "look \x1b]52;c;cm0gLXJmIH4K\x07 here \x1b]0;pwned\x07 and \x1b[2J\x9b31m done"  # clipboard, title, clear, C1 CSI
)


def on_a_terminal(start, *args: str) -> str:
    running = start(*args, terminal=True)
    running.received += read_until_closed(running.fd, time.monotonic() + 20)
    running.process.wait(timeout=10)
    assert running.process.returncode == 0, running.received[-500:]
    return running.received.decode("utf-8", "replace")


def assert_harmless(screen: str) -> None:
    for sequence in ("\x1b]52", "\x1b]0;", "\x1b[2J", "\x9b", "\x07"):
        assert sequence not in screen, f"{sequence!r} reached the terminal"
    assert "␛]52;c;cm0gLXJmIH4K␇" in screen  # shown as symbols, not dropped


def test_history_list_on_a_terminal_shows_stored_escapes_as_symbols(start, place: Place, emulator: Emulator) -> None:
    assert run_qwen(place, ("ask", HOSTILE)).returncode == 0
    assert_harmless(on_a_terminal(start, "history", "list"))
    piped = run_qwen(place, ("history", "list"))
    assert "\x1b]52;c;cm0gLXJmIH4K\x07" in piped.stdout  # a pipe gets the bytes as stored


@pytest.mark.parametrize("listing", ["response", "conversation"])
def test_server_items_on_a_terminal_show_escapes_as_symbols(
    start, place: Place, emulator: Emulator, listing: str
) -> None:
    if listing == "response":
        asked = run_qwen(place, ("ask", "--json", HOSTILE))
        import json

        item_id = json.loads(asked.stdout)["id"]
    else:
        item_id = run_qwen(place, ("conversation", "create", "--item", HOSTILE)).stdout.strip()
    assert_harmless(on_a_terminal(start, listing, "items", item_id))


def test_a_presets_description_on_a_terminal_shows_escapes_as_symbols(start, place: Place, emulator: Emulator) -> None:
    presets = place.tmp / "config" / "qwen" / "presets"
    presets.mkdir(parents=True)
    (presets / "odd.yaml").write_text(f'description: "{HOSTILE.encode("unicode_escape").decode()}"\n', encoding="utf-8")
    assert_harmless(on_a_terminal(start, "presets", "list"))
    assert_harmless(on_a_terminal(start, "presets", "show", "odd", "--resolved"))


# --- the history's files stay private ---------------------------------------------------------------------------


def modes(folder) -> dict[str, int]:
    import stat

    return {path.name: stat.S_IMODE(path.stat().st_mode) for path in [folder, *folder.iterdir()]}


@pytest.mark.parametrize("command", [("ask", "again"), ("history", "list")])
def test_a_loosened_history_of_the_users_own_is_made_private_again(
    place: Place, emulator: Emulator, command: tuple[str, ...]
) -> None:
    assert run_qwen(place, ("ask", "first")).returncode == 0
    folder = place.history.parent
    folder.chmod(0o777)
    for path in folder.iterdir():
        path.chmod(0o644)
    result = run_qwen(place, command)
    assert (result.returncode, result.stderr) == (0, "")
    assert set(modes(folder).values()) <= {0o700, 0o600} and modes(folder)["qwen"] == 0o700
    assert modes(folder)["history.db"] == 0o600


def test_a_history_folder_of_another_user_is_left_alone_with_one_warning(place: Place, emulator: Emulator) -> None:
    import os

    assert run_qwen(place, ("ask", "first")).returncode == 0
    folder = place.history.parent
    folder.chmod(0o755)
    os.chown(folder, 65534, 65534)  # nobody's: qwen may not change it, and must say so
    try:
        result = run_qwen(place, ("ask", "again"))
    finally:
        os.chown(folder, os.geteuid(), os.getegid())
    assert (result.returncode, result.stdout) == (0, "You said: again\n")
    assert result.stderr == (
        f"qwen: warning: {folder} belongs to another user and others can read it; make it private: chmod 700 {folder}\n"
    )
    assert modes(folder)["qwen"] == 0o755


def test_an_error_in_json_mode_with_a_full_stdout_still_says_why_on_stderr(place: Place, emulator: Emulator) -> None:
    place.env["DASHSCOPE_API_KEY"] = ""
    result = run_into_full_disk(place, "ask", "-o", "json", "hi")
    assert result.returncode == 3
    assert result.stderr.startswith("qwen: error: DASHSCOPE_API_KEY is not set") and result.stderr.count("\n") == 1
