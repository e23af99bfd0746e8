"""Tools end to end: built-in, MCP and function tools on the wire, the checks made before sending, tool activity on
screen, `qwen tools`, exit 5 for calls not run, `--tool-output`, and the `--run-tools` loop running real programs.

The installed command runs against the emulator over a real socket; what was sent is read back from the requests
the emulator recorded, and what a bound program received from the files it writes.
"""

from __future__ import annotations

import base64
import json
import re
import shlex
import stat
import subprocess
import sys
import urllib.request
from pathlib import Path
from unittest.mock import ANY

import pytest
from conftest import API_KEY, Result, assert_no_secret, qwen_executable

from qwen_cli.emulator import Emulator

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
WEATHER = {
    "type": "function",
    "name": "get_weather",
    "description": "The weather in a city, now",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}
CLOCK = {
    "type": "function",
    "name": "get_time",
    "description": "The time in a time zone",
    "parameters": {"type": "object", "properties": {"zone": {"type": "string"}}},
}
SOURCES = "https://example.com/search?q={q}&n=1 https://example.com/search?q={q}&n=2"
CALL_LINE = re.compile(r"^qwen: function call (\S+) \((call_\w+)\): (.*)$", re.MULTILINE)
CONTINUE_HINT = re.compile(r"answer with: qwen continue (resp_\S+) --tool-output CALL_ID=TEXT$", re.MULTILINE)
MCP_SECRET = "mcp-secret-7f3a9c"  # a recognisable token: no output may ever show it

# A bound program: logs its argv and the exact bytes of its stdin, then answers for the city it was asked about.
WEATHER_PROGRAM = """\
import json, pathlib, sys
raw = sys.stdin.buffer.read().decode("utf-8")
with open(pathlib.Path(__file__).with_name("calls.log"), "a", encoding="utf-8") as log:
    log.write(json.dumps({"argv": sys.argv[1:], "stdin": raw}) + "\\n")
sys.stdout.write("sunny in " + json.loads(raw).get("city", "?"))
"""
# Like WEATHER_PROGRAM, but while "hops" is above 1 its output asks the emulator for one more call (with one hop
# fewer): each call costs one round of the loop, so `hops` sets how many rounds a request needs.
HOPPING_PROGRAM = """\
import json, pathlib, sys
raw = sys.stdin.buffer.read().decode("utf-8")
with open(pathlib.Path(__file__).with_name("calls.log"), "a", encoding="utf-8") as log:
    log.write(json.dumps({"argv": sys.argv[1:], "stdin": raw}) + "\\n")
args = json.loads(raw)
if args["hops"] > 1:
    sys.stdout.write("@@call=get_weather:" + json.dumps({"city": args["city"], "hops": args["hops"] - 1}))
else:
    sys.stdout.write("sunny in " + args["city"])
"""
FAILING_PROGRAM = "import sys\nsys.stdin.read()\nsys.stderr.write('boom: no forecast today\\n')\nsys.exit(1)\n"
SLEEPING_PROGRAM = "import time\ntime.sleep(30)\n"
MARKER_PROGRAM = "import pathlib\npathlib.Path(__file__).with_name('ran.marker').write_text('ran')\nprint('ran')\n"


# --- helpers -------------------------------------------------------------------------------------------------


def created(emulator: Emulator) -> list[dict]:
    """The create requests the emulator received, as it received them."""
    return [entry for entry in emulator.requests if entry["method"] == "POST" and entry["path"].endswith("/responses")]


def bodies(emulator: Emulator) -> list[dict]:
    return [entry["body"] for entry in created(emulator)]


def stored_response(emulator: Emulator, response_id: str) -> dict:
    request = urllib.request.Request(
        f"{emulator.base_url}/responses/{response_id}", headers={"Authorization": f"Bearer {API_KEY}"}
    )
    with urllib.request.urlopen(request, timeout=10) as reply:
        return json.loads(reply.read())


def program(directory: Path, source: str, name: str = "weather.py") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(source, encoding="utf-8")
    return path


