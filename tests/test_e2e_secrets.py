"""Secrets end to end: a server that echoes the key back, short header values that must not damage data, and
the environment a tool program receives.

The emulator's `@@echo-key` rule makes it read every `@@key` in the input as the request's key: the echo, the
reasoning, a call's arguments, a failure's message and the stored items then carry it, the answer in pieces.
Every run already checks (conftest) that the key is in neither stdout nor stderr; these tests also check that
the echo really happened, that the pieces cannot be put back together, and that the history never holds it.
"""

from __future__ import annotations

import json
import sqlite3
import sys
import urllib.request
from pathlib import Path

import pytest
from conftest import API_KEY, FIXTURES
from fault_servers import replaying_server

from qwen_cli.emulator import Emulator

ECHO = "@@echo-key tell me @@key please"
REDACTED = "[redacted]"
MODES = [
    ("ask", "text"),
    ("ask", "json"),
    ("ask", "jsonl"),
    ("stream", "text"),
    ("stream", "json"),
    ("stream", "jsonl"),
]
# A tool program that writes the environment it received next to itself, then answers.
ENV_PROGRAM = """\
import json, os, pathlib, sys
sys.stdin.read()
pathlib.Path(__file__).with_name("env.json").write_text(json.dumps(dict(os.environ)))
print("done")
"""


def stored(emulator: Emulator, path: str) -> dict:
    """What the emulator holds, read past qwen: the proof that the server really echoed the key."""
    request = urllib.request.Request(f"{emulator.base_url}/{path}", headers={"Authorization": f"Bearer {API_KEY}"})
    with urllib.request.urlopen(request, timeout=10) as reply:
        return json.loads(reply.read())


def history_bytes(qwen_env: dict[str, str]) -> bytes:
    """The history file and its write-ahead log, as bytes on disk."""
    folder = Path(qwen_env["XDG_DATA_HOME"]) / "qwen"
    return b"".join(path.read_bytes() for path in sorted(folder.glob("history.db*")))


def streamed(stdout: str, kind: str) -> str:
    """The text of every `kind` delta event in jsonl output, joined: what a reader could put back together."""
    events = [json.loads(line) for line in stdout.splitlines()]
    return "".join(event["delta"] for event in events if event.get("type") == kind)


# --- a server that echoes the key ----------------------------------------------------------------------------------


@pytest.mark.parametrize("command, mode", MODES)
def test_an_echoed_key_is_redacted_in_the_answer_the_reasoning_and_the_history(
    qwen, qwen_env, emulator, command, mode
) -> None:
    result = qwen(command, "-o", mode, "--think", "--show-reasoning", ECHO)
    assert result.returncode == 0, result.stderr
    assert REDACTED in result.stdout
    if mode == "text":
        assert result.stdout == f"You said: @@echo-key tell me {REDACTED} please\n"
        assert f"Thinking about: @@echo-key tell me {REDACTED} please" in result.stderr
    if mode == "jsonl" and command == "stream":  # the key came in 5-character pieces: they do not add up to it
        assert API_KEY not in streamed(result.stdout, "response.output_text.delta")
        assert f"tell me {REDACTED} please" in streamed(result.stdout, "response.output_text.delta")
    history = history_bytes(qwen_env)
    assert b"tell me [redacted] please" in history and API_KEY.encode() not in history
    [entry] = json.loads(qwen("history", "list", "--json").stdout)
    assert API_KEY in json.dumps(stored(emulator, f"responses/{entry['id']}"))  # the server did echo it


def test_an_echoed_key_is_redacted_on_a_terminal(qwen_pty, emulator) -> None:
    result = qwen_pty("stream", "-o", "pretty", ECHO)
    assert result.returncode == 0 and f"tell me {REDACTED} please" in result.stdout


@pytest.mark.parametrize("mode", ["text", "json", "jsonl"])
def test_a_failure_message_quoting_the_key_is_redacted(qwen, qwen_env, emulator, mode) -> None:
    result = qwen("stream", "-o", mode, "@@echo-key @@fail @@key")
    assert result.returncode == 1
    assert f"the request failed: Emulated failure of: @@echo-key @@fail {REDACTED}" in result.stderr
    if mode == "json":
        assert json.loads(result.stdout)["error"]["message"].startswith(
            f"the request failed: Emulated failure of: @@echo-key @@fail {REDACTED}"
        )
    assert API_KEY.encode() not in history_bytes(qwen_env)


@pytest.mark.parametrize("command, mode", MODES)
def test_a_call_whose_arguments_carry_the_key_is_shown_redacted(
    qwen, qwen_env, emulator, tmp_path: Path, command, mode
) -> None:
    tools = tmp_path / "tools.json"
    tools.write_text(json.dumps([{"name": "lookup", "description": "Look a word up"}]), encoding="utf-8")
    result = qwen(command, "-o", mode, "--tools-file", str(tools), '@@echo-key @@call=lookup:{"word": "@@key"}')
    assert result.returncode == 5, result.stderr  # calls qwen did not run
    assert "qwen: function call lookup" in result.stderr and REDACTED in result.stderr
    if mode != "text":
        assert REDACTED in result.stdout
    if mode == "jsonl" and command == "stream":  # the arguments stream 8 characters at a time
        assert API_KEY not in streamed(result.stdout, "response.function_call_arguments.delta")
    assert API_KEY.encode() not in history_bytes(qwen_env)


