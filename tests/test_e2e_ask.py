"""`qwen ask` end to end: the installed command against the emulator over a real socket."""

from __future__ import annotations

import base64
import json
import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from conftest import API_KEY, answer_ctrl_c, qwen_executable
from fault_servers import json_reply, scripted_server

from qwen_cli.emulator import Emulator

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


def created(emulator: Emulator) -> list[dict]:
    """The create requests the emulator received, as it received them."""
    return [entry for entry in emulator.requests if entry["method"] == "POST" and entry["path"].endswith("/responses")]


def last_body(emulator: Emulator) -> dict:
    return created(emulator)[-1]["body"]


# --- the answer in a pipe ------------------------------------------------------------------------------


def test_a_pipe_gets_exactly_the_answer_and_one_newline(qwen, emulator) -> None:
    result = qwen("ask", "why", "is", "the", "sky", "blue")
    assert (result.returncode, result.stdout, result.stderr) == (0, "You said: why is the sky blue\n", "")


def test_only_the_parameters_the_user_set_are_sent(qwen, emulator) -> None:
    qwen("ask", "hi")
    assert last_body(emulator) == {"model": "qwen-plus", "input": "hi"}
    assert created(emulator)[-1]["headers"]["authorization"] == "[redacted]"
    assert "x-dashscope-session-cache" not in created(emulator)[-1]["headers"]


def test_every_request_option_reaches_the_body(qwen, emulator) -> None:
    result = qwen(
        "ask",
        "-m",
        "qwen3.8-max",
        "-s",
        "Be brief",
        "-t",
        "0.5",
        "--top-p",
        "0.9",
        "--no-think",
        "--effort",
        "low",
        "--max-output-tokens",
        "64",
        "--no-store",
        "--session-cache",
        "--extra",
        '{"reasoning": {"summary": "auto"}, "metadata": {"k": "v"}}',
        "hello",
    )
    assert result.returncode == 0, result.stderr
    assert last_body(emulator) == {
        "model": "qwen3.8-max",
        "input": "hello",
        "instructions": "Be brief",
        "temperature": 0.5,
        "top_p": 0.9,
        "enable_thinking": False,
        "max_output_tokens": 64,
        "store": False,
        "reasoning": {"effort": "low", "summary": "auto"},
        "metadata": {"k": "v"},
    }
    assert created(emulator)[-1]["headers"]["x-dashscope-session-cache"] == "enable"
    assert result.stdout == "[Be brief] You said: hello\n"


def test_no_session_cache_sends_the_disable_header(qwen, emulator) -> None:
    qwen("ask", "--no-session-cache", "hi")
    assert created(emulator)[-1]["headers"]["x-dashscope-session-cache"] == "disable"


def test_python_dash_m_works_like_the_command(qwen_env, emulator) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "qwen_cli", "ask", "hi"],
        env=qwen_env,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=30,
    )
    assert (result.returncode, result.stdout) == (0, "You said: hi\n")


# --- input: stdin, files, images, messages ---------------------------------------------------------------


def test_piped_text_is_sent_apart_from_the_prompt(qwen, emulator) -> None:
    result = qwen("ask", "summarise", input="line one\nline two\n")
    assert result.returncode == 0
    content = last_body(emulator)["input"][0]["content"]
    assert content == [
        {"type": "input_text", "text": '<document name="stdin">\nline one\nline two\n</document>'},
        {"type": "input_text", "text": "summarise"},
    ]


def test_piped_text_alone_is_the_prompt(qwen, emulator) -> None:
    result = qwen("ask", input="what is 2+2\n")
    assert (result.returncode, result.stdout) == (0, "You said: what is 2+2\n")
    assert last_body(emulator)["input"] == "what is 2+2"