def tools_yaml(path: Path, run: list[str] | None = None) -> Path:
    """A YAML tools file with get_weather (WEATHER), bound to `run` when given."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = (
        "- name: get_weather\n"
        "  description: The weather in a city, now\n"
        "  parameters:\n"
        "    type: object\n"
        "    properties:\n"
        "      city: {type: string}\n"
        "    required: [city]\n"
    )
    if run is not None:
        text += f"  run: {json.dumps(run)}\n"
    path.write_text(text, encoding="utf-8")
    return path


def tools_json(path: Path, run: list[str] | None = None) -> Path:
    """A JSON tools file with get_time (CLOCK), bound to `run` when given."""
    entry = {key: value for key, value in CLOCK.items() if key != "type"}
    if run is not None:
        entry["run"] = run
    path.write_text(json.dumps([entry]), encoding="utf-8")
    return path


def bound_weather(tmp_path: Path, source: str = WEATHER_PROGRAM) -> Path:
    """A tools file whose get_weather runs `source` with this Python: the usual setup of a --run-tools test."""
    script = program(tmp_path / "bin", source)
    return tools_yaml(tmp_path / "tools.yaml", run=[sys.executable, str(script)])


def logged_calls(tmp_path: Path) -> list[dict]:
    log = tmp_path / "bin" / "calls.log"
    return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()] if log.exists() else []


def call_items(response: dict) -> list[dict]:
    return [item for item in response["output"] if item["type"] == "function_call"]


def pending_response_id(stderr: str) -> str:
    match = CONTINUE_HINT.search(stderr)
    assert match, f"no 'answer with: qwen continue' hint on stderr: {stderr!r}"
    return match.group(1)


def run_in(qwen_env: dict[str, str], cwd: Path, *args: str) -> Result:
    """`qwen ARGS...` started in `cwd` (the `qwen` fixture runs in the test's own working directory)."""
    completed = subprocess.run(
        [qwen_executable(), *args],
        cwd=cwd,
        env=qwen_env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=30,
    )
    result = Result(completed.returncode, completed.stdout, completed.stderr)
    assert_no_secret(result)
    return result


def write_preset(qwen_env: dict[str, str], name: str, text: str) -> Path:
    path = Path(qwen_env["XDG_CONFIG_HOME"]) / "qwen" / "presets" / f"{name}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def marker_preset(qwen_env: dict[str, str], tmp_path: Path, name: str, first_lines: str = "") -> Path:
    """A user preset whose get_time is bound to a program that leaves bin/ran.marker behind when it runs."""
    marker = program(tmp_path / "bin", MARKER_PROGRAM, "marker.py")
    run = json.dumps([sys.executable, str(marker)])
    return write_preset(
        qwen_env, name, f"{first_lines}tools:\n  - name: get_time\n    description: The time\n    run: {run}\n"
    )


def screen_lines(raw: str) -> list[str]:
    """The lines a terminal shows after `raw`: enough of a VT100 for rich (CR, LF, cursor up, erase line)."""
    lines, row, col = [""], 0, 0
    for token in re.findall(r"\x1b\[[?0-9;]*[@-~]|\x1b[^\[]|\r|\n|[^\x1b\r\n]+", raw):
        if token == "\n":
            row += 1
            lines += [""] * (row + 1 - len(lines))
        elif token == "\r":
            col = 0
        elif token.startswith("\x1b[") and token.endswith("A"):
            row = max(0, row - int(token[2:-1] or 1))
        elif token.startswith("\x1b[") and token.endswith("K"):
            lines[row] = "" if token[2:-1] == "2" else lines[row][:col]
        elif not token.startswith("\x1b"):
            line = lines[row].ljust(col)
            lines[row] = line[:col] + token + line[col + len(token) :]
            col += len(token)
    return [line.rstrip() for line in lines if line.strip()]


# --- tools on the wire ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args, tools, items",
    [
        (["--tool", "web_search"], [{"type": "web_search"}], ["web_search_call"]),
        (["--web"], [{"type": "web_search"}, {"type": "web_extractor"}], ["web_search_call", "web_extractor_call"]),
        (
            ["--tool", "web_search", "--tool", "web_extractor"],
            [{"type": "web_search"}, {"type": "web_extractor"}],
            ["web_search_call", "web_extractor_call"],
        ),
        (["--tool", "code_interpreter"], [{"type": "code_interpreter"}], ["code_interpreter_call"]),
        (["--tool", "web_search_image"], [{"type": "web_search_image"}], ["web_search_image_call"]),
        (
            ["--tool", "file_search", "--vector-store", "vs_kb1"],
            [{"type": "file_search", "vector_store_ids": ["vs_kb1"]}],
            ["file_search_call"],
        ),
        (["--vector-store", "vs_kb1"], [{"type": "file_search", "vector_store_ids": ["vs_kb1"]}], ["file_search_call"]),
    ],
)
def test_each_builtin_tool_is_sent_and_its_call_comes_back(qwen, emulator, args, tools, items) -> None:
    result = qwen("ask", "--json", *args, "find it")
    assert result.returncode == 0, result.stderr
    assert bodies(emulator) == [{"model": "qwen-plus", "input": "find it", "tools": tools}]
    response = json.loads(result.stdout)
    assert [item["type"] for item in response["output"]] == [*items, "message"]


def test_image_search_is_sent_when_an_image_is_attached(qwen, emulator, tmp_path: Path) -> None:
    image = tmp_path / "dot.png"
    image.write_bytes(PNG)
    result = qwen("ask", "--tool", "image_search", "--image", str(image), "like this")
    assert (result.returncode, result.stdout) == (0, "You said: like this (1 image)\n")
    body = bodies(emulator)[-1]
    assert body["tools"] == [{"type": "image_search"}]
    assert body["input"][0]["content"][0]["type"] == "input_image"


def test_mcp_servers_are_sent_with_headers_literal_and_from_the_environment(qwen, emulator) -> None:
    result = qwen(
        "ask",
        "--mcp",
        "amap=https://mcp.example.com/amap/sse",
        "--mcp",
        "docs=http://127.0.0.1:9/sse",
        "--mcp-header",
        "amap:Authorization=env:QWEN_TEST_MCP_TOKEN",
        "--mcp-header",
        "amap:X-Team=maps",
        "where is it",
        env={"QWEN_TEST_MCP_TOKEN": f"Bearer {MCP_SECRET}"},
    )
    assert (result.returncode, result.stdout) == (0, "You said: where is it\n")
    assert bodies(emulator)[-1]["tools"] == [
        {
            "type": "mcp",
            "server_label": "amap",
            "server_url": "https://mcp.example.com/amap/sse",
            "server_protocol": "sse",
            "headers": {"Authorization": f"Bearer {MCP_SECRET}", "X-Team": "maps"},
        },
        {"type": "mcp", "server_label": "docs", "server_url": "http://127.0.0.1:9/sse", "server_protocol": "sse"},
    ]
    assert MCP_SECRET not in result.stderr


@pytest.mark.parametrize(
    "command",
    [
        ["ask", "--dry-run"],
        ["ask", "--debug"],
        ["stream", "--debug"],
        ["ask", "--debug", "-o", "json"],
        ["stream", "--debug", "-o", "jsonl"],
    ],
)
def test_mcp_header_values_never_appear_in_dry_run_or_debug_output(qwen, emulator, command) -> None:
    result = qwen(
        *command,
        "--mcp",
        "amap=https://mcp.example.com/sse",
        "--mcp-header",
        "amap:Authorization=env:QWEN_TEST_MCP_TOKEN",
        "--mcp-header",
        f"amap:X-Literal={MCP_SECRET}-literal",
        "hi",
        env={"QWEN_TEST_MCP_TOKEN": f"{MCP_SECRET}-from-env"},
    )
    assert result.returncode == 0, result.stderr
    # json and jsonl carry the server's response unchanged, and it echoes the tools it was sent: the log is checked.
    output = result.stderr if "-o" in command else result.stdout + result.stderr
    assert MCP_SECRET not in output
    shown = result.stdout if "--dry-run" in command else result.stderr
    assert '"Authorization": "[redacted]"' in shown and '"X-Literal": "[redacted]"' in shown
    if "--debug" in command:  # and yet the server got the real values
        assert bodies(emulator)[-1]["tools"][0]["headers"] == {
            "Authorization": f"{MCP_SECRET}-from-env",
            "X-Literal": f"{MCP_SECRET}-literal",
        }


