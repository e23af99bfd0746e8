"""The emulator's Files and Batches endpoints against the reference (batch-api.md) and its examples, shape by shape.

A batch lives by the clock: tests shorten its steps with ``Faults.batch_step_seconds`` and poll with a deadline,
never asserting how long anything took.
"""

from __future__ import annotations

import gzip
import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from qwen_cli.emulator import Emulator, Faults

FIXTURES = Path(__file__).parent / "fixtures" / "batch"
KEY = "sk-test-batches"
FAST = 0.02  # seconds per step: a batch settles within a few polls
DEADLINE = 20.0  # seconds a poll may wait for a status before the test fails instead of hanging
TERMINAL = {"completed", "failed", "expired", "cancelled"}
ORDER = ["validating", "in_progress", "finalizing", "completed"]


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def fixture_lines(name: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (FIXTURES / name).read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture(scope="module")
def server() -> Iterator[Emulator]:
    with Emulator() as emulator:
        yield emulator


@pytest.fixture
def emu(server: Emulator) -> Emulator:
    server.reset()
    server.set_faults(batch_step_seconds=FAST)
    return server


@pytest.fixture
def http(emu: Emulator) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=emu.base_url, headers={"Authorization": f"Bearer {KEY}"}, timeout=30) as client:
        yield client


def conforms(actual: Any, expected: Any, where: str = "$") -> None:
    """`actual` has the shape of the reference's `expected`: each of its keys, with a value of the same kind,
    recursively (a null on either side stands for a value that one state has and the other has not yet)."""
    if actual is None or expected is None:
        return
    if isinstance(expected, dict):
        assert isinstance(actual, dict), f"{where}: {actual!r} is not an object"
        for key, value in expected.items():
            assert key in actual, f"{where}: no key {key!r}"
            if key != "metadata":  # the caller's own keys, whatever the example happened to send
                conforms(actual[key], value, f"{where}.{key}")
    elif isinstance(expected, list):
        assert isinstance(actual, list), f"{where}: {actual!r} is not an array"
        for index, item in enumerate(actual):
            conforms(item, expected[0], f"{where}[{index}]") if expected else None
    else:
        assert type(actual) is type(expected), f"{where}: {actual!r} is not like {expected!r}"


def same_keys(actual: dict[str, Any], expected: dict[str, Any]) -> None:
    assert sorted(actual) == sorted(expected), f"keys differ: {sorted(actual)} != {sorted(expected)}"


def jsonl(lines: list[dict[str, Any]]) -> bytes:
    return b"".join(json.dumps(line, ensure_ascii=False).encode("utf-8") + b"\n" for line in lines)


def chat_line(custom_id: str, prompt: str, model: str = "qwen-plus", **body: Any) -> dict[str, Any]:
    messages = body.pop("messages", [{"role": "user", "content": prompt}])
    content = {"model": model, "messages": messages, **body}
    return {"custom_id": custom_id, "method": "POST", "url": "/v1/chat/completions", "body": content}


def upload(http: httpx.Client, content: bytes, purpose: str = "batch", filename: str = "input.jsonl") -> httpx.Response:
    return http.post("/files", files={"file": (filename, content, "application/jsonl")}, data={"purpose": purpose})


def create(http: httpx.Client, content: bytes, endpoint: str = "/v1/chat/completions", **extra: Any) -> dict[str, Any]:
    file_id = upload(http, content).json()["id"]
    reply = http.post(
        "/batches", json={"input_file_id": file_id, "endpoint": endpoint, "completion_window": "24h", **extra}
    )
    assert reply.status_code == 200, reply.text
    return reply.json()


def wait_for(http: httpx.Client, batch_id: str, statuses: set[str] = TERMINAL) -> tuple[dict[str, Any], list[str]]:
    """Poll until the batch reaches one of `statuses`; also return every status seen, in order."""
    seen: list[str] = []
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        batch = http.get(f"/batches/{batch_id}").json()
        if not seen or seen[-1] != batch["status"]:
            seen.append(batch["status"])
        if batch["status"] in statuses:
            return batch, seen
        time.sleep(0.005)
    raise AssertionError(f"batch {batch_id} never reached {statuses}; seen {seen}")


def content_lines(http: httpx.Client, file_id: str) -> list[dict[str, Any]]:
    reply = http.get(f"/files/{file_id}/content")
    assert reply.status_code == 200, reply.text
    return [json.loads(line) for line in reply.content.splitlines() if line.strip()]


