"""Tests of the Responses API emulator, spoken to over real sockets with http.client and bare sockets."""

from __future__ import annotations

import http.client
import json
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from qwen_cli.emulator import Emulator, Faults

FIXTURES = Path(__file__).parent / "fixtures"
PREFIX = "/compatible-mode/v1"
LEGACY_PREFIX = "/api/v2/apps/protocols/compatible-mode/v1"
AUTH = {"Authorization": "Bearer sk-test", "Content-Type": "application/json"}
FUNCTION_TOOL = {
    "type": "function",
    "name": "get_weather",
    "description": "Weather of a city",
    "parameters": {"type": "object"},
}


# ---------------------------------------------------------------------------------------------- helpers


@dataclass
class Result:
    status: int
    headers: dict[str, str]
    raw: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.raw)


@pytest.fixture(scope="module")
def server() -> Iterator[Emulator]:
    with Emulator() as emu:
        yield emu


@pytest.fixture
def emu(server: Emulator) -> Iterator[Emulator]:
    server.reset()
    yield server
    server.reset()


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def address(emu: Emulator) -> tuple[str, int]:
    parts = urlsplit(emu.base_url)
    return parts.hostname or "", parts.port or 0


def url_path(path: str) -> str:
    return path if path.startswith("/") else f"{PREFIX}/{path}"


def send(
    emu: Emulator,
    method: str,
    path: str,
    body: Any = None,
    headers: dict[str, str | None] | None = None,
    raw: bytes | None = None,
    conn: http.client.HTTPConnection | None = None,
) -> Result:
    connection = conn or http.client.HTTPConnection(*address(emu), timeout=10)
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    merged = {name: value for name, value in {**AUTH, **(headers or {})}.items() if value is not None}
    connection.request(method, url_path(path), body=data, headers=merged)
    response = connection.getresponse()
    result = Result(response.status, {k.lower(): v for k, v in response.getheaders()}, response.read())
    if conn is None:
        connection.close()
    return result


def create(emu: Emulator, headers: dict[str, str | None] | None = None, **body: Any) -> Result:
    body.setdefault("model", "qwen-plus")
    return send(emu, "POST", "responses", body, headers)


def answer_of(response: dict[str, Any]) -> str:
    messages = [item for item in response["output"] if item["type"] == "message"]
    return messages[-1]["content"][0]["text"]


def parse_frames(raw: bytes, newline: str = "\n") -> list[dict[str, Any]]:
    """Split SSE bytes into frames: {"id", "event", "data", "comments"} as written on the wire."""
    frames = []
    for block in raw.decode("utf-8").split(newline * 2):
        if not block:
            continue
        frame: dict[str, Any] = {"comments": []}
        for line in block.split(newline):
            if line.startswith(":"):
                frame["comments"].append(line[1:])
            else:
                name, _, value = line.partition(":")
                frame[name] = value
        frames.append(frame)
    return frames


def stream(
    emu: Emulator, headers: dict[str, str | None] | None = None, **body: Any
) -> tuple[Result, list[dict[str, Any]]]:
    body.setdefault("model", "qwen-plus")
    result = send(emu, "POST", "responses", {**body, "stream": True}, headers)
    return result, [json.loads(frame["data"]) for frame in parse_frames(result.raw)]


def raw_exchange(
    emu: Emulator,
    body: dict[str, Any],
    timeout: float = 5.0,
    extra_headers: str = "",
    until: Callable[[bytes], bool] | None = None,
) -> tuple[bytes, bytes, bool]:
    """POST over a bare socket; return (head, body bytes, timed_out) once the stream ends, closes or stalls
    (or, given `until`, once the bytes received satisfy it)."""
    host, port = address(emu)
    payload = json.dumps(body).encode()
    head = (
        f"POST {PREFIX}/responses HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer sk-test\r\n{extra_headers}"
        f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n"
    )
    received, timed_out = b"", False
    finished = until or (lambda data: data.endswith(b"\r\n0\r\n\r\n"))
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.sendall(head.encode() + payload)
        while not finished(received):
            try:
                data = sock.recv(65536)
            except TimeoutError:
                timed_out = True
                break
            if not data:
                break
            received += data
    header_bytes, _, rest = received.partition(b"\r\n\r\n")
    return header_bytes, rest, timed_out


def dechunk(body: bytes) -> tuple[list[bytes], bool]:
    """The chunks of a chunked body and whether the final zero-length chunk arrived."""
    chunks, position = [], 0
    while True:
        end = body.find(b"\r\n", position)
        if end < 0:
            return chunks, False
        size = int(body[position:end], 16)
        if size == 0:
            return chunks, True
        start = end + 2
        chunks.append(body[start : start + size])
        if len(body) < start + size + 2:
            return chunks, False
        position = start + size + 2


def assert_error(result: Result, status: int, code: str, message: str) -> None:
    assert result.status == status
    assert result.headers["content-type"] == "application/json"
    body = result.json
    assert set(body) == {"request_id", "code", "message"}
    assert (body["code"], body["message"]) == (code, message)
    assert body["request_id"] == result.headers["x-request-id"]


# ---------------------------------------------------------------------------------------------- basics


def test_basic_response_has_the_documented_shape(emu: Emulator) -> None:
    result = create(emu, input="hello there")
    assert result.status == 200
    assert result.headers["content-type"] == "application/json"
    assert int(result.headers["content-length"]) == len(result.raw)
    assert result.headers["x-request-id"]
    response, reference = result.json, fixture("nonstream-basic.json")
    assert set(reference) <= set(response)
    assert set(fixture("retrieve-response.json")) <= set(response)
    assert set(reference["output"][0]) <= set(response["output"][0])
    assert set(reference["usage"]) <= set(response["usage"])
    assert set(reference["usage"]["x_details"][0]) <= set(response["usage"]["x_details"][0])
    assert re.fullmatch(r"resp_[0-9a-f-]{36}", response["id"])
    assert re.fullmatch(r"msg_[0-9a-f-]{36}", response["output"][0]["id"])
    assert (response["object"], response["status"], response["model"]) == ("response", "completed", "qwen-plus")
    assert response["error"] is None and response["tools"] == [] and response["tool_choice"] == "auto"
    assert isinstance(response["created_at"], int) and isinstance(response["completed_at"], int)
    assert answer_of(response) == "You said: hello there"
    assert response["usage"]["input_tokens"] == 2
    assert response["usage"]["output_tokens"] == 4
    assert response["usage"]["total_tokens"] == 6
    assert response["usage"]["x_details"][0]["x_billing_type"] == "response_api"


def test_echo_shows_instructions_images_files_and_long_prompts(emu: Emulator) -> None:
    content = [
        {"type": "input_text", "text": "look"},
        {"type": "input_image", "image_url": "https://example.com/a.png"},
        {"type": "image_url", "image_url": {"url": "https://example.com/b.png"}},
        {"type": "input_text", "text": "closely"},
        {"type": "input_file", "file_url": "https://example.com/c.pdf"},
    ]
    response = create(emu, instructions="Be brief", input=[{"role": "user", "content": content}]).json
    assert answer_of(response) == "[Be brief] You said: look\nclosely (2 images) (1 file)"
    long_prompt = "a" * 150 + "b" * 150
    assert answer_of(create(emu, input=long_prompt).json) == f"You said 300 characters: {'a' * 100} ... {'b' * 100}"
    assert answer_of(create(emu, input="x" * 200).json) == "You said: " + "x" * 200


def test_prompt_is_the_last_user_message(emu: Emulator) -> None:
    items = [
        {"role": "system", "content": "system words"},
        {"role": "user", "content": "first"},
        {"role": "assistant", "content": "reply"},
        {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "second"}]},
    ]
    response = create(emu, input=items).json
    assert answer_of(response) == "You said: second"
    assert response["usage"]["input_tokens"] == 5


@pytest.mark.parametrize(
    ("prompt", "expected"),
    [
        ("@@words=5", "w1 w2 w3 w4 w5"),
        ("please @@words=1 now", "w1"),
        ("@@bytes=170", "x" * 79 + "\n" + "x" * 79 + "\n" + "x" * 10),
    ],
)
def test_size_directives_are_exact(emu: Emulator, prompt: str, expected: str) -> None:
    assert answer_of(create(emu, input=prompt, instructions="ignored here").json) == expected