def test_mcp_header_values_are_not_kept_in_the_history(qwen, emulator) -> None:
    # The value came from the environment to stay off the command line; `qwen history show` must not print it.
    result = qwen(
        "ask",
        "--mcp",
        "amap=https://mcp.example.com/sse",
        "--mcp-header",
        "amap:Authorization=env:QWEN_TEST_MCP_TOKEN",
        "hi",
        env={"QWEN_TEST_MCP_TOKEN": MCP_SECRET},
    )
    assert result.returncode == 0, result.stderr
    shown = qwen("history", "show", "last", "--json")
    assert shown.returncode == 0 and '"server_label": "amap"' in shown.stdout
    assert MCP_SECRET not in shown.stdout


def test_tools_files_in_yaml_and_json_are_sent_flat_and_run_is_never_sent(qwen, emulator, tmp_path: Path) -> None:
    yaml_file = tools_yaml(tmp_path / "weather.yaml", run=["./weather.py", "--units", "metric"])
    json_file = tools_json(tmp_path / "clock.json", run=["/usr/bin/date"])
    result = qwen("ask", "--tools-file", str(yaml_file), "--tools-file", str(json_file), "--web", "plan a trip")
    assert (result.returncode, result.stdout) == (0, "You said: plan a trip\n")
    assert bodies(emulator) == [
        {
            "model": "qwen-plus",
            "input": "plan a trip",
            "tools": [{"type": "web_search"}, {"type": "web_extractor"}, WEATHER, CLOCK],
        }
    ]


@pytest.mark.parametrize(
    "choice, sent",
    [
        ("auto", "auto"),
        ("none", "none"),
        ("required", "required"),
        (
            "get_weather",
            {"type": "allowed_tools", "mode": "required", "tools": [{"type": "function", "name": "get_weather"}]},
        ),
    ],
)
def test_tool_choice_is_sent_and_a_function_name_sends_the_object_form(
    qwen, emulator, tmp_path: Path, choice, sent
) -> None:
    tools = tools_yaml(tmp_path / "tools.yaml")
    result = qwen("ask", "--tools-file", str(tools), "--tool-choice", choice, "--json", "hello")
    assert result.returncode == 0, result.stderr
    assert bodies(emulator) == [{"model": "qwen-plus", "input": "hello", "tools": [WEATHER], "tool_choice": sent}]


def test_tool_choice_none_keeps_the_model_from_calling(qwen, emulator, tmp_path: Path) -> None:
    tools = tools_yaml(tmp_path / "tools.yaml")
    result = qwen("ask", "--tools-file", str(tools), "--tool-choice", "none", '@@call=get_weather:{"city": "Oslo"}')
    assert (result.returncode, result.stdout, result.stderr) == (
        0,
        'You said: @@call=get_weather:{"city": "Oslo"}\n',
        "",
    )


# --- checks before sending: exit 2, the rule in the message, nothing sent ---------------------------------------


@pytest.mark.parametrize(
    "args, message",
    [
        (["--tool", "web_extractor"], "web_extractor needs web_search in the same request"),
        (["--tool", "file_search"], "file_search needs the id of the knowledge base to search: add --vector-store ID"),
        (
            ["--tool", "file_search", "--vector-store", "vs_a", "--vector-store", "vs_b"],
            "file_search takes exactly one knowledge-base id, but 2 were given (vs_a, vs_b)",
        ),
        (
            ["--vector-store", "vs_a", "--vector-store", "vs_b"],
            "file_search takes exactly one knowledge-base id, but 2 were given",
        ),
        (
            ["--tool-choice", "required"],
            "--tool-choice required needs exactly one tool (the API allows it only then), but no tool is sent",
        ),
        (
            ["--web", "--tool-choice", "required"],
            "--tool-choice required needs exactly one tool (the API allows it only then), but 2 are sent",
        ),
        (
            ["--tool", "image_search"],
            "image_search looks for images similar to one in the input, and this request has no image",
        ),
        (["--tool", "websearch"], "--tool websearch: unknown tool 'websearch' (did you mean 'web_search'?)"),
        (["--tool", "web_search", "--tool-choice", "web_search"], "only a function tool can be chosen by name"),
        (["--mcp", "amap"], "--mcp takes LABEL=URL"),
        (["--mcp", "amap=ftp://mcp.example.com"], "the server URL must start with https:// or http://"),
        (
            ["--mcp", "amap=https://mcp.example.com/sse", "--mcp-header", "amap-Authorization"],
            "--mcp-header takes LABEL:Name=Value",
        ),
        (
            ["--mcp", "amap=https://mcp.example.com/sse", "--mcp-header", "maps:Authorization=x"],
            "no MCP server is labelled 'maps'",
        ),
        (
            [
                "--mcp",
                "amap=https://mcp.example.com/sse",
                "--mcp-header",
                "amap:Authorization=env:QWEN_TEST_UNSET_TOKEN",
            ],
            "the Authorization header of MCP server 'amap' reads the environment variable QWEN_TEST_UNSET_TOKEN, which is not set",
        ),
        (["--max-tool-rounds", "0"], "--max-tool-rounds must be at least 1"),
        (["--tool-timeout", "0"], "--tool-timeout must be a positive number of seconds"),
        (
            ["--run-tools", "--no-store"],
            "--run-tools sends tool outputs with previous_response_id, which needs a stored response",
        ),
    ],
)
def test_tool_mistakes_are_exit_2_before_anything_is_sent(qwen, emulator, args, message) -> None:
    result = qwen("ask", *args, "some question")
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.startswith("qwen: error: ") and message in result.stderr, result.stderr
    assert result.stderr.count("\n") == 1
    assert created(emulator) == []