def run(http: httpx.Client, lines: list[dict[str, Any]], **extra: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """Create a batch of `lines`, wait until it settles, and return it with its result lines by custom_id."""
    batch, _ = wait_for(http, create(http, jsonl(lines), **extra)["id"])
    results = {}
    for file_id in (batch["output_file_id"], batch["error_file_id"]):
        for line in content_lines(http, file_id) if file_id else []:
            results[line["custom_id"]] = line
    return batch, results


def assert_nested(reply: httpx.Response, status: int, message: str, param: str | None = None) -> dict[str, Any]:
    assert reply.status_code == status, reply.text
    error = reply.json()["error"]
    same_keys(error, fixture("error-nested-schema.json")["error"])
    assert error["message"] == message
    assert error["param"] == param
    return error


# ---------------------------------------------------------------------------------------------------- files


def test_upload_answers_a_file_object_of_the_documented_shape(http: httpx.Client) -> None:
    content = (FIXTURES / "input-chat.jsonl").read_bytes()
    reply = upload(http, content, filename="测试.jsonl")
    assert reply.status_code == 200
    uploaded = reply.json()
    conforms(uploaded, fixture("file-upload-response.json"))
    same_keys(uploaded, fixture("file-upload-response.json"))
    assert re.fullmatch(r"file-batch-[0-9a-f]{24}", uploaded["id"])
    assert (uploaded["bytes"], uploaded["filename"], uploaded["purpose"]) == (len(content), "测试.jsonl", "batch")
    assert http.get(f"/files/{uploaded['id']}").json() == uploaded


def test_a_filename_keeps_no_directory(http: httpx.Client) -> None:
    assert upload(http, b"{}\n", filename="../../etc/in.jsonl").json()["filename"] == "in.jsonl"


def test_upload_refusals_use_the_nested_envelope(http: httpx.Client) -> None:
    error = assert_nested(upload(http, b"{}\n", purpose="file-extract"), 400, "'purpose' must be 'batch'", "purpose")
    same_keys(error, fixture("error-nested-observed-files.json")["error"])
    no_file = http.post("/files", files={"purpose": (None, "batch")})
    assert_nested(no_file, 400, "Missing required parameter: 'file' (a file part with a filename).", "file")
    assert_nested(upload(http, b""), 400, "The file is empty.", "file")
    not_form = http.post("/files", json={"purpose": "batch"})
    assert_nested(not_form, 400, "The request must be multipart/form-data with a 'file' and a 'purpose' part.")
    broken = http.post(
        "/files", content=b"--xyz\r\nno end", headers={"Content-Type": "multipart/form-data; boundary=xyz"}
    )
    assert_nested(broken, 400, "The multipart/form-data body is malformed.")


def test_files_list_is_newest_first_with_after_and_limit(http: httpx.Client) -> None:
    ids = [upload(http, b"{}\n", filename=f"{n}.jsonl").json()["id"] for n in range(3)]
    listing = http.get("/files").json()
    conforms(listing, fixture("files-list-response.json"))
    assert list(listing) == ["object", "data", "has_more"]
    assert [entry["id"] for entry in listing["data"]] == ids[::-1]
    page = http.get("/files", params={"limit": 1, "after": ids[2]}).json()
    assert ([entry["id"] for entry in page["data"]], page["has_more"]) == ([ids[1]], True)
    assert_nested(
        http.get("/files", params={"limit": 0}), 400, "Invalid 'limit': 0. Expected an integer from 1 to 2000.", "limit"
    )


def test_delete_answers_the_documented_object_then_404(http: httpx.Client) -> None:
    file_id = upload(http, b"{}\n").json()["id"]
    deleted = http.delete(f"/files/{file_id}").json()
    conforms(deleted, fixture("file-delete-response.json"))
    assert deleted == {"object": "file", "deleted": True, "id": file_id}
    error = assert_nested(http.delete(f"/files/{file_id}"), 404, f"File '{file_id}' not found.", "file_id")
    assert error["code"] == "file_not_found"
    assert http.get(f"/files/{file_id}").status_code == 404


def test_only_output_files_can_be_downloaded(http: httpx.Client) -> None:
    file_id = upload(http, b"{}\n").json()["id"]
    message = "Only files whose file_id starts with 'file-batch_output' can be downloaded."
    assert_nested(http.get(f"/files/{file_id}/content"), 400, message, "file_id")
    assert http.get("/files/file-batch_output-000000000000000000000000/content").status_code == 404


# ---------------------------------------------------------------------------------------------------- create


def test_create_answers_every_key_of_the_live_object(http: httpx.Client) -> None:
    request = fixture("batch-create-request.json")
    file_id = upload(http, (FIXTURES / "input-test-model.jsonl").read_bytes()).json()["id"]
    batch = http.post("/batches", json={**request, "input_file_id": file_id}).json()
    expected = fixture("batch-create-response.json")
    conforms(batch, expected)
    same_keys(batch, expected)
    assert re.fullmatch(r"batch_[0-9a-f-]{36}", batch["id"])
    assert batch["status"] == "validating" and batch["request_counts"] == {"total": 0, "completed": 0, "failed": 0}
    assert (batch["input_file_id"], batch["endpoint"], batch["metadata"]) == (
        file_id,
        "/v1/chat/ds-test",
        request["metadata"],
    )
    assert http.get(f"/batches/{batch['id']}").json()["id"] == batch["id"]


@pytest.mark.parametrize("window", ["24h", "48h", "336h", "1d", "7d", "14d"])
def test_completion_windows_from_24h_to_336h_are_accepted(http: httpx.Client, window: str) -> None:
    assert create(http, jsonl([chat_line("a", "hi")]), completion_window=window)["completion_window"] == window


@pytest.mark.parametrize("window", ["12h", "23h", "337h", "15d", "0d", "24", "24 h", "h"])
def test_completion_windows_outside_the_range_are_refused(http: httpx.Client, window: str) -> None:
    file_id = upload(http, jsonl([chat_line("a", "hi")])).json()["id"]
    body = {"input_file_id": file_id, "endpoint": "/v1/chat/completions", "completion_window": window}
    message = f"Invalid 'completion_window': '{window}'. Expected 24h to 336h, as hours ('48h') or days ('7d')."
    assert_nested(http.post("/batches", json=body), 400, message, "completion_window")


def test_create_refusals(http: httpx.Client) -> None:
    file_id = upload(http, jsonl([chat_line("a", "hi")])).json()["id"]
    good = {"input_file_id": file_id, "endpoint": "/v1/chat/completions", "completion_window": "24h"}
    for name in good:
        body = {key: value for key, value in good.items() if key != name}
        error = assert_nested(http.post("/batches", json=body), 400, f"Missing required parameter: '{name}'.", name)
        assert error["code"] == "missing_required_parameter"
    bad_endpoint = http.post("/batches", json={**good, "endpoint": "/v1/responses"})
    supported = "'/v1/chat/completions', '/v1/embeddings', '/v1/chat/ds-test'"
    assert_nested(
        bad_endpoint, 400, f"Invalid 'endpoint': '/v1/responses'. Supported values are: {supported}.", "endpoint"
    )
    unknown = http.post("/batches", json={**good, "input_file_id": "file-batch-nope"})
    message = "The input file 'file-batch-nope' was not found, or is not a batch input file."
    assert_nested(unknown, 400, message, "input_file_id")
    long_name = http.post("/batches", json={**good, "metadata": {"ds_name": "x" * 101}})
    assert_nested(long_name, 400, "Invalid 'metadata.ds_name': at most 100 characters.", "metadata.ds_name")
    assert (
        http.post("/batches", json={**good, "metadata": {"ds_name": "x" * 100, "mine": "y" * 1000}}).status_code == 200
    )
    assert_nested(
        http.post("/batches", content=b"{not json"),
        400,
        "The request body is not valid JSON: Expecting property name enclosed in double quotes: line 1 column 2 (char 1)",
    )


def test_unknown_batch_ids_are_nested_404s(http: httpx.Client) -> None:
    error = assert_nested(http.get("/batches/batch_nope"), 404, "Batch 'batch_nope' not found.", "batch_id")
    assert error["code"] == "batch_not_found"
    assert http.post("/batches/batch_nope/cancel").status_code == 404


def test_a_wrong_key_is_refused_with_the_flat_envelope(emu: Emulator) -> None:
    strict = Emulator(api_key="sk-right").start()
    try:
        reply = httpx.get(f"{strict.base_url}/batches", headers={"Authorization": "Bearer sk-wrong"})
    finally:
        strict.stop()
    assert reply.status_code == 401 and reply.json()["code"] == "InvalidApiKey"


# ---------------------------------------------------------------------------------------------------- lifecycle


def test_a_test_model_batch_goes_through_every_status_to_the_documented_output(
    emu: Emulator, http: httpx.Client
) -> None:
    emu.set_faults(batch_step_seconds=0.15)
    created = create(http, (FIXTURES / "input-test-model.jsonl").read_bytes(), endpoint="/v1/chat/ds-test")
    batch, seen = wait_for(http, created["id"])
    assert seen == [status for status in ORDER if status in seen]  # never backwards, never elsewhere
    assert batch["status"] == "completed" and batch["errors"] is None
    conforms(batch, fixture("batch-completed.json"))
    same_keys(batch, fixture("batch-completed.json"))
    assert batch["request_counts"] == {"total": 2, "completed": 2, "failed": 0}
    assert batch["created_at"] <= batch["in_progress_at"] <= batch["finalizing_at"] <= batch["completed_at"]
    assert batch["error_file_id"] is None and re.fullmatch(r"file-batch_output-[0-9a-f]{24}", batch["output_file_id"])
    lines = content_lines(http, batch["output_file_id"])
    expected = fixture_lines("output-test-model.jsonl")
    for line in lines:
        conforms(line, expected[0])
    assert [line["custom_id"] for line in lines] == ["2", "1"]  # reversed: match by custom_id
    for line in lines:
        assert line["response"]["body"]["choices"] == expected[0]["response"]["body"]["choices"]
        assert line["response"]["body"]["usage"] == expected[0]["response"]["body"]["usage"]
        assert line["id"] == line["response"]["request_id"]
    output = http.get(f"/files/{batch['output_file_id']}").json()
    assert (output["purpose"], output["bytes"]) == (
        "batch_output",
        len(http.get(f"/files/{batch['output_file_id']}/content").content),
    )


def test_request_counts_move_while_in_progress(emu: Emulator, http: httpx.Client) -> None:
    emu.set_faults(batch_step_seconds=0.4)
    batch_id = create(http, jsonl([chat_line(f"r{n}", "hi") for n in range(40)]))["id"]
    progress, deadline = [], time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        batch = http.get(f"/batches/{batch_id}").json()
        if batch["status"] == "in_progress":
            progress.append(batch["request_counts"]["completed"])
            assert batch["request_counts"]["total"] == 40
            assert batch["output_file_id"] is None  # no partial results while running
        if batch["status"] in TERMINAL:
            break
        time.sleep(0.01)
    assert progress == sorted(progress) and any(0 < count < 40 for count in progress)
    assert batch["request_counts"]["completed"] == 40


def test_chat_lines_follow_the_reply_rules(http: httpx.Client) -> None:
    tools = [{"type": "function", "function": {"name": "get_time", "parameters": {"type": "object"}}}]
    history = [
        {"role": "user", "content": "time?"},
        {
            "role": "assistant",
            "content": "",
            "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "get_time", "arguments": "{}"}}],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "10:30"},
    ]
    lines = [
        chat_line(
            "echo", "", messages=[{"role": "system", "content": "Be brief"}, {"role": "user", "content": "Hello!"}]
        ),
        chat_line(
            "parts",
            "",
            messages=[
                {
                    "role": "user",
                    "content": [
                        {"type": "image_url", "image_url": {"url": "https://example.com/a.jpg"}},
                        {"type": "text", "text": "What is it?"},
                    ],
                }
            ],
        ),
        chat_line("words", "@@words=5"),
        chat_line("cut", "@@words=50", max_tokens=3),
        chat_line("think", "why?", enable_thinking=True),
        chat_line("call", '@@call=get_time:{"city": "北京"}', tools=tools),
        chat_line("no-call", "@@call=get_time", tools=tools, tool_choice="none"),
        chat_line("history", "", tools=tools, messages=history),
    ]
    batch, results = run(http, lines)
    assert batch["request_counts"] == {"total": 8, "completed": 8, "failed": 0}
    choice = {key: line["response"]["body"]["choices"][0] for key, line in results.items()}
    assert choice["echo"]["message"] == {"role": "assistant", "content": "[Be brief] You said: Hello!"}
    assert choice["parts"]["message"]["content"] == "You said: What is it? (1 image)"
    assert (choice["words"]["message"]["content"], choice["words"]["finish_reason"]) == ("w1 w2 w3 w4 w5", "stop")
    assert (choice["cut"]["message"]["content"], choice["cut"]["finish_reason"]) == ("w1 w2 w3", "length")
    assert choice["think"]["message"]["reasoning_content"] == "Thinking about: why?"
    assert results["think"]["response"]["body"]["usage"]["completion_tokens_details"] == {"reasoning_tokens": 3}
    call = choice["call"]
    assert (call["finish_reason"], call["message"]["content"]) == ("tool_calls", "")
    assert call["message"]["tool_calls"][0]["function"] == {"name": "get_time", "arguments": '{"city": "北京"}'}
    assert re.fullmatch(r"call_[0-9a-f]{24}", call["message"]["tool_calls"][0]["id"])
    conforms(results["call"], fixture_lines("output-tool-call-constructed.jsonl")[0])
    assert "tool_calls" not in choice["no-call"]["message"]
    assert choice["history"]["message"]["content"] == "Tool results: 10:30"
    usage = results["words"]["response"]["body"]["usage"]
    assert usage == {
        "prompt_tokens": 1,
        "completion_tokens": 5,
        "total_tokens": 6,
        "prompt_tokens_details": {"cached_tokens": 0},
    }
    body = results["echo"]["response"]["body"]
    assert (body["object"], body["model"], body["id"]) == (
        "chat.completion",
        "qwen-plus",
        f"chatcmpl-{results['echo']['id']}",
    )


def test_thinking_lines_have_the_documented_shape(http: httpx.Client) -> None:
    _, results = run(http, fixture_lines("input-thinking.jsonl"))
    expected = fixture_lines("output-thinking-2025.jsonl")[0]
    thought = results["request-2"]
    conforms(thought, expected)
    assert "reasoning_content" not in results["request-1"]["response"]["body"]["choices"][0]["message"]


def test_failed_lines_go_to_the_error_file_or_inside_the_output_file(http: httpx.Client) -> None:
    lines = [
        chat_line("ok", "hi"),
        chat_line("fail", "@@fail"),
        chat_line("bad", "@@fail=400"),
        chat_line("inside", "@@fail-inside"),
    ]
    lines.append({**chat_line("empty", "hi"), "body": {"model": "qwen-plus"}})
    batch, results = run(http, lines)
    assert batch["request_counts"] == {"total": 5, "completed": 1, "failed": 3}  # "inside" counts as neither
    assert re.fullmatch(r"file-batch_output-[0-9a-f]{24}", batch["error_file_id"])
    errors = {line["custom_id"] for line in content_lines(http, batch["error_file_id"])}
    assert errors == {"fail", "bad", "empty"}
    assert {line["custom_id"] for line in content_lines(http, batch["output_file_id"])} == {"ok", "inside"}
    constructed = fixture_lines("output-failed-line-constructed.jsonl")[0]
    for custom_id, status, code in (
        ("fail", 500, "InternalError"),
        ("bad", 400, "InvalidParameter"),
        ("inside", 500, "InternalError"),
    ):
        line = results[custom_id]
        conforms(line, constructed)
        assert (line["response"]["status_code"], line["error"]["code"]) == (status, code)
        assert line["response"]["body"]["error"]["code"] == code
    assert results["empty"]["response"]["status_code"] == 400


def test_embeddings_lines(http: httpx.Client) -> None:
    _, results = run(http, fixture_lines("input-embeddings.jsonl"), endpoint="/v1/embeddings")
    body = results["emb-1"]["response"]["body"]
    assert body["object"] == "list" and len(body["data"][0]["embedding"]) == 8
    assert body["data"][0]["embedding"] != results["emb-2"]["response"]["body"]["data"][0]["embedding"]


# ---------------------------------------------------------------------------------------------------- validation


def failed(http: httpx.Client, content: bytes, endpoint: str = "/v1/chat/completions") -> dict[str, Any]:
    batch, seen = wait_for(http, create(http, content, endpoint=endpoint)["id"])
    assert batch["status"] == "failed" and "in_progress" not in seen
    assert batch["failed_at"] is not None and batch["output_file_id"] is None and batch["error_file_id"] is None
    assert batch["request_counts"] == {"total": 0, "completed": 0, "failed": 0}
    conforms(batch, fixture("batch-failed-validation.json"))
    for error in batch["errors"]["data"]:
        same_keys(error, fixture("batch-failed-validation.json")["errors"]["data"][0])
    return batch


def test_a_bad_url_fails_with_url_not_found_as_observed(http: httpx.Client) -> None:
    line = {
        "custom_id": "1",
        "method": "POST",
        "url": "/v1/chat/completion",
        "body": {"model": "batch-test-model", "messages": []},
    }
    batch = failed(http, jsonl([line]), endpoint="/v1/chat/ds-test")
    assert batch["errors"] == fixture("batch-failed-validation.json")["errors"]
    conforms(batch, fixture("batch-failed-validation.json"))


def test_the_test_model_on_the_chat_url_fails_every_line_as_observed(http: httpx.Client) -> None:
    lines = [{**line, "url": "/v1/chat/completions"} for line in fixture_lines("input-test-model.jsonl")]
    batch = failed(http, jsonl(lines))
    assert batch["errors"] == fixture("batch-failed-test-url.json")["errors"]


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        ([b'{"custom_id": "1"', None], [("invalid_json_line", "The line is not valid JSON.", None, 1)]),
        ([b"[1, 2]"], [("invalid_json_line", "The line is not a JSON object.", None, 1)]),
        (
            [chat_line("same", "a"), chat_line("other", "b"), chat_line("same", "c")],
            [("duplicate_custom_id", "The custom_id 'same' is used by more than one request.", "custom_id", 3)],
        ),
        (
            [chat_line("1", "a"), chat_line("2", "b", model="qwen-turbo")],
            [
                (
                    "model_mismatch",
                    "The model 'qwen-turbo' for this request does not match the rest of the batch. Each batch must contain requests for a single model.",
                    "body.model",
                    2,
                )
            ],
        ),
        (
            [chat_line("1", "a"), {**chat_line("2", "b"), "url": "/v1/embeddings"}],
            [
                (
                    "url_not_found",
                    "The provided url '/v1/embeddings' does not match the batch's endpoint '/v1/chat/completions'.",
                    "url",
                    2,
                )
            ],
        ),
        (
            [{**chat_line("1", "a"), "url": "/v1/responses"}],
            [("url_not_found", "The provided url '/v1/responses' is not supported by the Batch API.", "url", 1)],
        ),
        ([{**chat_line("1", "a"), "method": "GET"}], [("invalid_method", "The method must be 'POST'.", "method", 1)]),
        (
            [chat_line("x" * 257, "a")],
            [("invalid_custom_id", "'custom_id' must be a string of 1 to 256 characters.", "custom_id", 1)],
        ),
        (
            [{**chat_line("1", "a"), "body": {"messages": []}}],
            [("invalid_body", "'body' must be an object with a 'model'.", "body", 1)],
        ),
    ],
)
def test_validation_failures(http: httpx.Client, lines: list[Any], expected: list[tuple[Any, ...]]) -> None:
    raw = b"\n".join(
        line if isinstance(line, bytes) else json.dumps(line).encode() for line in lines if line is not None
    )
    errors = failed(http, raw)["errors"]["data"]
    assert [(error["code"], error["message"], error["param"], error["line"]) for error in errors] == expected