def test_markdown_and_ansi_directives(emu: Emulator) -> None:
    markdown = answer_of(create(emu, input="@@markdown").json)
    assert markdown.startswith("# ") and "**bold text**" in markdown and "\n- first item\n" in markdown
    assert "```python\n" in markdown and "| Name | Value |" in markdown
    ansi = answer_of(create(emu, input="@@ansi").json)
    assert "\x1b[2J\x1b[31mred\x1b[0m" in ansi and "\x1b]8;;https://evil.example/\x1b\\" in ansi


def test_fail_directive_fails_the_response(emu: Emulator) -> None:
    result = create(emu, input="@@fail")
    assert result.status == 200
    response = result.json
    assert response["status"] == "failed" and response["output"] == []
    assert response["error"] == {"code": "InternalError", "message": "Emulated failure."}
    _, events = stream(emu, input="@@fail")
    assert [event["type"] for event in events] == ["response.created", "response.in_progress", "response.failed"]
    assert events[-1]["response"]["error"]["code"] == "InternalError"


def test_echo_key_reads_every_key_placeholder_as_the_requests_bearer_token(emu: Emulator) -> None:
    token = "sk-echoed-0123456789"
    headers = {"Authorization": f"Bearer {token}"}
    assert answer_of(create(emu, headers, input="@@echo-key say @@key").json) == f"You said: @@echo-key say {token}"
    _, events = stream(emu, headers, input="@@echo-key say @@key")
    deltas = [event["delta"] for event in events if event["type"] == "response.output_text.delta"]
    assert "".join(deltas) == f"You said: @@echo-key say {token}" and max(map(len, deltas)) == 5  # in pieces
    failed = create(emu, headers, input="@@echo-key @@fail @@key").json
    assert failed["error"]["message"] == f"Emulated failure of: @@echo-key @@fail {token}"
    tools = [{"type": "function", "name": "f", "parameters": {"type": "object", "properties": {}}}]
    called = create(emu, headers, input='@@echo-key @@call=f:{"k": "@@key"}', tools=tools).json
    assert called["output"][0]["arguments"] == f'{{"k": "{token}"}}'
    assert answer_of(create(emu, headers, input="say @@key").json) == "You said: say @@key"  # only with @@echo-key


def test_big_byte_answers_stream_in_bounded_deltas(emu: Emulator) -> None:
    _, events = stream(emu, input="@@bytes=5000")
    deltas = [event["delta"] for event in events if event["type"] == "response.output_text.delta"]
    assert all(len(delta) <= 1000 for delta in deltas) and len(deltas) == 5
    assert "".join(deltas).encode() == x_bytes(5000)


def x_bytes(size: int) -> bytes:
    lines, rest = divmod(size, 80)
    return (b"x" * 79 + b"\n") * lines + b"x" * rest


def test_unknown_parameters_and_tool_types_are_accepted_and_echoed(emu: Emulator) -> None:
    tools = [{"type": "computer"}, {"type": "made_up", "x": 1}]
    result = create(emu, input="hi", tools=tools, text={"format": {"type": "bogus"}}, foo=1, tool_choice="none")
    assert result.status == 200
    assert result.json["tools"] == tools and result.json["tool_choice"] == "none"


def test_echoed_request_fields(emu: Emulator) -> None:
    body = {"input": "hi", "temperature": 0, "top_p": 1, "max_output_tokens": 16, "reasoning": {"effort": "none"}}
    response = create(emu, instructions="sys", store=True, parallel_tool_calls=True, **body).json
    assert response["temperature"] == 0 and response["top_p"] == 1 and response["max_output_tokens"] == 16
    assert response["reasoning"] == {"effort": "none"} and response["instructions"] == "sys"
    assert response["store"] is True and response["parallel_tool_calls"] is True
    assert "previous_response_id" not in response


# ---------------------------------------------------------------------------------------------- validation

VALIDATION_CASES = [
    ({"input": "hi"}, "[400] missing_required_parameter: Missing required parameter: 'model'."),
    ({"model": "qwen-plus"}, "[400] missing_required_parameter: Missing required parameter: 'input'."),
    ({"model": "__nope__", "input": "hi"}, "Unsupported model: '__nope__'"),
    ({"temperature": 5}, "Invalid 'temperature': 5. Expected a value between [0,2), but got 5 instead."),
    ({"temperature": 2}, "Invalid 'temperature': 2. Expected a value between [0,2), but got 2 instead."),
    ({"temperature": -0.5}, "Invalid 'temperature': -0.5. Expected a value between [0,2), but got -0.5 instead."),
    ({"top_p": 9}, "Invalid 'top_p': 9. Expected a value between (0,1], but got 9 instead."),
    ({"top_p": 0}, "Invalid 'top_p': 0. Expected a value between (0,1], but got 0 instead."),
    ({"max_output_tokens": 1}, "Invalid 'max_output_tokens': must be greater than or equal to 16, got 1."),
    (
        {"reasoning": {"effort": "bogus_level"}},
        "Invalid 'reasoning.effort': bogus_level. Supported values are: "
        "('none','minimal','low','medium','high','xhigh','max').",
    ),
    ({"store": "NOT_A_BOOL"}, "Invalid 'store': NOT_A_BOOL. Must be a boolean."),
    (
        {"previous_response_id": "resp_a", "conversation": "conv_b"},
        "[400] INVALID_REQUEST: Mutually exclusive parameters: Ensure you are only providing one of: "
        "previous_response_id or conversation.",
    ),
    ({"previous_response_id": "resp_missing"}, "Not found previous_response_id: resp_missing"),
    ({"conversation": "conv_missing"}, "Not found conversation: conv_missing"),
    (
        {"tool_choice": "required", "tools": [FUNCTION_TOOL, {"type": "web_search"}]},
        "Invalid 'tool_choice': 'required' is only allowed when 'tools' contains exactly one tool, "
        "but 2 were provided.",
    ),
    (
        {"tool_choice": "required"},
        "Invalid 'tool_choice': 'required' is only allowed when 'tools' contains exactly one tool, "
        "but 0 were provided.",
    ),
    (
        {"tools": [{"type": "function", "function": {"name": "f", "parameters": {}}}]},
        "<400> InternalError.Algo.InvalidParameter: The parameters, when provided as a dict, "
        "must confirm to a valid openai-compatible JSON schema.",
    ),
    (
        {
            "input": [
                {"role": "user", "content": "hi"},
                {"type": "function_call_output", "call_id": "call_1", "output": "x"},
            ]
        },
        "<400> InternalError.Algo.InvalidParameter: The function_call_output with call_id 'call_1' "
        "must immediately follow its function_call.",
    ),
    (
        {
            "input": [
                {"type": "function_call", "name": "f", "arguments": "{}", "call_id": "call_2"},
                {"role": "user", "content": "between"},
                {"type": "function_call_output", "call_id": "call_2", "output": "x"},
            ]
        },
        "<400> InternalError.Algo.InvalidParameter: The function_call_output with call_id 'call_2' "
        "must immediately follow its function_call.",
    ),
]


def drop_missing(body: dict[str, Any], message: str) -> None:
    """Remove the field a missing-parameter case is about."""
    for name in ("model", "input"):
        if message.endswith(f"'{name}'."):
            del body[name]


@pytest.mark.parametrize(("overrides", "message"), VALIDATION_CASES)
def test_validation_errors_without_streaming(emu: Emulator, overrides: dict[str, Any], message: str) -> None:
    body = {**{"model": "qwen-plus", "input": "hi"}, **overrides}
    drop_missing(body, message)
    assert_error(send(emu, "POST", "responses", body), 400, "InvalidParameter", message)


@pytest.mark.parametrize(("overrides", "message"), VALIDATION_CASES)
def test_validation_errors_in_streams_are_one_failed_event(
    emu: Emulator, overrides: dict[str, Any], message: str
) -> None:
    body = {**{"model": "qwen-plus", "input": "hi"}, **overrides, "stream": True}
    drop_missing(body, message)
    result = send(emu, "POST", "responses", body)
    assert result.status == 200
    assert result.headers["content-type"] == "text/event-stream;charset=UTF-8"
    frames = parse_frames(result.raw)
    assert len(frames) == 1 and frames[0]["event"] == "response.failed" and frames[0]["id"] == "1"
    event = json.loads(frames[0]["data"])
    assert event["sequence_number"] == 0
    assert event["response"]["status"] == "failed"
    assert event["response"]["error"] == {"code": "InvalidParameter", "message": message}