def test_a_malformed_mcp_header_does_not_repeat_its_value(qwen, emulator) -> None:
    result = qwen("ask", "--mcp", "amap=https://mcp.example.com/sse", "--mcp-header", f"amap={MCP_SECRET}", "hi")
    assert result.returncode == 2 and "--mcp-header takes LABEL:Name=Value" in result.stderr
    assert MCP_SECRET not in result.stderr and created(emulator) == []


@pytest.mark.parametrize(
    "second, message",
    [
        (
            '[{"name": "get weather", "description": "spaces"}]',
            "bad.json: entry 1 ('get weather'): 'name' must use only letters, digits, '_' and '-'",
        ),
        (
            '[{"name": "get_weather", "description": "again"}]',
            "function 'get_weather' is defined twice, in {first} entry 1 and in {second} entry 1: function names must be unique",
        ),
    ],
)
def test_bad_or_duplicate_function_names_across_files_are_exit_2(
    qwen, emulator, tmp_path: Path, second, message
) -> None:
    first = tools_yaml(tmp_path / "tools.yaml")
    other = tmp_path / "bad.json"
    other.write_text(second, encoding="utf-8")
    result = qwen("ask", "--tools-file", str(first), "--tools-file", str(other), "hi")
    assert (result.returncode, result.stdout) == (2, "")
    assert message.format(first=first, second=other) in result.stderr, result.stderr
    assert created(emulator) == []


# --- tool activity on screen ---------------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["ask", "stream"])
def test_pretty_mode_shows_tool_activity_then_the_answer_then_the_sources(qwen_pty, emulator, command: str) -> None:
    result = qwen_pty(
        command,
        "--web",
        "--tool",
        "code_interpreter",
        "--vector-store",
        "vs_kb1",
        "--mcp",
        "amap=https://mcp.example.com/sse",
        "hello there",
        columns=200,
    )
    assert result.returncode == 0, result.stdout
    lines = screen_lines(result.stdout)
    assert lines[:-1] == [
        "▸ web search: hello there (2 sources)",
        "▸ web extractor: https://example.com/; goal: Extract information about: hello there",
        "▸ code interpreter:",
        "print('hello there')",
        "logs:",
        "hello there",
        "▸ knowledge base search: hello there (1 result)",
        '▸ MCP amap: echo {"query": "hello there"}',
        "You said: hello there",
        "▸ sources: " + SOURCES.format(q="hello%20there"),
    ]
    assert re.fullmatch(r"resp_\S+ · \d+ in, \d+ out \(0 reasoning, 0 cached\) tokens", lines[-1]), lines[-1]


@pytest.mark.parametrize("command", ["ask", "stream"])
def test_text_mode_prints_only_the_answer_and_activity_only_with_verbose(qwen, emulator, command: str) -> None:
    quiet = qwen(command, "--web", "--tool", "web_search_image", "what now")
    assert (quiet.returncode, quiet.stdout, quiet.stderr) == (0, "You said: what now\n", "")
    loud = qwen(command, "-v", "--web", "--tool", "web_search_image", "what now")
    assert (loud.returncode, loud.stdout) == (0, "You said: what now\n")
    lines = loud.stderr.splitlines()
    assert lines[:-1] == [
        "web search: what now (2 sources)",
        "web extractor: https://example.com/; goal: Extract information about: what now",
        'image search by text: {"queries": ["what now"]} (1 result)',
        "sources: " + SOURCES.format(q="what%20now"),
    ]
    assert lines[-1].startswith("resp_") and " · qwen-plus · " in lines[-1]


@pytest.mark.parametrize("command", ["ask", "stream"])
def test_activity_on_stderr_cannot_drive_the_terminal_while_the_answer_passes_unchanged(
    qwen, emulator, command: str
) -> None:
    # stderr is usually a terminal even when stdout is piped: model-chosen text there shows escapes as symbols.
    result = qwen(command, "-v", "--tool", "web_search", "look \x1b[2J up")
    assert (result.returncode, result.stdout) == (0, "You said: look \x1b[2J up\n")
    assert "web search: look \u241b[2J up (2 sources)" in result.stderr.splitlines()
    assert "\x1b" not in result.stderr


def test_json_carries_the_tool_items_as_the_server_sent_them(qwen, emulator) -> None:
    result = qwen(
        "ask", "--json", "--web", "--tool", "code_interpreter", "--mcp", "amap=https://mcp.example.com/sse", "hi"
    )
    assert (result.returncode, result.stderr) == (0, "")
    response = json.loads(result.stdout)
    assert response == stored_response(emulator, response["id"])
    assert [item["type"] for item in response["output"]] == [
        "web_search_call",
        "web_extractor_call",
        "code_interpreter_call",
        "mcp_call",
        "message",
    ]


def test_jsonl_carries_every_tool_event_unchanged(qwen, emulator) -> None:
    result = qwen("stream", "-o", "jsonl", "--tool", "web_search", "--tool", "code_interpreter", "hi")
    assert (result.returncode, result.stderr) == (0, "")
    events = [json.loads(line) for line in result.stdout.splitlines()]
    types = [event["type"] for event in events]
    for phase in ("in_progress", "searching", "completed"):
        assert f"response.web_search_call.{phase}" in types
    for phase in ("in_progress", "interpreting", "completed"):
        assert f"response.code_interpreter_call.{phase}" in types
    final = events[-1]["response"]
    assert final == stored_response(emulator, final["id"])
    assert [item["type"] for item in final["output"]] == ["web_search_call", "code_interpreter_call", "message"]


# --- qwen tools ----------------------------------------------------------------------------------------------

BUILTIN_NAMES = ["web_search", "web_extractor", "code_interpreter", "web_search_image", "image_search", "file_search"]