def test_line_numbers_count_blank_lines(http: httpx.Client) -> None:
    raw = jsonl([chat_line("1", "a")]) + b"\n\n" + b"not json\n"
    assert [error["line"] for error in failed(http, raw)["errors"]["data"]] == [4]


def test_limits(http: httpx.Client) -> None:
    test_lines = [
        {**line, "custom_id": str(n)} for n in range(101) for line in fixture_lines("input-test-model.jsonl")[:1]
    ]
    errors = failed(http, jsonl(test_lines), endpoint="/v1/chat/ds-test")["errors"]["data"]
    assert [error["code"] for error in errors] == ["test_model_limit"]
    many = b"".join(
        b'{"custom_id":"%d","method":"POST","url":"/v1/chat/completions","body":{"model":"m"}}\n' % n
        for n in range(50_001)
    )
    assert [error["code"] for error in failed(http, many)["errors"]["data"]] == ["too_many_requests"]


# ---------------------------------------------------------------------------------------------------- cancel, expiry


def test_cancel_while_in_progress_settles_as_cancelled(emu: Emulator, http: httpx.Client) -> None:
    emu.set_faults(batch_step_seconds=30)  # nothing moves on by itself during the test but what is asked
    content = jsonl([chat_line(f"r{n}", "hi") for n in range(4)])
    batch_id = create(http, content)["id"]
    reply = http.post(f"/batches/{batch_id}/cancel")
    assert reply.status_code == 200
    cancelling = reply.json()
    expected = fixture("batch-cancel-response.json")
    same_keys(cancelling, expected)
    assert (cancelling["status"], cancelling["cancelling_at"]) == ("cancelling", None)
    assert http.post(f"/batches/{batch_id}/cancel").json()["status"] == "cancelling"  # asking again changes nothing
    emu.set_faults(batch_step_seconds=FAST)  # taken at create: this batch keeps its 30 s steps
    assert http.get(f"/batches/{batch_id}").json()["status"] == "cancelling"


