"""Tests for qwen_cli.api.responses: reading Response objects, on the reference examples and on odd shapes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from qwen_cli.api.responses import (
    ResponseFailure,
    ResponseView,
    Usage,
    answer_text,
    failure_of,
    function_calls,
    incomplete_reason,
    is_rate_limited,
    reasoning_text,
    usage_of,
)

FIXTURES = Path(__file__).parent / "fixtures"


def load(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def message(*texts: str, part_type: str = "output_text") -> dict[str, Any]:
    return {"type": "message", "role": "assistant", "content": [{"type": part_type, "text": t} for t in texts]}


ODD_SHAPES: list[Any] = [
    {},
    None,
    [],
    {"output": None},
    {"output": "text"},
    {"output": [None, 1, "x", {}]},
    {"output": [{"type": "message"}, {"type": "message", "content": None}]},
    {
        "output": [
            {"type": "message", "content": [None, {"type": "output_text"}, {"type": "output_text", "text": None}]}
        ]
    },
    {
        "output": [
            {"type": "reasoning", "summary": None, "content": None},
            {"type": "reasoning", "summary": [{"text": 3}]},
        ]
    },
    {"usage": None, "error": None, "status": None, "incomplete_details": None},
]


# answer_text


def test_answer_text_of_the_basic_example() -> None:
    assert answer_text(load("nonstream-basic.json")) == (
        "你好！我是 Qwen3.5，阿里巴巴最新推出的通义千问大语言模型，具备强大的语言理解、逻辑推理、代码生成及多模态处理能力，"
        "旨在为用户提供精准高效的智能服务。"
    )


def test_answer_text_skips_reasoning_and_tool_items() -> None:
    assert answer_text(load("nonstream-builtin-tools.json")) == "阿里云官网关键信息：通义大模型，云计算服务..."


def test_answer_text_of_the_thinking_and_retrieve_examples() -> None:
    thinking = answer_text(load("nonstream-thinking-default.json"))
    assert thinking.startswith("你好！作为一个人工智能助手") and thinking.endswith("随时告诉我！")
    assert "Thinking Process" not in thinking
    assert answer_text(load("retrieve-response.json")) == "你好！很高兴见到你。有什么我可以帮助你的吗？"


def test_answer_text_of_a_failed_response_is_empty() -> None:
    assert answer_text(load("nonstream-failed-rate-limit-http200.json")) == ""


def test_answer_text_joins_parts_directly_and_messages_with_a_blank_line() -> None:
    response = {"output": [message("Hel", "lo"), {"type": "function_call", "name": "f"}, message("World")]}
    assert answer_text(response) == "Hello\n\nWorld"


def test_answer_text_accepts_the_text_part_type_and_ignores_others() -> None:
    response = {
        "output": [
            {
                "type": "message",
                "content": [
                    {"type": "text", "text": "a"},
                    {"type": "refusal", "refusal": "no", "text": "R"},
                    {"type": "output_text", "text": "b"},
                ],
            }
        ]
    }
    assert answer_text(response) == "ab"


def test_answer_text_skips_messages_without_text() -> None:
    response = {"output": [message("A"), {"type": "message", "content": []}, message(""), message("B")]}
    assert answer_text(response) == "A\n\nB"


@pytest.mark.parametrize("response", ODD_SHAPES)
def test_readers_never_raise_on_odd_shapes(response: Any) -> None:
    assert answer_text(response) == ""
    assert reasoning_text(response) == ""
    assert function_calls(response) == []
    assert incomplete_reason(response) is None
    assert failure_of(response) is None
    assert usage_of(response) is None


# reasoning_text


def test_reasoning_text_joins_every_reasoning_item() -> None:
    assert reasoning_text(load("nonstream-builtin-tools.json")) == (
        "用户要求找阿里云官网并提取信息...\n\n搜索结果显示阿里云官网URL..."
    )
    assert (
        reasoning_text(load("nonstream-thinking-default.json")) == "Thinking Process:\n\n1.  **Analyze the Request ..."
    )
    assert reasoning_text(load("nonstream-basic.json")) == ""


def test_reasoning_text_falls_back_to_content() -> None:
    response = {
        "output": [
            {"type": "reasoning", "content": [{"type": "reasoning_text", "text": "from content"}]},
            {"type": "reasoning", "summary": [], "content": [{"type": "reasoning_text", "text": "second"}]},
            {
                "type": "reasoning",
                "summary": [{"type": "summary_text", "text": "summary wins"}],
                "content": [{"text": "hidden"}],
            },
        ]
    }
    assert reasoning_text(response) == "from content\n\nsecond\n\nsummary wins"


# usage_of


def test_usage_of_the_examples() -> None:
    assert usage_of(load("nonstream-basic.json")) == Usage(55, 43, 98, 0, 0)
    assert usage_of(load("nonstream-thinking-default.json")) == Usage(49, 1384, 1433, 1110, 0)
    assert usage_of(load("nonstream-builtin-tools.json")) == Usage(40836, 2106, 42942, 677, 0)
    assert usage_of(load("retrieve-response.json")) == Usage(45, 63, 108, 0, 0)
    assert usage_of(load("nonstream-failed-rate-limit-http200.json")) is None


@pytest.mark.parametrize("section", ["input_tokens_details", "prompt_tokens_details"])
def test_cached_tokens_fall_back_to_x_details_under_both_names(section: str) -> None:
    response = {
        "usage": {
            "input_tokens": 2000,
            "output_tokens": 10,
            "total_tokens": 2010,
            "input_tokens_details": {"cached_tokens": 0},
            "x_details": [
                {"x_billing_type": "response_api", section: {"cached_tokens": 1024, "cache_type": "ephemeral"}}
            ],
        }
    }
    assert usage_of(response) == Usage(2000, 10, 2010, 0, 1024)


def test_top_level_cached_tokens_win_over_x_details() -> None:
    response = {
        "usage": {
            "input_tokens_details": {"cached_tokens": 7},
            "x_details": [{"prompt_tokens_details": {"cached_tokens": 1024}}],
        }
    }
    assert usage_of(response).cached_tokens == 7


def test_reasoning_tokens_fall_back_to_x_details() -> None:
    response = {"usage": {"x_details": [{"output_tokens_details": {"reasoning_tokens": 12}}]}}
    assert usage_of(response).reasoning_tokens == 12


def test_usage_counts_are_zero_when_absent_or_not_numbers() -> None:
    response = {
        "usage": {
            "input_tokens": None,
            "output_tokens": "5",
            "input_tokens_details": None,
            "output_tokens_details": {"reasoning_tokens": True},
            "x_details": [None, {"input_tokens_details": 3}],
        }
    }
    assert usage_of(response) == Usage(0, 0, 0, 0, 0)


def test_total_tokens_is_derived_when_missing() -> None:
    assert usage_of({"usage": {"input_tokens": 3, "output_tokens": 4}}) == Usage(3, 4, 7, 0, 0)
    assert usage_of({"usage": {}}) == Usage()


# failure_of


def test_failure_of_the_rate_limit_example_delivered_with_http_200() -> None:
    assert failure_of(load("nonstream-failed-rate-limit-http200.json")) == (
        "server_error",
        "Operation model request rate limit exceeded, please try again later.",
    )


@pytest.mark.parametrize(
    "name",
    [
        "nonstream-basic.json",
        "nonstream-builtin-tools.json",
        "nonstream-thinking-default.json",
        "retrieve-response.json",
    ],
)
def test_no_failure_in_successful_examples(name: str) -> None:
    assert failure_of(load(name)) is None


def test_failure_of_a_failed_status_without_error_details() -> None:
    code, message = failure_of({"status": "failed", "error": None})
    assert code is None and "failed" in message


def test_failure_of_an_error_object_without_failed_status() -> None:
    assert failure_of({"status": "completed", "error": {"code": "InvalidParameter", "message": "bad"}}) == (
        "InvalidParameter",
        "bad",
    )
    assert failure_of({"error": {"message": "gone", "type": "InvalidParameter"}}) == ("InvalidParameter", "gone")
    assert failure_of(load("error-not-found-nested.json")) == (
        "InvalidParameter",
        "Response with id 'resp_xxx' not found.",
    )


def test_no_failure_for_null_or_empty_error() -> None:
    assert failure_of({"status": "completed", "error": None}) is None
    assert failure_of({"status": "completed", "error": {}}) is None


# is_rate_limited


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("server_error", "Operation model request rate limit exceeded, please try again later."),
        ("Throttling", "Requests throttling triggered."),
        ("Throttling.RateQuota", "Requests rate limit exceeded, please try again later."),
        ("LimitRequests", "You have exceeded your request limit."),
        ("limit_requests", "You have exceeded your request limit."),
        ("Throttling.BurstRate", "Request rate increased too quickly, please slow down."),
        ("limit_burst_rate", "Request rate increased too quickly, please slow down."),
        (None, "rate limit exceeded"),
        ("rate_limit_exceeded", ""),
        ("Throttling.User", "Slow down."),
    ],
)
def test_rate_limits_that_a_retry_can_pass(code: str | None, message: str) -> None:
    assert is_rate_limited(code, message) is True


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("insufficient_quota", "You exceeded your current quota, please check your plan and billing details."),
        ("Throttling.AllocationQuota", "Allocated quota exceeded, please increase your quota limit."),
        ("server_error", "Allocated quota exceeded, please increase your quota limit."),
        ("Throttling", "You exceeded your current quota: rate limit applies after billing is fixed."),
        ("server_error", "Internal server error"),
        ("InvalidParameter", "Unsupported model: '__nope__'"),
        ("Arrearage", "Access denied, please make sure your account is in good standing."),
        (None, ""),
    ],
)
def test_not_rate_limits(code: str | None, message: str) -> None:
    assert is_rate_limited(code, message) is False


# incomplete_reason and function_calls


def test_incomplete_reason() -> None:
    assert (
        incomplete_reason({"status": "incomplete", "incomplete_details": {"reason": "max_output_tokens"}})
        == "max_output_tokens"
    )
    assert incomplete_reason({"status": "incomplete", "incomplete_details": None}) == ""
    assert incomplete_reason({"status": "incomplete"}) == ""
    assert incomplete_reason({"status": "completed", "incomplete_details": {"reason": "max_output_tokens"}}) is None
    assert incomplete_reason(load("nonstream-basic.json")) is None


def test_function_calls_are_the_function_call_items_in_order() -> None:
    first = {"type": "function_call", "id": "msg_1", "call_id": "call_1", "name": "get_weather", "arguments": "{}"}
    second = {"type": "function_call", "id": "msg_2", "call_id": "call_2", "name": "get_time", "arguments": "{}"}
    response = {"output": [first, message("x"), {"type": "mcp_call", "name": "m"}, second]}
    assert function_calls(response) == [first, second]
    assert function_calls(load("nonstream-builtin-tools.json")) == []


# ResponseView: every reader at once, typed, for render and cli


def test_response_view_reads_a_completed_response_as_the_readers_do() -> None:
    response = load("nonstream-thinking-default.json")
    view = ResponseView.of(response)
    assert view.raw is response
    assert (view.id, view.status, view.model) == (response["id"], "completed", response["model"])
    assert (view.answer, view.reasoning) == (answer_text(response), reasoning_text(response))
    assert view.reasoning and view.usage == usage_of(response) and view.usage_object == response["usage"]
    assert (view.failure, view.incomplete_reason, view.function_calls) == (None, None, ())


def test_response_view_of_a_failed_response_says_why_and_whether_a_retry_may_pass() -> None:
    view = ResponseView.of(load("nonstream-failed-rate-limit-http200.json"))
    assert view.failure is not None and view.failure.rate_limited
    assert (view.failure.code, view.failure.message) == failure_of(view.raw)
    quota = ResponseView.of({"status": "failed", "error": {"code": "insufficient_quota", "message": "no quota"}})
    assert quota.failure == ResponseFailure("insufficient_quota", "no quota") and not quota.failure.rate_limited


def test_response_view_of_an_incomplete_response_with_calls() -> None:
    call = {"type": "function_call", "call_id": "c1", "name": "f", "arguments": "{}"}
    view = ResponseView.of(
        {
            "id": "resp_1",
            "status": "incomplete",
            "incomplete_details": {"reason": "max_output_tokens"},
            "output": [call],
        }
    )
    assert view.incomplete_reason == "max_output_tokens" and view.function_calls == (call,)


@pytest.mark.parametrize("response", ODD_SHAPES)
def test_response_view_of_odd_shapes_never_raises_and_reads_nothing_as_none(response: Any) -> None:
    view = ResponseView.of(response)
    assert view.id is None and view.model is None and view.usage_object is None
    assert view.raw == (response if isinstance(response, dict) else {})


def test_response_view_gives_empty_ids_as_none_and_other_values_as_text() -> None:
    assert ResponseView.of({"id": "", "model": None}).id is None
    assert ResponseView.of({"id": 7, "status": "queued"}).id == "7"