def weather_preset(qwen_env: dict[str, str], run: list[str]) -> Path:
    """A user preset with a built-in tool, an MCP server with a header from the environment, and a bound function."""
    return write_preset(
        qwen_env,
        "weather",
        "description: weather helper\n"
        "tools:\n"
        "  - web_search\n"
        "  - type: mcp\n"
        "    server_label: amap\n"
        "    server_url: https://mcp.example.com/sse\n"
        "    headers: {Authorization: env:QWEN_TEST_MCP_TOKEN}\n"
        "  - name: get_forecast\n"
        "    description: The forecast for a city\n"
        "    parameters: {type: object, properties: {city: {type: string}}}\n"
        f"    run: {json.dumps(run)}\n",
    )


def test_tools_list_names_every_builtin_with_its_rules(qwen) -> None:
    result = qwen("tools", "list")
    assert result.returncode == 0 and result.stderr == ""
    lines = result.stdout.splitlines()
    assert lines[0] == "Built-in tools (--tool NAME):"
    named = [line.split()[0] for line in lines[1:] if not line.startswith(" " * 4)]
    assert named == BUILTIN_NAMES
    assert "                       - needs web_search in the same request (--web adds both)" in lines
    assert "                       - needs exactly one knowledge-base id (--vector-store ID)" in lines
    assert "Function tools:" not in result.stdout


def test_tools_list_adds_the_functions_of_tools_files_and_a_preset(qwen, qwen_env, tmp_path: Path) -> None:
    tools = tools_yaml(tmp_path / "tools.yaml", run=["./weather.py"])
    preset = weather_preset(qwen_env, ["./forecast.py", "--days", "3"])
    result = qwen("tools", "list", "--tools-file", str(tools), "-p", "weather")
    assert result.returncode == 0, result.stderr
    functions = result.stdout.split("\n\nFunction tools:\n", 1)[1]
    assert functions == (
        f"  get_forecast       The forecast for a city (runs: {preset.parent / 'forecast.py'} --days 3)  [preset 'weather' tools entry 3]\n"
        f"  get_weather        The weather in a city, now (runs: {tmp_path / 'weather.py'})  [{tools} entry 1]\n"
        "\n"
        "MCP servers:\n"
        "  amap               https://mcp.example.com/sse  [preset 'weather': tools entry 2]\n"
    )


def test_tools_list_json(qwen, qwen_env, tmp_path: Path) -> None:
    tools = tools_yaml(tmp_path / "tools.yaml")
    preset = weather_preset(qwen_env, ["./forecast.py"])
    result = qwen("tools", "list", "--json", "--tools-file", str(tools), "-p", "weather")
    assert result.returncode == 0, result.stderr
    listing = json.loads(result.stdout)
    assert [tool["name"] for tool in listing["builtin"]] == BUILTIN_NAMES
    assert listing["builtin"][4] == {
        "name": "image_search",
        "description": "Finds images similar to an image in the input.",
        "rules": ["needs an image in the input (--image)"],
    }
    assert listing["functions"] == [
        {
            "name": "get_forecast",
            "description": "The forecast for a city",
            "source": "preset 'weather' tools entry 3",
            "run": [str(preset.parent / "forecast.py")],
        },
        {"name": "get_weather", "description": "The weather in a city, now", "source": f"{tools} entry 1", "run": None},
    ]
    assert listing["mcp"] == [
        {"label": "amap", "url": "https://mcp.example.com/sse", "source": "preset 'weather': tools entry 2"}
    ]


@pytest.mark.parametrize(
    "args, definition",
    [
        (["web_search"], {"type": "web_search"}),
        (["file_search", "--vector-store", "vs_kb1"], {"type": "file_search", "vector_store_ids": ["vs_kb1"]}),
        (["get_weather", "--tools-file", "{tools}"], WEATHER),
        (
            ["get_forecast", "-p", "weather"],
            {
                "type": "function",
                "name": "get_forecast",
                "description": "The forecast for a city",
                "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
            },
        ),
        (
            ["amap", "-p", "weather"],
            {
                "type": "mcp",
                "server_label": "amap",
                "server_url": "https://mcp.example.com/sse",
                "server_protocol": "sse",
                "headers": {"Authorization": "[redacted]"},
            },
        ),
    ],
)
def test_tools_show_prints_the_exact_json_that_would_be_sent(qwen, qwen_env, tmp_path: Path, args, definition) -> None:
    tools = tools_yaml(tmp_path / "tools.yaml", run=["./weather.py"])
    weather_preset(qwen_env, ["./forecast.py"])
    result = qwen("tools", "show", *(arg.format(tools=tools) for arg in args), env={"QWEN_TEST_MCP_TOKEN": MCP_SECRET})
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == json.dumps(definition, ensure_ascii=False, indent=2) + "\n"


def test_tools_show_of_an_unknown_name_is_exit_2(qwen) -> None:
    result = qwen("tools", "show", "web_serch")
    assert (result.returncode, result.stdout) == (2, "")
    assert "no tool named 'web_serch' (did you mean 'web_search'?)" in result.stderr


def test_tools_check_accepts_a_valid_file(qwen, tmp_path: Path) -> None:
    tools = tmp_path / "tools.yaml"
    tools.write_text(
        tools_yaml(tmp_path / "one.yaml").read_text() + "- name: get_time\n  description: The time\n", encoding="utf-8"
    )
    result = qwen("tools", "check", str(tools))
    assert (result.returncode, result.stdout, result.stderr) == (
        0,
        f"{tools}: 2 function tools (get_weather, get_time), all valid\n",
        "",
    )


@pytest.mark.parametrize(
    "entry, message",
    [
        ("  descripton: The time\n", "entry 2 ('get_time'): unknown key 'descripton' (did you mean 'description'?)"),
        (
            "  description: The time\n  parameters: {type: array}\n",
            "entry 2 ('get_time'): 'parameters.type' must be 'object'",
        ),
        ("  description: The time\n  run: ./clock.sh --utc\n", "entry 2 ('get_time'): 'run' must be a list"),
        (
            "  description: The time\n  parameters: {type: object, properties: {}, required: [zone]}\n",
            "entry 2 ('get_time'): 'parameters.required' names 'zone', which is not in 'parameters.properties'",
        ),
    ],
)
def test_tools_check_names_the_file_the_entry_and_the_key(qwen, tmp_path: Path, entry: str, message: str) -> None:
    tools = tmp_path / "tools.yaml"
    tools.write_text(tools_yaml(tmp_path / "one.yaml").read_text() + "- name: get_time\n" + entry, encoding="utf-8")
    result = qwen("tools", "check", str(tools))
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.startswith(f"qwen: error: {tools}: {message}"), result.stderr


