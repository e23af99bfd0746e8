"""Tests for qwen_cli.batch.provider: the documented output lines become result lines, failures in both spellings,
garbage lines reported and skipped, line splitting within a bound, and items with no line at all."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from qwen_cli.batch.lines import bounded_lines
from qwen_cli.batch.provider import MAX_LINE_BYTES, ProviderResults, Unreadable, result_of
from qwen_cli.batch.results import Result

FIXTURES = Path(__file__).parent / "fixtures" / "batch"


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def read_all(reader: ProviderResults, data: bytes, chunk: int = 7, source: str = "the output file") -> list[Any]:
    pieces = [data[start : start + chunk] for start in range(0, len(data), chunk)]
    return list(reader.read(pieces, source))


def success(custom_id: str = "a", **choice: Any) -> dict[str, Any]:
    message = {"role": "assistant", "content": "hi", **choice.pop("message", {})}
    body = {"id": "chatcmpl-1", "created": 1789000000, "choices": [{"index": 0, "message": message, **choice}]}
    body["usage"] = {"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7}
    return {
        "id": "r",
        "custom_id": custom_id,
        "response": {"status_code": 200, "request_id": "r", "body": body},
        "error": None,
    }


# --- the documented lines ------------------------------------------------------------------------------------------


def test_the_documented_success_lines_become_completed_results() -> None:
    reader = ProviderResults({"1": "sha256:one", "2": "sha256:two"})

    first, second = read_all(reader, fixture_bytes("output-success.jsonl"))
    assert first == {
        "id": "1",
        "status": "completed",
        "response_id": "chatcmpl-c308ef7f-0824-9c46-96eb-73566f062426",
        "text": "Hello! Of course. How can I help you?",
        "usage": {"input_tokens": 26, "output_tokens": 35, "total_tokens": 61},
        "error": None,
        "request_digest": "sha256:one",
        "finished_at": "2025-03-18T13:15:43.000Z",
        "elapsed": None,
    }
    assert (second["id"], second["status"], second["request_digest"]) == ("2", "completed", "sha256:two")
    assert second["text"] == "It seems like you're referring to a system or process ..."


def test_the_test_models_lines_and_the_thinking_line_with_reasoning_tokens() -> None:
    answers = read_all(ProviderResults({"1": None, "2": None}), fixture_bytes("output-test-model.jsonl"))
    assert [(result["text"], result["usage"]["total_tokens"]) for result in answers] == [
        ("This is a test result.", 26)
    ] * 2

    (thought,) = read_all(ProviderResults({"2": None}), fixture_bytes("output-thinking-2025.jsonl"))
    assert thought["text"] == "2 + 2 equals 4."
    assert thought["usage"] == {"input_tokens": 26, "output_tokens": 63, "total_tokens": 89, "reasoning_tokens": 50}


def test_a_tool_call_line_is_function_calls_with_empty_text() -> None:
    (result,) = read_all(ProviderResults({"L1-call": "d"}), fixture_bytes("output-tool-call-constructed.jsonl"))

    assert (result["status"], result["text"], result["response_id"]) == (
        "function_calls",
        "",
        "chatcmpl-0f1e2d3c-0000-0000-0000-000000000001",
    )


def test_the_documented_failed_line_is_failed_with_the_providers_code_and_message() -> None:
    (result,) = read_all(ProviderResults({"req-9": "d"}), fixture_bytes("output-failed-line-constructed.jsonl"))

    assert result["status"] == "failed"
    assert result["error"] == {"type": "api_error", "message": "<provider message>", "code": "InvalidParameter"}
    assert result["usage"] is None and result["text"] == ""


def test_full_keeps_the_providers_whole_line() -> None:
    line = success()
    assert result_of(line, "d", full=True)["response"] == line
    assert "response" not in result_of(line, "d")


# --- statuses and failures -----------------------------------------------------------------------------------------


def test_a_reply_cut_at_max_tokens_is_incomplete_and_keeps_its_text() -> None:
    result = result_of(success(finish_reason="length"), None)
    assert (result["status"], result["text"]) == ("incomplete", "hi")


def test_tool_calls_count_even_without_the_finish_reason_and_null_content_is_empty_text() -> None:
    calls = [{"id": "c", "type": "function", "function": {"name": "f", "arguments": "{}"}}]
    result = result_of(success(finish_reason="stop", message={"content": None, "tool_calls": calls}), None)
    assert (result["status"], result["text"]) == ("function_calls", "")


def test_cached_tokens_are_counted_when_the_provider_gives_them() -> None:
    line = success()
    line["response"]["body"]["usage"]["prompt_tokens_details"] = {"cached_tokens": 2}
    assert result_of(line, None)["usage"] == {
        "input_tokens": 3,
        "output_tokens": 4,
        "total_tokens": 7,
        "cached_tokens": 2,
    }


@pytest.mark.parametrize(
    ("change", "message", "code"),
    [
        ({"error": {"code": "Throttling", "message": "slow down"}}, "slow down", "Throttling"),
        ({"error": {"error_code": "InvalidParameter", "error_message": "bad"}}, "bad", "InvalidParameter"),
        ({"response": {"status_code": 500, "body": {}}}, "the request failed at the provider (HTTP 500)", None),
        ({"response": {"status_code": 200, "body": {"error": {"code": "X", "message": "inside"}}}}, "inside", "X"),
        ({"response": {"status_code": 400, "body": {"error": {"error_code": "Y", "error_message": "m"}}}}, "m", "Y"),
        (
            {"response": {"status_code": 400, "body": None}, "error": {"code": "Z"}},
            "the request failed at the provider (HTTP 400)",
            "Z",
        ),
        ({"response": None, "error": "plain words"}, "plain words", None),
        (
            {"response": {"status_code": 200, "body": {"choices": []}}},
            "the provider's line holds no answer (no choices)",
            None,
        ),
    ],
)
def test_every_kind_of_failed_line_is_failed_with_its_reason(
    change: dict[str, Any], message: str, code: str | None
) -> None:
    result = result_of({**success(), **change}, "d")
    assert result["status"] == "failed"
    assert result["error"] == {"type": "api_error", "message": message, "code": code}


def test_a_failed_line_inside_the_output_file_fails_even_when_the_body_has_choices() -> None:
    line = success()
    line["response"]["status_code"] = 429
    assert result_of(line, None)["status"] == "failed"


# --- reading files -------------------------------------------------------------------------------------------------


def test_blank_lines_are_skipped_and_the_last_line_needs_no_newline() -> None:
    lines = [json.dumps(success(name)).encode() for name in ("a", "b", "c")]
    data = b"\n" + lines[0] + b"\r\n\n  \n" + lines[1] + b"\n" + lines[2]

    assert [result["id"] for result in read_all(ProviderResults(dict.fromkeys("abc")), data)] == ["a", "b", "c"]
    assert [number for number, _ in bounded_lines([data], MAX_LINE_BYTES)] == [2, 5, 6]
    assert [number for number, _ in bounded_lines([data + b"\n"], MAX_LINE_BYTES)] == [2, 5, 6]


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (b"{not json", "not JSON (Expecting property name enclosed in double quotes at line 1 column 2)"),
        (b"[1, 2]", "not a JSON object"),
        (b'{"response": {}}', "no custom_id"),
        (b'{"custom_id": "stranger"}', 'custom_id "stranger" is not an item of this job'),
        (b"\xff\xfe", "not JSON (not UTF-8 text)"),
        (b"[" * 300 + b"]" * 300, "not JSON (nested deeper than 256 levels)"),
    ],
)
def test_a_garbage_line_is_reported_with_its_place_and_the_rest_still_read(line: bytes, reason: str) -> None:
    data = json.dumps(success("a")).encode() + b"\n" + line + b"\n" + json.dumps(success("b")).encode() + b"\n"

    first, bad, last = read_all(ProviderResults(dict.fromkeys("ab")), data, source="the error file")
    assert (first["id"], last["id"]) == ("a", "b")
    assert bad == Unreadable("the error file", 2, reason)
    assert bad.message() == f"the error file, line 2: {reason}; skipped"


def test_a_line_over_the_bound_is_skipped_without_being_held_and_the_next_one_read() -> None:
    big = json.dumps(success("a", message={"content": "x" * 500})).encode()
    data = big + b"\n" + json.dumps(success("b")).encode()

    results = read_all(ProviderResults(dict.fromkeys("ab"), limit=400), data, chunk=64)
    assert results[0] == Unreadable("the output file", 1, "longer than 400 bytes")
    assert results[1]["id"] == "b"
    assert list(bounded_lines([b"x" * 50], limit=10)) == [(1, None)]  # the last line, unfinished and too long


def test_a_second_line_for_an_item_is_reported_and_the_first_kept() -> None:
    reader = ProviderResults({"a": None})
    (kept,) = read_all(reader, json.dumps(success("a")).encode())
    failed = dict(success("a"), error={"code": "X", "message": "late"})

    (again,) = read_all(reader, json.dumps(failed).encode(), source="the error file")
    assert kept["status"] == "completed"
    assert again == Unreadable("the error file", 1, 'custom_id "a" has a result already (the first one is kept)')


# --- items with no line --------------------------------------------------------------------------------------------


def test_items_without_a_line_are_failed_as_missing_in_input_order() -> None:
    reader = ProviderResults({"one": "d1", "two": "d2", "three": "d3", "four": "d4"})
    read_all(reader, json.dumps(success("two")).encode() + b"\n")
    read_all(
        reader,
        json.dumps(dict(success("four"), error={"code": "X", "message": "no"})).encode(),
        source="the error file",
    )

    missing: list[Result] = list(reader.missing(["one", "two", "three", "four"]))
    assert [(result["id"], result["status"], result["request_digest"]) for result in missing] == [
        ("one", "failed", "d1"),
        ("three", "failed", "d3"),
    ]
    assert missing[0]["error"] == {"type": "missing", "message": "no result line in the provider's files", "code": None}
