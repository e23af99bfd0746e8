"""`qwen stream` end to end: the installed command against the emulator over a real socket, in pipes and on a pty."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import signal
import subprocess
import time
import unicodedata
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import API_KEY, Result, answer_ctrl_c, assert_no_secret, qwen_executable, read_until_closed

from qwen_cli.emulator import ANSI_SAMPLE, Emulator

# `resp_… · [model · ]12 in, 34 out (5 reasoning, 0 cached) tokens[ · 1.25 s]`: model and time come with -v.
SUMMARY = re.compile(
    r"(resp_\S+) · (?:(\S+) · )?(\d+) in, (\d+) out \((\d+) reasoning, (\d+) cached\) tokens(?: · (\d+\.\d\d) s)?"
)
RESPONSE_ID = re.compile(r"response id (resp_\S+) \((?:cut|interrupted)\)")  # a stream that did not finish
COLOUR_PARAMETERS = {*range(30, 39), *range(40, 49), *range(90, 98), *range(100, 108)}


def created(emulator: Emulator) -> list[dict]:
    """The create requests the emulator received, as it received them."""
    return [entry for entry in emulator.requests if entry["method"] == "POST" and entry["path"].endswith("/responses")]


def words(count: int) -> str:
    """The emulator's `@@words=N` answer: `w1 w2 ... wN`."""
    return " ".join(f"w{n}" for n in range(1, count + 1))


def stored_response(emulator: Emulator, response_id: str) -> dict:
    url = f"{emulator.base_url}/responses/{response_id}"
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {API_KEY}"})
    with urllib.request.urlopen(request, timeout=10) as reply:
        return json.loads(reply.read())


def summary_of(stderr: str) -> re.Match:
    match = SUMMARY.search(stderr)
    assert match, f"no summary line on stderr: {stderr!r}"
    return match


# --- a terminal, as far as a person looking at it can tell ---------------------------------------------------


# A CSI sequence (parameters, final byte), an OSC string, another escape, a control character, or plain text.
TERMINAL_TOKENS = re.compile(
    r"\x1b\[([?0-9;]*)([@-~])|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b.|[\x00-\x1f]|[^\x00-\x1f\x1b]+"
)


class Screen:
    """Just enough of a terminal to read what stays on it: text, cursor moves, erasing, scrollback, dim text.

    The cursor cannot rise above the visible screen, as on a real terminal: lines that scrolled away stay.
    """

    def __init__(self, raw: str, columns: int = 80, lines: int = 40) -> None:
        self.columns, self.lines = columns, lines
        self.rows: list[list[str]] = [[]]
        self.row = self.col = 0
        self.dim = False
        self.dimmed: list[str] = []
        for match in TERMINAL_TOKENS.finditer(raw):
            self.take(match)

    def take(self, match: re.Match) -> None:
        token = match.group(0)
        if match.group(2) is not None:
            self.control(match.group(1), match.group(2))
        elif token == "\r":
            self.col = 0
        elif token == "\n":
            self.down()
        elif token[0] >= " ":
            for char in token:
                self.put(char)

    def control(self, parameters: str, final: str) -> None:
        numbers = [int(p) if p.isdigit() else 0 for p in parameters.lstrip("?").split(";")]
        count, top = max(1, numbers[0]), max(0, len(self.rows) - self.lines)
        if final == "A":
            self.row = max(top, self.row - count)
        elif final == "B":
            for _ in range(count):
                self.down()
        elif final == "C":
            self.col = min(self.columns - 1, self.col + count)
        elif final == "D":
            self.col = max(0, self.col - count)
        elif final == "G":
            self.col = count - 1
        elif final == "K":
            line = self.rows[self.row]
            if numbers[0] == 0:
                del line[self.col :]
            elif numbers[0] == 1:
                line[: self.col] = [" "] * min(self.col, len(line))
            else:
                line.clear()
        elif final == "J" and numbers[0] == 2:
            for line in self.rows[top:]:
                line.clear()
        elif final == "m" and not parameters.startswith("?"):
            self.dim = 2 in numbers or (self.dim and not {0, 22} & set(numbers))

    def down(self) -> None:
        self.row += 1
        while len(self.rows) <= self.row:
            self.rows.append([])

    def put(self, char: str) -> None:
        width = 2 if unicodedata.east_asian_width(char) in "WF" else 1
        if self.col + width > self.columns:
            self.col = 0
            self.down()
        line = self.rows[self.row]
        line.extend(" " * (self.col + width - len(line)))
        line[self.col : self.col + width] = [char] + [""] * (width - 1)
        self.col += width
        if self.dim:
            self.dimmed.append(char)

    @property
    def text(self) -> str:
        return "\n".join("".join(line).rstrip() for line in self.rows).strip("\n")

    @property
    def dim_text(self) -> str:
        return "".join(self.dimmed)