# --- function calls qwen does not run: exit 5 ------------------------------------------------------------------


@pytest.mark.parametrize("command", ["ask", "stream"])
def test_calls_not_run_are_printed_with_name_id_and_arguments_and_exit_5(
    qwen, emulator, tmp_path: Path, command: str
) -> None:
    tools = tools_yaml(tmp_path / "tools.yaml")
    result = qwen(
        command, "--tools-file", str(tools), '@@call=get_weather:{"city": "Paris"} @@call=get_weather:{"city": "Rome"}'
    )
    assert (result.returncode, result.stdout) == (5, "")
    response_id = pending_response_id(result.stderr)
    calls = call_items(stored_response(emulator, response_id))
    assert result.stderr == "".join(
        f"qwen: function call get_weather ({call['call_id']}): {call['arguments']}\n" for call in calls
    ) + (
        "qwen: error: the model asked for 2 function calls that qwen did not run (pass --run-tools to run the programs "
        f"bound with run:); answer with: qwen continue {response_id} --tool-output CALL_ID=TEXT\n"
    )
    assert [call["arguments"] for call in calls] == ['{"city": "Paris"}', '{"city": "Rome"}']


@pytest.mark.parametrize("command", ["ask", "stream"])
def test_json_mode_prints_the_response_holding_the_calls_and_nothing_else(
    qwen, emulator, tmp_path: Path, command: str
) -> None:
    tools = tools_yaml(tmp_path / "tools.yaml")
    result = qwen(command, "--json", "--tools-file", str(tools), '@@call=get_weather:{"city": "Paris"}')
    assert result.returncode == 5
    response = json.loads(result.stdout)  # one document: no error document after it
    assert response == stored_response(emulator, response["id"])
    [call] = call_items(response)
    assert (call["name"], call["arguments"]) == ("get_weather", '{"city": "Paris"}')
    assert f"qwen: function call get_weather ({call['call_id']}): " in result.stderr


def test_continue_with_tool_outputs_sends_them_with_the_tools_again(qwen, emulator, tmp_path: Path) -> None:
    tools = tools_yaml(tmp_path / "tools.yaml")
    asked = qwen(
        "ask", "--tools-file", str(tools), '@@call=get_weather:{"city": "Paris"} @@call=get_weather:{"city": "Rome"}'
    )
    response_id = pending_response_id(asked.stderr)
    paris, rome = [call["call_id"] for call in call_items(stored_response(emulator, response_id))]
    answer = tmp_path / "rome.json"
    answer.write_text('{"temp": 19, "sky": "clear"}', encoding="utf-8")
    result = qwen(
        "continue",
        response_id,
        "--tools-file",
        str(tools),
        "--tool-output",
        f"{paris}=21 and sunny",
        "--tool-output",
        f"{rome}=@{answer}",
    )
    assert (result.returncode, result.stdout, result.stderr) == (
        0,
        'Tool results: 21 and sunny; {"temp": 19, "sky": "clear"}\n',
        "",
    )
    assert bodies(emulator)[-1] == {
        "model": "qwen-plus",
        "input": [
            {"type": "function_call_output", "call_id": paris, "output": "21 and sunny"},
            {"type": "function_call_output", "call_id": rome, "output": '{"temp": 19, "sky": "clear"}'},
        ],
        "previous_response_id": response_id,
        "tools": [WEATHER],
    }


def test_continue_with_tool_outputs_sends_the_parent_tools_again_without_being_told(
    qwen, emulator, tmp_path: Path
) -> None:
    # Issue 4: "`qwen continue ID --tool-output CALL_ID=TEXT` ... sends function_call_output items for those calls,
    # with the tools sent again": the server does not carry tools from turn to turn, so the model could not go on.
    tools = tools_yaml(tmp_path / "tools.yaml")
    asked = qwen("ask", "--tools-file", str(tools), '@@call=get_weather:{"city": "Paris"}')
    [(_, call_id, _)] = CALL_LINE.findall(asked.stderr)
    result = qwen("continue", pending_response_id(asked.stderr), "--tool-output", f"{call_id}=21 and sunny")
    assert (result.returncode, result.stdout) == (0, "Tool results: 21 and sunny\n")
    assert bodies(emulator)[-1]["tools"] == [WEATHER]


def test_continue_last_answers_a_call_from_a_preset_with_the_preset_tools_sent_again(qwen, qwen_env, emulator) -> None:
    write_preset(
        qwen_env,
        "clock",
        "tools:\n  - name: get_time\n    description: The time in a time zone\n"
        "    parameters: {type: object, properties: {zone: {type: string}}}\n",
    )
    asked = qwen("ask", "-p", "clock", '@@call=get_time:{"zone": "UTC"}')
    assert asked.returncode == 5
    [call] = CALL_LINE.findall(asked.stderr)
    result = qwen("continue", "last", "--tool-output", f"{call[1]}=12:00")
    assert (result.returncode, result.stdout) == (0, "Tool results: 12:00\n")
    assert bodies(emulator)[-1]["tools"] == [CLOCK]
    assert bodies(emulator)[-1]["input"] == [{"type": "function_call_output", "call_id": call[1], "output": "12:00"}]


# --- --run-tools: the local function-call loop -------------------------------------------------------------------