def test_a_cancelled_batch_keeps_what_finished_and_fails_the_rest(emu: Emulator, http: httpx.Client) -> None:
    emu.set_faults(batch_step_seconds=1.0)  # long enough that the cancel lands while lines are still running
    batch_id = create(http, jsonl([chat_line(f"r{n}", "hi") for n in range(50)]))["id"]
    running, _ = wait_for(http, batch_id, {"in_progress"} | TERMINAL)
    deadline = time.monotonic() + DEADLINE
    while (
        running["request_counts"]["completed"] == 0
        and running["status"] == "in_progress"
        and time.monotonic() < deadline
    ):
        running = http.get(f"/batches/{batch_id}").json()
    if running["status"] != "in_progress":
        pytest.fail(f"the batch left in_progress before a line finished: {running['status']}")
    http.post(f"/batches/{batch_id}/cancel")
    batch, seen = wait_for(http, batch_id)
    assert seen[0] == "cancelling" and batch["status"] == "cancelled"
    conforms(batch, fixture("batch-cancelled.json"))
    assert batch["cancelling_at"] == batch["cancelled_at"] is not None
    counts = batch["request_counts"]
    assert counts["total"] == 50 and counts["completed"] >= 1 and counts["completed"] + counts["failed"] == 50
    assert len(content_lines(http, batch["output_file_id"])) == counts["completed"]
    cancelled = content_lines(http, batch["error_file_id"])
    assert len(cancelled) == counts["failed"] and {line["error"]["code"] for line in cancelled} == {"batch_cancelled"}
    refused = http.post(f"/batches/{batch_id}/cancel")
    assert_nested(refused, 400, "batch status does not allow cancel", "batch_id")