def test_boundary_values_are_accepted(emu: Emulator) -> None:
    for extra in (
        {"temperature": 0},
        {"temperature": 1.99},
        {"top_p": 1},
        {"top_p": 0.01},
        {"max_output_tokens": 16},
        {"store": False},
    ):
        assert create(emu, input="hi", **extra).status == 200, extra
    for effort in ("none", "minimal", "low", "medium", "high", "xhigh", "max"):
        assert create(emu, input="hi", reasoning={"effort": effort}).status == 200
    for model in ("qwen3.8-max", "qwen-max", "qwen-turbo", "qwen3-coder-next", "qwen3.5-ocr", "kimi-k3", "glm-5.3"):
        assert create(emu, model=model, input="hi").status == 200, model
    assert create(emu, input="hi", tools=[FUNCTION_TOOL], tool_choice="required").status == 200


def test_bad_json_bodies_are_rejected(emu: Emulator) -> None:
    result = send(emu, "POST", "responses", raw=b'{"model": "qwen-plus", ')
    assert result.status == 400 and result.json["code"] == "InvalidParameter"
    assert result.json["message"].startswith("The request body is not valid JSON")
    assert_error(
        send(emu, "POST", "responses", raw=b"[1, 2]"),
        400,
        "InvalidParameter",
        "The request body must be a JSON object.",
    )


# ---------------------------------------------------------------------------------------------- auth and paths


def test_auth_with_any_key_and_with_a_fixed_key(emu: Emulator) -> None:
    assert create(emu, input="hi", headers={"Authorization": "Bearer anything"}).status == 200
    assert_error(create(emu, input="hi", headers={"Authorization": None}), 401, "InvalidApiKey", "No API-key provided.")
    with Emulator(api_key="sk-x") as fixed:
        assert create(fixed, input="hi", headers={"Authorization": "Bearer sk-x"}).status == 200
        assert_error(
            create(fixed, input="hi", headers={"Authorization": "Bearer sk-y"}),
            401,
            "InvalidApiKey",
            "Invalid API-key provided.",
        )
        assert_error(
            create(fixed, input="hi", headers={"Authorization": None}), 401, "InvalidApiKey", "No API-key provided."
        )
        assert_error(
            send(fixed, "POST", "responses", {}, {"Authorization": "Bearer bad"}),
            401,
            "InvalidApiKey",
            "Invalid API-key provided.",
        )
        assert_error(
            send(fixed, "GET", "responses/resp_x", headers={"Authorization": "Basic sk-x"}),
            401,
            "InvalidApiKey",
            "Invalid API-key provided.",
        )


def test_method_not_allowed_and_unknown_paths(emu: Emulator) -> None:
    assert_error(
        send(emu, "GET", "responses"),
        405,
        "Method Not Allowed",
        "Method 'GET' is not allowed for '/compatible-mode/v1/responses'.",
    )
    assert_error(send(emu, "POST", "responses/resp_x/cancel", {}), 404, "Not Found", "Not support")
    assert_error(send(emu, "GET", "/somewhere/else"), 404, "Not Found", "Not support")
    assert_error(send(emu, "GET", "chat/completions"), 404, "Not Found", "Not support")


def test_legacy_prefix_behaves_the_same(emu: Emulator) -> None:
    result = send(emu, "POST", f"{LEGACY_PREFIX}/responses", {"model": "qwen-plus", "input": "legacy"})
    assert answer_of(result.json) == "You said: legacy"
    fetched = send(emu, "GET", f"{LEGACY_PREFIX}/responses/{result.json['id']}")
    assert fetched.json == result.json
    assert emu.requests[0]["path"] == f"{LEGACY_PREFIX}/responses"


def test_missing_ids_are_flat_404s(emu: Emulator) -> None:
    reference = fixture("error-not-found-flat.json")
    for method, path in (
        ("GET", "responses/resp_nope"),
        ("DELETE", "responses/resp_nope"),
        ("GET", "responses/resp_nope/input_items"),
    ):
        result = send(emu, method, path)
        assert_error(result, 404, "InvalidParameter", "Response with id 'resp_nope' not found.")
        assert set(result.json) == set(reference)


# ---------------------------------------------------------------------------------------------- streaming


def test_stream_framing_and_event_order(emu: Emulator) -> None:
    result = send(emu, "POST", "responses", {"model": "qwen-plus", "input": "stream me please", "stream": True})
    assert result.status == 200
    assert result.headers["content-type"] == "text/event-stream;charset=UTF-8"
    assert result.headers["transfer-encoding"] == "chunked" and "content-length" not in result.headers
    assert b"[DONE]" not in result.raw and result.raw.endswith(b"\n\n")
    frames = parse_frames(result.raw)
    for number, frame in enumerate(frames):
        assert set(frame) == {"id", "event", "comments", "data"}
        assert frame["comments"] == ["HTTP_STATUS/200"]
        event = json.loads(frame["data"])
        assert (frame["id"], frame["event"], event["sequence_number"]) == (str(number + 1), event["type"], number)
        assert "\n" not in frame["data"]
    types = [json.loads(frame["data"])["type"] for frame in frames]
    assert types == [
        "response.created", "response.in_progress", "response.output_item.added", "response.content_part.added",
        "response.output_text.delta", "response.output_text.delta", "response.output_text.delta",
        "response.output_text.delta", "response.output_text.delta", "response.output_text.done",
        "response.content_part.done", "response.output_item.done", "response.completed",
    ]  # fmt: skip


def test_stream_events_are_consistent(emu: Emulator) -> None:
    _, events = stream(emu, input="stream me please")
    created, in_progress, completed = events[0]["response"], events[1]["response"], events[-1]["response"]
    assert (created["status"], created["model"], created["output"]) == ("queued", "", [])
    assert (in_progress["status"], in_progress["model"]) == ("in_progress", "")
    assert created["id"] == in_progress["id"] == completed["id"]
    item_id = events[2]["item"]["id"]
    assert events[2]["item"] == {
        "id": item_id,
        "type": "message",
        "role": "assistant",
        "status": "in_progress",
        "content": [],
    }
    assert events[3]["part"] == {"type": "output_text", "text": "", "annotations": [], "logprobs": None}
    deltas = [event for event in events if event["type"] == "response.output_text.delta"]
    assert [event["delta"] for event in deltas] == ["You ", "said: ", "stream ", "me ", "please"]
    assert all(
        (e["item_id"], e["output_index"], e["content_index"], e["logprobs"]) == (item_id, 0, 0, []) for e in deltas
    )
    assert events[-4]["text"] == "You said: stream me please"
    assert events[-3]["part"]["text"] == "You said: stream me please"
    assert events[-2]["item"] == completed["output"][0] and completed["output"][0]["status"] == "completed"
    assert completed["status"] == "completed" and completed["usage"]["output_tokens"] == 5


def test_stream_terminal_response_equals_the_stored_one(emu: Emulator) -> None:
    _, events = stream(emu, model="qwen3.8-max", input="keep me", tools=[{"type": "web_search"}])
    terminal = events[-1]["response"]
    fetched = send(emu, "GET", f"responses/{terminal['id']}")
    assert fetched.status == 200 and fetched.json == terminal


def test_stream_is_flushed_event_by_event(emu: Emulator) -> None:
    emu.set_faults(event_delay=0.08)
    connection = http.client.HTTPConnection(*address(emu), timeout=10)
    started = time.monotonic()
    connection.request(
        "POST", f"{PREFIX}/responses", json.dumps({"model": "qwen-plus", "input": "@@words=3", "stream": True}), AUTH
    )
    response = connection.getresponse()
    first = response.read1(65536)
    first_at = time.monotonic() - started
    rest = response.read()
    total = time.monotonic() - started
    connection.close()
    assert first.startswith(b"id:1\nevent:response.created\n")
    assert total >= 11 * 0.08 and first_at < total - 0.4
    assert len(parse_frames(first + rest)) == 11


# ---------------------------------------------------------------------------------------------- multi-turn


def test_previous_response_id_chains_turns(emu: Emulator) -> None:
    first = create(emu, input="first question", instructions="Be brief").json
    assert answer_of(first) == "[Be brief] You said: first question"
    second = create(emu, input="second", previous_response_id=first["id"]).json
    assert answer_of(second) == "You said: second (turn 2)"
    assert second["previous_response_id"] == first["id"] and "instructions" not in second
    assert second["usage"]["input_tokens"] == 2 + 6 + 1  # question + answer of turn 1 + "second"; instructions dropped
    third = create(emu, input=[{"role": "user", "content": "third"}], previous_response_id=second["id"]).json
    assert answer_of(third) == "You said: third (turn 3)"