def cursor_restored(raw: str) -> bool:
    """The cursor is visible at the end: shown again after its last hiding, or never hidden."""
    hidden = raw.rfind("\x1b[?25l")
    return hidden == -1 or "\x1b[?25h" in raw[hidden:]


def colour_codes(raw: str) -> set[int]:
    codes: set[int] = set()
    for parameters in re.findall(r"\x1b\[([0-9;]*)m", raw):
        codes |= {int(p) for p in parameters.split(";") if p.isdigit()} & COLOUR_PARAMETERS
    return codes


# --- a qwen still running, so a test can look at it and press Ctrl-C mid-stream --------------------------------


class Running:
    """`qwen ARGS...` started in the background, on pipes or on a pseudo-terminal, read while it runs."""

    def __init__(self, args: list[str], env: dict[str, str], terminal: bool) -> None:
        self.terminal = terminal
        self.received = b""
        command = [qwen_executable(), *args]
        if terminal:
            self.fd, child = pty.openpty()
            self.process = subprocess.Popen(
                command, stdin=child, stdout=child, stderr=child, env=env, close_fds=True, preexec_fn=answer_ctrl_c
            )
            os.close(child)
        else:
            self.process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=env,
                preexec_fn=answer_ctrl_c,
            )
            self.fd = self.process.stdout.fileno()

    @property
    def shown(self) -> str:
        """What a person sees so far: the screen's text on a terminal, else what reached stdout."""
        text = self.received.decode("utf-8", "replace")
        return Screen(text).text if self.terminal else text

    def wait_for(self, condition: Callable[[str], bool], timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while not condition(self.shown) and time.monotonic() < deadline:
            if select.select([self.fd], [], [], 0.1)[0]:
                try:
                    self.received += os.read(self.fd, 65536)
                except OSError:  # the terminal closed: qwen has exited
                    break
        assert condition(self.shown), f"never shown; so far: {self.shown[-500:]!r}"
        assert self.process.poll() is None, "qwen exited instead of waiting for more of the stream"

    def interrupt(self) -> Result:
        """Press Ctrl-C and collect the rest: stdout (or the whole screen) and stderr."""
        self.process.send_signal(signal.SIGINT)
        if self.terminal:
            self.received += read_until_closed(self.fd, time.monotonic() + 20)
            self.process.wait(timeout=10)
            result = Result(self.process.returncode, self.received.decode("utf-8", "replace"), "")
        else:
            rest, stderr = self.process.communicate(timeout=20)
            self.received += rest
            result = Result(self.process.returncode, self.received.decode("utf-8"), stderr.decode("utf-8"))
        assert_no_secret(result)
        return result


@pytest.fixture
def start(qwen_env: dict[str, str]):
    started: list[Running] = []

    def run(*args: str, terminal: bool = False) -> Running:
        started.append(Running(list(args), {**qwen_env, "COLUMNS": "80", "LINES": "40"}, terminal))
        return started[-1]

    yield run
    for running in started:  # a failed test must not leave its qwen behind
        if running.process.poll() is None:
            running.process.kill()
            running.process.wait(timeout=10)
        if running.terminal:
            os.close(running.fd)


# --- the answer in a pipe ------------------------------------------------------------------------------------


def test_a_pipe_gets_exactly_the_answer_and_one_newline(qwen, emulator) -> None:
    result = qwen("stream", "why", "is", "the", "sky", "blue")
    assert (result.returncode, result.stdout, result.stderr) == (0, "You said: why is the sky blue\n", "")


def test_one_streaming_request_carries_only_the_parameters_set(qwen, emulator) -> None:
    plain = qwen("stream", "hi")
    tuned = qwen("stream", "-s", "Be brief", "-t", "0.5", "--max-output-tokens", "64", "--think", "hello")
    assert plain.returncode == tuned.returncode == 0
    first, second = created(emulator)
    assert first["body"] == {"model": "qwen-plus", "input": "hi", "stream": True}
    assert second["body"] == {
        "model": "qwen-plus",
        "input": "hello",
        "instructions": "Be brief",
        "temperature": 0.5,
        "max_output_tokens": 64,
        "enable_thinking": True,
        "stream": True,
    }
    assert first["headers"]["accept"] == "text/event-stream"
    assert tuned.stdout == "[Be brief] You said: hello\n"


def test_text_arrives_in_a_pipe_before_the_stream_ends(start, emulator) -> None:
    emulator.set_faults(stall_after_events=6)  # created, in_progress, item, part, then two word deltas
    running = start("stream", "@@words=50")
    running.wait_for(lambda shown: shown == "w1 w2 ")
    result = running.interrupt()
    assert (result.returncode, result.stdout) == (130, "w1 w2 \n")
    response_id = RESPONSE_ID.search(result.stderr).group(1)
    assert result.stderr == f"qwen: response id {response_id} (interrupted)\nqwen: error: interrupted\n"
    assert stored_response(emulator, response_id)["id"] == response_id


def test_reasoning_is_hidden_in_text_mode_unless_asked_for_then_on_stderr(qwen, emulator) -> None:
    hidden = qwen("stream", "--think", "hi")
    shown = qwen("stream", "--think", "--show-reasoning", "hi")
    assert hidden.stdout == shown.stdout == "You said: hi\n"
    assert (hidden.stderr, shown.stderr) == ("", "Thinking about: hi\n")


def test_text_mode_passes_terminal_control_bytes_through_unchanged(qwen, emulator) -> None:
    result = qwen("stream", "-o", "text", "@@ansi")
    assert (result.returncode, result.stdout) == (0, ANSI_SAMPLE + "\n")


def test_an_incomplete_answer_is_printed_with_a_warning_and_exit_0(qwen, emulator) -> None:
    result = qwen("stream", "--max-output-tokens", "16", "@@words=40")
    assert (result.returncode, result.stdout) == (0, words(16) + "\n")
    warning = "qwen: warning: the answer is incomplete (max_output_tokens); raise --max-output-tokens for more\n"
    assert result.stderr == warning


def test_closing_stdout_early_ends_quietly(qwen_env, emulator) -> None:
    command = f"set -o pipefail; '{qwen_executable()}' stream @@words=50000 | head -c 20"
    result = subprocess.run(["bash", "-c", command], env=qwen_env, capture_output=True, text=True, timeout=60)
    assert (result.returncode, result.stdout, result.stderr) == (0, "w1 w2 w3 w4 w5 w6 w7", "")


# --- json, jsonl and -v: the response and its id ----------------------------------------------------------------


def test_json_is_the_response_carried_by_the_terminal_event(qwen, emulator) -> None:
    result = qwen("stream", "--json", "hi")
    response = json.loads(result.stdout)
    assert (result.returncode, result.stderr) == (0, "")
    # The events before the terminal one carry `model: ""` and no usage: only the terminal response has them.
    assert (response["status"], response["model"], response["usage"]["output_tokens"]) == ("completed", "qwen-plus", 3)
    assert response["output"][-1]["content"][0]["text"] == "You said: hi"
    assert response == stored_response(emulator, response["id"])


def test_jsonl_is_every_server_event_as_one_compact_line(qwen, emulator) -> None:
    result = qwen("stream", "-o", "jsonl", "@@words=3")
    lines = result.stdout.splitlines()
    events = [json.loads(line) for line in lines]
    assert (result.returncode, result.stderr) == (0, "")
    assert lines == [json.dumps(event, ensure_ascii=False, separators=(",", ":")) for event in events]
    assert [event["type"] for event in events] == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
        *["response.output_text.delta"] * 3,
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]
    numbers = [event["sequence_number"] for event in events]
    assert numbers == list(range(numbers[0], numbers[0] + len(events)))
    assert "".join(event.get("delta", "") for event in events) == words(3)
    first_id = events[0]["response"]["id"]
    assert first_id.startswith("resp_") and events[-1]["response"]["id"] == first_id