def test_cancel_while_validating_runs_nothing(emu: Emulator, http: httpx.Client) -> None:
    emu.set_faults(batch_step_seconds=0.2)
    batch_id = create(http, jsonl([chat_line("a", "hi")]))["id"]
    assert http.post(f"/batches/{batch_id}/cancel").json()["status"] == "cancelling"
    batch, _ = wait_for(http, batch_id)
    assert (batch["status"], batch["in_progress_at"], batch["output_file_id"], batch["error_file_id"]) == (
        "cancelled",
        None,
        None,
        None,
    )


def test_a_completed_or_failed_batch_cannot_be_cancelled(http: httpx.Client) -> None:
    for content in (jsonl([chat_line("a", "hi")]), b"not json"):
        batch, _ = wait_for(http, create(http, content)["id"])
        assert_nested(
            http.post(f"/batches/{batch['id']}/cancel"), 400, "batch status does not allow cancel", "batch_id"
        )


@pytest.mark.parametrize("switch", ["fault", "ds_name"])
def test_expiry_keeps_the_finished_half(emu: Emulator, http: httpx.Client, switch: str) -> None:
    extra: dict[str, Any] = {}
    if switch == "fault":
        emu.set_faults(batch_step_seconds=FAST, batch_expire=True)
    else:
        extra["metadata"] = {"ds_name": "nightly @@expire"}
    batch, results = run(http, [chat_line(f"r{n}", "hi") for n in range(5)], **extra)
    assert batch["status"] == "expired" and batch["expired_at"] is not None and batch["completed_at"] is None
    assert batch["request_counts"] == {"total": 5, "completed": 2, "failed": 0}
    assert sorted(results) == ["r0", "r1"] and batch["error_file_id"] is None