def test_input_items_list_history_newest_first(emu: Emulator) -> None:
    first = create(emu, input="one").json
    second = create(emu, input="two", previous_response_id=first["id"]).json
    result = send(emu, "GET", f"responses/{second['id']}/input_items")
    listing = result.json
    assert set(fixture("input-items-list.json")) <= set(listing)
    assert (listing["id"], listing["model"], listing["previous_response_id"]) == (
        second["id"],
        "qwen-plus",
        first["id"],
    )
    assert listing["created_at"] == second["created_at"] * 1000
    texts = [(item["role"], item["content"][0]["type"], item["content"][0]["text"]) for item in listing["data"]]
    assert texts == [
        ("user", "input_text", "two"),
        ("assistant", "output_text", "You said: one"),
        ("user", "input_text", "one"),
    ]
    assert all(item["type"] == "message" and item["status"] == "completed" for item in listing["data"])
    assert listing["data"][1]["id"] == first["output"][0]["id"]
    assert (listing["first_id"], listing["last_id"], listing["has_more"]) == (
        listing["data"][0]["id"],
        listing["data"][-1]["id"],
        False,
    )
    ascending = send(emu, "GET", f"responses/{second['id']}/input_items?order=asc").json["data"]
    assert ascending == list(reversed(listing["data"]))


def test_input_items_pagination(emu: Emulator) -> None:
    response = create(emu, input=[{"role": "user", "content": f"m{n}"} for n in range(5)]).json
    path = f"responses/{response['id']}/input_items"
    page = send(emu, "GET", f"{path}?limit=2").json
    assert [item["content"][0]["text"] for item in page["data"]] == ["m4", "m3"] and page["has_more"] is True
    after = send(emu, "GET", f"{path}?limit=2&after={page['last_id']}").json
    assert [item["content"][0]["text"] for item in after["data"]] == ["m2", "m1"] and after["has_more"] is True
    rest = send(emu, "GET", f"{path}?order=asc&after={page['data'][0]['id']}").json
    assert rest["data"] == [] and rest["has_more"] is False
    default = send(emu, "GET", path).json
    assert len(default["data"]) == 5 and "previous_response_id" not in default
    for bad in ("limit=0", "limit=101", "limit=x"):
        assert send(emu, "GET", f"{path}?{bad}").status == 400
    assert send(emu, "GET", f"{path}?order=sideways").status == 400


def test_store_false_is_not_retrievable_or_chainable(emu: Emulator) -> None:
    response = create(emu, input="secret", store=False).json
    assert response["store"] is False and answer_of(response) == "You said: secret"
    assert send(emu, "GET", f"responses/{response['id']}").status == 404
    assert send(emu, "GET", f"responses/{response['id']}/input_items").status == 404
    assert_error(
        create(emu, input="again", previous_response_id=response["id"]),
        400, "InvalidParameter", f"Not found previous_response_id: {response['id']}",
    )  # fmt: skip


def test_delete_response(emu: Emulator) -> None:
    response = create(emu, input="delete me").json
    deleted = send(emu, "DELETE", f"responses/{response['id']}")
    assert deleted.status == 200 and deleted.json == {"deleted": True, "id": response["id"]}
    assert set(deleted.json) == set(fixture("delete-response.json"))
    assert send(emu, "GET", f"responses/{response['id']}").status == 404
    assert send(emu, "DELETE", f"responses/{response['id']}").status == 404
    assert (
        create(emu, input="x", previous_response_id=response["id"])
        .json["message"]
        .startswith("Not found previous_response_id")
    )


def test_session_cache_reports_cached_history(emu: Emulator) -> None:
    cache = {"x-dashscope-session-cache": "enable"}
    first = create(emu, input="word " * 1100, headers=cache).json
    created = first["usage"]["x_details"][0]["input_tokens_details"]
    assert first["usage"]["input_tokens"] == 1100 and first["usage"]["input_tokens_details"]["cached_tokens"] == 0
    assert created == {
        "cached_tokens": 0, "cache_creation_input_tokens": 1100,
        "cache_creation": {"ephemeral_5m_input_tokens": 1100}, "cache_type": "ephemeral",
    }  # fmt: skip
    second = create(emu, input="next one", previous_response_id=first["id"], headers=cache).json
    history = first["usage"]["input_tokens"] + first["usage"]["output_tokens"]
    assert second["usage"]["input_tokens_details"]["cached_tokens"] == history
    assert second["usage"]["x_details"][0]["input_tokens_details"]["cache_creation_input_tokens"] == 2
    plain = create(emu, input="next one", previous_response_id=first["id"]).json
    assert plain["usage"]["input_tokens_details"]["cached_tokens"] == 0
    assert "input_tokens_details" not in plain["usage"]["x_details"][0]
    small = create(emu, input="tiny", headers=cache).json
    small_next = create(emu, input="more", previous_response_id=small["id"], headers=cache).json
    assert small_next["usage"]["input_tokens_details"]["cached_tokens"] == 0


# ---------------------------------------------------------------------------------------------- conversations


def test_conversation_lifecycle(emu: Emulator) -> None:
    created = send(emu, "POST", "conversations", fixture("request-create-conversation.json"))
    conversation = created.json
    assert created.status == 200 and set(conversation) == set(fixture("conversation-create-response.json"))
    assert conversation["id"].startswith("conv_") and conversation["object"] == "conversation"
    assert conversation["created_at"] > 10**12 and conversation["metadata"] == {"topic": "demo"}
    path = f"conversations/{conversation['id']}"
    assert send(emu, "GET", path).json == conversation
    updated = send(emu, "POST", path, {"metadata": {"owner": "me"}}).json
    assert updated["metadata"] == {"owner": "me"} and updated["id"] == conversation["id"]
    assert_error(
        send(emu, "POST", path, {}),
        400,
        "InvalidParameter",
        "[400] missing_required_parameter: Missing required parameter: 'metadata'.",
    )
    deleted = send(emu, "DELETE", path).json
    assert deleted == {"id": conversation["id"], "object": "conversation.deleted", "deleted": True}
    assert_error(
        send(emu, "GET", path), 404, "InvalidParameter", f"Conversation with id '{conversation['id']}' not found."
    )


def test_conversation_items(emu: Emulator) -> None:
    conversation = send(emu, "POST", "conversations", {}).json
    path = f"conversations/{conversation['id']}/items"
    items = [
        {"type": "message", "role": "user", "content": "Alice's major is teacher education"},
        {"role": "user", "content": [{"type": "input_text", "text": "Bob"}]},
    ]
    added = send(emu, "POST", path, {"items": items}).json
    assert [item["content"][0]["text"] for item in added["data"]] == ["Alice's major is teacher education", "Bob"]
    assert added["first_id"] == added["data"][0]["id"] and added["has_more"] is False
    listed = send(emu, "GET", path).json
    assert set(listed) == set(fixture("conversation-items-list.json")) and listed["object"] == "list"
    assert [item["content"][0]["text"] for item in listed["data"]] == ["Bob", "Alice's major is teacher education"]
    assert [i["id"] for i in send(emu, "GET", f"{path}?order=asc&limit=1").json["data"]] == [added["data"][0]["id"]]
    item = send(emu, "GET", f"{path}/{added['data'][0]['id']}").json
    assert set(item) == set(fixture("conversation-item.json")) and item["content"] == [
        {"type": "input_text", "text": "Alice's major is teacher education"}
    ]
    removed = send(emu, "DELETE", f"{path}/{item['id']}").json
    assert removed == {"id": item["id"], "object": "conversation.item.deleted", "deleted": True}
    assert_error(
        send(emu, "GET", f"{path}/{item['id']}"), 404, "InvalidParameter", f"Item with id '{item['id']}' not found."
    )
    assert len(send(emu, "GET", path).json["data"]) == 1