def test_jsonl_lines_are_flushed_as_the_events_arrive(start, emulator) -> None:
    emulator.set_faults(stall_after_events=3)
    running = start("stream", "-o", "jsonl", "hi")
    running.wait_for(lambda shown: shown.count("\n") == 3)
    result = running.interrupt()
    events = [json.loads(line) for line in result.stdout.splitlines()]
    assert result.returncode == 130
    assert [event["type"] for event in events] == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
    ]
    assert f"response id {events[0]['response']['id']} (interrupted)" in result.stderr


@pytest.mark.parametrize("mode", ["text", "json", "jsonl", "pretty"])
def test_verbose_names_id_model_usage_and_timing_on_stderr_in_every_mode(qwen, emulator, mode: str) -> None:
    result = qwen("stream", "-v", "-o", mode, "--think", "hi")
    summary = summary_of(result.stderr)
    response_id, model, input_tokens, output_tokens, reasoning, cached, seconds = summary.groups()
    assert result.returncode == 0
    assert (model, input_tokens, output_tokens, reasoning, cached) == ("qwen-plus", "1", "6", "3", "0")
    assert seconds is not None and result.stderr.endswith(summary.group(0) + "\n")
    assert stored_response(emulator, response_id)["id"] == response_id
    if mode == "json":
        assert json.loads(result.stdout)["id"] == response_id
    if mode == "jsonl":
        assert json.loads(result.stdout.splitlines()[0])["response"]["id"] == response_id


