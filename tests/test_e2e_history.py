"""Continuing by id, the local history, stored responses and conversations, end to end: the installed command
against the emulator over a real socket, with the history read back through `qwen history` and SQLite itself.
"""

from __future__ import annotations

import ctypes
import json
import os
import pty
import re
import select
import signal
import sqlite3
import stat
import subprocess
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import API_KEY, Result, answer_ctrl_c, assert_no_secret, qwen_executable, read_until_closed

from qwen_cli.emulator import Emulator

SUMMARY_ID = re.compile(r"^(resp_\S+) · ", re.MULTILINE)  # the -v line on stderr starts with the response id
ITEM_LINE = re.compile(r"^(msg_\S+)  (\w+): (.*)$", re.MULTILINE)  # `qwen response|conversation items` in text
UNKNOWN = (
    "qwen: error: the server at {endpoint} does not know response {id}: it keeps responses 7 days, never those sent "
    "with --no-store or deleted, and the id may be mistyped"
)


# --- helpers -------------------------------------------------------------------------------------------------


@dataclass
class Turn:
    """One answered request: the response id the server gave it, and what reached stdout."""

    id: str
    stdout: str


def turn(qwen, *args: str) -> Turn:
    """Run a request with -v (which adds only the summary line on stderr) and return its id and answer."""
    result = qwen(*args, "-v")
    assert result.returncode == 0, result.stderr
    return Turn(SUMMARY_ID.search(result.stderr).group(1), result.stdout)


def created(emulator: Emulator) -> list[dict]:
    """The create requests the emulator received, as it received them."""
    return [entry for entry in emulator.requests if entry["method"] == "POST" and entry["path"].endswith("/responses")]


def last_body(emulator: Emulator) -> dict:
    return created(emulator)[-1]["body"]


def stored_response(emulator: Emulator, response_id: str) -> dict:
    url = f"{emulator.base_url}/responses/{response_id}"
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {API_KEY}"})
    with urllib.request.urlopen(request, timeout=10) as reply:
        return json.loads(reply.read())