def test_an_idle_open_stdin_does_not_hang_a_prompt(qwen_env, emulator) -> None:
    # CI runners leave stdin open and silent; the writer here never writes and never closes.
    process = subprocess.Popen(
        [qwen_executable(), "ask", "hi"],
        env=qwen_env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        stdout, stderr = wait_without_closing(process)
    finally:
        process.stdin.close()
    assert (process.returncode, stdout) == (0, "You said: hi\n")
    assert "stdin sent nothing" in stderr
    assert last_body(emulator)["input"] == "hi"


def wait_without_closing(process: subprocess.Popen) -> tuple[str, str]:
    deadline = time.monotonic() + 20
    while process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert process.poll() is not None, "qwen hung on an idle stdin"
    return process.stdout.read(), process.stderr.read()


def test_no_stdin_ignores_piped_text(qwen, emulator) -> None:
    result = qwen("ask", "--no-stdin", "hi", input="ignored material")
    assert result.stdout == "You said: hi\n" and last_body(emulator)["input"] == "hi"


def test_files_are_attached_with_their_names(qwen, emulator, tmp_path: Path) -> None:
    source = tmp_path / "app.py"
    source.write_text("print('hi')\n", encoding="utf-8")
    result = qwen("ask", "-f", str(source), "-f", "-", "review", input="from stdin")
    assert result.returncode == 0, result.stderr
    content = last_body(emulator)["input"][0]["content"]
    assert content == [
        {"type": "input_text", "text": f"<document name=\"{source}\">\nprint('hi')\n</document>"},
        {"type": "input_text", "text": '<document name="stdin">\nfrom stdin\n</document>'},
        {"type": "input_text", "text": "review"},
    ]


def test_a_local_image_becomes_a_data_url_and_a_url_passes_through(qwen, emulator, tmp_path: Path) -> None:
    image = tmp_path / "dot.png"
    image.write_bytes(PNG)
    result = qwen("ask", "--image", str(image), "--image", "https://example.com/cat.jpg", "what is this")
    assert result.returncode == 0, result.stderr
    parts = last_body(emulator)["input"][0]["content"]
    assert parts[0] == {"type": "input_image", "image_url": "data:image/png;base64," + base64.b64encode(PNG).decode()}
    assert parts[1] == {"type": "input_image", "image_url": "https://example.com/cat.jpg"}
    assert result.stdout == "You said: what is this (2 images)\n"


@pytest.mark.parametrize("suffix", [".json", ".yaml"])
def test_messages_file_is_the_complete_input(qwen, emulator, tmp_path: Path, suffix: str) -> None:
    items = [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": "first question"},
        {"role": "assistant", "content": "first answer"},
        {"role": "user", "content": "second question"},
    ]
    path = tmp_path / f"messages{suffix}"
    if suffix == ".json":
        path.write_text(json.dumps(items), encoding="utf-8")
    else:
        path.write_text("".join(f"- role: {i['role']}\n  content: {i['content']}\n" for i in items), encoding="utf-8")
    result = qwen("ask", "--messages", str(path))
    assert (result.returncode, result.stdout) == (0, "You said: second question\n")
    assert last_body(emulator)["input"] == items


@pytest.mark.parametrize(
    "args, content, message",
    [
        (["-f", "missing.txt", "hi"], None, "no such file: missing.txt"),
        (["-f", "blob.bin", "hi"], b"\x00\x01\x02", "blob.bin looks like a binary file"),
        (["-f", "latin.txt", "hi"], "café".encode("latin-1"), "latin.txt is not valid UTF-8"),
        (["--image", "notes.txt", "hi"], b"just text", "notes.txt is not an image"),
        (["--messages", "bad.json"], b"{not json", "bad.json:1: invalid JSON"),
        (["--messages", "bad.yaml"], b"- role: user\n  content: [unclosed\n", "bad.yaml:3: invalid YAML"),
    ],
)
def test_bad_files_are_exit_2_before_any_network(qwen_env, emulator, tmp_path: Path, args, content, message) -> None:
    if content is not None:
        (tmp_path / args[1]).write_bytes(content)
    result = subprocess.run(
        [qwen_executable(), "ask", *args],
        cwd=tmp_path,
        env=qwen_env,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=30,
    )
    assert result.returncode == 2
    assert message in result.stderr and result.stderr.startswith("qwen: error: ")
    assert result.stderr.count("\n") == 1
    assert created(emulator) == []


def test_undecodable_stdin_is_exit_2(qwen, emulator) -> None:
    result = qwen("ask", "hi", input=b"\xff\xfe\xfa")
    assert result.returncode == 2 and "stdin is not valid UTF-8" in result.stderr
    assert created(emulator) == []


def test_an_empty_input_is_exit_2(qwen, emulator) -> None:
    result = qwen("ask")
    assert result.returncode == 2 and "nothing to send" in result.stderr
    assert created(emulator) == []


# --- request options: checked before the network ------------------------------------------------------


@pytest.mark.parametrize(
    "args, message",
    [
        (["-t", "2"], "--temperature must be in [0, 2), got 2"),
        (["-t", "-0.1"], "--temperature must be in [0, 2), got -0.1"),
        (["--top-p", "0"], "--top-p must be in (0, 1], got 0"),
        (["--top-p", "1.5"], "--top-p must be in (0, 1], got 1.5"),
        (["--max-output-tokens", "15"], "--max-output-tokens must be at least 16, got 15"),
        (["--extra", "[1, 2]"], "--extra must be a JSON object"),
        (["--extra", "{oops"], "--extra is not valid JSON"),
        (["--conversation", "conv_1", "--previous", "resp_1"], "--conversation and --previous cannot be used together"),
        (["--effort", "extreme"], "Invalid value for '--effort'"),
        (["-t", "warm"], "Invalid value for '-t' / '--temperature'"),
        (["--region", "mars"], "Invalid value for '--region'"),
    ],
)
def test_bad_values_are_one_line_exit_2_before_any_network(qwen, emulator, args, message) -> None:
    result = qwen("ask", *args, "hi")
    assert result.returncode == 2
    assert message in result.stderr and result.stderr.count("\n") == 1
    assert created(emulator) == []


# --- settings ----------------------------------------------------------------------------------------------


def test_a_missing_key_is_exit_3_and_says_how_to_set_it(qwen, emulator) -> None:
    result = qwen("ask", "hi", env={"DASHSCOPE_API_KEY": ""})
    assert result.returncode == 3
    assert "DASHSCOPE_API_KEY is not set" in result.stderr and "export DASHSCOPE_API_KEY=" in result.stderr
    assert created(emulator) == []


def test_a_refused_key_is_exit_3_with_the_server_message(qwen) -> None:
    with Emulator(api_key="sk-the-right-one") as strict:
        result = qwen("ask", "hi", env={"QWEN_BASE_URL": strict.base_url})
    assert result.returncode == 3
    assert "the API key was refused: Invalid API-key provided." in result.stderr
    assert "HTTP 401" in result.stderr and "code InvalidApiKey" in result.stderr and "request id" in result.stderr


def test_dry_run_prints_the_request_with_the_key_redacted_and_sends_nothing(qwen, emulator) -> None:
    result = qwen("ask", "--dry-run", "--session-cache", "-s", "be brief", "hi")
    assert result.returncode == 0
    request = json.loads(result.stdout)
    assert request == {
        "method": "POST",
        "url": f"{emulator.base_url}/responses",
        "headers": {
            "Authorization": "Bearer [redacted]",
            "Content-Type": "application/json",
            "Accept": "application/json",
            "User-Agent": request["headers"]["User-Agent"],
            "x-dashscope-session-cache": "enable",
        },
        "body": {"model": "qwen-plus", "input": "hi", "instructions": "be brief"},
    }
    assert created(emulator) == []


def test_dry_run_needs_no_key(qwen) -> None:
    result = qwen("stream", "--dry-run", "hi", env={"DASHSCOPE_API_KEY": "", "QWEN_BASE_URL": ""})
    request = json.loads(result.stdout)
    assert result.returncode == 0
    assert request["url"] == "https://dashscope-intl.aliyuncs.com/compatible-mode/v1/responses"
    assert request["body"] == {"model": "qwen-plus", "input": "hi", "stream": True}
    assert request["headers"]["Accept"] == "text/event-stream"


@pytest.mark.parametrize(
    "region, url",
    [
        ("intl", "https://dashscope-intl.aliyuncs.com/compatible-mode/v1/responses"),
        ("cn", "https://dashscope.aliyuncs.com/compatible-mode/v1/responses"),
        ("us", "https://dashscope-us.aliyuncs.com/compatible-mode/v1/responses"),
    ],
)
def test_region_selects_the_endpoint(qwen, region: str, url: str) -> None:
    result = qwen("ask", "--dry-run", "--region", region, "hi", env={"QWEN_BASE_URL": ""})
    assert json.loads(result.stdout)["url"] == url


def test_precedence_flag_over_environment_over_config_file(qwen, qwen_env, emulator) -> None:
    config = Path(qwen_env["XDG_CONFIG_HOME"]) / "qwen" / "config.yaml"
    config.parent.mkdir(parents=True)
    config.write_text("model: qwen3.5-flash\noutput: json\n", encoding="utf-8")
    from_file = qwen("ask", "hi")
    from_env = qwen("ask", "hi", env={"QWEN_MODEL": "qwen-flash"})
    from_flag = qwen("ask", "-m", "qwen3.8-max", "-o", "text", "hi", env={"QWEN_MODEL": "qwen-flash"})
    assert [body["model"] for body in map(lambda entry: entry["body"], created(emulator))] == [
        "qwen3.5-flash",
        "qwen-flash",
        "qwen3.8-max",
    ]
    assert json.loads(from_file.stdout)["model"] == "qwen3.5-flash" and json.loads(from_env.stdout)
    assert from_flag.stdout == "You said: hi\n"


def test_a_bad_config_file_is_exit_2_naming_file_line_and_key(qwen, qwen_env, emulator) -> None:
    config = Path(qwen_env["XDG_CONFIG_HOME"]) / "qwen" / "config.yaml"
    config.parent.mkdir(parents=True)
    config.write_text("model: qwen-plus\nmodle: qwen-max\n", encoding="utf-8")
    result = qwen("ask", "hi")
    assert result.returncode == 2
    assert f"{config}:2: unknown key 'modle'; did you mean 'model'?" in result.stderr
    assert created(emulator) == []


# --- output modes -------------------------------------------------------------------------------------------


def test_json_is_the_final_response_as_stored_by_the_server(qwen, emulator) -> None:
    result = qwen("ask", "--json", "hi")
    response = json.loads(result.stdout)
    assert result.returncode == 0
    assert response["object"] == "response" and response["status"] == "completed"
    assert response["output"][-1]["content"][0]["text"] == "You said: hi"
    request = urllib.request.Request(
        f"{emulator.base_url}/responses/{response['id']}", headers={"Authorization": f"Bearer {API_KEY}"}
    )
    with urllib.request.urlopen(request, timeout=10) as stored:
        assert json.loads(stored.read()) == response


def test_jsonl_for_ask_is_the_response_on_one_line(qwen, emulator) -> None:
    result = qwen("ask", "-o", "jsonl", "hi")
    lines = result.stdout.splitlines()
    assert len(lines) == 1 and json.loads(lines[0])["output"][-1]["content"][0]["text"] == "You said: hi"


def test_verbose_adds_id_model_usage_and_timing_on_stderr(qwen, emulator) -> None:
    result = qwen("ask", "-v", "--think", "hi")
    assert result.stdout == "You said: hi\n"
    line = result.stderr.strip()
    assert line.startswith("resp_") and " · qwen-plus · " in line
    assert " in, " in line and " reasoning, " in line and " cached) tokens · " in line and line.endswith(" s")


def test_show_reasoning_prints_the_thinking_to_stderr_only(qwen, emulator) -> None:
    hidden = qwen("ask", "--think", "hi")
    shown = qwen("ask", "--think", "--show-reasoning", "hi")
    assert hidden.stdout == shown.stdout == "You said: hi\n"
    assert hidden.stderr == "" and shown.stderr == "Thinking about: hi\n"


def test_an_incomplete_answer_is_printed_with_a_warning_and_exit_0(qwen, emulator) -> None:
    result = qwen("ask", "--max-output-tokens", "16", "@@words=40")
    assert result.returncode == 0
    assert result.stdout == " ".join(f"w{n}" for n in range(1, 17)) + "\n"
    assert "warning: the answer is incomplete (max_output_tokens); raise --max-output-tokens" in result.stderr


def test_continuing_by_previous_id_carries_the_history(qwen, emulator) -> None:
    first = json.loads(qwen("ask", "--json", "my name is Ada").stdout)
    second = qwen("ask", "--previous", first["id"], "what is my name")
    assert (second.returncode, second.stdout) == (0, "You said: what is my name (turn 2)\n")
    assert last_body(emulator)["previous_response_id"] == first["id"]


# --- the API's refusals and failures ------------------------------------------------------------------------


def test_an_unknown_previous_id_is_exit_1_with_the_server_message(qwen, emulator) -> None:
    result = qwen("ask", "--previous", "resp_nope", "hi")
    assert result.returncode == 1
    assert (
        f"the server at {emulator.base_url} does not know response resp_nope: it keeps responses 7 days"
        in result.stderr
    )
    assert "code InvalidParameter" in result.stderr


def test_an_unknown_model_is_exit_1(qwen, emulator) -> None:
    result = qwen("ask", "-m", "qwen-nope", "hi")
    assert result.returncode == 1 and "Unsupported model: 'qwen-nope'" in result.stderr


def test_a_failed_response_is_exit_1_and_json_mode_writes_the_error_to_stdout(qwen, emulator) -> None:
    text = qwen("ask", "@@fail")
    as_json = qwen("ask", "--json", "@@fail")
    assert (text.returncode, text.stdout) == (1, "")
    assert re.search(
        r"the request failed: Emulated failure\. \(response resp_[0-9a-f-]+\) \(code InternalError\)", text.stderr
    )
    assert as_json.returncode == 1
    error = json.loads(as_json.stdout)["error"]
    assert error == {"type": "api_error", "message": error["message"], "code": "InternalError", "exit_code": 1}
    assert error["message"].startswith("the request failed: Emulated failure. (response resp_")


# --- transient failures: retried, then exit 4 ----------------------------------------------------------------


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_retryable_statuses_are_retried_and_announced(qwen, emulator, status: int) -> None:
    emulator.set_faults(http_status=status, http_status_count=1, retry_after="0")
    result = qwen("ask", "hi")
    assert (result.returncode, result.stdout) == (0, "You said: hi\n")
    assert f"HTTP {status}" in result.stderr and "retrying in 0.0 s (retry 1 of 2)" in result.stderr
    assert len(created(emulator)) == 2


def test_retries_run_out_into_exit_4(qwen, emulator) -> None:
    emulator.set_faults(http_status=503, http_status_count=10, retry_after="0")
    result = qwen("ask", "--max-retries", "3", "hi")
    assert result.returncode == 4 and result.stdout == ""
    assert result.stderr.count("retrying") == 3 and result.stderr.splitlines()[-1].startswith("qwen: error: ")
    assert len(created(emulator)) == 4


def test_the_http_200_rate_limit_answer_is_retried(qwen, emulator) -> None:
    emulator.set_faults(rate_limit_http200=1)
    result = qwen("ask", "hi")
    assert (result.returncode, result.stdout) == (0, "You said: hi\n")
    assert "rate limited: Operation model request rate limit exceeded" in result.stderr


def test_a_rate_limit_that_persists_is_exit_4(qwen, emulator) -> None:
    emulator.set_faults(rate_limit_http200=5)
    result = qwen("ask", "--max-retries", "0", "hi")
    assert result.returncode == 4 and "rate limited" in result.stderr


def test_an_html_page_from_a_proxy_becomes_one_clear_line(qwen, emulator) -> None:
    emulator.set_faults(http_status=502, http_status_count=1, error_body="html")
    result = qwen("ask", "--max-retries", "0", "hi")
    assert result.returncode == 4
    assert result.stderr.startswith("qwen: error: the server (or a proxy) sent an HTML page: 502 Bad Gateway (HTTP 502")
    assert result.stderr.count("\n") == 1


def test_a_truncated_json_reply_is_exit_4(qwen, emulator) -> None:
    emulator.set_faults(truncate_json=1)
    result = qwen("ask", "hi")
    assert result.returncode == 4 and "not valid JSON" in result.stderr


def test_a_refused_connection_is_exit_4_after_retries(qwen) -> None:
    result = qwen("ask", "--max-retries", "1", "hi", env={"QWEN_BASE_URL": "http://127.0.0.1:9/compatible-mode/v1"})
    assert result.returncode == 4
    assert "connection to 127.0.0.1:9 refused" in result.stderr and result.stderr.count("retrying") == 1


def test_a_server_that_answers_too_late_is_exit_4_with_the_timeout_named(qwen, emulator) -> None:
    emulator.set_faults(first_event_delay=3)
    result = qwen("ask", "--timeout", "0.5", "hi")
    assert result.returncode == 4 and "sent nothing for 0.5 s (read timeout)" in result.stderr


def test_debug_logs_the_exchange_without_the_key(qwen, emulator) -> None:
    result = qwen("ask", "--debug", "hi")
    assert result.returncode == 0
    assert "Bearer [redacted]" in result.stderr and "reply HTTP 200" in result.stderr


# --- the command line itself ------------------------------------------------------------------------------


def test_version_and_help(qwen) -> None:
    from qwen_cli import __version__

    assert qwen("--version").stdout == f"qwen {__version__}\n"
    for command in ("ask", "stream"):
        help_text = qwen(command, "--help").stdout
        assert "Examples:" in help_text and f"qwen {command} " in help_text


def test_ctrl_c_while_waiting_is_exit_130(qwen_env, emulator) -> None:
    emulator.set_faults(first_event_delay=10)
    process = subprocess.Popen(
        [qwen_executable(), "ask", "hi"],
        env=qwen_env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=answer_ctrl_c,
    )
    deadline = time.monotonic() + 10
    while not created(emulator) and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(2)  # SIGINT, as Ctrl-C sends it
    stdout, stderr = process.communicate(timeout=10)
    assert (process.returncode, stdout) == (130, "")
    assert stderr == "qwen: error: interrupted\n"


# --- errors that point the way -------------------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["ask", "stream"])
def test_text_mode_adds_no_newline_to_an_answer_that_ends_with_one(qwen, emulator, command: str) -> None:
    ends_with_one = qwen(command, "@@bytes=160")  # two lines of 79 x, each with its newline
    assert (ends_with_one.returncode, ends_with_one.stdout) == (0, ("x" * 79 + "\n") * 2)
    ends_without = qwen(command, "@@bytes=170")
    assert (ends_without.returncode, ends_without.stdout) == (0, ("x" * 79 + "\n") * 2 + "x" * 10 + "\n")


@pytest.mark.parametrize(
    "args",
    [["ask", "hi"], ["stream", "hi"], ["response", "get", "resp_1"], ["conversation", "create"]],
    ids=["ask", "stream", "response get", "conversation create"],
)
def test_a_base_url_missing_its_api_path_is_a_404_naming_the_url_and_what_to_check(
    qwen, emulator, args: list[str]
) -> None:
    host = emulator.base_url.removesuffix("/compatible-mode/v1")
    result = qwen(*args, env={"QWEN_BASE_URL": host})
    path = {
        "ask": "/responses",
        "stream": "/responses",
        "response": "/responses/resp_1",
        "conversation": "/conversations",
    }
    assert (result.returncode, result.stdout) == (1, "")
    assert re.fullmatch(
        re.escape(
            f"qwen: error: nothing answers at {host}{path[args[0]]} (Not support); check --base-url or QWEN_BASE_URL "
            "(DashScope's base URLs end in /compatible-mode/v1) (HTTP 404, code Not Found, request id "
        )
        + r"\S+\)\n",
        result.stderr,
    ), result.stderr


@pytest.mark.parametrize("args", [["ask", "hi"], ["response", "get", "resp_1"]], ids=["ask", "response get"])
def test_a_refused_key_names_the_base_url_it_was_sent_to(qwen, args: list[str]) -> None:
    refused = json.dumps({"code": "InvalidApiKey", "message": "Invalid API-key provided."}).encode()
    with scripted_server(json_reply(refused, status=401)) as server:
        result = qwen(*args, "--base-url", server.base_url)
    assert (result.returncode, result.stdout) == (3, "")
    assert result.stderr == (
        "qwen: error: the API key was refused: Invalid API-key provided. Check DASHSCOPE_API_KEY; the request went to "
        f"the base URL {server.base_url} (flag); a key belongs to one region (intl, cn, us): check the key, "
        "and --base-url or try --region (HTTP 401, code InvalidApiKey, request id req-hostile)\n"
    )


def test_an_incomplete_answer_without_a_reason_says_the_server_gave_none(qwen) -> None:
    """The emulator always gives its reason: a small server of our own leaves it out."""
    body = {
        "id": "resp_incomplete",
        "object": "response",
        "status": "incomplete",
        "model": "qwen-plus",
        "output": [{"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "half"}]}],
    }
    with scripted_server(json_reply(json.dumps(body).encode())) as server:
        result = qwen("ask", "hi", env={"QWEN_BASE_URL": server.base_url})
    assert (result.returncode, result.stdout) == (0, "half\n")
    assert result.stderr == "qwen: warning: the answer is incomplete (status incomplete, the server gave no reason)\n"