def test_pretty_mode_keeps_reasoning_apart_on_stderr_then_id_and_usage(qwen, emulator) -> None:
    result = qwen("stream", "-o", "pretty", "--think", "@@markdown")
    assert result.returncode == 0
    assert "Emulator Markdown Sample" in result.stdout and "**" not in result.stdout and "\x1b[" not in result.stdout
    assert "Thinking about" not in result.stdout
    reasoning_at = result.stderr.index("Thinking about: @@markdown")
    summary = summary_of(result.stderr)
    assert summary.start() > reasoning_at and summary.group(2) is None  # id and usage; model and time need -v
    assert result.stderr.endswith(summary.group(0) + "\n")


# --- every SSE framing ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("split_writes", [False, True], ids=["whole-frames", "7-byte-reads"])
@pytest.mark.parametrize("sse_style", ["dashscope", "openai", "crlf"])
def test_every_sse_framing_gives_the_same_answer(qwen, emulator, sse_style: str, split_writes: bool) -> None:
    emulator.set_faults(sse_style=sse_style, split_writes=split_writes)
    result = qwen("stream", "-v", "héllo wörld 世界 ✓")
    assert (result.returncode, result.stdout) == (0, "You said: héllo wörld 世界 ✓\n")
    # Nothing skipped or warned about (not even OpenAI's `data: [DONE]`): only the summary of the terminal event.
    assert result.stderr == summary_of(result.stderr).group(0) + "\n"
    assert summary_of(result.stderr).group(4) == "6"