@pytest.mark.parametrize("mode", ["text", "json", "jsonl"])
def test_stored_responses_and_items_that_echo_the_key_are_shown_redacted(qwen, emulator, mode) -> None:
    conversation = qwen("conversation", "create").stdout.strip()
    asked = qwen("ask", "-o", "json", "--conversation", conversation, ECHO)
    response_id = json.loads(asked.stdout)["id"]
    for command in (
        ["response", "get", response_id],
        ["response", "items", response_id],
        ["conversation", "items", conversation],
    ):
        result = qwen(*command, "-o", mode)
        assert result.returncode == 0, (command, result.stderr)
        assert f"tell me {REDACTED} please" in result.stdout, command
    assert API_KEY in json.dumps(stored(emulator, f"conversations/{conversation}/items"))


# --- short secrets do not damage data --------------------------------------------------------------------------------


SHORT_HEADER = ["--mcp", "docs=https://mcp.example.com/sse", "--mcp-header", "docs:Accept-Language=en"]


def test_jsonl_is_the_servers_bytes_with_a_two_letter_header_value_in_play(qwen) -> None:
    text = (FIXTURES / "stream-basic-events.jsonl").read_text(encoding="utf-8")
    lines = [
        line.encode("utf-8") for line in text.splitlines() if line.startswith("{")
    ]  # less the "(events left out)" line
    assert any(b"content_part" in line and b"sequence_number" in line for line in lines)  # "en" is everywhere in them
    with replaying_server(lines) as server:
        result = qwen("stream", "-o", "jsonl", *SHORT_HEADER, "hi", env={"QWEN_BASE_URL": server.base_url})
    assert result.returncode == 0, result.stderr
    assert result.stdout.encode("utf-8") == b"".join(line + b"\n" for line in lines)


def test_json_is_the_servers_response_but_for_the_header_value_where_it_sits(qwen, emulator) -> None:
    result = qwen("ask", "-o", "json", *SHORT_HEADER, "tell me about content")
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    original = stored(emulator, f"responses/{shown['id']}")
    assert original["tools"][0]["headers"] == {"Accept-Language": "en"}
    original["tools"][0]["headers"] = {"Accept-Language": REDACTED}
    assert shown == original
    assert shown["model"] == "qwen-plus" and "content" in shown["output"][-1]["content"][0]["text"]


def test_dry_run_hides_a_short_header_value_only_where_it_sits(qwen) -> None:
    result = qwen("ask", "--dry-run", "--session-cache", *SHORT_HEADER, "about content")
    shown = json.loads(result.stdout)
    assert shown["body"]["model"] == "qwen-plus" and shown["body"]["input"] == "about content"
    assert shown["headers"]["x-dashscope-session-cache"] == "enable"
    assert shown["body"]["tools"][0]["headers"] == {"Accept-Language": REDACTED}


# --- what a tool program receives ----------------------------------------------------------------------------------


def test_a_tool_program_gets_the_environment_less_the_key_and_the_mcp_tokens(qwen, emulator, tmp_path: Path) -> None:
    program = tmp_path / "bin" / "env_dump.py"
    program.parent.mkdir()
    program.write_text(ENV_PROGRAM, encoding="utf-8")
    tools = tmp_path / "tools.json"
    tools.write_text(
        json.dumps([{"name": "dump", "description": "Dump", "run": [sys.executable, str(program)]}]), encoding="utf-8"
    )
    env = {
        "OPENAI_API_KEY": API_KEY,  # another name for the same key
        "KEY_IN_A_LINE": f"token={API_KEY};",
        "QWEN_TEST_MCP_TOKEN": "mcp-token-5b1e77",
        "MCP_TOKEN_COPY": "mcp-token-5b1e77",
        "QWEN_TEST_ORDINARY": "plain value",
    }
    result = qwen(
        "ask",
        "--tools-file",
        str(tools),
        "--run-tools",
        "--mcp",
        "docs=https://mcp.example.com/sse",
        "--mcp-header",
        "docs:Authorization=env:QWEN_TEST_MCP_TOKEN",
        "@@call=dump",
        env=env,
    )
    assert result.returncode == 0, result.stderr
    received = json.loads((tmp_path / "bin" / "env.json").read_text(encoding="utf-8"))
    withheld = {"DASHSCOPE_API_KEY", "OPENAI_API_KEY", "KEY_IN_A_LINE", "QWEN_TEST_MCP_TOKEN", "MCP_TOKEN_COPY"}
    assert not withheld & set(received)
    assert received["QWEN_TEST_ORDINARY"] == "plain value" and received["PATH"]
    assert API_KEY not in json.dumps(received)


@pytest.mark.parametrize(
    "command",
    [
        ["history", "show", "last"],
        ["history", "show", "last", "--json"],
        ["history", "list"],
        ["history", "thread", "last"],
    ],
)
def test_an_entry_recorded_with_the_key_before_redaction_is_shown_redacted(qwen, qwen_env, emulator, command) -> None:
    assert qwen("ask", "hi").returncode == 0
    history = Path(qwen_env["XDG_DATA_HOME"]) / "qwen" / "history.db"
    with sqlite3.connect(history) as db:  # as an older qwen could have stored it
        db.execute("UPDATE responses SET prompt = ?, answer = ?", (f"hi {API_KEY}", f"You said: hi {API_KEY}"))
    db.close()
    result = qwen(*command)
    assert result.returncode == 0 and f"hi {REDACTED}" in result.stdout
