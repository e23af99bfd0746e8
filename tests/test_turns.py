"""The turn recipe in-process: a World of the test's own (environment, streams, working directory and an
httpx.MockTransport for the network) drives `turns.run_request`, so the orchestration (settings, the history,
continuation, the tool-round loop, the error boundary) is proven without starting a process or a server.

The end-to-end tests (test_e2e_*.py, test_fault_matrix.py) prove what only a process can show: pipes, terminals,
signals and exit codes as the shell sees them.
"""

from __future__ import annotations

import dataclasses
import io
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from qwen_cli.cli import turns
from qwen_cli.cli.flags import RequestFlags
from qwen_cli.cli.world import World
from qwen_cli.history import History, history_path
from qwen_cli.redaction import Secrets

KEY = "sk-turns-0123456789abcdef"
BASE = "http://api.test/compatible-mode/v1"


class Server:
    """The network of one test: answers each request with the next reply of a script, and keeps what it got."""

    def __init__(self, *replies: httpx.Response | Callable[[httpx.Request], httpx.Response]) -> None:
        self.replies = list(replies)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        reply = self.replies.pop(0)
        return reply(request) if callable(reply) else reply

    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(request.content) for request in self.requests]


def answer(text: str, response_id: str = "resp_1", **extra: Any) -> httpx.Response:
    message = {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": text}]}
    body = {"id": response_id, "object": "response", "status": "completed", "model": "qwen-plus", "output": [message]}
    return httpx.Response(200, json={**body, **extra})


def calls(response_id: str, *names: str) -> httpx.Response:
    output = [
        {"type": "function_call", "name": name, "call_id": f"call_{n}", "arguments": '{"city": "Paris"}'}
        for n, name in enumerate(names)
    ]
    return httpx.Response(200, json={"id": response_id, "status": "completed", "model": "qwen-plus", "output": output})


class Run:
    """One in-process run: its world, what it printed, and how it ended."""

    def __init__(self, tmp_path: Path, server: Server, env: dict[str, str] | None = None) -> None:
        self.env = {
            "HOME": str(tmp_path / "home"),
            "XDG_CONFIG_HOME": str(tmp_path / "config"),
            "XDG_DATA_HOME": str(tmp_path / "data"),
            "DASHSCOPE_API_KEY": KEY,
            "QWEN_BASE_URL": BASE,
            **(env or {}),
        }
        self.stdout, self.stderr = io.StringIO(), io.StringIO()
        self.waits: list[float] = []  # the retries' waits, recorded instead of slept
        self.world = World(
            env=self.env,
            stdin=None,
            stdout=self.stdout,
            stderr=self.stderr,
            cwd=tmp_path,
            transport=httpx.MockTransport(server),
            secrets=Secrets.of(KEY),
            sleep=self.waits.append,
        )
        self.exit_code = 0

    def __call__(
        self, words: list[str], stream: bool | None = False, continue_from: str | None = None, **flags: Any
    ) -> Run:
        flags.setdefault("output", "text")
        try:
            turns.run_request(self.world, words, RequestFlags(**flags), stream, continue_from)
        except SystemExit as exit_:
            self.exit_code = int(exit_.code or 0)
        assert KEY not in self.stdout.getvalue() + self.stderr.getvalue()
        return self

    def history(self) -> History:
        return History(history_path(self.env))


def test_a_turn_sends_the_prompt_and_prints_the_answer_and_records_it(tmp_path: Path) -> None:
    server = Server(answer("Rayleigh scattering."))
    run = Run(tmp_path, server)(["why", "is", "the", "sky", "blue"])

    assert (run.exit_code, run.stdout.getvalue(), run.stderr.getvalue()) == (0, "Rayleigh scattering.\n", "")
    (request,) = server.requests
    assert str(request.url) == f"{BASE}/responses"
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert server.bodies()[0]["input"] == "why is the sky blue"
    with run.history() as history:
        (entry,) = history.latest(5)
    assert (entry.id, entry.prompt, entry.answer, entry.status) == (
        "resp_1",
        "why is the sky blue",
        "Rayleigh scattering.",
        "completed",
    )


def test_settings_come_from_the_config_file_of_the_worlds_environment(tmp_path: Path) -> None:
    config = tmp_path / "config" / "qwen" / "config.yaml"
    config.parent.mkdir(parents=True)
    config.write_text("model: qwen3.8-max\nhistory: false\n", encoding="utf-8")
    server = Server(answer("ok"))
    run = Run(tmp_path, server)(["hi"])

    assert run.exit_code == 0 and server.bodies()[0]["model"] == "qwen3.8-max"
    assert not history_path(run.env).exists()  # history: false in the config file


def test_continue_last_sends_the_parents_id_and_instructions_again(tmp_path: Path) -> None:
    server = Server(answer("first", "resp_a"), answer("second", "resp_b"))
    run = Run(tmp_path, server)(["hello"], instructions="Be brief")
    run(["and", "more"], continue_from="last")

    first, second = server.bodies()
    assert "previous_response_id" not in first
    assert (second["previous_response_id"], second["instructions"]) == ("resp_a", "Be brief")
    assert run.stdout.getvalue() == "first\nsecond\n"
    with run.history() as history:
        assert [entry.id for entry in history.thread("resp_b")] == ["resp_a", "resp_b"]


def test_function_calls_qwen_may_not_run_end_the_turn_with_exit_5_and_the_calls_on_stderr(tmp_path: Path) -> None:
    tools = tmp_path / "tools.yaml"
    tools.write_text("- name: get_weather\n  description: now\n  parameters: {type: object}\n", encoding="utf-8")
    server = Server(calls("resp_c", "get_weather"))
    run = Run(tmp_path, server)(["weather?"], tools_file=[str(tools)])

    assert run.exit_code == 5 and len(server.requests) == 1
    lines = run.stderr.getvalue().splitlines()
    assert lines[0] == 'qwen: function call get_weather (call_0): {"city": "Paris"}'
    assert lines[-1].startswith("qwen: error: the model asked for 1 function call that qwen did not run")


def test_the_tool_loop_runs_the_bound_program_and_sends_its_output_back_round_after_round(tmp_path: Path) -> None:
    program = tmp_path / "weather.py"
    program.write_text("import sys, json\nprint(json.load(sys.stdin)['city'] + ': 21 C')\n", encoding="utf-8")
    tools = tmp_path / "tools.yaml"
    tools.write_text(
        f"- name: get_weather\n  description: now\n  parameters: {{type: object}}\n  run: [{sys.executable!r}, weather.py]\n",
        encoding="utf-8",
    )
    server = Server(calls("resp_1", "get_weather"), calls("resp_2", "get_weather"), answer("Sunny in Paris.", "resp_3"))
    run = Run(tmp_path, server)(["weather?"], tools_file=[str(tools)], run_tools=True)

    assert (run.exit_code, run.stdout.getvalue()) == (0, "Sunny in Paris.\n")
    first, second, third = server.bodies()
    assert second["previous_response_id"] == "resp_1" and third["previous_response_id"] == "resp_2"
    assert second["input"] == [{"type": "function_call_output", "call_id": "call_0", "output": "Paris: 21 C\n"}]
    assert run.stderr.getvalue().count("qwen: running get_weather (call_0)") == 2


def test_the_tool_loop_stops_after_max_tool_rounds_with_the_calls_left(tmp_path: Path) -> None:
    tools = tmp_path / "tools.yaml"
    tools.write_text(
        f"- name: f\n  description: d\n  parameters: {{type: object}}\n  run: [{sys.executable!r}, -c, 'print(1)']\n",
        encoding="utf-8",
    )
    server = Server(calls("resp_1", "f"), calls("resp_2", "f"), calls("resp_3", "f"))
    run = Run(tmp_path, server)(["go"], tools_file=[str(tools)], run_tools=True, max_tool_rounds=2)

    assert run.exit_code == 5 and len(server.requests) == 3
    assert "--max-tool-rounds (2) was reached" in run.stderr.getvalue()
    assert "qwen continue resp_3 --tool-output CALL_ID=TEXT" in run.stderr.getvalue()


@pytest.mark.parametrize("output", ["text", "json"])
def test_the_error_boundary_turns_a_refused_key_into_exit_3_and_one_line(tmp_path: Path, output: str) -> None:
    refusal = {"code": "InvalidApiKey", "message": f"Invalid API-key provided: {KEY}", "request_id": "r-1"}
    run = Run(tmp_path, Server(httpx.Response(401, json=refusal)))(["hi"], output=output)

    assert run.exit_code == 3
    (line,) = run.stderr.getvalue().splitlines()
    assert line.startswith("qwen: error: ") and "[redacted]" in line and "r-1" in line
    if output == "json":
        document = json.loads(run.stdout.getvalue())
        assert (document["error"]["type"], document["error"]["exit_code"]) == ("auth_error", 3)
    else:
        assert run.stdout.getvalue() == ""


def test_an_mcp_header_value_is_hidden_in_every_line_once_the_request_is_built(tmp_path: Path) -> None:
    token = "mcp-token-5f1e2d3c4b"
    quoting = httpx.Response(
        400, json={"code": "InvalidParameter", "message": f"bad header {token}", "request_id": "r"}
    )
    run = Run(tmp_path, Server(quoting), env={"MCP_TOKEN": token})
    run(["hi"], mcp=["docs=https://mcp.example/sse"], mcp_header=["docs:Authorization=env:MCP_TOKEN"])

    assert run.exit_code == 1
    assert token not in run.stderr.getvalue() and "bad header [redacted]" in run.stderr.getvalue()


def test_a_dry_run_prints_the_request_to_the_worlds_stdout_and_sends_nothing(tmp_path: Path) -> None:
    server = Server()
    run = Run(tmp_path, server)(["hello"], dry_run=True)

    assert run.exit_code == 0 and server.requests == []
    shown = json.loads(run.stdout.getvalue())
    assert shown["headers"]["Authorization"] == "Bearer [redacted]" and shown["url"] == f"{BASE}/responses"


def bound_tools(tmp_path: Path, program: str = "print('sunny')") -> Path:
    """get_weather bound to a program that logs each run; get_time bound to nothing."""
    log = tmp_path / "runs.log"
    script = tmp_path / "weather.py"
    script.write_text(
        f"import sys\nopen({str(log)!r}, 'a').write(sys.stdin.read() + '\\n')\n{program}\n", encoding="utf-8"
    )
    tools = tmp_path / "tools.yaml"
    tools.write_text(
        f"- name: get_weather\n  description: now\n  parameters: {{type: object}}\n  run: [{sys.executable!r}, {str(script)!r}]\n"
        "- name: get_time\n  description: now\n  parameters: {type: object}\n",
        encoding="utf-8",
    )
    return tools


def test_one_round_fits_in_max_tool_rounds_1(tmp_path: Path) -> None:
    server = Server(calls("resp_1", "get_weather"), answer("Sunny.", "resp_2"))
    run = Run(tmp_path, server)(["go"], tools_file=[str(bound_tools(tmp_path))], run_tools=True, max_tool_rounds=1)

    assert (run.exit_code, run.stdout.getvalue(), len(server.requests)) == (0, "Sunny.\n", 2)


def test_a_call_without_a_binding_is_exit_5_and_nothing_runs(tmp_path: Path) -> None:
    server = Server(calls("resp_1", "get_weather", "get_time"))
    run = Run(tmp_path, server)(["go"], tools_file=[str(bound_tools(tmp_path))], run_tools=True)

    assert (run.exit_code, run.stdout.getvalue(), len(server.requests)) == (5, "", 1)
    lines = run.stderr.getvalue().splitlines()
    assert [line.split()[3] for line in lines[:2]] == ["get_weather", "get_time"]
    assert "no program is bound to get_time (add run: [...] to its tools-file entry)" in lines[-1]
    assert not (tmp_path / "runs.log").exists()  # half a round is never run


@pytest.mark.parametrize(
    "flags, env, went",
    [
        (
            {},
            {"QWEN_BASE_URL": ""},
            "the request went to region intl (default); a key belongs to one region: try --region cn or --region us",
        ),
        (
            {"region": "cn"},
            {},
            "the request went to region cn (flag); a key belongs to one region: try --region intl or --region us",
        ),
        (
            {},
            {},
            f"the request went to the base URL {BASE} (environment); a key belongs to one region (intl, cn, us): "
            "check the key, and --base-url or try --region",
        ),
    ],
    ids=["default region", "--region cn", "QWEN_BASE_URL"],
)
@pytest.mark.parametrize("status", [401, 403])
def test_a_refused_key_names_the_region_or_base_url_used_and_the_others(
    tmp_path: Path, flags: dict[str, Any], env: dict[str, str], went: str, status: int
) -> None:
    server = Server(httpx.Response(status, json={"code": "InvalidApiKey", "message": "Invalid API-key provided."}))
    run = Run(tmp_path, server, env)(["hi"], **flags)

    assert (run.exit_code, run.stdout.getvalue()) == (3, "")
    refused = "the API key was refused: Invalid API-key provided. Check DASHSCOPE_API_KEY"
    if status == 403:
        refused = "permission denied: Invalid API-key provided. Check that the model is activated for your account"
    assert run.stderr.getvalue() == f"qwen: error: {refused}; {went} (HTTP {status}, code InvalidApiKey)\n"


def test_a_rate_limit_waits_about_1_then_2_s_each_wait_announced_and_the_turn_goes_on(tmp_path: Path) -> None:
    limited = {"code": "Throttling.RateQuota", "message": "Requests rate limit exceeded."}
    server = Server(httpx.Response(429, json=limited), httpx.Response(429, json=limited), answer("done"))
    run = Run(tmp_path, server)(["hi"])

    assert (run.exit_code, run.stdout.getvalue()) == (0, "done\n")
    first, second = run.waits
    assert 0.75 <= first <= 1.25 and 1.5 <= second <= 2.5
    assert run.stderr.getvalue() == "".join(
        f"qwen: Requests rate limit exceeded. (HTTP 429, code Throttling.RateQuota); retrying in {wait:.1f} s "
        f"(retry {n} of 2)\n"
        for n, wait in enumerate(run.waits, 1)
    )


def test_retry_after_is_honoured_on_a_rate_limit(tmp_path: Path) -> None:
    limited = {"code": "Throttling.RateQuota", "message": "Requests rate limit exceeded."}
    server = Server(httpx.Response(429, json=limited, headers={"Retry-After": "12"}), answer("done"))
    run = Run(tmp_path, server)(["hi"])

    assert (run.exit_code, run.waits) == (0, [12.0])
    assert "retrying in 12.0 s (retry 1 of 2)" in run.stderr.getvalue()


@pytest.mark.parametrize(
    "body, line",
    [
        (
            {"code": "NotFound", "message": "Not Found"},
            f"qwen: error: nothing answers at {BASE}/responses (Not Found); check --base-url or QWEN_BASE_URL "
            "(DashScope's base URLs end in /compatible-mode/v1) (HTTP 404, code NotFound)\n",
        ),
        (
            {"code": "model_not_found", "message": "The model `qwen-nope` does not exist."},
            "qwen: error: The model `qwen-nope` does not exist. (HTTP 404, code model_not_found)\n",
        ),
    ],
    ids=["a path that is not there", "a model that is not there"],
)
def test_a_404_points_at_the_base_url_unless_it_is_about_what_the_request_named(
    tmp_path: Path, body: dict[str, str], line: str
) -> None:
    run = Run(tmp_path, Server(httpx.Response(404, json=body)))(["hi"])

    assert (run.exit_code, run.stdout.getvalue(), run.stderr.getvalue()) == (1, "", line)


def test_ask_writes_its_whole_answer_and_newline_at_once(tmp_path: Path) -> None:
    """`xargs -P 32 qwen ask` shares one pipe among processes: each answer leaves in one write, newline included."""
    writes: list[str] = []

    class Recorded(io.StringIO):
        def write(self, text: str) -> int:
            writes.append(text)
            return super().write(text)

    run = Run(tmp_path, Server(answer("Rayleigh scattering.")))
    run.stdout = Recorded()
    run.world = dataclasses.replace(run.world, stdout=run.stdout)
    run(["why"])
    assert run.exit_code == 0 and [text for text in writes if text] == ["Rayleigh scattering.\n"]