def test_a_malformed_event_is_skipped_with_a_warning_and_the_answer_completes(qwen, emulator) -> None:
    emulator.set_faults(malformed_at=6)
    result = qwen("stream", "@@words=5")
    assert (result.returncode, result.stdout) == (0, words(5) + "\n")
    assert result.stderr.startswith("qwen: skipped a malformed event in the stream (invalid JSON")
    assert result.stderr.count("\n") == 1


def test_an_unknown_event_type_is_ignored_in_text_and_kept_in_jsonl(qwen, emulator) -> None:
    emulator.set_faults(unknown_event_at=5)
    text = qwen("stream", "@@words=3")
    jsonl = qwen("stream", "-o", "jsonl", "@@words=3")
    assert (text.returncode, text.stdout, text.stderr) == (0, words(3) + "\n", "")
    events = [json.loads(line) for line in jsonl.stdout.splitlines()]
    assert jsonl.returncode == 0
    assert events[5]["type"] == "response.emulator_unknown" and events[5]["note"] == "ignore me"
    assert events[-1]["type"] == "response.completed"


# --- the API's refusals and failures: exit 1, 2, 3 --------------------------------------------------------------


def test_a_failed_response_is_exit_1_with_the_server_message(qwen, emulator) -> None:
    result = qwen("stream", "@@fail")
    assert (result.returncode, result.stdout) == (1, "")
    assert re.fullmatch(
        r"qwen: error: the request failed: Emulated failure\. \(response resp_[0-9a-f-]+\) \(code InternalError\)\n",
        result.stderr,
    )


def test_an_unknown_model_is_exit_1(qwen, emulator) -> None:
    # Streaming, the service answers HTTP 200 and a single `response.failed` event.
    result = qwen("stream", "-m", "qwen-nope", "hi")
    assert (result.returncode, result.stdout) == (1, "")
    assert "Unsupported model: 'qwen-nope'" in result.stderr and "code InvalidParameter" in result.stderr


@pytest.mark.parametrize(
    "faults, prompt, error",
    [
        (
            {},
            "@@fail",
            {
                "type": "api_error",
                "message": "the request failed: Emulated failure.",
                "code": "InternalError",
                "exit_code": 1,
            },
        ),
        (
            {"cut_after_events": 6},
            "@@words=50",
            {
                "type": "stream_cut",
                "message": "the stream was cut before the response was complete; "
                "the text so far is in the JSON document (partial_text)",
                "exit_code": 4,
                "partial_text": "w1 w2 ",
            },
        ),
    ],
    ids=["failed", "cut"],
)
def test_json_mode_writes_the_error_to_stdout_too(qwen, emulator, faults: dict, prompt: str, error: dict) -> None:
    emulator.set_faults(**faults)
    result = qwen("stream", "--json", prompt)
    assert result.returncode == error["exit_code"]
    shown = json.loads(result.stdout)["error"]
    shown["message"] = without_response_id(shown["message"])  # the failed response names itself
    if shown["type"] == "stream_cut":  # the cut response is named in the document, as on stderr
        assert f"qwen: response id {shown.pop('response_id')} (cut)\n" in result.stderr
    assert shown == error
    assert without_response_id(result.stderr.splitlines()[-1]).startswith(f"qwen: error: {error['message']}")


def without_response_id(text: str) -> str:
    return re.sub(r" \(response resp_[0-9a-f-]+\)", "", text)


@pytest.mark.parametrize(
    "args, message",
    [
        (["-t", "3", "hi"], "qwen: error: --temperature must be in [0, 2), got 3\n"),
        (["-o", "fancy", "hi"], "Invalid value for '-o' / '--output'"),
        ([], "nothing to send"),
    ],
)
def test_bad_usage_is_exit_2_and_sends_nothing(qwen, emulator, args: list[str], message: str) -> None:
    result = qwen("stream", *args)
    assert (result.returncode, result.stdout) == (2, "")
    assert message in result.stderr and result.stderr.count("\n") == 1
    assert created(emulator) == []