def test_responses_use_and_extend_conversations(emu: Emulator) -> None:
    conversation = send(emu, "POST", "conversations", fixture("request-create-conversation.json")).json
    first = create(emu, input="hello", conversation=conversation["id"]).json
    assert answer_of(first) == "You said: hello (turn 1)"
    assert first["usage"]["input_tokens"] == 22 + 1  # the system item of the fixture, then "hello"
    second = create(emu, input="again", conversation={"id": conversation["id"]}).json
    assert answer_of(second) == "You said: again (turn 2)"
    items = send(emu, "GET", f"conversations/{conversation['id']}/items?order=asc").json["data"]
    assert [(item["role"], item["content"][0]["text"]) for item in items] == [
        ("system", items[0]["content"][0]["text"]), ("user", "hello"), ("assistant", "You said: hello (turn 1)"),
        ("user", "again"), ("assistant", "You said: again (turn 2)"),
    ]  # fmt: skip
    create(emu, input="@@fail", conversation=conversation["id"])
    assert len(send(emu, "GET", f"conversations/{conversation['id']}/items").json["data"]) == 5
    empty = send(emu, "POST", "conversations", {}).json
    assert answer_of(create(emu, input="fresh", conversation=empty["id"]).json) == "You said: fresh"


def test_conversation_limits(emu: Emulator) -> None:
    too_many = [{"role": "user", "content": str(n)} for n in range(21)]
    assert_error(
        send(emu, "POST", "conversations", {"items": too_many}),
        400,
        "InvalidParameter",
        "Invalid 'items': at most 20 items are allowed, but got 21.",
    )
    assert send(emu, "POST", "conversations", {"items": too_many[:20]}).status == 200
    pairs = {f"k{n}": "v" for n in range(17)}
    assert (
        send(emu, "POST", "conversations", {"metadata": pairs})
        .json["message"]
        .startswith("Invalid 'metadata': at most 16")
    )
    assert send(emu, "POST", "conversations", {"metadata": {"k" * 65: "v"}}).status == 400
    assert send(emu, "POST", "conversations", {"metadata": {"k": "v" * 513}}).status == 400
    assert send(emu, "POST", "conversations", {"metadata": {"k" * 64: "v" * 512}}).status == 200
    assert send(emu, "POST", "conversations", {"items": [{"type": "function_call"}]}).status == 400
    assert send(emu, "POST", "conversations", {"items": [{"role": "robot", "content": "x"}]}).status == 400


# ---------------------------------------------------------------------------------------------- thinking


def reasoning_items(response: dict[str, Any]) -> list[dict[str, Any]]:
    return [item for item in response["output"] if item["type"] == "reasoning"]


@pytest.mark.parametrize(
    ("extra", "thinks"),
    [
        ({"model": "qwen3.8-max"}, True),
        ({"model": "qwen3.5-plus-2026-02-15"}, True),
        ({"model": "qwen3.7-plus"}, True),
        ({"model": "qwen-plus"}, False),
        ({"model": "qwen3.5-flash"}, False),
        ({"model": "qwen3.8-max", "reasoning": {"effort": "none"}}, False),
        ({"model": "qwen3.8-max", "enable_thinking": False}, False),
        ({"model": "qwen-plus", "enable_thinking": True}, True),
        ({"model": "qwen-plus", "reasoning": {"effort": "low"}, "enable_thinking": False}, True),
        ({"model": "qwen3.8-max", "reasoning": {"effort": "none"}, "enable_thinking": True}, False),
    ],
)
def test_thinking_rules(emu: Emulator, extra: dict[str, Any], thinks: bool) -> None:
    response = create(emu, input="why is the sky blue", **extra).json
    assert bool(reasoning_items(response)) is thinks
    assert response["usage"]["output_tokens_details"]["reasoning_tokens"] == (7 if thinks else 0)


def test_reasoning_item_shape_and_usage(emu: Emulator) -> None:
    response = create(emu, model="qwen3.8-max", input="why is the sky blue").json
    reasoning, message = response["output"]
    assert set(reasoning) == {"id", "type", "summary"} and reasoning["id"].startswith("msg_")
    assert reasoning["summary"] == [{"type": "summary_text", "text": "Thinking about: why is the sky blue"}]
    assert message["type"] == "message"
    usage = response["usage"]
    assert usage["output_tokens"] == 7 + 7 and usage["x_details"][0]["output_tokens_details"] == {"reasoning_tokens": 7}


def test_reasoning_stream_events(emu: Emulator) -> None:
    _, events = stream(emu, model="qwen3.8-max", input="think")
    types = [event["type"] for event in events]
    assert types[:8] == [
        "response.created", "response.in_progress", "response.output_item.added",
        "response.reasoning_text.delta", "response.reasoning_text.delta", "response.reasoning_text.delta",
        "response.reasoning_text.done", "response.output_item.done",
    ]  # fmt: skip
    assert events[2]["item"]["summary"] == [] and events[2]["output_index"] == 0
    assert [event["delta"] for event in events[3:6]] == ["Thinking ", "about: ", "think"]
    assert events[6]["text"] == "Thinking about: think" and events[6]["item_id"] == events[2]["item"]["id"]
    assert events[7]["item"]["summary"][0]["text"] == "Thinking about: think"
    assert events[8]["type"] == "response.output_item.added" and events[8]["output_index"] == 1


# ---------------------------------------------------------------------------------------------- max_output_tokens


def test_max_output_tokens_makes_the_response_incomplete(emu: Emulator) -> None:
    response = create(emu, input="@@words=40", max_output_tokens=16).json
    assert answer_of(response) == " ".join(f"w{n}" for n in range(1, 17))
    assert response["status"] == "incomplete" and response["incomplete_details"] == {"reason": "max_output_tokens"}
    assert response["output"][0]["status"] == "incomplete" and response["usage"]["output_tokens"] == 16
    complete = create(emu, input="@@words=16", max_output_tokens=16).json
    assert complete["status"] == "completed" and "incomplete_details" not in complete


def test_max_output_tokens_in_streams(emu: Emulator) -> None:
    _, events = stream(emu, input="@@words=20", max_output_tokens=17)
    assert events[-1]["type"] == "response.incomplete"
    assert events[-1]["response"]["status"] == "incomplete"
    assert len([event for event in events if event["type"] == "response.output_text.delta"]) == 17
    assert "response.completed" not in [event["type"] for event in events]


# ---------------------------------------------------------------------------------------------- function tools


def test_function_call_output(emu: Emulator) -> None:
    response = create(emu, input='Weather? @@call=get_weather:{"city": "Paris"}', tools=[FUNCTION_TOOL]).json
    assert len(response["output"]) == 1
    call = response["output"][0]
    assert set(call) == {"id", "type", "status", "name", "arguments", "call_id"}
    assert (call["type"], call["status"], call["name"], call["arguments"]) == (
        "function_call",
        "completed",
        "get_weather",
        '{"city": "Paris"}',
    )
    assert re.fullmatch(r"call_[0-9a-f]{24}", call["call_id"]) and call["id"].startswith("msg_")


def test_parallel_calls_and_when_calls_do_not_happen(emu: Emulator) -> None:
    prompt = '@@call=get_weather:{"city":"A"} and @@call=get_time'
    calls = create(emu, input=prompt, tools=[FUNCTION_TOOL]).json["output"]
    assert [(c["name"], c["arguments"]) for c in calls] == [("get_weather", '{"city":"A"}'), ("get_time", "{}")]
    assert calls[0]["call_id"] != calls[1]["call_id"]
    assert answer_of(create(emu, input=prompt).json) == f"You said: {prompt}"
    assert answer_of(create(emu, input=prompt, tools=[FUNCTION_TOOL], tool_choice="none").json) == f"You said: {prompt}"


def test_function_call_stream_events(emu: Emulator) -> None:
    _, events = stream(emu, input='@@call=get_weather:{"city": "Hangzhou"}', tools=[FUNCTION_TOOL])
    types = [event["type"] for event in events]
    assert types[2] == "response.output_item.added" and types[-3:] == [
        "response.function_call_arguments.done", "response.output_item.done", "response.completed",
    ]  # fmt: skip
    added = events[2]["item"]
    assert (added["type"], added["arguments"], added["status"], added["name"]) == (
        "function_call",
        "",
        "in_progress",
        "get_weather",
    )
    deltas = [event for event in events if event["type"] == "response.function_call_arguments.delta"]
    assert len(deltas) > 1 and "".join(event["delta"] for event in deltas) == '{"city": "Hangzhou"}'
    assert events[-3]["arguments"] == '{"city": "Hangzhou"}' and events[-3]["item_id"] == added["id"]
    assert events[-2]["item"] == events[-1]["response"]["output"][0]