# ---------------------------------------------------------------------------------------------------- list


def test_an_empty_list_is_data_null_as_observed(http: httpx.Client) -> None:
    assert http.get("/batches").json() == fixture("batches-list-empty.json")


def test_a_cursor_that_names_no_object_ends_the_list(http: httpx.Client) -> None:
    upload(http, b"{}\n")
    assert http.get("/files", params={"after": "file-batch-gone"}).json()["data"] == []
    assert http.get("/batches", params={"after": "batch_gone"}).json()["data"] is None


def test_list_is_newest_first_with_cursor_and_filters(http: httpx.Client) -> None:
    content = jsonl([chat_line("a", "hi")])
    first_file = upload(http, content).json()["id"]
    ids = []
    for file_id in (first_file, first_file, upload(http, content).json()["id"]):
        body = {"input_file_id": file_id, "endpoint": "/v1/chat/completions", "completion_window": "24h"}
        ids.append(http.post("/batches", json={**body, "metadata": {"ds_name": f"job {len(ids)}"}}).json()["id"])
    wait_for(http, ids[0])
    listing = http.get("/batches").json()
    conforms(listing, fixture("batches-list-response.json"))
    same_keys(listing, fixture("batches-list-response.json"))
    assert [batch["id"] for batch in listing["data"]] == ids[::-1]
    assert (listing["first_id"], listing["last_id"], listing["has_more"]) == (ids[2], ids[0], False)
    page = http.get("/batches", params={"limit": 1, "after": ids[2]}).json()
    assert ([batch["id"] for batch in page["data"]], page["has_more"]) == ([ids[1]], True)
    by_file = http.get("/batches", params={"input_file_ids": f"{first_file},file-batch-other"}).json()
    assert [batch["id"] for batch in by_file["data"]] == ids[1::-1]
    assert [batch["id"] for batch in http.get("/batches", params={"ds_name": "job 1"}).json()["data"]] == [ids[1]]
    assert http.get("/batches", params={"status": "failed,expired"}).json()["data"] is None
    assert (
        len(http.get("/batches", params={"status": "completed,in_progress,finalizing,validating"}).json()["data"]) == 3
    )