def test_a_refused_key_is_exit_3(qwen) -> None:
    with Emulator(api_key="sk-right") as strict:
        result = qwen("stream", "hi", env={"QWEN_BASE_URL": strict.base_url})
        assert len(created(strict)) == 1  # authentication is not retried
    assert (result.returncode, result.stdout) == (3, "")
    assert "the API key was refused: Invalid API-key provided." in result.stderr and "HTTP 401" in result.stderr


def test_a_missing_key_is_exit_3_before_any_network(qwen, emulator) -> None:
    result = qwen("stream", "hi", env={"DASHSCOPE_API_KEY": ""})
    assert result.returncode == 3 and "DASHSCOPE_API_KEY is not set" in result.stderr
    assert created(emulator) == []


# --- retries, and exit 4 when they run out ------------------------------------------------------------------------


@pytest.mark.parametrize("status", [429, 500, 503])
def test_an_error_status_before_the_stream_is_retried_and_announced(qwen, emulator, status: int) -> None:
    emulator.set_faults(http_status=status, http_status_count=1, retry_after="0")
    result = qwen("stream", "hi")
    assert (result.returncode, result.stdout) == (0, "You said: hi\n")
    # Retry-After: 0 is honoured: the backoff alone would wait 0.25 s or more.
    assert f"HTTP {status}" in result.stderr and "retrying in 0.0 s (retry 1 of 2)" in result.stderr
    assert result.stderr.count("\n") == 1
    assert len(created(emulator)) == 2


def test_the_http_200_rate_limit_event_is_retried(qwen, emulator) -> None:
    emulator.set_faults(rate_limit_http200=1)
    result = qwen("stream", "hi")
    assert (result.returncode, result.stdout) == (0, "You said: hi\n")
    assert "rate limited: Operation model request rate limit exceeded" in result.stderr
    assert "retry 1 of 2" in result.stderr
    assert len(created(emulator)) == 2


def test_a_connection_closed_before_the_first_event_is_retried_until_exit_4(qwen, emulator) -> None:
    emulator.set_faults(cut_after_events=0)
    result = qwen("stream", "--max-retries", "1", "hi")
    assert (result.returncode, result.stdout) == (4, "")
    assert result.stderr.count("retrying") == 1 and result.stderr.splitlines()[-1].startswith("qwen: error: ")
    assert len(created(emulator)) == 2


def test_retries_run_out_into_exit_4(qwen, emulator) -> None:
    emulator.set_faults(http_status=500, http_status_count=10, retry_after="0")
    result = qwen("stream", "--max-retries", "3", "hi")
    assert (result.returncode, result.stdout) == (4, "")
    announced = result.stderr.splitlines()[:3]
    assert [line[line.index("(retry") :] for line in announced] == [f"(retry {n} of 3)" for n in (1, 2, 3)]
    assert result.stderr.splitlines()[-1].startswith("qwen: error: ") and "HTTP 500" in result.stderr
    assert len(created(emulator)) == 4


def test_a_stream_cut_after_text_arrived_is_not_retried_and_keeps_the_text(qwen, emulator) -> None:
    emulator.set_faults(cut_after_events=6)
    result = qwen("stream", "@@words=50")
    assert (result.returncode, result.stdout) == (4, "w1 w2 \n")
    response_id = RESPONSE_ID.search(result.stderr).group(1)
    assert result.stderr == (
        f"qwen: response id {response_id} (cut)\n"
        "qwen: error: the stream was cut before the response was complete; the text so far is kept\n"
    )
    assert len(created(emulator)) == 1


def test_a_stalled_stream_ends_at_the_idle_timeout_with_exit_4(qwen, emulator) -> None:
    emulator.set_faults(stall_after_events=6)
    result = qwen("stream", "--timeout", "1", "@@words=50")
    assert (result.returncode, result.stdout) == (4, "w1 w2 \n")
    assert "qwen: error: the stream stalled: nothing arrived for 1 s; the text so far is kept" in result.stderr
    assert len(created(emulator)) == 1