def test_stateless_tool_round_trip(emu: Emulator) -> None:
    items = [
        {"role": "user", "content": "@@call=get_weather"},
        {"type": "function_call", "name": "get_weather", "arguments": "{}", "call_id": "call_abc"},
        {"type": "function_call_output", "call_id": "call_abc", "output": "sunny"},
    ]
    assert answer_of(create(emu, input=items, tools=[FUNCTION_TOOL]).json) == "Tool results: sunny"


def test_tool_round_trip_with_previous_response_id(emu: Emulator) -> None:
    first = create(emu, input="@@call=a @@call=b", tools=[FUNCTION_TOOL]).json
    outputs = [
        {"type": "function_call_output", "call_id": call["call_id"], "output": f"out-{call['name']}"}
        for call in first["output"]
    ]
    second = create(emu, input=outputs, previous_response_id=first["id"], tools=[FUNCTION_TOOL]).json
    assert answer_of(second) == "Tool results: out-a; out-b"
    listing = send(emu, "GET", f"responses/{second['id']}/input_items?order=asc").json["data"]
    assert [item["type"] for item in listing] == [
        "message",
        "function_call",
        "function_call",
        "function_call_output",
        "function_call_output",
    ]


def test_a_tool_output_that_asks_for_calls_gets_calls_again_so_loops_can_go_on(emu: Emulator) -> None:
    first = create(emu, input="@@call=step", tools=[FUNCTION_TOOL]).json
    [call] = first["output"]
    output = {"type": "function_call_output", "call_id": call["call_id"], "output": '@@call=step:{"n": 2}'}
    second = create(emu, input=[output], previous_response_id=first["id"], tools=[FUNCTION_TOOL]).json
    assert [(item["type"], item["name"], item["arguments"]) for item in second["output"]] == [
        ("function_call", "step", '{"n": 2}')
    ]
    without_tools = create(emu, input=[output], previous_response_id=first["id"]).json
    assert answer_of(without_tools) == 'Tool results: @@call=step:{"n": 2}'


# ---------------------------------------------------------------------------------------------- built-in tools

ALL_BUILTINS = [
    {"type": "web_search"}, {"type": "web_extractor"}, {"type": "code_interpreter"}, {"type": "web_search_image"},
    {"type": "image_search"}, {"type": "file_search", "vector_store_ids": ["kb_1"]},
    fixture("tool-mcp-definition.json"),
]  # fmt: skip


def test_builtin_tool_items_and_usage(emu: Emulator) -> None:
    response = create(emu, input="find cats", tools=ALL_BUILTINS).json
    output = response["output"]
    assert [item["type"] for item in output] == [
        "web_search_call", "web_extractor_call", "code_interpreter_call", "web_search_image_call",
        "image_search_call", "file_search_call", "mcp_call", "message",
    ]  # fmt: skip
    assert all(item["status"] == "completed" and item["id"].startswith("msg_") for item in output)
    search, extractor, code, image, similar, files, mcp, _ = output
    assert search["action"]["type"] == "search" and search["action"]["query"] == "find cats"
    assert search["action"]["sources"][0]["type"] == "url"
    assert {"goal", "urls", "output"} <= set(extractor) and {"code", "outputs", "container_id"} <= set(code)
    assert code["outputs"] == [{"type": "logs", "logs": "find cats"}]
    assert json.loads(image["arguments"]) == {"queries": ["find cats"]} and json.loads(image["output"])[0]["url"]
    assert json.loads(similar["arguments"])["img_idx"] == 0 and similar["name"] == "image_search"
    assert files["queries"] == ["find cats"] and {"file_id", "filename", "score", "text"} <= set(files["results"][0])
    assert mcp["server_label"] == "amap-maps" and json.loads(mcp["output"]) == {"echo": "find cats"}
    expected = {"web_search", "web_extractor", "code_interpreter", "web_search_image", "image_search", "file_search"}
    assert response["usage"]["x_tools"] == {key: {"count": 1} for key in expected}
    assert "x_tools" not in create(emu, input="plain").json["usage"]


def test_builtin_tool_stream_events(emu: Emulator) -> None:
    _, events = stream(emu, model="qwen3.8-max", input="find cats", tools=ALL_BUILTINS)
    item_events = [(event["type"].removeprefix("response."), event.get("output_index")) for event in events[2:-1]]
    item_events = [(kind, index) for kind, index in item_events if not kind.endswith("delta")]
    assert item_events[:3] == [("output_item.added", 0), ("reasoning_text.done", 0), ("output_item.done", 0)]
    assert item_events[3:29] == [
        ("output_item.added", 1), ("web_search_call.in_progress", 1), ("web_search_call.searching", 1),
        ("web_search_call.completed", 1), ("output_item.done", 1),
        ("output_item.added", 2), ("output_item.done", 2),
        ("output_item.added", 3), ("code_interpreter_call.in_progress", 3), ("code_interpreter_call.interpreting", 3),
        ("code_interpreter_call.completed", 3), ("output_item.done", 3),
        ("output_item.added", 4), ("output_item.done", 4),
        ("output_item.added", 5), ("output_item.done", 5),
        ("output_item.added", 6), ("file_search_call.in_progress", 6), ("file_search_call.searching", 6),
        ("file_search_call.completed", 6), ("output_item.done", 6),
        ("mcp_call_arguments.done", 7), ("output_item.added", 7), ("mcp_call.completed", 7), ("output_item.done", 7),
        ("output_item.added", 8),
    ]  # fmt: skip
    added = {event["item"]["type"]: event["item"] for event in events if event["type"] == "response.output_item.added"}
    assert "sources" not in added["web_search_call"]["action"] and added["web_search_call"]["status"] == "in_progress"
    assert "results" not in added["file_search_call"] and added["file_search_call"]["queries"] == ["find cats"]
    mcp_delta = next(event for event in events if event["type"] == "response.mcp_call_arguments.delta")
    assert (
        mcp_delta["sequence_number"]
        < next(e for e in events if e.get("item", {}).get("type") == "mcp_call")["sequence_number"]
    )
    assert events[-1]["response"]["usage"]["x_tools"]["web_search"] == {"count": 1}


# ---------------------------------------------------------------------------------------------- faults


def test_rate_limit_with_http_200(emu: Emulator) -> None:
    emu.set_faults(Faults(rate_limit_http200=2))
    reference = fixture("nonstream-failed-rate-limit-http200.json")
    for _ in range(2):
        result = create(emu, input="hi")
        assert result.status == 200
        assert set(result.json) == set(reference)
        assert {key: result.json[key] for key in ("error", "model", "output", "status")} == {
            key: reference[key] for key in ("error", "model", "output", "status")
        }
    assert create(emu, input="hi").json["status"] == "completed"
    emu.set_faults(rate_limit_http200=1)
    result, events = stream(emu, input="hi")
    assert result.status == 200 and [event["type"] for event in events] == ["response.failed"]
    assert events[0]["response"]["error"]["code"] == "server_error"


def test_http_status_faults_with_json_body_and_retry_after(emu: Emulator) -> None:
    emu.set_faults(http_status=429, http_status_count=2, retry_after="3")
    for _ in range(2):
        result = create(emu, input="hi")
        assert_error(result, 429, "Throttling.RateQuota", "Requests rate limit exceeded, please try again later.")
        assert result.headers["retry-after"] == "3"
    assert create(emu, input="hi").status == 200
    emu.set_faults(http_status=500)
    assert_error(
        create(emu, input="hi", stream=True),
        500,
        "InternalError",
        "An internal error has occured, please try again later or contact service support.",
    )
    assert create(emu, input="hi").status == 200


def test_http_status_faults_with_broken_bodies(emu: Emulator) -> None:
    emu.set_faults(http_status=502, error_body="html")
    html = create(emu, input="hi")
    assert html.status == 502 and html.headers["content-type"] == "text/html"
    assert b"<title>502 Bad Gateway</title>" in html.raw and "retry-after" not in html.headers
    for kind in ("truncated", "invalid"):
        emu.set_faults(http_status=503, error_body=kind)
        broken = create(emu, input="hi")
        assert broken.status == 503 and int(broken.headers["content-length"]) == len(broken.raw)
        with pytest.raises(json.JSONDecodeError):
            json.loads(broken.raw)


def test_truncate_json(emu: Emulator) -> None:
    emu.set_faults(truncate_json=1)
    broken = create(emu, input="hi")
    assert broken.status == 200 and int(broken.headers["content-length"]) == len(broken.raw)
    assert broken.raw.startswith(b'{"id":"resp_')
    with pytest.raises(json.JSONDecodeError):
        json.loads(broken.raw)
    assert create(emu, input="hi").json["status"] == "completed"


