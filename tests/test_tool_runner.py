"""Tests for qwen_cli.tools.runner with real programs: stdin carries exactly the arguments, nothing reaches a shell,
timeouts kill the whole process group, output is capped and decoded, and failures become the model's output."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import pytest

from qwen_cli.tools.runner import (
    DEFAULT_OUTPUT_CAP,
    DEFAULT_TIMEOUT,
    ProgramEnvironment,
    ToolResult,
    UnboundCalls,
    run_calls,
    run_tool,
)

PY = sys.executable


def script(tmp_path: Path, name: str, body: str) -> tuple[str, ...]:
    path = tmp_path / name
    path.write_text("import os, sys, json, time, subprocess\n" + body, encoding="utf-8")
    return (PY, str(path))


def alive(pid: int) -> bool:
    """True while the process exists and is not a zombie (a container's init may never reap it)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    except OSError:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


def wait_until(condition, limit: float = 10.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


# --- run_tool ------------------------------------------------------------------------------------------------


def test_the_arguments_arrive_on_stdin_exactly_and_stdout_is_the_output(tmp_path: Path) -> None:
    argv = script(
        tmp_path, "echo.py", "data = sys.stdin.buffer.read()\nsys.stdout.write(repr(data) + '|' + repr(sys.argv[1:]))\n"
    )
    arguments = '{"city": "Zürich", "note": "line\\nbreak"}'
    result = run_tool(argv, arguments, timeout=30, output_cap=DEFAULT_OUTPUT_CAP)
    assert result == ToolResult(
        output=f"{arguments.encode()!r}|[]", ok=True, detail=f"exit status 0, {len(result.output.encode())} bytes"
    )


def test_shell_syntax_in_argv_and_arguments_stays_literal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    argv = (
        *script(tmp_path, "args.py", "print(json.dumps({'argv': sys.argv[1:], 'stdin': sys.stdin.read()}))\n"),
        "$(touch pwned)",
        "; touch pwned2",
        "`touch pwned3`",
        "| touch pwned4",
        "$HOME",
    )
    arguments = '{"q": "$(touch pwned5); rm -rf / `touch pwned6`"}'
    result = run_tool(argv, arguments, timeout=30, output_cap=DEFAULT_OUTPUT_CAP)
    assert json.loads(result.output) == {"argv": list(argv[2:]), "stdin": arguments}
    assert sorted(path.name for path in tmp_path.iterdir()) == ["args.py"]


def test_a_program_gets_exactly_the_given_environment_less_the_withheld_variables(tmp_path: Path) -> None:
    argv = script(tmp_path, "env.py", "print(json.dumps(dict(os.environ)))\n")
    base = {"QWEN_TOOL_TEST": "kept", "DASHSCOPE_API_KEY": "sk-withheld", "AMAP_TOKEN": "tok"}
    environment = ProgramEnvironment(base, frozenset({"DASHSCOPE_API_KEY", "AMAP_TOKEN"}))
    received = json.loads(run_tool(argv, "{}", 30, DEFAULT_OUTPUT_CAP, environment).output)
    # Only what was given: nothing of the test's own environment, and nothing withheld.
    assert {name: received[name] for name in base if name in received} == {"QWEN_TOOL_TEST": "kept"}
    assert not set(received) & (set(os.environ) - {"LC_CTYPE"})


def test_without_an_environment_a_program_gets_none_of_qwens(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DASHSCOPE_API_KEY", "sk-never-passed-on")
    argv = script(tmp_path, "env.py", "print(json.dumps(dict(os.environ)))\n")
    assert "DASHSCOPE_API_KEY" not in json.loads(run_tool(argv, "{}", 30, DEFAULT_OUTPUT_CAP).output)


def test_a_non_zero_exit_sends_the_status_and_the_end_of_stderr(tmp_path: Path) -> None:
    argv = script(
        tmp_path, "fail.py", "print('partial')\nsys.stderr.write('x' * 5000 + 'city not found\\n')\nsys.exit(3)\n"
    )
    result = run_tool(argv, "{}", 30, DEFAULT_OUTPUT_CAP)
    assert result.ok is False and result.detail == "exit status 3"
    assert result.output.startswith("error: exit status 3: xxx")
    assert result.output.endswith("city not found")
    assert len(result.output) == len("error: exit status 3: ") + 2000 - 1  # the tail, stripped of its newline


def test_a_non_zero_exit_without_stderr_sends_the_status_alone(tmp_path: Path) -> None:
    result = run_tool(script(tmp_path, "quiet.py", "sys.exit(1)\n"), "{}", 30, DEFAULT_OUTPUT_CAP)
    assert result == ToolResult("error: exit status 1", False, "exit status 1")


def test_a_program_killed_by_a_signal_says_which(tmp_path: Path) -> None:
    result = run_tool(
        script(tmp_path, "kill.py", "import signal\nos.kill(os.getpid(), signal.SIGTERM)\ntime.sleep(5)\n"),
        "{}",
        30,
        100,
    )
    assert result == ToolResult("error: killed by signal SIGTERM", False, "killed by signal SIGTERM")


def test_a_missing_program_is_an_error_output(tmp_path: Path) -> None:
    result = run_tool((str(tmp_path / "nope.py"),), "{}", 30, DEFAULT_OUTPUT_CAP)
    assert result == ToolResult(
        f"error: cannot run {tmp_path / 'nope.py'}: no such program", False, "cannot run: no such program"
    )


def test_a_program_that_is_not_executable_is_an_error_output(tmp_path: Path) -> None:
    path = tmp_path / "plain.py"
    path.write_text("print(1)\n")
    path.chmod(0o644)
    result = run_tool((str(path),), "{}", 30, DEFAULT_OUTPUT_CAP)
    assert result.ok is False
    assert result.output == f"error: cannot run {path}: permission denied (is it executable?)"


def test_an_empty_argv_runs_nothing() -> None:
    assert run_tool((), "{}", 30, 100) == ToolResult("error: no program is bound to this function", False, "no program")


def test_a_timeout_kills_the_program_and_its_children(tmp_path: Path) -> None:
    pid_file = tmp_path / "child.pid"
    argv = script(
        tmp_path,
        "slow.py",
        f"child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
        f"open({str(pid_file)!r}, 'w').write(str(child.pid))\n"
        "time.sleep(60)\n",
    )
    started = time.monotonic()
    result = run_tool(argv, "{}", timeout=1.5, output_cap=DEFAULT_OUTPUT_CAP)
    assert result == ToolResult("error: the tool timed out after 1.5 s", False, "timed out after 1.5 s")
    assert time.monotonic() - started < 30
    child = int(pid_file.read_text())
    assert wait_until(lambda: not alive(child)), "the child process outlived the timeout"


def test_a_child_left_holding_the_output_open_is_killed_at_the_timeout(tmp_path: Path) -> None:
    pid_file = tmp_path / "child.pid"
    argv = script(
        tmp_path,
        "leaves.py",
        f"child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
        f"open({str(pid_file)!r}, 'w').write(str(child.pid))\n"
        "print('done')\n",
    )
    result = run_tool(argv, "{}", timeout=1.5, output_cap=DEFAULT_OUTPUT_CAP)
    assert result.output == "error: the tool timed out after 1.5 s"
    assert wait_until(lambda: not alive(int(pid_file.read_text())))


def test_output_over_the_cap_is_cut_and_marked(tmp_path: Path) -> None:
    argv = script(tmp_path, "big.py", "sys.stdout.write('a' * 300000)\n")
    result = run_tool(argv, "{}", 30, output_cap=1000)
    assert result.ok is True
    assert result.output == "a" * 1000 + "\n[output truncated: 1000 of 300000 bytes]"


def test_output_exactly_at_the_cap_is_whole(tmp_path: Path) -> None:
    result = run_tool(script(tmp_path, "exact.py", "sys.stdout.write('b' * 1000)\n"), "{}", 30, output_cap=1000)
    assert result.output == "b" * 1000


def test_a_character_cut_at_the_cap_is_dropped_not_mangled(tmp_path: Path) -> None:
    argv = script(tmp_path, "utf8.py", "sys.stdout.buffer.write('é'.encode() * 10)\n")  # 2 bytes each
    assert run_tool(argv, "{}", 30, output_cap=5).output == "éé\n[output truncated: 5 of 20 bytes]"


def test_output_that_is_not_utf8_is_decoded_with_replacement(tmp_path: Path) -> None:
    argv = script(tmp_path, "latin.py", "sys.stdout.buffer.write(b'caf\\xe9 ok\\xff')\n")
    assert run_tool(argv, "{}", 30, DEFAULT_OUTPUT_CAP).output == "caf\ufffd ok\ufffd"


def test_a_program_that_never_reads_a_large_stdin_still_finishes(tmp_path: Path) -> None:
    argv = script(tmp_path, "ignore.py", "print('ignored')\n")
    result = run_tool(argv, json.dumps({"blob": "z" * 1_000_000}), 30, DEFAULT_OUTPUT_CAP)
    assert result == ToolResult("ignored\n", True, "exit status 0, 8 bytes")


def test_the_defaults_are_the_documented_ones() -> None:
    assert DEFAULT_TIMEOUT == 60.0 and DEFAULT_OUTPUT_CAP == 100 * 1024


# --- run_calls -----------------------------------------------------------------------------------------------


def call(name: str, call_id: str, arguments: str = "{}") -> dict[str, str]:
    return {
        "type": "function_call",
        "id": f"msg_{call_id}",
        "status": "completed",
        "name": name,
        "call_id": call_id,
        "arguments": arguments,
    }


def test_parallel_calls_run_in_order_and_become_outputs(tmp_path: Path) -> None:
    weather = script(
        tmp_path, "weather.py", "args = json.load(sys.stdin)\nprint(f\"sunny in {args['city']}\", end='')\n"
    )
    clock = script(tmp_path, "clock.py", "sys.exit('clock broken')\n")
    lines: list[str] = []
    outputs = run_calls(
        [
            call("get_weather", "call_1", '{"city": "Paris"}'),
            call("get_time", "call_2"),
            call("get_weather", "call_3", '{"city": "Oslo"}'),
        ],
        {"get_weather": weather, "get_time": clock},
        timeout=30,
        cap=DEFAULT_OUTPUT_CAP,
        announce=lines.append,
    )
    assert outputs == [
        {"type": "function_call_output", "call_id": "call_1", "output": "sunny in Paris"},
        {"type": "function_call_output", "call_id": "call_2", "output": "error: exit status 1: clock broken"},
        {"type": "function_call_output", "call_id": "call_3", "output": "sunny in Oslo"},
    ]
    assert lines == [
        f'running get_weather (call_1) with {{"city": "Paris"}}: {PY} {weather[1]}',
        f"running get_time (call_2) with {{}}: {PY} {clock[1]}",
        "get_time (call_2) failed: exit status 1; the error text is sent to the model",
        f'running get_weather (call_3) with {{"city": "Oslo"}}: {PY} {weather[1]}',
    ]


def test_the_announcement_quotes_words_so_the_argv_reads_unambiguously(tmp_path: Path) -> None:
    lines: list[str] = []
    argv = (*script(tmp_path, "a.py", "pass\n"), "two words", "$(x)")
    run_calls([call("f", "c")], {"f": argv}, 30, 100, lines.append)
    assert lines == [f"running f (c) with {{}}: {PY} {argv[1]} 'two words' '$(x)'"]


def test_the_announcement_shows_long_arguments_by_their_start_and_size(tmp_path: Path) -> None:
    lines: list[str] = []
    arguments = json.dumps({"text": "x" * 500})
    run_calls([call("f", "c", arguments)], {"f": script(tmp_path, "a.py", "pass\n")}, 30, 100, lines.append)
    assert lines[0].startswith(f"running f (c) with {arguments[:200]}… ({len(arguments)} characters): ")


def test_an_unbound_call_runs_nothing_and_reports_every_call(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    bound = script(tmp_path, "bound.py", f"open({str(marker)!r}, 'w').write('x')\n")
    calls = [call("bound", "call_1"), call("unbound", "call_2"), call("other", "call_3"), call("unbound", "call_4")]
    lines: list[str] = []
    with pytest.raises(UnboundCalls) as caught:
        run_calls(calls, {"bound": bound}, 30, 100, lines.append)
    assert caught.value.calls == tuple(calls)
    assert caught.value.names == ("unbound", "other")
    assert str(caught.value) == "no program is bound to unbound, other (add run: [...] to its tools-file entry)"
    assert lines == [] and not marker.exists()


def test_no_calls_make_no_outputs() -> None:
    assert run_calls([], {}, 30, 100) == []