# --- pretty on a terminal -------------------------------------------------------------------------------------


def test_auto_on_a_terminal_renders_markdown_then_the_footer(qwen_pty, emulator) -> None:
    result = qwen_pty("stream", "@@markdown")
    screen = Screen(result.stdout).text
    assert result.returncode == 0
    assert "Emulator Markdown Sample" in screen and "bold text" in screen and "second item" in screen
    assert "**" not in screen and "#" not in screen and "```" not in screen
    assert "def greet(name: str) -> str:" in screen and 'return f"Hello, {name}!"' in screen
    assert re.search(r"alpha\s+1", screen)
    assert re.search(r"^resp_\S+ · 1 in, 49 out", screen, re.MULTILINE)
    assert cursor_restored(result.stdout)


@pytest.mark.parametrize("delay", [0, 0.002], ids=["at-once", "paced"])
def test_a_long_answer_is_on_screen_whole_and_once(qwen_pty, emulator, delay: float) -> None:
    # Paced, the live tail is redrawn while it grows far taller than the screen (40 lines).
    emulator.set_faults(event_delay=delay)
    count = 3000 if delay == 0 else 1000
    result = qwen_pty("stream", f"@@words={count}")
    screen = Screen(result.stdout).text
    assert result.returncode == 0
    assert re.findall(r"\bw\d+\b", screen) == words(count).split()


def tool_answer(tmp_path: Path, text: str) -> str:
    """A --messages file the emulator answers with `Tool results: <text>`: the way to a long, shaped answer."""
    path = tmp_path / "messages.json"
    path.write_text(
        json.dumps(
            [
                {"role": "user", "content": "look it up"},
                {"type": "function_call", "call_id": "call_1", "name": "lookup", "arguments": "{}"},
                {"type": "function_call_output", "call_id": "call_1", "output": text},
            ]
        ),
        encoding="utf-8",
    )
    return str(path)


def test_finished_blocks_are_printed_once(qwen_pty, emulator, tmp_path: Path) -> None:
    paragraphs = [f"Paragraph {n} holds p{n}a p{n}b p{n}c." for n in range(1, 61)]
    emulator.set_faults(event_delay=0.002)
    result = qwen_pty("stream", "--messages", tool_answer(tmp_path, "\n\n".join(paragraphs)))
    screen = Screen(result.stdout).text
    assert result.returncode == 0
    assert re.findall(r"Paragraph \d+ holds .*", screen) == paragraphs
    assert screen.startswith(f"Tool results: {paragraphs[0]}\n\n{paragraphs[1]}\n\n")


def test_a_block_taller_than_the_screen_is_printed_once(qwen_pty, emulator, tmp_path: Path) -> None:
    # One list of 40 items of two lines each: the unfinished block alone is twice the screen's height.
    items = [f"- item{n} " + " ".join(f"i{n}x{k}" for k in range(24)) for n in range(1, 41)]
    emulator.set_faults(event_delay=0.001)
    result = qwen_pty("stream", "--messages", tool_answer(tmp_path, "\n".join(items)))
    screen = Screen(result.stdout).text
    assert result.returncode == 0
    assert re.findall(r"\bitem\d+\b", screen) == [f"item{n}" for n in range(1, 41)]


def test_the_newest_text_is_on_screen_while_the_stream_pauses(start, emulator) -> None:
    # 1500 words arrive at once, then the server pauses: a person must see where the answer has got to.
    emulator.set_faults(stall_after_events=4 + 1500)
    running = start("stream", "@@words=1500", terminal=True)
    running.wait_for(lambda shown: "w1500" in shown, timeout=10)
    result = running.interrupt()
    assert result.returncode == 130
    assert re.findall(r"\bw\d+\b", Screen(result.stdout).text) == words(1500).split()


