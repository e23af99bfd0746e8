"""`qwen batch run`, end to end: the real process against the emulator, as a CI script or a data job would use it."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import time
from collections import Counter
from pathlib import Path

from conftest import API_KEY, qwen_executable

from qwen_cli.emulator import Emulator


def created(emulator: Emulator) -> list[dict]:
    return [entry for entry in emulator.requests if entry["method"] == "POST" and entry["path"].endswith("/responses")]


def prompts_sent(emulator: Emulator) -> Counter:
    return Counter(str(entry["body"]["input"]) for entry in created(emulator))


def lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def write_items(path: Path, rows: list) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


# --- results -------------------------------------------------------------------------------------------


def test_results_on_stdout_in_input_order_with_generated_ids(qwen, tmp_path: Path) -> None:
    items = write_items(tmp_path / "items.jsonl", ["one", {"id": "second", "prompt": "two"}, "@@words=3"])
    result = qwen("batch", "run", str(items), "-j", "3")
    assert result.returncode == 0, result.stderr
    rows = lines(result.stdout)
    assert [row["id"] for row in rows] == ["1", "second", "3"]
    assert [row["text"] for row in rows] == ["You said: one", "You said: two", "w1 w2 w3"]
    assert all(row["status"] == "completed" and row["response_id"].startswith("resp_") for row in rows)
    assert rows[0]["usage"] == {"input_tokens": 1, "output_tokens": 3, "total_tokens": 4}
    assert set(rows[0]) == {
        "id",
        "status",
        "response_id",
        "text",
        "usage",
        "error",
        "request_digest",
        "finished_at",
        "elapsed",
    }
    assert "batch: 3 items: 3 completed, 0 failed" in result.stderr


def test_a_failed_item_never_stops_the_others_and_exits_8(qwen, tmp_path: Path) -> None:
    items = write_items(tmp_path / "items.jsonl", ["a", "@@fail", "c"])
    result = qwen("batch", "run", str(items))
    assert result.returncode == 8
    rows = lines(result.stdout)
    assert [row["status"] for row in rows] == ["completed", "failed", "completed"]
    assert rows[1]["error"] == {"type": "api_error", "message": "Emulated failure.", "code": "InternalError"}
    assert "1 of 3 items failed (item 2: Emulated failure.)" in result.stderr


def test_full_adds_the_whole_response(qwen, tmp_path: Path) -> None:
    items = write_items(tmp_path / "items.jsonl", ["hi"])
    row = lines(qwen("batch", "run", str(items), "--full").stdout)[0]
    assert row["response"]["id"] == row["response_id"] and row["response"]["object"] == "response"


def test_items_from_stdin(qwen) -> None:
    result = qwen("batch", "run", "-", "--unordered", input='"from stdin"\n{"prompt": "and more"}\n')
    assert result.returncode == 0, result.stderr
    assert sorted(row["text"] for row in lines(result.stdout)) == ["You said: and more", "You said: from stdin"]


def test_shared_material_goes_with_every_item_and_stdin_is_read_once(qwen, emulator: Emulator, tmp_path: Path) -> None:
    (tmp_path / "guide.md").write_text("Be thorough.\n")
    items = write_items(tmp_path / "items.jsonl", ["a", "b"])
    result = qwen("batch", "run", str(items), "-f", "guide.md", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    firsts = [entry["body"]["input"][0]["content"][0]["text"] for entry in created(emulator)]
    assert firsts == ['<document name="guide.md">\nBe thorough.\n</document>'] * 2
    both = qwen("batch", "run", "-", "-f", "-", input='"a"\n')
    assert both.returncode == 2 and "stdin holds the items (-)" in both.stderr


def test_every_request_flag_applies_and_an_items_own_fields_win(qwen, emulator: Emulator, tmp_path: Path) -> None:
    items = write_items(
        tmp_path / "items.jsonl",
        ["plain", {"prompt": "own", "model": "qwen-max", "instructions": "Be terse"}],
    )
    result = qwen("batch", "run", str(items), "-m", "qwen-flash", "-s", "Be kind", "-t", "0.5")
    assert result.returncode == 0, result.stderr
    bodies = {entry["body"]["input"]: entry["body"] for entry in created(emulator)}
    assert bodies["plain"]["model"] == "qwen-flash" and bodies["plain"]["instructions"] == "Be kind"
    assert bodies["own"]["model"] == "qwen-max" and bodies["own"]["instructions"] == "Be terse"
    assert bodies["own"]["temperature"] == 0.5


def test_each_file_makes_one_item_per_file_with_the_prompt(qwen, emulator: Emulator, tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("print('a')\n")
    (tmp_path / "b.py").write_text("print('b')\n")
    result = qwen("batch", "run", "--each-file", "a.py", "b.py", "--prompt", "review this", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert [row["id"] for row in lines(result.stdout)] == ["a.py", "b.py"]
    parts = {entry["body"]["input"][0]["content"][0]["text"] for entry in created(emulator)}
    assert parts == {
        "<document name=\"a.py\">\nprint('a')\n</document>",
        "<document name=\"b.py\">\nprint('b')\n</document>",
    }
    assert all(entry["body"]["input"][0]["content"][-1]["text"] == "review this" for entry in created(emulator))


def test_a_presets_template_takes_each_items_values(qwen, emulator: Emulator, tmp_path: Path) -> None:
    presets = tmp_path / "config" / "qwen" / "presets"
    presets.mkdir(parents=True)
    (presets / "translate.yaml").write_text("prompt: 'Translate into {language}: {input}'\n")
    items = write_items(
        tmp_path / "items.jsonl",
        [{"prompt": "good morning", "values": {"language": "Go"}}, {"prompt": "hi", "values": {"language": "Rust"}}],
    )
    result = qwen("batch", "run", str(items), "-p", "translate")
    assert result.returncode == 0, result.stderr
    assert sorted(entry["body"]["input"] for entry in created(emulator)) == [
        "Translate into Go: good morning",
        "Translate into Rust: hi",
    ]


def test_dry_run_prints_each_request_with_the_key_redacted(qwen, emulator: Emulator, tmp_path: Path) -> None:
    items = write_items(tmp_path / "items.jsonl", ["a", "b"])
    result = qwen("batch", "run", str(items), "--dry-run")
    assert result.returncode == 0, result.stderr
    rows = lines(result.stdout)
    assert [row["id"] for row in rows] == ["1", "2"] and rows[0]["body"]["input"] == "a"
    assert API_KEY not in result.stdout and "Bearer" in rows[0]["headers"]["Authorization"]
    assert created(emulator) == []


def test_a_key_the_server_echoes_never_reaches_a_result(qwen, tmp_path: Path) -> None:
    items = write_items(tmp_path / "items.jsonl", ["@@echo-key my key is @@key"])
    out = tmp_path / "out.jsonl"
    result = qwen("batch", "run", str(items), "-O", str(out), "--full")
    assert result.returncode == 0, result.stderr
    assert API_KEY not in out.read_text() and "my key is" in out.read_text()


# --- bad input is refused before anything is sent ------------------------------------------------------


def test_a_bad_line_is_named_before_anything_is_sent(qwen, emulator: Emulator, tmp_path: Path) -> None:
    items = tmp_path / "items.jsonl"
    items.write_text('"fine"\n"also fine"\n{"prompt": oops}\n')
    result = qwen("batch", "run", str(items))
    assert result.returncode == 2
    assert f"{items} line 3 is not valid JSON" in result.stderr
    assert created(emulator) == []


def test_duplicate_ids_unknown_keys_and_empty_items_are_refused(qwen, emulator: Emulator, tmp_path: Path) -> None:
    cases = {
        "dup.jsonl": ('{"id": "x", "prompt": "a"}\n{"id": "x", "prompt": "b"}\n', "line 2: the id 'x' is used twice"),
        "key.jsonl": ('{"promt": "a"}\n', "line 1: unknown key 'promt'"),
        "empty.jsonl": ('{"id": "x"}\n', "line 1: nothing to send"),
        "none.jsonl": ("\n\n", "no items"),
        "file.jsonl": ('{"prompt": "a", "files": ["missing.txt"]}\n', "the file missing.txt does not exist"),
        "values.jsonl": (
            '{"prompt": "a", "values": {"x": "1"}}\n',
            '"values" fill a prompt template, but there is none',
        ),
    }
    for name, (content, message) in cases.items():
        (tmp_path / name).write_text(content)
        result = qwen("batch", "run", name, cwd=tmp_path)
        assert result.returncode == 2, name
        assert message in result.stderr, (name, result.stderr)
    assert created(emulator) == []


# --- resuming --------------------------------------------------------------------------------------------


def test_a_rerun_skips_what_is_done_and_retries_what_failed(qwen, emulator: Emulator, tmp_path: Path) -> None:
    items = write_items(tmp_path / "items.jsonl", [f"item {n}" for n in range(6)])
    out = tmp_path / "out.jsonl"
    emulator.set_faults(http_status=500, http_status_count=2)  # two requests fail, with no retries left
    first = qwen("batch", "run", str(items), "-O", str(out), "--max-retries", "0", "-j", "1")
    assert first.returncode == 8
    assert Counter(row["status"] for row in lines(out.read_text())) == {"completed": 4, "failed": 2}

    emulator.reset()
    second = qwen("batch", "run", str(items), "-O", str(out), "-j", "1")
    assert second.returncode == 0, second.stderr
    rows = lines(out.read_text())
    assert [row["id"] for row in rows] == ["1", "2", "3", "4", "5", "6"]  # once each, in input order
    assert all(row["status"] == "completed" for row in rows)
    assert len(created(emulator)) == 2  # only the two that had failed
    assert "4 already done" in second.stderr

    third = qwen("batch", "run", str(items), "-O", str(out))
    assert third.returncode == 0 and len(created(emulator)) == 2  # nothing left to send


def test_an_item_whose_request_changed_runs_again_with_a_note(qwen, emulator: Emulator, tmp_path: Path) -> None:
    items = write_items(tmp_path / "items.jsonl", [{"id": "a", "prompt": "first"}, {"id": "b", "prompt": "same"}])
    out = tmp_path / "out.jsonl"
    assert qwen("batch", "run", str(items), "-O", str(out)).returncode == 0
    write_items(items, [{"id": "a", "prompt": "changed"}, {"id": "b", "prompt": "same"}])
    emulator.reset()
    result = qwen("batch", "run", str(items), "-O", str(out))
    assert result.returncode == 0
    assert "line 1: the item changed since its result was written; sending it again" in result.stderr
    assert [entry["body"]["input"] for entry in created(emulator)] == ["changed"]
    rows = lines(out.read_text())
    assert [(row["id"], row["text"]) for row in rows] == [("a", "You said: changed"), ("b", "You said: same")]


def test_a_torn_last_line_is_cut_and_its_item_sent_again(qwen, emulator: Emulator, tmp_path: Path) -> None:
    items = write_items(tmp_path / "items.jsonl", ["a", "b"])
    out = tmp_path / "out.jsonl"
    assert qwen("batch", "run", str(items), "-O", str(out)).returncode == 0
    first, second = out.read_text().splitlines()
    out.write_text(first + "\n" + second[: len(second) // 2])  # as a crash mid-write would leave it
    emulator.reset()
    assert qwen("batch", "run", str(items), "-O", str(out)).returncode == 0
    assert [entry["body"]["input"] for entry in created(emulator)] == ["b"]
    assert [row["id"] for row in lines(out.read_text())] == ["1", "2"]


def test_a_run_killed_halfway_then_rerun_has_every_item_exactly_once(
    qwen_env: dict[str, str], emulator: Emulator, tmp_path: Path
) -> None:
    count = 40
    items = write_items(tmp_path / "items.jsonl", [f"item {n}" for n in range(count)])
    out = tmp_path / "out.jsonl"
    emulator.set_faults(first_event_delay=0.1)
    argv = [qwen_executable(), "batch", "run", str(items), "-O", str(out), "-j", "4"]
    process = subprocess.Popen(argv, env=qwen_env, stdin=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and (not out.exists() or out.read_text().count("\n") < count // 2):
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    written_before = {row["id"] for row in lines(out.read_text().rpartition("\n")[0])}
    assert count // 2 <= len(written_before) < count

    rerun = subprocess.run(argv, env=qwen_env, stdin=subprocess.DEVNULL, capture_output=True, timeout=60)
    assert rerun.returncode == 0, rerun.stderr
    rows = lines(out.read_text())
    assert [row["id"] for row in rows] == [str(n) for n in range(1, count + 1)]
    sent = prompts_sent(emulator)
    for n in range(count):
        done_before = str(n + 1) in written_before
        # a completed item is never sent again; one in flight at the kill may have been sent twice
        assert sent[f"item {n}"] == 1 if done_before else 1 <= sent[f"item {n}"] <= 2


def test_ctrl_c_stops_with_130_and_leaves_the_file_whole(
    qwen_env: dict[str, str], emulator: Emulator, tmp_path: Path
) -> None:
    items = write_items(tmp_path / "items.jsonl", [f"item {n}" for n in range(30)])
    out = tmp_path / "out.jsonl"
    emulator.set_faults(first_event_delay=0.2)
    argv = [qwen_executable(), "batch", "run", str(items), "-O", str(out), "-j", "2"]
    process = subprocess.Popen(
        argv, env=qwen_env, stdin=subprocess.DEVNULL, stderr=subprocess.PIPE, preexec_fn=answer_ctrl_c
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and (not out.exists() or out.read_text().count("\n") < 3):
        time.sleep(0.02)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=10)
    assert process.returncode == 130
    assert b"interrupted:" in stderr and b"rerun the same command to go on" in stderr
    text = out.read_text()
    assert text.endswith("\n") and all(row["status"] == "completed" for row in lines(text))
    assert len(lines(text)) < 30


def answer_ctrl_c() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_two_runs_cannot_write_one_results_file(qwen_env: dict[str, str], emulator: Emulator, tmp_path: Path) -> None:
    items = write_items(tmp_path / "items.jsonl", [f"item {n}" for n in range(10)])
    out = tmp_path / "out.jsonl"
    emulator.set_faults(first_event_delay=0.3)
    argv = [qwen_executable(), "batch", "run", str(items), "-O", str(out), "-j", "1"]
    first = subprocess.Popen(argv, env=qwen_env, stdin=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not created(emulator):
            time.sleep(0.02)
        second = subprocess.run(argv, env=qwen_env, stdin=subprocess.DEVNULL, capture_output=True, timeout=30)
        assert second.returncode == 2
        assert b"is being written by another qwen batch run" in second.stderr
    finally:
        first.kill()
        first.wait()


# --- pacing, history ------------------------------------------------------------------------------------


def test_rate_limits_slow_the_run_down_and_every_item_still_completes(qwen, emulator: Emulator, tmp_path: Path) -> None:
    items = write_items(tmp_path / "items.jsonl", [f"item {n}" for n in range(8)])
    emulator.set_faults(http_status=429, http_status_count=3, retry_after="0")
    result = qwen("batch", "run", str(items), "-j", "4", "--max-retries", "0")
    assert result.returncode == 0, result.stderr
    assert all(row["status"] == "completed" for row in lines(result.stdout))
    assert len(created(emulator)) == 8 + 3  # each rate-limited request was sent again, not failed


def test_the_http_200_rate_limit_is_retried_too(qwen, emulator: Emulator, tmp_path: Path) -> None:
    items = write_items(tmp_path / "items.jsonl", ["a", "b"])
    emulator.set_faults(rate_limit_http200=2)
    result = qwen("batch", "run", str(items), "--max-retries", "0")
    assert result.returncode == 0, result.stderr
    assert [row["status"] for row in lines(result.stdout)] == ["completed", "completed"]


def test_fail_fast_stops_sending_at_the_first_failure(qwen, emulator: Emulator, tmp_path: Path) -> None:
    items = write_items(tmp_path / "items.jsonl", ["@@fail", *[f"item {n}" for n in range(20)]])
    result = qwen("batch", "run", str(items), "-j", "1", "--fail-fast")
    assert result.returncode == 8
    assert "stopped at the first failure (--fail-fast): item 1: Emulated failure." in result.stderr
    assert "batch: 21 items: 0 completed, 1 failed" in result.stderr  # the summary line, as always
    assert len(created(emulator)) == 1  # nothing is sent once the failure is known


def test_each_response_is_in_the_history_and_can_be_continued(qwen, tmp_path: Path) -> None:
    items = write_items(tmp_path / "items.jsonl", [{"id": "q1", "prompt": "first"}, {"id": "q2", "prompt": "second"}])
    rows = lines(qwen("batch", "run", str(items)).stdout)
    listed = qwen("history", "list", "--json")
    assert {row["response_id"] for row in rows} <= {entry["id"] for entry in json.loads(listed.stdout)}
    follow = qwen("continue", rows[1]["response_id"], "and then?")
    assert follow.returncode == 0 and "(turn 2)" in follow.stdout


def test_no_history_records_nothing(qwen, tmp_path: Path) -> None:
    items = write_items(tmp_path / "items.jsonl", ["a"])
    assert qwen("batch", "run", str(items), "--no-history").returncode == 0
    listed = qwen("history", "list", "--json")
    assert listed.returncode == 0 and json.loads(listed.stdout) == []


def test_flags_that_do_not_apply_are_refused(qwen, tmp_path: Path) -> None:
    items = write_items(tmp_path / "items.jsonl", ["a"])
    for flags, message in (
        (["-o", "json"], "-o and --json do not apply"),
        (["--run-tools"], "--run-tools does not apply to a batch"),
        (["-j", "0"], "--jobs must be from 1 to 256"),
        (["-v"], "-v does not apply to a batch"),
        (["--tool-timeout", "5"], "--tool-timeout does not apply to a batch"),
    ):
        result = qwen("batch", "run", str(items), *flags)
        assert result.returncode == 2 and message in result.stderr, result.stderr


def test_long_results_stay_whole_under_concurrency(qwen, tmp_path: Path) -> None:
    items = write_items(tmp_path / "items.jsonl", [f"@@words={n * 50}" for n in range(1, 41)])
    out = tmp_path / "out.jsonl"
    assert qwen("batch", "run", str(items), "-O", str(out), "-j", "16").returncode == 0
    rows = lines(out.read_text())
    assert [len(row["text"].split()) for row in rows] == [n * 50 for n in range(1, 41)]


def test_items_from_a_pipe_are_read_once_and_all_sent(qwen_env: dict[str, str], tmp_path: Path) -> None:
    """`qwen batch run <(jq ...)`: a source that can be read only once is kept for the second pass."""
    fifo = tmp_path / "items.fifo"
    os.mkfifo(fifo)
    argv = [qwen_executable(), "batch", "run", str(fifo)]
    process = subprocess.Popen(
        argv, env=qwen_env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    with open(fifo, "w") as writer:
        writer.write('"one"\n"two"\n"three"\n')
    stdout, stderr = process.communicate(timeout=30)
    assert process.returncode == 0, stderr
    assert [row["text"] for row in lines(stdout.decode())] == ["You said: one", "You said: two", "You said: three"]


def test_c1_controls_and_line_separators_are_escaped_in_result_lines(qwen, tmp_path: Path) -> None:
    items = write_items(tmp_path / "items.jsonl", ["csi \u009b31m and \u2028 here"])
    out = tmp_path / "out.jsonl"
    assert qwen("batch", "run", str(items), "-O", str(out)).returncode == 0
    raw = out.read_text(encoding="utf-8")
    assert "\u009b" not in raw and "\u2028" not in raw and "\\u009b" in raw
    assert lines(raw)[0]["text"] == "You said: csi \u009b31m and \u2028 here"  # the same data once parsed


def test_a_new_results_file_gets_the_umask_mode_like_a_shell_redirection(
    qwen_env: dict[str, str], tmp_path: Path
) -> None:
    items = write_items(tmp_path / "items.jsonl", ["a", "@@fail"])
    out = tmp_path / "out.jsonl"
    argv = [qwen_executable(), "batch", "run", str(items), "-O", str(out)]
    subprocess.run(
        argv, env=qwen_env, stdin=subprocess.DEVNULL, capture_output=True, preexec_fn=lambda: os.umask(0o002)
    )
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o664  # kept through the rewrite that sorted it


def test_a_terminal_shows_a_progress_bar_then_the_summary(qwen_pty, emulator: Emulator, tmp_path: Path) -> None:
    items = write_items(tmp_path / "items.jsonl", ["a", "b", "c"])
    emulator.set_faults(first_event_delay=0.3)
    result = qwen_pty("batch", "run", str(items), "-O", str(tmp_path / "out.jsonl"), "-j", "1")
    assert result.returncode == 0, result.stdout
    bar = result.stdout.split("batch: 3 items")[0]  # what came before the summary line: the bar's frames
    assert "/3" in bar and " tokens" in bar and " failed" in bar  # done/total, tokens so far, failures
    assert "batch: 3 items: 3 completed, 0 failed" in result.stdout
    assert len(lines((tmp_path / "out.jsonl").read_text())) == 3


def test_no_bar_tears_result_lines_printed_on_the_same_terminal(qwen_pty, emulator: Emulator, tmp_path: Path) -> None:
    items = write_items(tmp_path / "items.jsonl", ["a", "b"])
    emulator.set_faults(first_event_delay=0.3)
    result = qwen_pty("batch", "run", str(items), "-j", "1")
    assert result.returncode == 0, result.stdout
    assert "/2" not in result.stdout  # no done/total bar between the lines
    assert [json.loads(line)["text"] for line in result.stdout.splitlines() if line.startswith("{")] == [
        "You said: a",
        "You said: b",
    ]


def test_a_refused_key_stops_the_run_with_exit_3(qwen, emulator: Emulator, tmp_path: Path) -> None:
    items = write_items(tmp_path / "items.jsonl", [f"item {n}" for n in range(20)])
    emulator.set_faults(http_status=401, http_status_count=100)
    result = qwen("batch", "run", str(items), "-j", "1")
    assert result.returncode == 3, result.stderr
    assert "the API key was refused" in result.stderr and "(the run stopped: 19 items not sent)" in result.stderr
    assert len(created(emulator)) == 1  # every other item would have failed alike
    assert "batch: 20 items: 0 completed, 1 failed" in result.stderr


def test_a_source_named_twice_is_refused(qwen, emulator: Emulator, tmp_path: Path) -> None:
    items = write_items(tmp_path / "items.jsonl", ["a"])
    result = qwen("batch", "run", str(items), str(items))
    assert result.returncode == 2 and "is named twice" in result.stderr
    assert created(emulator) == []