def test_list_refusals(http: httpx.Client) -> None:
    assert_nested(
        http.get("/batches", params={"limit": 101}),
        400,
        "Invalid 'limit': 101. Expected an integer from 1 to 100.",
        "limit",
    )
    assert_nested(http.get("/batches", params={"status": "done"}), 400, "Invalid 'status': 'done'.", "status")
    many = ",".join(f"file-batch-{n}" for n in range(21))
    assert_nested(
        http.get("/batches", params={"input_file_ids": many}),
        400,
        "'input_file_ids' takes at most 20 ids.",
        "input_file_ids",
    )


# ---------------------------------------------------------------------------------------------------- faults, log


def test_batch_http_status_fault_answers_before_anything_happens(emu: Emulator, http: httpx.Client) -> None:
    emu.set_faults(batch_http_status=503, batch_http_status_count=2, retry_after="2")
    for _ in range(2):
        reply = upload(http, b"{}\n")
        assert reply.status_code == 503 and reply.headers["retry-after"] == "2"
        assert reply.json()["error"]["message"] == "Emulated HTTP 503."
    assert http.get("/files").json()["data"] == []
    assert upload(http, b"{}\n").status_code == 200


def test_a_lost_create_reply_still_made_the_batch(emu: Emulator, http: httpx.Client) -> None:
    emu.set_faults(batch_step_seconds=FAST, batch_create_lost=1)
    file_id = upload(http, jsonl([chat_line("a", "hi")])).json()["id"]
    body = {"input_file_id": file_id, "endpoint": "/v1/chat/completions", "completion_window": "24h"}
    assert http.post("/batches", json=body).status_code == 502
    assert [batch["input_file_id"] for batch in http.get("/batches").json()["data"]] == [file_id]
    assert http.post("/batches", json=body).status_code == 200