def test_reasoning_is_dimmed_and_apart_from_the_answer(qwen_pty, emulator) -> None:
    result = qwen_pty("stream", "--think", "hi")
    screen = Screen(result.stdout)
    assert result.returncode == 0
    assert "Thinking about: hi" in screen.dim_text and "You said" not in screen.dim_text
    assert screen.text.index("Thinking about: hi") < screen.text.index("You said: hi")


def test_terminal_control_sequences_in_a_reply_are_neutralised(qwen_pty, emulator) -> None:
    result = qwen_pty("stream", "@@ansi")
    assert result.returncode == 0
    for sequence in ("\x1b[2J", "\x1b[31mred", "\x1b]8;"):
        assert sequence not in result.stdout
    assert "Terminal escapes: ␛[2J␛[31mred␛[0m and a" in Screen(result.stdout).text


def test_no_color_is_honoured(qwen_pty, emulator) -> None:
    coloured = qwen_pty("stream", "--think", "@@markdown")
    plain = qwen_pty("stream", "--think", "@@markdown", env={"NO_COLOR": "1"})
    assert coloured.returncode == plain.returncode == 0
    assert colour_codes(coloured.stdout)  # the code block is highlighted in colour unless told otherwise
    assert colour_codes(plain.stdout) == set()
    assert "Emulator Markdown Sample" in Screen(plain.stdout).text


def test_a_warning_mid_stream_is_printed_above_the_answer_being_drawn(qwen_pty, emulator) -> None:
    emulator.set_faults(malformed_at=20, event_delay=0.01)
    result = qwen_pty("stream", "@@words=40")
    screen = Screen(result.stdout).text
    assert result.returncode == 0
    assert screen.count("qwen: skipped a malformed event") == 1 and screen.index("qwen: skipped") < screen.index("w1 ")
    assert re.findall(r"\bw\d+\b", screen) == words(40).split()


def test_warnings_stay_on_stderr_while_the_answer_is_drawn_on_a_terminal(qwen_env, emulator) -> None:
    # `qwen stream ... 2>errors.log` at a shell: stdout is the terminal, stderr is not.
    emulator.set_faults(malformed_at=20, event_delay=0.01)
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [qwen_executable(), "stream", "@@words=40"],
        stdin=subprocess.DEVNULL,
        stdout=terminal,
        stderr=subprocess.PIPE,
        env={**qwen_env, "COLUMNS": "80", "LINES": "40"},
    )
    os.close(terminal)
    screen = Screen(read_until_closed(controller, time.monotonic() + 30).decode("utf-8", "replace")).text
    stderr = process.stderr.read().decode("utf-8")
    process.wait(timeout=10)
    os.close(controller)
    assert process.returncode == 0
    assert stderr.startswith("qwen: skipped a malformed event in the stream (invalid JSON")
    assert "skipped" not in screen and re.findall(r"\bw\d+\b", screen) == words(40).split()


@pytest.mark.parametrize("terminal", [False, True], ids=["pipe", "pty"])
def test_ctrl_c_mid_stream_keeps_the_partial_answer_and_names_the_response(start, emulator, terminal: bool) -> None:
    emulator.set_faults(event_delay=0.02)
    running = start("stream", "@@words=300", terminal=terminal)
    running.wait_for(lambda shown: "w5 " in shown)
    result = running.interrupt()
    shown = Screen(result.stdout).text if terminal else result.stdout
    said = re.findall(r"\bw\d+\b", shown)
    assert result.returncode == 130
    assert 5 <= len(said) < 300 and said == words(len(said)).split()
    response_id = RESPONSE_ID.search(result.stdout if terminal else result.stderr).group(1)
    assert stored_response(emulator, response_id)["id"] == response_id
    if terminal:
        assert shown.endswith("qwen: error: interrupted") and cursor_restored(result.stdout)
    else:
        assert result.stdout.endswith(" \n") and result.stderr.endswith("qwen: error: interrupted\n")
