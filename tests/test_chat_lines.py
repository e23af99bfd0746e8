"""Tests for qwen_cli.batch.chat_lines: Responses bodies (as build_request makes them) become the documented batch
lines exactly, and every field with no Chat Completions mapping is refused by name."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from qwen_cli.api.request import Attachment, RequestOptions, UserInput, build_request
from qwen_cli.batch.chat_lines import MAPPING, Unmappable, batch_url, chat_line, mapping_table
from qwen_cli.errors import ExitCode, UsageError
from qwen_cli.tools.catalogue import tool_choice

FIXTURES = Path(__file__).parent / "fixtures" / "batch"
BASE = "https://dashscope-intl.aliyuncs.com/compatible-mode/v1"
GET_TIME = {
    "type": "function",
    "name": "get_time",
    "description": "Get the current local time in a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}
SYSTEM = "You are a terse assistant. Use tools when they apply."


def documented(name: str) -> dict[str, dict[str, Any]]:
    lines = (FIXTURES / name).read_text(encoding="utf-8").splitlines()
    return {line["custom_id"]: line for line in map(json.loads, lines)}


def body(user_input: UserInput | str = "hi", **options: Any) -> dict[str, Any]:
    """The body `qwen ask` would send with these options."""
    options.setdefault("model", "qwen-plus")
    given = UserInput(prompt=user_input) if isinstance(user_input, str) else user_input
    request = build_request(BASE, "sk-test", RequestOptions(**options), given, stream=False)
    assert request.body is not None
    return request.body


def refused(request_body: dict[str, Any], item: str = "item-7") -> Unmappable:
    with pytest.raises(Unmappable) as caught:
        chat_line(item, request_body)
    assert caught.value.exit_code == ExitCode.USAGE
    assert f'item "{item}": ' in caught.value.message
    return caught.value


# --- the documented lines, made from what qwen sends -------------------------------------------------------------


def test_the_documented_plain_lines_come_out_exactly() -> None:
    expected = documented("input-chat.jsonl")

    assert chat_line("req-1", body("Hello!", instructions="You are a helpful assistant.")) == expected["req-1"]
    made = chat_line("req-2", body("What is 2+2?", think=False, temperature=0.7, top_p=0.8, max_output_tokens=1000))
    assert made == expected["req-2"]


def test_an_image_url_becomes_an_image_url_part_before_the_prompt_as_documented() -> None:
    given = UserInput(prompt="What does this image show?", images=("https://example.com/image1.jpg",))

    assert chat_line("req-3", body(given, think=False)) == documented("input-chat.jsonl")["req-3"]


def test_the_documented_thinking_lines_come_out_exactly_with_thinking_budget_passed_through() -> None:
    expected = documented("input-thinking.jsonl")

    assert chat_line("request-1", body("你好", model="qwen3.5-plus", think=False)) == expected["request-1"]
    thinking = body("请分析以下问题", model="qwen3.5-plus", think=True, extra={"thinking_budget": 50})
    assert chat_line("request-2", thinking) == expected["request-2"]


def test_the_documented_tool_lines_come_out_exactly_from_function_tools_and_tool_history() -> None:
    expected = documented("input-tools.jsonl")
    options = {"model": "qwen3.7-max", "think": False, "temperature": 0, "instructions": SYSTEM, "tools": (GET_TIME,)}
    assert chat_line("L1-call", body("北京现在几点？", tool_choice="auto", **options)) == expected["L1-call"]

    history = (
        {"role": "user", "content": "北京现在几点？"},
        {"type": "function_call", "call_id": "call_1", "name": "get_time", "arguments": '{"city":"北京"}'},
        {"type": "function_call_output", "call_id": "call_1", "output": '{"time":"10:30"}'},
    )
    assert chat_line("L2-history", body(UserInput(messages=history), **options)) == expected["L2-history"]


def test_the_test_model_goes_to_the_test_url_as_documented() -> None:
    expected = documented("input-test-model.jsonl")
    made = chat_line(
        "1",
        body(
            "Hello! How can I help you?",
            model="batch-test-model",
            instructions=expected["1"]["body"]["messages"][0]["content"],
        ),
    )

    assert made == expected["1"]
    assert (batch_url("batch-test-model"), batch_url("qwen-plus")) == ("/v1/chat/ds-test", "/v1/chat/completions")


# --- the decisions -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("model", ["qwen3.8-max", "qwen3.5-plus-2026-04-20", "qwen3.7-plus"])
def test_a_model_that_thinks_by_default_says_so_on_every_line(model: str) -> None:
    assert chat_line("a", body(model=model))["body"]["enable_thinking"] is True


@pytest.mark.parametrize("model", ["qwen-plus", "qwen3.7-max", "deepseek-v4-pro", "qwen3.5-plusx"])
def test_other_models_keep_their_own_default(model: str) -> None:
    assert "enable_thinking" not in chat_line("a", body(model=model))["body"]


def test_effort_none_turns_thinking_off_and_contradicting_it_is_refused() -> None:
    assert chat_line("a", body(model="qwen3.8-max", effort="none"))["body"]["enable_thinking"] is False
    assert chat_line("a", body(model="qwen3.8-max", effort="none", think=False))["body"]["enable_thinking"] is False

    with pytest.raises(UsageError, match="enable_thinking true and reasoning.effort 'none' contradict"):
        chat_line("a", body(model="qwen3.8-max", effort="none", think=True))


def test_store_and_stream_are_dropped_and_max_output_tokens_becomes_max_tokens() -> None:
    request_body = {**body(store=False, max_output_tokens=64), "stream": False}

    made = chat_line("a", request_body)["body"]
    assert made == {"model": "qwen-plus", "max_tokens": 64, "messages": [{"role": "user", "content": "hi"}]}


def test_attached_files_are_text_parts_and_images_image_parts_in_order() -> None:
    given = UserInput(prompt="compare", attachments=(Attachment("a.txt", "alpha"),), images=("https://x.test/1.png",))

    content = chat_line("a", body(given))["body"]["messages"][0]["content"]
    assert content == [
        {"type": "text", "text": '<document name="a.txt">\nalpha\n</document>'},
        {"type": "image_url", "image_url": {"url": "https://x.test/1.png"}},
        {"type": "text", "text": "compare"},
    ]


def test_assistant_and_system_parts_become_one_string_and_parallel_calls_share_one_turn() -> None:
    messages = (
        {"role": "system", "content": [{"type": "input_text", "text": "a"}, {"type": "input_text", "text": "b"}]},
        {"role": "user", "content": "q"},
        {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "Let me look."}]},
        {"type": "function_call", "call_id": "c1", "name": "f", "arguments": "{}"},
        {"type": "function_call", "call_id": "c2", "name": "g", "arguments": "{}"},
        {"type": "function_call_output", "call_id": "c1", "output": "1"},
        {"type": "function_call_output", "call_id": "c2", "output": "2"},
    )

    made = chat_line("a", body(UserInput(messages=messages)))["body"]["messages"]
    assert made == [
        {"role": "system", "content": "a\n\nb"},
        {"role": "user", "content": "q"},
        {
            "role": "assistant",
            "content": "Let me look.",
            "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}},
                {"id": "c2", "type": "function", "function": {"name": "g", "arguments": "{}"}},
            ],
        },
        {"role": "tool", "tool_call_id": "c1", "content": "1"},
        {"role": "tool", "tool_call_id": "c2", "content": "2"},
    ]


def test_a_named_function_choice_becomes_the_chat_forced_function() -> None:
    choice = tool_choice("get_time", [GET_TIME])  # what --tool-choice get_time sends
    expected = {"type": "function", "function": {"name": "get_time"}}

    assert chat_line("a", body(tools=(GET_TIME,), tool_choice=choice))["body"]["tool_choice"] == expected
    plain = {"type": "function", "name": "get_time"}
    assert chat_line("a", body(tools=(GET_TIME,), tool_choice=plain))["body"]["tool_choice"] == expected
    assert chat_line("a", body(tools=(GET_TIME,), tool_choice="none"))["body"]["tool_choice"] == "none"


def test_json_object_format_becomes_response_format_and_plain_text_needs_nothing() -> None:
    made = chat_line("a", body(extra={"text": {"format": {"type": "json_object"}}}))["body"]
    assert made["response_format"] == {"type": "json_object"}
    assert "response_format" not in chat_line("a", body(extra={"text": {"format": {"type": "text"}}}))["body"]


def test_other_fields_and_parallel_tool_calls_are_copied_as_they_are() -> None:
    extra = {"seed": 7, "top_k": 20, "parallel_tool_calls": True, "enable_search": False}

    made = chat_line("a", body(extra=extra))["body"]
    assert {key: made[key] for key in extra} == extra


def test_the_session_cache_header_is_refused_only_when_it_enables_the_cache() -> None:
    request = build_request(
        BASE, "sk-test", RequestOptions(model="qwen-plus", session_cache=True), UserInput("hi"), False
    )
    assert request.body is not None
    with pytest.raises(Unmappable, match="the session cache"):
        chat_line("a", request.body, request.headers)
    assert chat_line("a", request.body, {"x-dashscope-session-cache": "disable"})["body"]["model"] == "qwen-plus"


# --- refusals, each naming its field -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["web_search", "web_extractor", "code_interpreter", "file_search", "web_search_image", "image_search", "mcp"],
)
def test_a_built_in_tool_is_refused_by_name(name: str) -> None:
    error = refused(body(tools=(GET_TIME, {"type": name})))
    assert f"built-in tool {name} has no Chat Completions mapping; use qwen batch run" in error.message


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"previous_response_id": "resp_1"}, "previous_response_id"),
        ({"conversation": "conv_1"}, "conversation"),
        ({"extra": {"background": True}}, "background"),
        ({"extra": {"include": ["reasoning.encrypted_content"]}}, "include"),
        (
            {"extra": {"text": {"format": {"type": "json_schema", "name": "x", "schema": {}}}}},
            "text.format 'json_schema'",
        ),
        ({"extra": {"text": {"verbosity": "low"}}}, "text.verbosity"),
        ({"effort": "high"}, "reasoning.effort 'high'"),
        ({"extra": {"reasoning": {"summary": "auto"}}}, "reasoning.summary"),
        ({"tools": (GET_TIME,), "tool_choice": "required"}, "tool_choice required"),
        ({"extra": {"tools": [{**GET_TIME, "strict": True}]}}, "tools[0].strict"),
    ],
)
def test_a_field_with_no_mapping_is_refused_by_name(options: dict[str, Any], field: str) -> None:
    error = refused(body(**options))
    assert error.message.startswith(f'item "item-7": {field} ')


def test_allowed_tools_other_than_one_forced_function_are_refused() -> None:
    choice = {"type": "allowed_tools", "mode": "auto", "tools": [{"type": "function", "name": "get_time"}]}
    assert "tool_choice {" in refused(body(tools=(GET_TIME,), tool_choice=choice)).message


@pytest.mark.parametrize(
    ("part", "field"),
    [
        ({"type": "input_file", "file_id": "file-1"}, "input[0].content[0] of type input_file"),
        ({"type": "input_image", "image_url": "data:image/png;base64,AAAA"}, "input[0].content[0] (an image not"),
        ({"type": "input_image", "file_id": "file-1"}, "input[0].content[0] (an image not"),
    ],
)
def test_a_part_with_no_mapping_is_refused_by_its_place(part: dict[str, Any], field: str) -> None:
    error = refused(body(UserInput(messages=({"role": "user", "content": [part]},))))
    assert f'item "item-7": {field}' in error.message


def test_an_inline_image_from_a_local_file_is_refused_with_advice() -> None:
    given = UserInput(prompt="what is it", images=("data:image/png;base64,iVBORw0KGgo=",))
    assert "host the image, or use qwen batch run" in refused(body(given)).message


@pytest.mark.parametrize(
    ("entry", "field"),
    [
        ({"role": "developer", "content": "x"}, "input[0].role 'developer'"),
        ({"type": "reasoning", "summary": []}, "input[0] of type reasoning"),
        ({"type": "web_search_call", "id": "ws_1"}, "input[0] of type web_search_call"),
        ({"type": "function_call_output", "call_id": "c", "output": [{"type": "input_image"}]}, "input[0].output"),
        (
            {"role": "assistant", "content": [{"type": "input_image", "image_url": "https://x.test/a.png"}]},
            "input[0] is",
        ),
    ],
)
def test_an_input_item_with_no_mapping_is_refused_by_its_place(entry: dict[str, Any], field: str) -> None:
    error = refused(body(UserInput(messages=(entry,))))
    assert error.message.startswith(f'item "item-7": {field}')


def test_the_mapping_table_is_markdown_with_one_row_per_entry() -> None:
    table = mapping_table().splitlines()

    assert table[:2] == ["| Responses request | Chat Completions batch line |", "|---|---|"]
    assert len(table) == 2 + len(MAPPING)
    assert any("`max_tokens`" in row for row in table)