def test_cut_after_events_drops_the_connection(emu: Emulator) -> None:
    emu.set_faults(cut_after_events=3)
    head, body, timed_out = raw_exchange(emu, {"model": "qwen-plus", "input": "hi", "stream": True})
    chunks, complete = dechunk(body)
    assert b" 200 " in head and not timed_out and not complete
    assert [frame["event"] for frame in parse_frames(b"".join(chunks))] == [
        "response.created", "response.in_progress", "response.output_item.added",
    ]  # fmt: skip
    connection = http.client.HTTPConnection(*address(emu), timeout=5)
    connection.request(
        "POST", f"{PREFIX}/responses", json.dumps({"model": "qwen-plus", "input": "hi", "stream": True}), AUTH
    )
    with pytest.raises(http.client.IncompleteRead):
        connection.getresponse().read()
    connection.close()


def test_stall_after_events_holds_the_connection(emu: Emulator) -> None:
    emu.set_faults(stall_after_events=2)
    started = time.monotonic()
    _, body, timed_out = raw_exchange(emu, {"model": "qwen-plus", "input": "hi", "stream": True}, timeout=0.8)
    chunks, complete = dechunk(body)
    assert timed_out and not complete and time.monotonic() - started >= 0.8
    assert len(parse_frames(b"".join(chunks))) == 2
    emu.set_faults()
    assert create(emu, input="after the stall").status == 200


def test_delays(emu: Emulator) -> None:
    emu.set_faults(first_event_delay=0.4)
    started = time.monotonic()
    assert create(emu, input="hi").status == 200
    assert time.monotonic() - started >= 0.4
    emu.set_faults(event_delay=0.03)
    started = time.monotonic()
    _, events = stream(emu, input="@@words=3")
    assert len(events) == 11 and time.monotonic() - started >= 11 * 0.03


def test_an_abandoned_slow_request_does_not_spend_later_faults(emu: Emulator) -> None:
    emu.set_faults(first_event_delay=0.5)
    connection = http.client.HTTPConnection(*address(emu), timeout=0.1)
    connection.request("POST", f"{PREFIX}/responses", json.dumps({"model": "qwen-plus", "input": "slow"}), AUTH)
    with pytest.raises(TimeoutError):
        connection.getresponse()
    connection.close()
    emu.set_faults(rate_limit_http200=1)
    time.sleep(0.6)
    assert create(emu, input="hi").json["status"] == "failed"
    assert create(emu, input="hi").json["status"] == "completed"


def test_malformed_and_unknown_events(emu: Emulator) -> None:
    emu.set_faults(malformed_at=2, unknown_event_at=3)
    result = send(emu, "POST", "responses", {"model": "qwen-plus", "input": "one two", "stream": True})
    frames = parse_frames(result.raw)
    assert len(frames) == 12 + 1 + 1  # "You said: one two" streams 12 events
    with pytest.raises(json.JSONDecodeError):
        json.loads(frames[2]["data"])
    assert frames[2]["event"] == "response.output_text.delta" and "id" not in frames[2]
    events = [json.loads(frame["data"]) for number, frame in enumerate(frames) if number != 2]
    assert [event["sequence_number"] for event in events] == list(range(13))
    assert events[3]["type"] == "response.emulator_unknown" and events[2]["type"] == "response.output_item.added"
    assert events[-1]["type"] == "response.completed"


def test_openai_sse_style(emu: Emulator) -> None:
    emu.set_faults(sse_style="openai")
    result = send(emu, "POST", "responses", {"model": "qwen-plus", "input": "hi", "stream": True})
    blocks = result.raw.decode().split("\n\n")
    assert blocks[-2:] == ["data: [DONE]", ""]
    for block in blocks[:-2]:
        event_line, data_line = block.split("\n")
        event = json.loads(data_line.removeprefix("data: "))
        assert event_line == f"event: {event['type']}"
    assert len(blocks) - 2 == 11


def test_crlf_sse_style(emu: Emulator) -> None:
    emu.set_faults(sse_style="crlf")
    result = send(emu, "POST", "responses", {"model": "qwen-plus", "input": "hi", "stream": True})
    assert re.search(rb"(?<!\r)\n", result.raw) is None
    frames = parse_frames(result.raw, newline="\r\n")
    assert frames[0]["id"] == "1" and frames[0]["comments"] == ["HTTP_STATUS/200"] and len(frames) == 11


def test_split_writes_split_utf8_characters(emu: Emulator) -> None:
    emu.set_faults(split_writes=True)
    _, body, _ = raw_exchange(emu, {"model": "qwen-plus", "input": "你好，世界", "stream": True})
    chunks, complete = dechunk(body)
    assert complete and all(len(chunk) <= 7 for chunk in chunks) and len(chunks) > 100

    def decodes(chunk: bytes) -> bool:
        try:
            chunk.decode("utf-8")
            return True
        except UnicodeDecodeError:
            return False

    assert not all(decodes(chunk) for chunk in chunks)
    events = [json.loads(frame["data"]) for frame in parse_frames(b"".join(chunks))]
    assert events[-1]["response"]["output"][0]["content"][0]["text"] == "You said: 你好，世界"


def test_nested_error_body(emu: Emulator) -> None:
    emu.set_faults(http_status=400, error_body="nested")
    result = create(emu, input="hi")
    assert result.status == 400 and result.headers["content-type"] == "application/json"
    assert result.json == {"error": {"message": "Emulated invalid request.", "type": "InvalidParameter"}}
    assert set(result.json["error"]) == set(fixture("error-not-found-nested.json")["error"])
    assert result.headers["x-request-id"]


def test_invalid_json(emu: Emulator) -> None:
    emu.set_faults(invalid_json=1)
    broken = create(emu, input="hi")
    assert broken.status == 200 and broken.headers["content-type"] == "application/json"
    with pytest.raises(json.JSONDecodeError):
        json.loads(broken.raw)
    assert create(emu, input="hi").json["status"] == "completed"


def test_stall_json_sends_half_the_body_then_holds_the_connection(emu: Emulator) -> None:
    emu.set_faults(stall_json=1)
    started = time.monotonic()
    head, body, timed_out = raw_exchange(
        emu, {"model": "qwen-plus", "input": "hi"}, timeout=0.8, until=lambda data: False
    )
    length = int(re.search(rb"Content-Length: (\d+)", head).group(1))
    assert timed_out and time.monotonic() - started >= 0.8
    assert b" 200 " in head and body.startswith(b'{"id":"resp_') and len(body) == length // 2
    assert create(emu, input="after the stall").json["status"] == "completed"


def test_stream_body_json_and_html(emu: Emulator) -> None:
    emu.set_faults(stream_body="json")
    result = create(emu, input="hi", stream=True)
    assert result.status == 200 and result.headers["content-type"] == "application/json"
    assert result.json["status"] == "completed" and answer_of(result.json) == "You said: hi"
    assert send(emu, "GET", f"responses/{result.json['id']}").json["id"] == result.json["id"]  # stored
    emu.set_faults(stream_body="html")
    page = create(emu, input="hi", stream=True)
    assert page.status == 200 and page.headers["content-type"] == "text/html"
    assert b"<title>Sign in to the network</title>" in page.raw
    assert create(emu, input="hi").json["status"] == "completed"  # non-stream creates are not affected


@pytest.mark.parametrize("kind", ["response.failed", "error"])
def test_fail_after_events(emu: Emulator, kind: str) -> None:
    emu.set_faults(fail_after_events=5, fail_event=kind)
    result, events = stream(emu, input="@@words=4")
    assert result.status == 200
    assert [event["type"] for event in events] == [
        "response.created", "response.in_progress", "response.output_item.added", "response.content_part.added",
        "response.output_text.delta", kind,
    ]  # fmt: skip
    assert [event["sequence_number"] for event in events] == list(range(6))
    failure = events[-1]
    if kind == "error":
        assert failure == {
            "type": "error",
            "code": "InternalError",
            "message": "Emulated failure mid-stream.",
            "param": None,
            "sequence_number": 5,
        }
    else:
        response = failure["response"]
        assert (response["status"], response["output"], response["usage"]) == ("failed", [], None)
        assert response["error"] == {"code": "InternalError", "message": "Emulated failure mid-stream."}
        assert response["id"] == events[0]["response"]["id"]
    stored = send(emu, "GET", f"responses/{events[0]['response']['id']}").json
    assert stored["status"] == "completed"  # the stored response is not changed


