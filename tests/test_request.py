"""Tests for qwen_cli.api.request: the exact bodies and headers each option produces, ranges, --extra and redaction."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from qwen_cli import __version__
from qwen_cli.api.request import (
    EFFORTS,
    Attachment,
    PreparedRequest,
    RequestOptions,
    UserInput,
    build_request,
    parse_extra,
)
from qwen_cli.errors import ExitCode, UsageError

FIXTURES = Path(__file__).parent / "fixtures"
BASE = "https://dashscope-intl.aliyuncs.com/compatible-mode/v1"
KEY = "sk-secret-0123456789"


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def prepare(
    prompt: str = "hi", stream: bool = False, user_input: UserInput | None = None, **options: Any
) -> PreparedRequest:
    options.setdefault("model", "qwen-plus")
    return build_request(BASE, KEY, RequestOptions(**options), user_input or UserInput(prompt=prompt), stream)


def usage_error(**options: Any) -> UsageError:
    with pytest.raises(UsageError) as caught:
        prepare(**options)
    assert caught.value.exit_code == ExitCode.USAGE
    return caught.value


# --- the request as a whole ---------------------------------------------------------------------------------


def test_a_bare_prompt_is_posted_as_a_string_with_only_model_and_input() -> None:
    request = prepare("hello there")

    assert (request.method, request.url, request.stream) == ("POST", f"{BASE}/responses", False)
    assert request.body == {"model": "qwen-plus", "input": "hello there"}
    assert request.headers == {
        "Authorization": f"Bearer {KEY}",
        "Content-Type": "application/json",
        "Accept": "application/json",
        "User-Agent": f"qwen-cli/{__version__}",
    }


def test_a_stream_request_asks_for_events_and_sets_stream_true() -> None:
    request = build_request(
        BASE, KEY, RequestOptions(model="qwen3.8-max"), UserInput(prompt="请简单介绍一下人工智能。"), stream=True
    )

    assert request.body == fixture("request-stream.json")
    assert request.stream is True
    assert request.headers["Accept"] == "text/event-stream"


def test_the_documented_basic_request_is_reproduced_exactly() -> None:
    request = build_request(BASE, KEY, RequestOptions(model="qwen3.8-max"), UserInput(prompt="你能做些什么？"), False)

    assert request.body == fixture("request-basic.json")


def test_the_documented_second_turn_with_session_cache_is_reproduced_exactly() -> None:
    options = RequestOptions(model="qwen3.8-max", previous_response_id="第一轮返回的响应id", session_cache=True)
    request = build_request(BASE, KEY, options, UserInput(prompt="它和 GBDT 有什么主要区别？"), False)

    assert request.body == fixture("request-multiturn-second.json")
    assert request.headers["x-dashscope-session-cache"] == "enable"


def test_the_documented_deep_thinking_request_is_reproduced_exactly() -> None:
    request = build_request(
        BASE, KEY, RequestOptions(model="qwen3.8-max", effort="medium"), UserInput(prompt="9.9和9.11谁大？"), False
    )

    assert request.body == fixture("request-deep-thinking.json")


# --- each option, and only the options that were set --------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "sent"),
    [
        ({"instructions": "Answer in French."}, {"instructions": "Answer in French."}),
        ({"temperature": 0.0}, {"temperature": 0.0}),  # zero is a value, not "unset"
        ({"temperature": 1.5}, {"temperature": 1.5}),
        ({"top_p": 1.0}, {"top_p": 1.0}),
        ({"top_p": 0.3}, {"top_p": 0.3}),
        ({"think": True}, {"enable_thinking": True}),
        ({"think": False}, {"enable_thinking": False}),  # --no-think must be sent, not dropped
        ({"effort": "xhigh"}, {"reasoning": {"effort": "xhigh"}}),
        ({"max_output_tokens": 16}, {"max_output_tokens": 16}),
        ({"store": False}, {"store": False}),
        ({"store": True}, {"store": True}),
        ({"conversation": "conv_abc"}, {"conversation": "conv_abc"}),
        ({"previous_response_id": "resp_123"}, {"previous_response_id": "resp_123"}),
        ({"model": "qwen3.7-max"}, {"model": "qwen3.7-max"}),
    ],
)
def test_each_option_sends_exactly_its_parameter(options: dict[str, Any], sent: dict[str, Any]) -> None:
    request = prepare("hi", **options)

    assert request.body == {"model": "qwen-plus", "input": "hi", **sent}
    assert "x-dashscope-session-cache" not in request.headers


def test_every_option_together_gives_the_full_body() -> None:
    request = prepare(
        "hi",
        stream=True,
        model="qwen3.8-max",
        instructions="Be brief.",
        temperature=0.7,
        think=True,
        effort="low",
        max_output_tokens=512,
        store=False,
        conversation="conv_1",
    )

    assert request.body == {
        "model": "qwen3.8-max",
        "input": "hi",
        "instructions": "Be brief.",
        "temperature": 0.7,
        "enable_thinking": True,
        "reasoning": {"effort": "low"},
        "max_output_tokens": 512,
        "store": False,
        "conversation": "conv_1",
        "stream": True,
    }


@pytest.mark.parametrize(("session_cache", "header"), [(True, "enable"), (False, "disable")])
def test_session_cache_is_a_header_and_never_a_body_field(session_cache: bool, header: str) -> None:
    request = prepare("hi", session_cache=session_cache)

    assert request.headers["x-dashscope-session-cache"] == header
    assert request.body == {"model": "qwen-plus", "input": "hi"}


@pytest.mark.parametrize("effort", EFFORTS)
def test_every_documented_effort_level_is_accepted(effort: str) -> None:
    assert prepare(effort=effort).body["reasoning"] == {"effort": effort}


def test_the_documented_effort_levels_are_exactly_seven() -> None:
    assert EFFORTS == ("none", "minimal", "low", "medium", "high", "xhigh", "max")


# --- ranges: usage errors before any network ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"temperature": 2.0}, "--temperature must be in [0, 2), got 2"),
        ({"temperature": -0.1}, "--temperature must be in [0, 2), got -0.1"),
        ({"temperature": math.nan}, "--temperature must be in [0, 2), got nan"),
        ({"top_p": 0.0}, "--top-p must be in (0, 1], got 0"),
        ({"top_p": 1.01}, "--top-p must be in (0, 1], got 1.01"),
        ({"top_p": -1.0}, "--top-p must be in (0, 1], got -1"),
        ({"max_output_tokens": 15}, "--max-output-tokens must be at least 16, got 15"),
        ({"max_output_tokens": 0}, "--max-output-tokens must be at least 16, got 0"),
        ({"effort": "extreme"}, "--effort must be one of none, minimal, low, medium, high, xhigh, max, got 'extreme'"),
        (
            {"conversation": "conv_1", "previous_response_id": "resp_1"},
            "--conversation and --previous cannot be used together: a turn continues one or the other",
        ),
    ],
)
def test_values_out_of_range_are_usage_errors_that_say_the_range(options: dict[str, Any], message: str) -> None:
    assert usage_error(**options).message == message


@pytest.mark.parametrize(
    "options",
    [{"temperature": 0.0}, {"temperature": 1.999}, {"top_p": 1e-9}, {"top_p": 1.0}, {"max_output_tokens": 16}],
)
def test_the_edges_of_each_range_are_accepted(options: dict[str, Any]) -> None:
    assert prepare(**options).body.items() >= options.items()


@pytest.mark.parametrize("prompt", ["", "  \n\t"])
def test_nothing_to_send_is_a_usage_error(prompt: str) -> None:
    assert usage_error(prompt=prompt).message.startswith("nothing to send:")


# --- --extra -----------------------------------------------------------------------------------------------


def test_extra_is_parsed_as_a_json_object() -> None:
    assert parse_extra('{"ocr_options": {"task": "document_parsing"}, "n": 1}') == {
        "ocr_options": {"task": "document_parsing"},
        "n": 1,
    }


def test_extra_that_is_not_json_is_a_usage_error_with_the_column() -> None:
    with pytest.raises(UsageError) as caught:
        parse_extra('{"a": }')
    assert caught.value.message == (
        "--extra is not valid JSON (Expecting value at column 7); pass an object like '{\"key\": 1}'"
    )


@pytest.mark.parametrize("text", ["[1, 2]", '"text"', "3", "null"])
def test_extra_that_is_not_an_object_is_a_usage_error(text: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse_extra(text)
    assert caught.value.message == "--extra must be a JSON object, like '{\"key\": 1}'"


def test_extra_is_deep_merged_so_nested_options_survive() -> None:
    request = prepare("hi", effort="high", extra={"reasoning": {"summary": "auto"}, "metadata": {"a": "1"}})

    assert request.body == {
        "model": "qwen-plus",
        "input": "hi",
        "reasoning": {"effort": "high", "summary": "auto"},
        "metadata": {"a": "1"},
    }


def test_extra_overrides_scalars_and_replaces_lists_and_non_objects() -> None:
    request = prepare(
        "hi",
        temperature=0.5,
        extra={"temperature": 0.9, "input": [{"role": "user", "content": "x"}], "tools": [{"type": "web_search"}]},
    )

    assert request.body == {
        "model": "qwen-plus",
        "input": [{"role": "user", "content": "x"}],
        "temperature": 0.9,
        "tools": [{"type": "web_search"}],
    }


def test_extra_reproduces_the_documented_built_in_tools_request() -> None:
    extra = {"tools": [{"type": "web_search"}, {"type": "code_interpreter"}, {"type": "web_extractor"}]}
    options = RequestOptions(model="qwen3.8-max", effort="medium", extra=extra)
    request = build_request(BASE, KEY, options, UserInput(prompt="帮我搜索一下今天杭州的天气"), False)

    assert request.body == fixture("request-reasoning-builtin-tools.json")


def test_the_merge_leaves_the_extra_it_was_given_untouched() -> None:
    extra = {"reasoning": {"summary": "auto"}}
    prepare("hi", effort="high", extra=extra)

    assert extra == {"reasoning": {"summary": "auto"}}


# --- attachments, images, messages -------------------------------------------------------------------------


def test_attachments_come_first_each_in_its_own_named_part_and_the_prompt_last() -> None:
    user_input = UserInput(
        prompt="Compare them.",
        attachments=(Attachment("notes.txt", "first file\n\n"), Attachment("src/main.py", "print(1)")),
    )

    assert prepare(user_input=user_input).body["input"] == [
        {
            "role": "user",
            "content": [
                {"type": "input_text", "text": '<document name="notes.txt">\nfirst file\n</document>'},
                {"type": "input_text", "text": '<document name="src/main.py">\nprint(1)\n</document>'},
                {"type": "input_text", "text": "Compare them."},
            ],
        }
    ]


def test_a_quote_in_a_file_name_cannot_break_the_document_tag() -> None:
    user_input = UserInput(prompt="p", attachments=(Attachment('a"b.txt', "x"),))

    part = prepare(user_input=user_input).body["input"][0]["content"][0]
    assert part == {"type": "input_text", "text": '<document name="a\'b.txt">\nx\n</document>'}


def test_images_follow_the_attachments_and_precede_the_prompt() -> None:
    user_input = UserInput(
        prompt="What is in the picture?",
        attachments=(Attachment("stdin", "context"),),
        images=("https://example.com/cat.png", "data:image/png;base64,iVBORw0KGgo="),
    )

    assert prepare(user_input=user_input).body["input"] == [
        {
            "role": "user",
            "content": [
                {"type": "input_text", "text": '<document name="stdin">\ncontext\n</document>'},
                {"type": "input_image", "image_url": "https://example.com/cat.png"},
                {"type": "input_image", "image_url": "data:image/png;base64,iVBORw0KGgo="},
                {"type": "input_text", "text": "What is in the picture?"},
            ],
        }
    ]


def test_an_image_alone_is_sent_without_an_empty_text_part() -> None:
    user_input = UserInput(images=("https://example.com/cat.png",))

    assert prepare(user_input=user_input).body["input"] == [
        {"role": "user", "content": [{"type": "input_image", "image_url": "https://example.com/cat.png"}]}
    ]


MESSAGES = ({"role": "system", "content": "Be terse."}, {"role": "user", "content": "hi"})


def test_messages_alone_are_sent_as_the_input_array_unchanged() -> None:
    assert prepare(user_input=UserInput(messages=MESSAGES)).body["input"] == list(MESSAGES)


def test_a_prompt_after_messages_becomes_the_last_user_message() -> None:
    body = prepare(user_input=UserInput(prompt="and then?", messages=MESSAGES)).body

    assert body["input"] == [*MESSAGES, {"role": "user", "content": "and then?"}]


def test_attachments_after_messages_become_one_last_user_message_with_parts() -> None:
    user_input = UserInput(prompt="Read it.", attachments=(Attachment("a.txt", "A"),), messages=MESSAGES)

    assert prepare(user_input=user_input).body["input"] == [
        *MESSAGES,
        {
            "role": "user",
            "content": [
                {"type": "input_text", "text": '<document name="a.txt">\nA\n</document>'},
                {"type": "input_text", "text": "Read it."},
            ],
        },
    ]


def test_messages_with_extra_reproduce_the_documented_ocr_request() -> None:
    expected = fixture("request-ocr-input-file.json")
    options = RequestOptions(model="qwen3.5-ocr", extra={"ocr_options": {"task": "document_parsing"}})
    request = build_request(BASE, KEY, options, UserInput(messages=tuple(expected["input"])), False)

    assert request.body == expected


# --- redaction -----------------------------------------------------------------------------------------------


def test_redacted_hides_the_key_but_the_request_still_carries_it() -> None:
    request = prepare("hi", session_cache=True)
    shown = request.redacted()

    assert shown == {
        "method": "POST",
        "url": f"{BASE}/responses",
        "headers": {
            "Authorization": "Bearer [redacted]",
            "Content-Type": "application/json",
            "Accept": "application/json",
            "User-Agent": f"qwen-cli/{__version__}",
            "x-dashscope-session-cache": "enable",
        },
        "body": {"model": "qwen-plus", "input": "hi"},
    }
    assert request.headers["Authorization"] == f"Bearer {KEY}"
    assert KEY not in repr(request)


def test_redacted_hides_the_key_inside_the_body_too() -> None:
    # The documented MCP tool passes the same DashScope key in its headers: --dry-run must not print it.
    tool = {"type": "mcp", "server_label": "amap-maps", "headers": {"Authorization": f"Bearer {KEY}"}}
    request = prepare("hi", extra={"tools": [tool]})

    shown = json.dumps(request.redacted())
    assert KEY not in shown
    assert request.redacted()["body"]["tools"][0]["headers"] == {"Authorization": "Bearer [redacted]"}
    assert request.body["tools"][0]["headers"]["Authorization"] == f"Bearer {KEY}"


def test_without_a_key_nothing_is_redacted_and_no_bogus_bearer_is_built() -> None:
    request = build_request(BASE, None, RequestOptions(model="qwen-plus"), UserInput(prompt="hi"), False)

    assert not request.secrets
    assert "Authorization" not in request.headers
    assert "Authorization" not in request.redacted()["headers"]


def test_an_api_path_is_built_from_id_like_segments_only() -> None:
    from qwen_cli.api.request import api_path

    assert api_path("responses", "resp_4ca7fa5e-6ff5", "input_items") == "responses/resp_4ca7fa5e-6ff5/input_items"
    for bad in (".", "..", "a/b", "a?b", "a#b", "a%2F", "", "é"):
        with pytest.raises(UsageError, match="is not an id: an id is letters, digits"):
            api_path("responses", bad)