@pytest.mark.parametrize("command", ["ask", "stream"])
def test_run_tools_runs_the_bound_program_and_sends_its_output_back(
    qwen, emulator, tmp_path: Path, command: str
) -> None:
    tools = bound_weather(tmp_path)
    result = qwen(command, "--tools-file", str(tools), "--run-tools", '@@call=get_weather:{"city": "Paris"}')
    assert (result.returncode, result.stdout) == (0, "Tool results: sunny in Paris\n")
    first, second = created(emulator)
    first_id = second["body"]["previous_response_id"]
    [call] = call_items(stored_response(emulator, first_id))
    assert logged_calls(tmp_path) == [{"argv": [], "stdin": '{"city": "Paris"}'}]  # the arguments, exactly
    streaming = {"stream": True} if command == "stream" else {}
    assert second["body"] == {
        "model": "qwen-plus",
        "input": [{"type": "function_call_output", "call_id": call["call_id"], "output": "sunny in Paris"}],
        "previous_response_id": first_id,
        "tools": [WEATHER],
        **streaming,
    }
    argv = shlex.join([sys.executable, str(tmp_path / "bin" / "weather.py")])
    assert result.stderr == f'qwen: running get_weather ({call["call_id"]}) with {{"city": "Paris"}}: {argv}\n'


def test_a_relative_program_is_found_next_to_the_tools_file_and_run_by_its_shebang(
    qwen, emulator, tmp_path: Path
) -> None:
    script = program(tmp_path / "bin", f"#!{sys.executable}\n" + WEATHER_PROGRAM)
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    tools = tools_yaml(tmp_path / "bin" / "tools.yaml", run=["./weather.py", "--units", "metric"])
    result = qwen("ask", "--tools-file", str(tools), "--run-tools", '@@call=get_weather:{"city": "Lima"}')
    assert (result.returncode, result.stdout) == (0, "Tool results: sunny in Lima\n")
    assert logged_calls(tmp_path) == [{"argv": ["--units", "metric"], "stdin": '{"city": "Lima"}'}]


def test_no_shell_ever_reads_the_argv_or_the_arguments(qwen_env, emulator, tmp_path: Path) -> None:
    script = program(tmp_path / "bin", WEATHER_PROGRAM)
    tools = tools_yaml(
        tmp_path / "tools.yaml", run=[sys.executable, str(script), "$(touch pwned-argv)", "; touch pwned-semicolon"]
    )
    workdir = tmp_path / "work"
    workdir.mkdir()
    result = run_in(
        qwen_env,
        workdir,
        "ask",
        "--tools-file",
        str(tools),
        "--run-tools",
        '@@call=get_weather:{"city": "$(touch pwned-args)"}',
    )
    assert (result.returncode, result.stdout) == (0, "Tool results: sunny in $(touch pwned-args)\n")
    assert logged_calls(tmp_path) == [
        {"argv": ["$(touch pwned-argv)", "; touch pwned-semicolon"], "stdin": '{"city": "$(touch pwned-args)"}'}
    ]
    assert [path.name for path in tmp_path.rglob("pwned*")] == []


def test_parallel_calls_all_run_and_all_outputs_go_back_in_order(qwen, emulator, tmp_path: Path) -> None:
    tools = bound_weather(tmp_path)
    result = qwen(
        "ask",
        "--tools-file",
        str(tools),
        "--run-tools",
        '@@call=get_weather:{"city": "Paris"} @@call=get_weather:{"city": "Rome"}',
    )
    assert (result.returncode, result.stdout) == (0, "Tool results: sunny in Paris; sunny in Rome\n")
    assert [call["stdin"] for call in logged_calls(tmp_path)] == ['{"city": "Paris"}', '{"city": "Rome"}']
    first, second = created(emulator)
    paris, rome = [
        call["call_id"] for call in call_items(stored_response(emulator, second["body"]["previous_response_id"]))
    ]
    assert second["body"]["input"] == [
        {"type": "function_call_output", "call_id": paris, "output": "sunny in Paris"},
        {"type": "function_call_output", "call_id": rome, "output": "sunny in Rome"},
    ]
    assert [line.split(" (")[0] for line in result.stderr.splitlines()] == ["qwen: running get_weather"] * 2


@pytest.mark.parametrize(
    "source, extra, output, why",
    [
        (FAILING_PROGRAM, [], "error: exit status 1: boom: no forecast today", "exit status 1"),
        (SLEEPING_PROGRAM, ["--tool-timeout", "1"], "error: the tool timed out after 1 s", "timed out after 1 s"),
    ],
)
def test_a_failing_or_hanging_program_sends_its_error_and_the_loop_goes_on(
    qwen, emulator, tmp_path: Path, source, extra, output, why
) -> None:
    tools = bound_weather(tmp_path, source)
    result = qwen("ask", "--tools-file", str(tools), "--run-tools", *extra, '@@call=get_weather:{"city": "Paris"}')
    assert (result.returncode, result.stdout) == (0, f"Tool results: {output}\n")
    assert bodies(emulator)[-1]["input"][0]["output"] == output
    [call_id] = re.findall(r"running get_weather \((call_\w+)\)", result.stderr)
    assert f"qwen: get_weather ({call_id}) failed: {why}; the error text is sent to the model\n" in result.stderr


def test_a_forced_function_is_not_forced_again_when_its_output_goes_back(qwen, emulator, tmp_path: Path) -> None:
    tools = bound_weather(tmp_path)
    result = qwen(
        "ask",
        "--tools-file",
        str(tools),
        "--tool-choice",
        "get_weather",
        "--run-tools",
        '@@call=get_weather:{"city": "Oslo"}',
    )
    assert (result.returncode, result.stdout) == (0, "Tool results: sunny in Oslo\n")
    first, second = bodies(emulator)
    assert first["tool_choice"] == {
        "type": "allowed_tools",
        "mode": "required",
        "tools": [{"type": "function", "name": "get_weather"}],
    }
    assert second["tool_choice"] == "auto" and second["tools"] == [WEATHER]