def test_fail_after_events_past_the_end_changes_nothing(emu: Emulator) -> None:
    emu.set_faults(fail_after_events=50)
    _, events = stream(emu, input="hi")
    assert events[-1]["type"] == "response.completed" and len(events) == 11


def test_gzip_only_when_the_client_accepts_it(emu: Emulator) -> None:
    emu.set_faults(gzip=True)
    plain = create(emu, input="hi")
    assert "content-encoding" not in plain.headers and plain.json["status"] == "completed"
    packed = create(emu, {"Accept-Encoding": "br, gzip;q=0.8"}, input="hi")
    assert packed.headers["content-encoding"] == "gzip" and int(packed.headers["content-length"]) == len(packed.raw)
    assert json.loads(zlib.decompress(packed.raw, wbits=31))["status"] == "completed"
    faults = send(emu, "GET", "/__emulator/faults", headers={"Accept-Encoding": "gzip"})
    assert "content-encoding" not in faults.headers and faults.json["faults"]["gzip"] is True


def test_a_gzip_stream_is_flushed_frame_by_frame(emu: Emulator) -> None:
    emu.set_faults(gzip=True, stall_after_events=3)
    head, body, timed_out = raw_exchange(
        emu,
        {"model": "qwen-plus", "input": "hi", "stream": True},
        timeout=0.8,
        extra_headers="Accept-Encoding: gzip\r\n",
    )
    assert timed_out and b"Content-Encoding: gzip" in head
    chunks, complete = dechunk(body)
    decoded = zlib.decompressobj(wbits=31).decompress(b"".join(chunks))
    # Everything before the stall arrives decodable: each frame was flushed, none waits in the compressor.
    assert not complete and [frame["event"] for frame in parse_frames(decoded)] == [
        "response.created", "response.in_progress", "response.output_item.added",
    ]  # fmt: skip
    emu.set_faults(gzip=True)
    head, body, _ = raw_exchange(
        emu, {"model": "qwen-plus", "input": "hi", "stream": True}, extra_headers="Accept-Encoding: gzip\r\n"
    )
    chunks, complete = dechunk(body)
    whole = zlib.decompress(b"".join(chunks), wbits=31)  # a complete gzip member, trailer included
    assert complete and json.loads(parse_frames(whole)[-1]["data"])["type"] == "response.completed"


def test_faults_dataclass_is_checked() -> None:
    with pytest.raises(ValueError):
        Faults(sse_style="xml")
    with pytest.raises(ValueError):
        Faults(error_body="pdf")
    with pytest.raises(ValueError):
        Faults(stream_body="xml")
    with pytest.raises(ValueError):
        Faults(fail_event="response.cancelled")
    with pytest.raises(ValueError):
        Faults.from_mapping({"nope": 1})
    with pytest.raises(ValueError):
        Faults.from_mapping({"cut_after_events": "3"})
    assert Faults.from_mapping({"event_delay": 1, "retry_after": None}).event_delay == 1


# ---------------------------------------------------------------------------------------------- control and state


def test_control_endpoints(emu: Emulator) -> None:
    applied = send(
        emu, "POST", "/__emulator/faults", {"rate_limit_http200": 1, "sse_style": "crlf"}, {"Authorization": None}
    )
    assert applied.status == 200 and applied.json["faults"]["rate_limit_http200"] == 1
    assert emu.faults.sse_style == "crlf"
    assert create(emu, input="hi").json["status"] == "failed"
    assert send(emu, "GET", "/__emulator/faults").json["remaining"]["rate_limit_http200"] == 0
    assert send(emu, "POST", "/__emulator/faults", {"bogus": 1}).status == 400
    assert send(emu, "POST", "/__emulator/faults", {"sse_style": "xml"}).status == 400
    assert send(emu, "DELETE", "/__emulator/faults").json["faults"]["sse_style"] == "dashscope"
    kept = create(emu, input="stored").json
    recorded = send(emu, "GET", "/__emulator/requests").json
    assert [entry["body"]["input"] for entry in recorded] == ["hi", "stored"]
    assert send(emu, "POST", "/__emulator/reset").json == {"reset": True}
    assert send(emu, "GET", f"responses/{kept['id']}").status == 404
    assert len(emu.requests) == 1


def test_recorded_requests(emu: Emulator) -> None:
    send(emu, "POST", "responses?trace=1&x=y", {"model": "qwen-plus", "input": "hi"}, {"X-Custom": "yes"})
    send(emu, "GET", "responses", headers={"Authorization": None})
    send(emu, "POST", "responses", raw=b"not json")
    first, second, third = emu.requests
    assert (first["method"], first["path"], first["query"]) == ("POST", f"{PREFIX}/responses", {"trace": "1", "x": "y"})
    assert first["headers"]["authorization"] == "[redacted]" and first["headers"]["x-custom"] == "yes"
    assert first["body"] == {"model": "qwen-plus", "input": "hi"}
    assert second["method"] == "GET" and "authorization" not in second["headers"] and second["body"] is None
    assert third["body"] is None
    assert "sk-test" not in json.dumps(emu.requests)


def test_set_faults_replaces_and_reset_clears(emu: Emulator) -> None:
    emu.set_faults(Faults(event_delay=0.5, cut_after_events=1))
    emu.set_faults(rate_limit_http200=1)
    assert emu.faults == Faults(rate_limit_http200=1)
    conversation = send(emu, "POST", "conversations", {}).json
    emu.reset()
    assert emu.faults == Faults() and emu.requests == []
    assert send(emu, "GET", f"conversations/{conversation['id']}").status == 404
    assert create(emu, input="hi").json["status"] == "completed"


def test_keep_alive_across_json_streams_and_errors(emu: Emulator) -> None:
    connection = http.client.HTTPConnection(*address(emu), timeout=5)
    first = send(emu, "POST", "responses", {"model": "qwen-plus", "input": "one"}, conn=connection)
    sock = connection.sock
    streamed = send(emu, "POST", "responses", {"model": "qwen-plus", "input": "two", "stream": True}, conn=connection)
    missing = send(emu, "GET", "responses/resp_nope", conn=connection)
    fetched = send(emu, "GET", f"responses/{first.json['id']}", conn=connection)
    assert (first.status, streamed.status, missing.status, fetched.status) == (200, 200, 404, 200)
    assert sock is not None and connection.sock is sock
    assert fetched.json == first.json
    connection.close()


def test_concurrent_requests(emu: Emulator) -> None:
    results: dict[int, str] = {}

    def worker(number: int) -> None:
        if number % 2:
            _, events = stream(emu, input=f"thread {number}")
            results[number] = events[-1]["response"]["output"][0]["content"][0]["text"]
        else:
            results[number] = answer_of(create(emu, input=f"thread {number}").json)

    threads = [threading.Thread(target=worker, args=(number,)) for number in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert results == {number: f"You said: thread {number}" for number in range(12)}
    assert len(emu.requests) == 12
    assert len({entry["body"]["input"] for entry in emu.requests}) == 12


def test_base_url_needs_a_started_emulator() -> None:
    emulator = Emulator()
    with pytest.raises(RuntimeError):
        _ = emulator.base_url
    with emulator:
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/compatible-mode/v1", emulator.base_url)
    emulator.stop()


def test_serve_forever_announces_serves_and_stops_on_interrupt() -> None:
    code = (
        "from qwen_cli.emulator import serve_forever, Faults\n"
        "serve_forever('127.0.0.1', 0, 'sk-cli', Faults(rate_limit_http200=1), lambda line: print(line, flush=True))\n"
    )
    process = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline() if process.stdout else ""
        url = re.search(r"(http://\S+/compatible-mode/v1)", line)
        assert url, line
        parts = urlsplit(url.group(1))
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=5)
        body = json.dumps({"model": "qwen-plus", "input": "hi"})
        connection.request("POST", f"{parts.path}/responses", body, {"Authorization": "Bearer sk-cli"})
        assert json.loads(connection.getresponse().read())["error"]["code"] == "server_error"
        connection.request("POST", f"{parts.path}/responses", body, {"Authorization": "Bearer sk-other"})
        assert connection.getresponse().status == 401
        connection.close()
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 0
        assert process.stderr is not None and process.stderr.read() == ""
    finally:
        if process.poll() is None:
            process.kill()