def history_json(qwen, *args: str):
    """`qwen history ARGS... --json`, parsed."""
    result = qwen("history", *args, "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def history_file(qwen_env: dict[str, str]) -> Path:
    return Path(qwen_env["XDG_DATA_HOME"]) / "qwen" / "history.db"


def rows(qwen_env: dict[str, str], columns: str = "id, parent_id, status, prompt, answer") -> list[tuple]:
    """The history table read with SQLite itself, oldest first."""
    with sqlite3.connect(history_file(qwen_env)) as db:
        return db.execute(f"SELECT {columns} FROM responses ORDER BY created_at, rowid").fetchall()


def local_time(timestamp: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(timestamp))


def unique_prefix(response_id: str, others: list[str]) -> str:
    """The shortest prefix of `response_id` longer than `resp_` that starts none of `others`."""
    for length in range(len("resp_") + 1, len(response_id)):
        if not any(other.startswith(response_id[:length]) for other in others):
            return response_id[:length]
    raise AssertionError("the ids share every prefix")


def one_line(stderr: str) -> str:
    assert stderr.count("\n") == 1, f"expected one line on stderr: {stderr!r}"
    return stderr


# Root ignores file modes; a child that is root gives up that power (CAP_DAC_OVERRIDE and friends) for its
# exec'd qwen, so a read-only folder is read-only to it as it would be to any user.
PR_CAPBSET_DROP, CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER = 24, 1, 2, 3


def as_ordinary_user() -> Callable[[], None]:
    """The child's first act, before exec; libc is looked up here, in the parent, not after the fork."""
    prctl = ctypes.CDLL(None, use_errno=True).prctl

    def drop_file_mode_overrides() -> None:
        if os.geteuid() == 0:
            for capability in (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER):
                if prctl(PR_CAPBSET_DROP, capability, 0, 0, 0) != 0:
                    raise OSError(ctypes.get_errno(), "cannot drop a capability to test a read-only folder")

    return drop_file_mode_overrides


def run_as_ordinary_user(qwen_env: dict[str, str], *args: str) -> Result:
    completed = subprocess.run(
        [qwen_executable(), *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        env=qwen_env,
        timeout=30,
        preexec_fn=as_ordinary_user(),
    )
    result = Result(completed.returncode, completed.stdout.decode("utf-8"), completed.stderr.decode("utf-8"))
    assert_no_secret(result)
    return result


@contextmanager
def umask(mask: int) -> Iterator[None]:
    previous = os.umask(mask)
    try:
        yield
    finally:
        os.umask(previous)


def interrupt_stream_when(qwen_env: dict[str, str], shown: str, *args: str) -> Result:
    """Start `qwen ARGS...` on pipes, press Ctrl-C once `shown` is on stdout, and collect the rest."""
    process = subprocess.Popen(
        [qwen_executable(), *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=qwen_env,
        preexec_fn=answer_ctrl_c,
    )
    received, deadline = b"", time.monotonic() + 20
    try:
        while shown.encode() not in received and time.monotonic() < deadline and process.poll() is None:
            if select.select([process.stdout], [], [], 0.1)[0]:
                received += os.read(process.stdout.fileno(), 65536)
        assert shown.encode() in received, f"never shown; so far: {received[-300:]!r}"
        process.send_signal(signal.SIGINT)
        rest, stderr = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
    result = Result(process.returncode, (received + rest).decode("utf-8"), stderr.decode("utf-8"))
    assert_no_secret(result)
    return result


# --- qwen continue: which response it continues ------------------------------------------------------------------


def test_continue_sends_the_id_and_waits_by_default(qwen, emulator) -> None:
    first = turn(qwen, "ask", "what is a monad?")
    result = qwen("continue", first.id, "and in Go?")
    assert (result.returncode, result.stdout, result.stderr) == (0, "You said: and in Go? (turn 2)\n", "")
    assert last_body(emulator) == {"model": "qwen-plus", "input": "and in Go?", "previous_response_id": first.id}
    assert created(emulator)[-1]["headers"]["accept"] != "text/event-stream"


def test_last_is_the_newest_continuable_response_whichever_command_made_it(qwen, emulator) -> None:
    asked = turn(qwen, "ask", "one")
    continued = turn(qwen, "continue", "last", "two")
    assert (last_body(emulator)["previous_response_id"], continued.stdout) == (asked.id, "You said: two (turn 2)\n")
    streamed = turn(qwen, "stream", "three")
    after_stream = turn(qwen, "continue", "last", "four")
    assert (last_body(emulator)["previous_response_id"], after_stream.stdout) == (
        streamed.id,
        "You said: four (turn 2)\n",
    )
    by_ask = turn(qwen, "ask", "-c", "five")
    assert (last_body(emulator)["previous_response_id"], by_ask.stdout) == (
        after_stream.id,
        "You said: five (turn 3)\n",
    )
    by_stream = turn(qwen, "stream", "-c", "six")
    assert (last_body(emulator)["previous_response_id"], by_stream.stdout) == (by_ask.id, "You said: six (turn 4)\n")
    assert last_body(emulator)["stream"] is True


@pytest.mark.parametrize("args", [["continue", "last", "hi"], ["ask", "-c", "hi"], ["stream", "-c", "hi"]])
def test_last_with_an_empty_history_is_exit_2_and_sends_nothing(qwen, emulator, args: list[str]) -> None:
    result = qwen(*args)
    assert (result.returncode, result.stdout) == (2, "")
    assert (
        one_line(result.stderr)
        == "qwen: error: there is no earlier response in the local history to continue; ask something first\n"
    )
    assert emulator.requests == []


@pytest.mark.parametrize(
    "args",
    [["continue", "@", "hi"], ["ask", "-c", "hi"], ["stream", "-c", "hi"], ["response", "get", "@"]],
    ids=["continue last", "ask -c", "stream -c", "response get last"],
)
@pytest.mark.parametrize("newest", ["@@fail", "--no-store"])
def test_last_that_cannot_be_continued_is_exit_2_naming_the_newest_that_can(
    qwen, emulator, args: list[str], newest: str
) -> None:
    """`last` is the newest response: a failed or unstored one is said so, never an older thread continued silently.
    `qwen response get last` just fetches it."""
    older = turn(qwen, "ask", "older thread")
    failed = qwen("ask", *(["--no-store", "hi"] if newest == "--no-store" else ["@@fail"]))
    newest_entry = history_json(qwen, "show", "last")
    assert newest_entry["id"] != older.id and failed.returncode in (0, 1)
    sent = len(emulator.requests)
    result = qwen(*[("last" if arg == "@" else arg) for arg in args])
    if args[0] == "response":
        assert result.returncode == 1  # a failed response shows as failed; an unstored one is not on the server
        assert emulator.requests[-1]["path"].endswith(f"/responses/{newest_entry['id']}")
        return
    why = "failed" if newest == "@@fail" else "was sent with --no-store"
    prompt = "@@fail" if newest == "@@fail" else "hi"
    made = local_time(newest_entry["created_at"])
    older_made = local_time(history_json(qwen, "show", older.id)["created_at"])
    assert (result.returncode, result.stdout) == (2, "")
    assert one_line(result.stderr) == (
        f'qwen: error: the newest response, {newest_entry["id"]} ({made}, "{prompt}"), {why} and cannot be '
        f'continued; the newest that can be is {older.id} ({older_made}, "older thread"): qwen continue {older.id}\n'
    )
    assert len(emulator.requests) == sent


def test_last_when_nothing_can_be_continued_says_so(qwen, emulator) -> None:
    assert qwen("ask", "@@fail").returncode == 1
    result = qwen("continue", "last", "hi")
    assert (result.returncode, result.stdout) == (2, "")
    assert one_line(result.stderr).endswith(
        "failed and cannot be continued; no response in the history can be continued; ask something first\n"
    )


def test_a_unique_prefix_resolves_and_an_ambiguous_one_is_exit_2_naming_the_candidates(qwen, emulator) -> None:
    first, second = turn(qwen, "ask", "one"), turn(qwen, "ask", "two")
    prefix = unique_prefix(first.id, [second.id])
    result = qwen("continue", prefix, "more")
    assert (result.returncode, result.stdout) == (0, "You said: more (turn 2)\n")
    assert last_body(emulator)["previous_response_id"] == first.id
    # unique among all three now (the continued turn's id is random and may share the first one's prefix)
    others = [entry["id"] for entry in history_json(qwen, "list") if entry["id"] != first.id]
    prefix = unique_prefix(first.id, others)
    without_resp = qwen("continue", prefix.removeprefix("resp_"), "again")  # `qwen continue d237`
    assert (without_resp.returncode, without_resp.stdout) == (0, "You said: again (turn 2)\n")
    assert last_body(emulator)["previous_response_id"] == first.id
    entries = history_json(qwen, "list")
    sent_before = len(created(emulator))
    for ambiguous_prefix in ("resp_", ""):
        ambiguous = qwen("continue", ambiguous_prefix, "more")
        assert (ambiguous.returncode, ambiguous.stdout) == (2, "")
        assert ambiguous.stderr == (
            f"qwen: error: '{ambiguous_prefix}' matches 4 responses in the history; give more of the id:\n"
            + "".join(f"  {entry['id']}  {local_time(entry['created_at'])}  {entry['prompt']}\n" for entry in entries)
        )
    assert len(created(emulator)) == sent_before


def test_an_id_the_history_does_not_know_is_sent_as_it_is(qwen, qwen_env, emulator) -> None:
    unrecorded = turn(qwen, "ask", "--no-history", "hello")
    assert not history_file(qwen_env).exists()
    result = qwen("continue", unrecorded.id, "again")
    assert (result.returncode, result.stdout) == (0, "You said: again (turn 2)\n")
    assert last_body(emulator) == {"model": "qwen-plus", "input": "again", "previous_response_id": unrecorded.id}
    assert [(parent, prompt) for _, parent, _, prompt, _ in rows(qwen_env)] == [(unrecorded.id, "again")]


@pytest.mark.parametrize("how", [["--stream"], ["-o", "jsonl"]], ids=["--stream", "-o jsonl"])
def test_continue_streams_when_asked(qwen, emulator, how: list[str]) -> None:
    first = turn(qwen, "ask", "hi")
    result = qwen("continue", first.id, *how, "more")
    assert result.returncode == 0, result.stderr
    assert last_body(emulator) == {
        "model": "qwen-plus",
        "input": "more",
        "previous_response_id": first.id,
        "stream": True,
    }
    assert created(emulator)[-1]["headers"]["accept"] == "text/event-stream"
    if how == ["--stream"]:
        assert (result.stdout, result.stderr) == ("You said: more (turn 2)\n", "")
    else:
        events = [json.loads(line) for line in result.stdout.splitlines()]
        assert events[0]["type"] == "response.created" and events[-1]["type"] == "response.completed"
        assert events[-1]["response"]["previous_response_id"] == first.id


def test_continue_takes_piped_text_and_files_like_ask(qwen, emulator, tmp_path: Path) -> None:
    first = turn(qwen, "ask", "hi")
    notes = tmp_path / "notes.txt"
    notes.write_text("remember this\n", encoding="utf-8")
    result = qwen("continue", "last", "-f", str(notes), "review", input="piped text")
    body = last_body(emulator)
    assert body["previous_response_id"] == first.id
    assert body["input"][0]["content"] == [
        {"type": "input_text", "text": '<document name="stdin">\npiped text\n</document>'},
        {"type": "input_text", "text": f'<document name="{notes}">\nremember this\n</document>'},
        {"type": "input_text", "text": "review"},
    ]
    echoed = "\n".join(part["text"] for part in body["input"][0]["content"])  # the emulator echoes every part
    assert (result.returncode, result.stdout) == (0, f"You said: {echoed} (turn 2)\n")


def test_the_parents_model_and_instructions_go_on_unless_flags_replace_them(qwen, emulator) -> None:
    root = turn(qwen, "ask", "-m", "qwen-flash", "-s", "Be kind", "root")
    kept = turn(qwen, "continue", root.id, "a")
    assert kept.stdout == "[Be kind] You said: a (turn 2)\n"
    assert last_body(emulator) == {
        "model": "qwen-flash",
        "input": "a",
        "instructions": "Be kind",
        "previous_response_id": root.id,
    }
    replaced = turn(qwen, "continue", "last", "-m", "qwen-max", "-s", "Be terse", "b")
    assert replaced.stdout == "[Be terse] You said: b (turn 3)\n"
    assert last_body(emulator) == {
        "model": "qwen-max",
        "input": "b",
        "instructions": "Be terse",
        "previous_response_id": kept.id,
    }
    inherited = turn(qwen, "ask", "-c", "c")
    assert inherited.stdout == "[Be terse] You said: c (turn 4)\n"
    assert last_body(emulator) == {
        "model": "qwen-max",
        "input": "c",
        "instructions": "Be terse",
        "previous_response_id": replaced.id,
    }


def test_previous_still_continues_any_id(qwen, qwen_env, emulator) -> None:
    first = turn(qwen, "ask", "hi")
    result = qwen("ask", "--previous", first.id, "more")
    assert (result.returncode, result.stdout) == (0, "You said: more (turn 2)\n")
    assert last_body(emulator)["previous_response_id"] == first.id
    assert rows(qwen_env)[-1][1] == first.id


@pytest.mark.parametrize(
    "args, message",
    [
        (
            ["ask", "--conversation", "conv_1", "--previous", "resp_1", "hi"],
            "--conversation and --previous cannot be used together",
        ),
        (
            ["stream", "--conversation", "conv_1", "--continue", "hi"],
            "--conversation cannot be combined with -c or qwen continue",
        ),
        (
            ["continue", "last", "--conversation", "conv_1", "hi"],
            "--conversation cannot be combined with -c or qwen continue",
        ),
        (
            ["ask", "-c", "--previous", "resp_1", "hi"],
            "--previous and continuing (-c or qwen continue) both name the turn",
        ),
    ],
)
def test_two_ways_of_naming_the_context_are_exit_2_before_any_network(
    qwen, emulator, args: list[str], message: str
) -> None:
    result = qwen(*args)
    assert (result.returncode, result.stdout) == (2, "")
    assert one_line(result.stderr).startswith(f"qwen: error: {message}")
    assert emulator.requests == []


def test_continuing_an_older_id_forks_and_each_thread_is_its_own_chain(qwen, emulator) -> None:
    root = turn(qwen, "ask", "root")
    left = turn(qwen, "continue", root.id, "left")
    deeper = turn(qwen, "continue", left.id, "deeper")
    right = turn(qwen, "continue", root.id, "right")
    assert (deeper.stdout, right.stdout) == ("You said: deeper (turn 3)\n", "You said: right (turn 2)\n")
    assert [request["body"].get("previous_response_id") for request in created(emulator)] == [
        None,
        root.id,
        left.id,
        root.id,
    ]
    assert [entry["id"] for entry in history_json(qwen, "thread", deeper.id)] == [root.id, left.id, deeper.id]
    assert [entry["id"] for entry in history_json(qwen, "thread", right.id)] == [root.id, right.id]
    assert [entry["parent_id"] for entry in history_json(qwen, "thread", right.id)] == [None, root.id]
    text = qwen("history", "thread", "last")
    assert text.returncode == 0
    assert re.findall(r"^(resp_\S+)  \(", text.stdout, re.MULTILINE) == [root.id, right.id]
    assert text.stdout.index("prompt:\nroot\n") < text.stdout.index("prompt:\nright\n")


def test_the_id_is_shown_on_a_terminal_after_the_answer(qwen, qwen_pty, emulator) -> None:
    turn(qwen, "ask", "hi")
    result = qwen_pty("continue", "last", "more")
    new_id = history_json(qwen, "show", "last")["id"]
    assert result.returncode == 0
    assert result.stdout.rindex("You said: more (turn 2)") < result.stdout.index(f"{new_id} · ")


# --- an id the server does not know ---------------------------------------------------------------------------


def server_forgets_by_deleting(qwen) -> str:
    response_id = turn(qwen, "ask", "hi").id
    assert qwen("response", "delete", response_id).returncode == 0
    return response_id


def server_never_kept(qwen) -> str:
    return turn(qwen, "ask", "--no-store", "hi").id


@pytest.mark.parametrize("forget", [server_forgets_by_deleting, server_never_kept], ids=["deleted", "no-store"])
def test_an_id_the_server_forgot_is_exit_1_saying_when_history_has_it_from(qwen, emulator, forget) -> None:
    response_id = forget(qwen)
    made = history_json(qwen, "show", response_id)["created_at"]
    endpoint = emulator.base_url
    for args, status in ((["continue", response_id, "more"], 400), (["response", "get", response_id], 404)):
        result = qwen(*args)
        assert (result.returncode, result.stdout) == (1, "")
        known = re.escape(
            UNKNOWN.format(id=response_id, endpoint=endpoint) + f"; your history has it from {local_time(made)} ("
        )
        expected = (
            known
            + rf"\d+ seconds ago\), made at {re.escape(endpoint)} \(HTTP {status}, code InvalidParameter, request id \S+\)\n"
        )
        assert re.fullmatch(expected, one_line(result.stderr)), result.stderr


def test_a_made_up_id_is_exit_1_without_a_date(qwen, emulator) -> None:
    result = qwen("continue", "resp_made-up", "more")
    assert (result.returncode, result.stdout) == (1, "")
    assert last_body(emulator)["previous_response_id"] == "resp_made-up"
    expected = (
        re.escape(UNKNOWN.format(id="resp_made-up", endpoint=emulator.base_url))
        + r" \(HTTP 400, code InvalidParameter, request id \S+\)\n"
    )
    assert re.fullmatch(expected, one_line(result.stderr))


def test_an_id_asked_of_another_endpoint_names_both(qwen, emulator) -> None:
    """The response was made at the emulator; asked of another server that does not know it (--base-url says
    so), the line names the endpoint asked and the one the history says made it."""
    made_here = turn(qwen, "ask", "hi")
    with Emulator() as other:
        for args, status in (
            (["continue", "--base-url", other.base_url, made_here.id, "more"], 400),
            (["response", "get", "--base-url", other.base_url, "last"], 404),
        ):
            result = qwen(*args)
            assert (result.returncode, result.stdout) == (1, "")
            line = one_line(result.stderr)
            assert line.startswith(
                UNKNOWN.format(id=made_here.id, endpoint=other.base_url) + "; your history has it from "
            )
            assert f"), made at {emulator.base_url} (try --base-url {emulator.base_url}) (HTTP {status}," in line
    assert qwen("continue", "last", "more").returncode == 0  # without --base-url it goes where it was made


# --- what the history records ---------------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["ask", "stream"])
def test_every_response_is_recorded_with_what_a_user_needs(qwen, emulator, command: str) -> None:
    before = time.time()
    parent = turn(qwen, command, "hi")
    child = turn(
        qwen,
        command,
        "-c",
        "-s",
        "Be brief",
        "-t",
        "0.5",
        "--think",
        "--max-output-tokens",
        "64",
        "--session-cache",
        "again",
    )
    after = time.time()
    entry = history_json(qwen, "show", "last")
    assert before <= entry.pop("created_at") <= after
    assert entry == {
        "id": child.id,
        "parent_id": parent.id,
        "model": "qwen-plus",
        "preset": None,
        "prompt": "again",
        "answer": "[Be brief] You said: again (turn 2)",
        "reasoning": "Thinking about: again",
        "status": "completed",
        "usage": stored_response(emulator, child.id)["usage"],
        "options": {
            "instructions": "Be brief",
            "temperature": 0.5,
            "enable_thinking": True,
            "max_output_tokens": 64,
            "previous_response_id": parent.id,
        },
        "endpoint": emulator.base_url,
        "preset_path": None,
        "preset_digest": None,
        "preset_settings": None,
        "billing": None,  # a realtime request
    }


def test_the_history_holds_no_key_and_no_header_value(qwen, qwen_env, emulator) -> None:
    turn(qwen, "ask", "--session-cache", "--extra", '{"metadata": {"k": "v"}}', "hi")
    turn(qwen, "stream", "-c", "--no-session-cache", "more")
    files = list(history_file(qwen_env).parent.iterdir())
    stored = b"".join(path.read_bytes() for path in files)
    assert b"You said: more (turn 2)" in stored  # the right file, and readable as bytes
    for secret in (API_KEY.encode(), b"Authorization", b"authorization", b"Bearer", b"x-dashscope-session-cache"):
        assert secret not in stored, f"{secret!r} is in the history"


def test_the_history_is_readable_by_its_owner_only(qwen, qwen_env, emulator) -> None:
    with umask(0o022):  # a usual umask, which would leave new files readable by everyone
        turn(qwen, "ask", "hi")
    folder = history_file(qwen_env).parent
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert {path.name: stat.S_IMODE(path.stat().st_mode) for path in folder.iterdir()} == {"history.db": 0o600}


def test_history_list_is_newest_first_with_n_and_json(qwen, emulator) -> None:
    ids = [turn(qwen, "ask", prompt).id for prompt in ("one", "two", "three")]
    entries = history_json(qwen, "list")
    assert [entry["id"] for entry in entries] == ids[::-1]
    assert [entry["prompt"] for entry in entries] == ["three", "two", "one"]
    listed = qwen("history", "list")
    expected = [f"{e['id']}  {local_time(e['created_at'])}  qwen-plus  completed  {e['prompt']}" for e in entries]
    assert (listed.returncode, listed.stdout, listed.stderr) == (0, "\n".join(expected) + "\n", "")
    newest = qwen("history", "list", "-n", "2")
    assert newest.stdout == "\n".join(expected[:2]) + "\n"


def test_history_show_by_id_prefix_or_last_in_text_and_json(qwen, emulator) -> None:
    first = turn(qwen, "ask", "one")
    second = turn(qwen, "continue", "last", "two")
    usage = stored_response(emulator, second.id)["usage"]
    expected = (
        f"{second.id}  (qwen-plus, completed)\ncontinues {first.id}\n\nprompt:\ntwo\n\nanswer:\nYou said: two (turn 2)\n\n"
        f"usage: {usage['input_tokens']} in, {usage['output_tokens']} out (0 reasoning, 0 cached) tokens\n"
    )
    for reference in ("last", second.id, unique_prefix(second.id, [first.id])):
        shown = qwen("history", "show", reference)
        assert (shown.returncode, shown.stdout, shown.stderr) == (0, expected, "")
    assert history_json(qwen, "show", first.id)["answer"] == "You said: one"
    missing = qwen("history", "show", "resp_nothing")
    assert (missing.returncode, missing.stdout) == (2, "")
    assert "no response 'resp_nothing' in the local history" in one_line(missing.stderr)
    thread = qwen("history", "thread", unique_prefix(second.id, [first.id]).removeprefix("resp_"))
    assert (thread.returncode, thread.stdout.count("prompt:")) == (0, 2)


@pytest.mark.parametrize("command", ["show", "thread"])
def test_history_show_last_on_an_empty_history_is_exit_2_saying_there_is_nothing(qwen, command: str) -> None:
    result = qwen("history", command, "last")
    assert (result.returncode, result.stdout) == (2, "")
    assert one_line(result.stderr) == (
        "qwen: error: the local history is empty: there is nothing to show; ask something first\n"
    )


def test_history_list_on_an_empty_history_says_so_on_stderr(qwen, qwen_env) -> None:
    result = qwen("history", "list")
    assert (result.returncode, result.stdout) == (0, "")
    assert result.stderr == (
        f"qwen: the local history is empty ({history_file(qwen_env)}); every answered request is recorded there\n"
    )
    as_json = qwen("history", "list", "--json")
    assert (as_json.returncode, as_json.stdout, as_json.stderr) == (0, "[]\n", "")


def test_a_failed_response_is_recorded_as_failed(qwen, qwen_env, emulator) -> None:
    result = qwen("ask", "@@fail")
    assert result.returncode == 1
    assert [(status, prompt, answer) for _, _, status, prompt, answer in rows(qwen_env)] == [("failed", "@@fail", "")]


def test_history_clear_leaves_no_trace_of_the_prompts_on_disk(qwen, qwen_env, emulator) -> None:
    for prompt in ("my-private-prompt-1", "my-private-prompt-2"):
        turn(qwen, "ask", prompt)
    assert qwen("history", "list").returncode == 0
    cleared = qwen("history", "clear")
    assert (cleared.returncode, cleared.stdout) == (0, "removed 2 responses from the history\n")
    folder = history_file(qwen_env).parent
    assert sorted(path.name for path in folder.iterdir()) == ["history.db"]  # the write-ahead log folded back in
    assert b"my-private-prompt" not in history_file(qwen_env).read_bytes()


def test_history_clear_all_or_older_than_an_age(qwen, qwen_env, emulator) -> None:
    old, *recent = [turn(qwen, "ask", prompt).id for prompt in ("old", "new", "newer")]
    with sqlite3.connect(history_file(qwen_env)) as db:  # as if asked two days ago
        db.execute("UPDATE responses SET created_at = created_at - 2 * 86400 WHERE id = ?", (old,))
    bad = qwen("history", "clear", "--older-than", "soon")
    assert (bad.returncode, bad.stdout) == (2, "")
    assert (
        one_line(bad.stderr)
        == "qwen: error: --older-than takes a number and a unit (s, m, h, d or w), like 30d; got 'soon'\n"
    )
    pruned = qwen("history", "clear", "--older-than", "1d")
    assert (pruned.returncode, pruned.stdout) == (0, "removed 1 response from the history\n")
    assert [entry["id"] for entry in history_json(qwen, "list")] == recent[::-1]
    cleared = qwen("history", "clear")
    assert (cleared.returncode, cleared.stdout) == (0, "removed 2 responses from the history\n")
    assert history_json(qwen, "list") == []


def clear_at_a_terminal(qwen_env: dict[str, str], answer: bytes | None, *args: str) -> tuple[int, str]:
    """`qwen history clear ARGS` on a pseudo-terminal, typing `answer` once the question is shown (None: typing
    nothing, for a question that must not come); its exit code and the screen."""
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [qwen_executable(), "history", "clear", *args], stdin=terminal, stdout=terminal, stderr=terminal, env=qwen_env
    )
    os.close(terminal)
    screen = b""
    deadline = time.monotonic() + 30
    while answer is not None and b"[y/N] " not in screen and time.monotonic() < deadline:
        ready, _, _ = select.select([controller], [], [], 0.1)
        if ready:
            screen += os.read(controller, 65536)
    if answer is not None:
        os.write(controller, answer + b"\n")
    screen += read_until_closed(controller, deadline)
    process.wait(timeout=10)
    os.close(controller)
    return process.returncode, screen.decode("utf-8").replace("\r\n", "\n")


@pytest.mark.parametrize("answer, kept", [(b"y", 0), (b"yes", 0), (b"n", 2), (b"", 2)], ids=["y", "yes", "n", "enter"])
def test_history_clear_on_a_terminal_asks_first(qwen, qwen_env, emulator, answer: bytes, kept: int) -> None:
    for prompt in ("one", "two"):
        turn(qwen, "ask", prompt)
    code, screen = clear_at_a_terminal(qwen_env, answer)
    question = f"delete all 2 responses in {history_file(qwen_env)}? [y/N] {answer.decode()}\n"
    done = "removed 2 responses from the history\n" if kept == 0 else "qwen: nothing was removed\n"
    assert (code, screen) == (0, question + done)
    assert len(rows(qwen_env)) == kept


def test_history_clear_older_than_on_a_terminal_asks_about_those_only(qwen, qwen_env, emulator) -> None:
    old = turn(qwen, "ask", "old").id
    turn(qwen, "ask", "new")
    with sqlite3.connect(history_file(qwen_env)) as db:
        db.execute("UPDATE responses SET created_at = created_at - 2 * 86400 WHERE id = ?", (old,))
    code, screen = clear_at_a_terminal(qwen_env, b"y", "--older-than", "1d")
    assert (code, screen) == (
        0,
        f"delete the 1 response older than 1d in {history_file(qwen_env)}? [y/N] y\nremoved 1 response from the history\n",
    )
    assert [prompt for _, _, _, prompt, _ in rows(qwen_env)] == ["new"]


def test_history_clear_yes_or_nothing_to_delete_asks_nothing(qwen, qwen_env, emulator) -> None:
    turn(qwen, "ask", "one")
    assert clear_at_a_terminal(qwen_env, None, "--yes") == (0, "removed 1 response from the history\n")
    assert clear_at_a_terminal(qwen_env, None) == (0, "removed 0 responses from the history\n")


def test_history_path_follows_xdg_data_home_or_defaults_under_home(qwen, qwen_env) -> None:
    assert qwen("history", "path").stdout == f"{history_file(qwen_env)}\n"
    default = qwen("history", "path", env={"XDG_DATA_HOME": ""})
    assert default.stdout == f"{Path(qwen_env['HOME']) / '.local' / 'share' / 'qwen' / 'history.db'}\n"


@pytest.mark.parametrize("turned_off", ["flag", "config"])
def test_no_history_records_nothing(qwen, qwen_env, emulator, turned_off: str) -> None:
    args = ["--no-history"] if turned_off == "flag" else []
    if turned_off == "config":
        config = Path(qwen_env["XDG_CONFIG_HOME"]) / "qwen" / "config.yaml"
        config.parent.mkdir(parents=True)
        config.write_text("history: false\n", encoding="utf-8")
    asked, streamed = qwen("ask", *args, "hi"), qwen("stream", *args, "there")
    assert (asked.returncode, asked.stdout, streamed.returncode, streamed.stdout) == (
        0,
        "You said: hi\n",
        0,
        "You said: there\n",
    )
    assert not history_file(qwen_env).exists()
    assert history_json(qwen, "list") == []


def test_no_history_leaves_an_existing_history_as_it_was(qwen, qwen_env, emulator) -> None:
    kept = turn(qwen, "ask", "keep me")
    assert qwen("ask", "--no-history", "forget me").returncode == 0
    assert [row[0] for row in rows(qwen_env)] == [kept.id]


def test_a_cut_stream_is_recorded_as_cut_with_the_partial_answer(qwen, qwen_env, emulator) -> None:
    emulator.set_faults(cut_after_events=6)
    result = qwen("stream", "@@words=50")
    assert (result.returncode, result.stdout) == (4, "w1 w2 \n")
    response_id = re.search(r"response id (resp_\S+) \(cut\)", result.stderr).group(1)
    entry = history_json(qwen, "show", "last")
    assert (entry["id"], entry["status"], entry["answer"], entry["model"]) == (
        response_id,
        "cut",
        "w1 w2 ",
        "qwen-plus",
    )


def test_ctrl_c_mid_stream_is_recorded_as_interrupted_and_can_be_continued(qwen, qwen_env, emulator) -> None:
    emulator.set_faults(event_delay=0.02)
    result = interrupt_stream_when(qwen_env, "w5 ", "stream", "@@words=300")
    assert result.returncode == 130 and result.stderr.endswith("qwen: error: interrupted\n")
    response_id = re.search(r"response id (resp_\S+) \(interrupted\)", result.stderr).group(1)
    entry = history_json(qwen, "show", "last")
    said = entry["answer"].split()
    assert (entry["id"], entry["status"]) == (response_id, "interrupted")
    assert 5 <= len(said) < 300 and said == [f"w{n}" for n in range(1, len(said) + 1)]
    assert entry["answer"].startswith(result.stdout.rstrip("\n"))  # what was shown is what was kept
    emulator.set_faults()
    assert turn(qwen, "continue", "last", "go on").stdout == "You said: go on (turn 2)\n"
    assert last_body(emulator)["previous_response_id"] == response_id


# --- a history that cannot be written ------------------------------------------------------------------------------


def break_history(qwen_env: dict[str, str], how: str) -> None:
    path = history_file(qwen_env)
    if how == "corrupt":
        path.write_bytes(b"this is not an SQLite database \x00\xff\xfe" * 64)
    else:
        path.parent.chmod(0o500)


@pytest.mark.parametrize(
    "command, how",
    [("ask", "read-only folder, first use"), ("stream", "read-only folder"), ("stream", "corrupt")],
)
def test_a_history_that_cannot_be_written_warns_and_the_answer_still_comes(
    qwen, qwen_env, emulator, how: str, command: str
) -> None:
    history_file(qwen_env).parent.mkdir(parents=True)
    if how != "read-only folder, first use":
        turn(qwen, "ask", "an earlier question")
    break_history(qwen_env, "corrupt" if how == "corrupt" else "read-only")
    try:
        result = run_as_ordinary_user(qwen_env, command, "hi")
    finally:
        history_file(qwen_env).parent.chmod(0o700)
    assert (result.returncode, result.stdout) == (0, "You said: hi\n")
    warning = f"qwen: warning: the history at {history_file(qwen_env)} "
    assert one_line(result.stderr).startswith(warning) and result.stderr.endswith("the answer is not affected\n")


@pytest.mark.parametrize("how", ["read-only", "corrupt"])
def test_continuing_a_full_id_never_fails_for_a_history_that_cannot_be_written(
    qwen, qwen_env, emulator, how: str
) -> None:
    # The id is given whole: the request needs nothing from the history, and the issue says a history that
    # cannot be written never fails the request.
    first = turn(qwen, "ask", "hi")
    break_history(qwen_env, how)
    try:
        result = run_as_ordinary_user(qwen_env, "continue", first.id, "more")
    finally:
        history_file(qwen_env).parent.chmod(0o700)
    assert (result.returncode, result.stdout) == (0, "You said: more (turn 2)\n"), result.stderr
    assert last_body(emulator)["previous_response_id"] == first.id
    warnings = result.stderr.splitlines()
    assert warnings and all(
        line.startswith(f"qwen: warning: the history at {history_file(qwen_env)} ") for line in warnings
    )


def test_a_history_in_a_read_only_folder_can_still_be_read_and_continued(qwen, qwen_env, emulator) -> None:
    # A read-only disk keeps the history intact: `last` can be found, only recording the new turn fails.
    first = turn(qwen, "ask", "hi")
    history_file(qwen_env).parent.chmod(0o500)
    try:
        continued = run_as_ordinary_user(qwen_env, "continue", "last", "more")
        listed = run_as_ordinary_user(qwen_env, "history", "list", "--json")
    finally:
        history_file(qwen_env).parent.chmod(0o700)
    assert (continued.returncode, continued.stdout) == (0, "You said: more (turn 2)\n"), continued.stderr
    assert last_body(emulator)["previous_response_id"] == first.id
    warning = f"qwen: warning: the history at {history_file(qwen_env)} "
    assert one_line(continued.stderr).startswith(warning) and continued.stderr.endswith("the answer is not affected\n")
    assert (listed.returncode, listed.stderr) == (0, "")
    assert [entry["id"] for entry in json.loads(listed.stdout)] == [first.id]


# --- many writers at once --------------------------------------------------------------------------------------


def test_a_dozen_simultaneous_requests_share_one_history_and_lose_nothing(qwen, qwen_env, emulator) -> None:
    emulator.set_faults(first_event_delay=0.3)  # the replies arrive together, so the writes contend
    prompts = [f"question number {n}" for n in range(1, 13)]
    processes = [
        subprocess.Popen(
            [qwen_executable(), "ask", prompt],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=qwen_env,
        )
        for prompt in prompts
    ]
    outcomes = [
        (process.wait(timeout=30), *(stream.read().decode() for stream in (process.stdout, process.stderr)))
        for process in processes
    ]
    for process in processes:
        process.stdout.close(), process.stderr.close()
    assert outcomes == [(0, f"You said: {prompt}\n", "") for prompt in prompts]
    recorded = rows(qwen_env, "id, prompt, answer, status")
    assert len(recorded) == 12 and len({response_id for response_id, *_ in recorded}) == 12
    assert sorted(prompt for _, prompt, _, _ in recorded) == sorted(prompts)
    assert all(answer == f"You said: {prompt}" and status == "completed" for _, prompt, answer, status in recorded)


# --- stored responses -------------------------------------------------------------------------------------------


def test_response_get_shows_the_answer_or_the_stored_object(qwen, emulator) -> None:
    asked = turn(qwen, "ask", "hi")
    text = qwen("response", "get", asked.id)
    assert (text.returncode, text.stdout, text.stderr) == (0, "You said: hi\n", "")
    as_json = qwen("response", "get", asked.id, "--json")
    assert as_json.returncode == 0 and json.loads(as_json.stdout) == stored_response(emulator, asked.id)
    assert emulator.requests[-1]["method"] == "GET" and emulator.requests[-1]["path"].endswith(f"/responses/{asked.id}")


def test_a_deleted_response_is_gone_and_a_missing_one_is_exit_1(qwen, emulator) -> None:
    asked = turn(qwen, "ask", "hi")
    deleted = qwen("response", "delete", asked.id)
    assert (deleted.returncode, deleted.stdout, deleted.stderr) == (0, f"deleted {asked.id}\n", "")
    assert emulator.requests[-1]["method"] == "DELETE"
    for args in (["get", asked.id], ["delete", asked.id], ["items", asked.id]):
        gone = qwen("response", *args)
        assert (gone.returncode, gone.stdout) == (1, "")
        assert one_line(gone.stderr).startswith(UNKNOWN.format(id=asked.id, endpoint=emulator.base_url) + "; your")
    elsewhere = qwen("response", "get", "resp_never-recorded")  # a full id the history does not know: sent as it is
    assert (elsewhere.returncode, elsewhere.stdout) == (1, "")
    assert emulator.requests[-1]["path"].endswith("/responses/resp_never-recorded")
    assert one_line(elsewhere.stderr).startswith(
        UNKNOWN.format(id="resp_never-recorded", endpoint=emulator.base_url) + " (HTTP 404"
    )


def test_response_commands_take_last_and_prefixes_from_the_history(qwen, emulator) -> None:
    first, second = turn(qwen, "ask", "one"), turn(qwen, "ask", "two")
    short = unique_prefix(first.id, [second.id]).removeprefix("resp_")
    for reference, expected in (("last", second), (short, first), ("resp_" + short, first)):
        got = qwen("response", "get", reference)
        assert (got.returncode, got.stdout, got.stderr) == (0, expected.stdout, "")
        assert emulator.requests[-1]["path"].endswith(f"/responses/{expected.id}")
        items = qwen("response", "items", reference)
        assert items.returncode == 0 and emulator.requests[-1]["path"].endswith(f"/responses/{expected.id}/input_items")
    ambiguous = qwen("response", "get", "resp_")
    assert ambiguous.returncode == 2 and ambiguous.stderr.startswith("qwen: error: 'resp_' matches 2 responses")
    deleted = qwen("response", "delete", "last")
    assert (deleted.returncode, deleted.stdout) == (0, f"deleted {second.id}\n")
    assert emulator.requests[-1]["method"] == "DELETE" and emulator.requests[-1]["path"].endswith(second.id)


def test_response_get_last_with_an_empty_history_is_exit_2_and_sends_nothing(qwen, emulator) -> None:
    result = qwen("response", "get", "last")
    assert (result.returncode, result.stdout) == (2, "")
    assert (
        one_line(result.stderr) == "qwen: error: the local history is empty, so 'last' names no response; give the id\n"
    )
    assert emulator.requests == []


def test_response_items_lists_the_chained_turns_with_limit_order_and_after(qwen, emulator) -> None:
    turn(qwen, "ask", "one")
    turn(qwen, "continue", "last", "two")
    third = turn(qwen, "continue", "last", "three")
    every = [
        ("user", "one"),
        ("assistant", "You said: one"),
        ("user", "two"),
        ("assistant", "You said: two (turn 2)"),
        ("user", "three"),
    ]
    ascending = qwen("response", "items", third.id, "--order", "asc")
    assert (ascending.returncode, ascending.stderr) == (0, "")
    assert [(role, text) for _, role, text in ITEM_LINE.findall(ascending.stdout)] == every
    assert len(ascending.stdout.splitlines()) == 5
    descending = qwen("response", "items", third.id, "--order", "desc")
    assert [(role, text) for _, role, text in ITEM_LINE.findall(descending.stdout)] == every[::-1]
    first_page = qwen("response", "items", third.id, "--order", "asc", "--limit", "2")
    page_ids = [item_id for item_id, _, _ in ITEM_LINE.findall(first_page.stdout)]
    assert [(role, text) for _, role, text in ITEM_LINE.findall(first_page.stdout)] == every[:2]
    assert first_page.stderr == f"qwen: more items follow; list them with --after {page_ids[-1]}\n"
    rest = json.loads(qwen("response", "items", third.id, "--order", "asc", "--after", page_ids[-1], "--json").stdout)
    assert [item["content"][0]["text"] for item in rest["data"]] == [text for _, text in every[2:]]
    assert rest["has_more"] is False
    assert emulator.requests[-1]["query"] == {"order": "asc", "after": page_ids[-1]}


@pytest.mark.parametrize("listing", [["response", "items", "resp_1"], ["conversation", "items", "conv_1"]])
@pytest.mark.parametrize("args", [["--order", "sideways"], ["--limit", "0"]], ids=["order", "limit"])
def test_bad_listing_options_are_exit_2_before_any_network(qwen, emulator, listing: list[str], args: list[str]) -> None:
    result = qwen(*listing, *args)
    assert (result.returncode, result.stdout) == (2, "")
    assert one_line(result.stderr).startswith("qwen: error: ") and args[0] in result.stderr  # names the bad option
    assert emulator.requests == []


# --- conversations ------------------------------------------------------------------------------------------------


def test_a_conversation_carries_its_items_into_every_turn(qwen, qwen_env, emulator) -> None:
    made = qwen("conversation", "create", "--item", "My name is Ada.")
    assert made.returncode == 0 and made.stderr == ""
    conversation = made.stdout.strip()
    assert made.stdout == f"{conversation}\n" and conversation.startswith("conv_")
    assert emulator.requests[-1]["body"] == {
        "items": [{"type": "message", "role": "user", "content": "My name is Ada."}]
    }
    joined = qwen("ask", "--conversation", conversation, "what is my name?")
    assert (joined.returncode, joined.stdout) == (0, "You said: what is my name? (turn 2)\n")
    assert last_body(emulator) == {"model": "qwen-plus", "input": "what is my name?", "conversation": conversation}
    assert history_json(qwen, "show", "last")["options"] == {"conversation": conversation}
    items = qwen("conversation", "items", conversation, "--order", "asc")
    assert (items.returncode, items.stderr) == (0, "")
    assert [(role, text) for _, role, text in ITEM_LINE.findall(items.stdout)] == [
        ("user", "My name is Ada."),
        ("user", "what is my name?"),
        ("assistant", "You said: what is my name? (turn 2)"),
    ]
    latest = json.loads(qwen("conversation", "items", conversation, "--limit", "1", "--json").stdout)
    assert [item["role"] for item in latest["data"]] == ["assistant"] and latest["has_more"] is True


def test_a_conversation_without_items_starts_empty(qwen, emulator) -> None:
    made = qwen("conversation", "create")
    conversation = made.stdout.strip()
    assert made.returncode == 0 and conversation.startswith("conv_")
    assert qwen("conversation", "items", conversation).stdout == ""
    assert qwen("ask", "--conversation", conversation, "hi").stdout == "You said: hi\n"  # no history: no turn count


def test_a_deleted_or_missing_conversation_is_exit_1(qwen, emulator) -> None:
    conversation = qwen("conversation", "create", "--item", "hello").stdout.strip()
    deleted = qwen("conversation", "delete", conversation)
    assert (deleted.returncode, deleted.stdout, deleted.stderr) == (0, f"deleted {conversation}\n", "")
    for args in (["conversation", "items", conversation], ["conversation", "delete", conversation]):
        gone = qwen(*args)
        assert (gone.returncode, gone.stdout) == (1, "")
        assert one_line(gone.stderr).startswith(
            f"qwen: error: Conversation with id '{conversation}' not found. (HTTP 404"
        )
    joined = qwen("ask", "--conversation", conversation, "hi")
    assert (joined.returncode, joined.stdout) == (1, "")
    assert one_line(joined.stderr).startswith(f"qwen: error: Not found conversation: {conversation} (HTTP 400")