def test_every_files_and_batches_request_is_recorded(emu: Emulator, http: httpx.Client) -> None:
    batch = create(http, jsonl([chat_line("a", "hi")]))
    http.get(f"/batches/{batch['id']}")
    calls = [(entry["method"], entry["path"].rpartition("/v1")[2]) for entry in emu.requests]
    assert calls == [("POST", "/files"), ("POST", "/batches"), ("GET", f"/batches/{batch['id']}")]
    assert emu.requests[1]["body"]["input_file_id"] == batch["input_file_id"]


def test_faults_are_set_over_the_control_endpoint_as_for_qwen_emulator(emu: Emulator, http: httpx.Client) -> None:
    control = emu.base_url.split("/compatible-mode")[0] + "/__emulator/faults"
    reply = httpx.post(control, json={"batch_step_seconds": 0, "batch_expire": True})
    assert reply.status_code == 200 and reply.json()["faults"]["batch_step_seconds"] == 0
    batch, _ = wait_for(http, create(http, jsonl([chat_line("a", "hi"), chat_line("b", "hi")]))["id"])
    assert batch["status"] == "expired"
    refused = httpx.post(control, json={"batch_step_seconds": -1})
    assert refused.status_code == 400 and "batch_step_seconds" in refused.json()["message"]
    assert Faults().batch_step_seconds == 0.5


def test_downloads_honour_the_gzip_fault(emu: Emulator, http: httpx.Client) -> None:
    batch, _ = wait_for(http, create(http, jsonl([chat_line("a", "hi")]))["id"])
    emu.set_faults(gzip=True)
    url = f"{emu.base_url}/files/{batch['output_file_id']}/content"
    with httpx.stream("GET", url, headers={"Authorization": f"Bearer {KEY}", "Accept-Encoding": "gzip"}) as reply:
        assert reply.headers["content-encoding"] == "gzip"
        compressed = b"".join(reply.iter_raw())
    assert json.loads(gzip.decompress(compressed))["custom_id"] == "a"