@pytest.mark.parametrize("command", ["ask", "stream"])
def test_the_loop_goes_on_round_after_round_until_the_model_answers(
    qwen, emulator, tmp_path: Path, command: str
) -> None:
    tools = bound_weather(tmp_path, HOPPING_PROGRAM)
    result = qwen(command, "--tools-file", str(tools), "--run-tools", '@@call=get_weather:{"city": "Paris", "hops": 3}')
    assert (result.returncode, result.stdout) == (0, "Tool results: sunny in Paris\n")
    assert [json.loads(call["stdin"])["hops"] for call in logged_calls(tmp_path)] == [3, 2, 1]
    requests = created(emulator)
    assert len(requests) == 4
    for answered in requests[1:]:  # each round answers the calls of the round before, with the tools again
        [call] = call_items(stored_response(emulator, answered["body"]["previous_response_id"]))
        assert answered["body"]["input"] == [
            {"type": "function_call_output", "call_id": call["call_id"], "output": ANY}
        ]
        assert answered["body"]["tools"] == [WEATHER]
    assert result.stderr.count("qwen: running get_weather (call_") == 3


def test_parallel_calls_go_on_for_several_rounds_with_all_outputs_each_time(qwen, emulator, tmp_path: Path) -> None:
    tools = bound_weather(tmp_path, HOPPING_PROGRAM)
    prompt = '@@call=get_weather:{"city": "Paris", "hops": 2} @@call=get_weather:{"city": "Rome", "hops": 2}'
    result = qwen("ask", "--tools-file", str(tools), "--run-tools", prompt)
    assert (result.returncode, result.stdout) == (0, "Tool results: sunny in Paris; sunny in Rome\n")
    runs = [json.loads(call["stdin"]) for call in logged_calls(tmp_path)]
    assert [(run["city"], run["hops"]) for run in runs] == [("Paris", 2), ("Rome", 2), ("Paris", 1), ("Rome", 1)]
    assert [len(body["input"]) for body in bodies(emulator)[1:]] == [2, 2]


@pytest.mark.parametrize("command", ["ask", "stream"])
def test_reaching_max_tool_rounds_prints_the_calls_left_and_exits_5(
    qwen, emulator, tmp_path: Path, command: str
) -> None:
    tools = bound_weather(tmp_path, HOPPING_PROGRAM)
    prompt = '@@call=get_weather:{"city": "Oslo", "hops": 5}'
    result = qwen(command, "-o", "text", "--tools-file", str(tools), "--run-tools", "--max-tool-rounds", "2", prompt)
    assert (result.returncode, result.stdout) == (5, "")
    assert [json.loads(call["stdin"])["hops"] for call in logged_calls(tmp_path)] == [5, 4]  # two rounds, no more
    last = created(emulator)[-1]
    assert len(created(emulator)) == 3
    [(name, call_id, arguments)] = CALL_LINE.findall(result.stderr)
    assert (name, json.loads(arguments)) == ("get_weather", {"city": "Oslo", "hops": 3})
    assert "--max-tool-rounds (2) was reached" in result.stderr
    left_by = pending_response_id(result.stderr)
    assert [item["call_id"] for item in call_items(stored_response(emulator, left_by))] == [call_id]
    assert last["body"]["previous_response_id"] != left_by  # the hint names the newest response, not an older round
    thread = json.loads(qwen("history", "thread", "last", "--json").stdout)
    assert [entry["id"] for entry in thread][-1] == left_by and len(thread) == 3


def test_a_preset_binding_never_runs_without_run_tools(qwen, qwen_env, emulator, tmp_path: Path) -> None:
    marker_preset(qwen_env, tmp_path, "auto")
    result = qwen("ask", "-p", "auto", "@@call=get_time")
    assert (result.returncode, result.stdout) == (5, "")
    assert "qwen: function call get_time (call_" in result.stderr and "pass --run-tools" in result.stderr
    assert not (tmp_path / "bin" / "ran.marker").exists()
    assert len(created(emulator)) == 1


def test_a_preset_cannot_turn_run_tools_on(qwen, qwen_env, emulator, tmp_path: Path) -> None:
    preset = marker_preset(qwen_env, tmp_path, "sneaky", first_lines="run_tools: true\n")
    result = qwen("ask", "-p", "sneaky", "@@call=get_time")
    assert result.returncode == 2 and f"{preset}:1: unknown key 'run_tools'" in result.stderr
    assert not (tmp_path / "bin" / "ran.marker").exists() and created(emulator) == []


def test_run_tools_runs_a_preset_binding_when_the_user_asks(qwen, qwen_env, emulator, tmp_path: Path) -> None:
    marker_preset(qwen_env, tmp_path, "auto")
    result = qwen("ask", "-p", "auto", "--run-tools", "@@call=get_time")
    assert (result.returncode, result.stdout) == (
        0,
        "Tool results: ran\n",
    )  # the answer ends with a newline: none added
    assert (tmp_path / "bin" / "ran.marker").read_text() == "ran"


def test_json_mode_with_run_tools_prints_the_final_response_as_one_document(qwen, emulator, tmp_path: Path) -> None:
    # README, output modes: json is "the final Response object as one JSON document".
    tools = bound_weather(tmp_path)
    result = qwen("ask", "--json", "--tools-file", str(tools), "--run-tools", '@@call=get_weather:{"city": "Paris"}')
    assert result.returncode == 0, result.stderr
    response = json.loads(result.stdout)
    assert response["output"][-1]["content"][0]["text"] == "Tool results: sunny in Paris"
    assert response == stored_response(emulator, response["id"])


def test_the_history_records_every_round_of_the_loop(qwen, emulator, tmp_path: Path) -> None:
    tools = bound_weather(tmp_path)
    prompt = '@@call=get_weather:{"city": "Paris"}'
    assert qwen("ask", "--tools-file", str(tools), "--run-tools", prompt).returncode == 0
    first, second = created(emulator)
    first_id = second["body"]["previous_response_id"]
    thread = json.loads(qwen("history", "thread", "last", "--json").stdout)
    assert [(entry["id"], entry["parent_id"], entry["prompt"], entry["answer"]) for entry in thread] == [
        (first_id, None, prompt, ""),
        (thread[1]["id"], first_id, "", "Tool results: sunny in Paris"),
    ]
    assert thread[1]["id"] != first_id and all(entry["status"] == "completed" for entry in thread)
    assert thread[0]["options"]["tools"] == [WEATHER]
