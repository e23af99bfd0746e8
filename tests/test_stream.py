"""Tests for qwen_cli.api.sse: SSE framing, event decoding and the accumulator, driven by the reference streams."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest

from qwen_cli.api.responses import answer_text, failure_of, incomplete_reason, reasoning_text, usage_of
from qwen_cli.api.sse import TERMINAL_EVENTS, Delta, SSEMessage, StreamAccumulator, iter_events, iter_sse

FIXTURES = Path(__file__).parent / "fixtures"
SSE_FIXTURE = (FIXTURES / "stream-web-extractor.sse").read_bytes()
ELISION = "... (省略中间事件) ..."


def jsonl_events() -> list[dict[str, Any]]:
    """The events of stream-basic-events.jsonl, without the documentation's elision line."""
    lines = (FIXTURES / "stream-basic-events.jsonl").read_text(encoding="utf-8").splitlines()
    assert ELISION in lines  # the fixture is what we think it is
    return [json.loads(line) for line in lines if line.strip() and line != ELISION]


def dashscope_sse(events: list[dict[str, Any]], newline: str = "\n") -> bytes:
    nl = newline
    blocks = [
        f"id:{n}{nl}event:{e['type']}{nl}:HTTP_STATUS/200{nl}data:{json.dumps(e, ensure_ascii=False)}{nl}{nl}"
        for n, e in enumerate(events, 1)
    ]
    return "".join(blocks).encode()


def openai_sse(events: list[dict[str, Any]], newline: str = "\n") -> bytes:
    blocks = [f"event: {e['type']}{newline}data: {json.dumps(e)}{newline}{newline}" for e in events]
    return ("".join(blocks) + f"data: [DONE]{newline}{newline}").encode()


def byte_by_byte(raw: bytes) -> list[bytes]:
    return [raw[i : i + 1] for i in range(len(raw))]


def random_chunks(raw: bytes, seed: int = 20240601) -> list[bytes]:
    rng = random.Random(seed)
    chunks, start = [], 0
    while start < len(raw):
        size = rng.randint(1, 64)
        chunks.append(raw[start : start + size])
        start += size
    return chunks


def decode(chunks: list[bytes]) -> list[SSEMessage]:
    return list(iter_sse(chunks))


def accumulate(events: list[dict[str, Any]]) -> tuple[StreamAccumulator, list[Delta]]:
    accumulator = StreamAccumulator()
    deltas = [delta for delta in map(accumulator.add, events) if delta is not None]
    return accumulator, deltas


# iter_sse on the raw DashScope example


def test_sse_fixture_decodes_every_event_and_ignores_comments() -> None:
    messages = decode([SSE_FIXTURE])
    assert len(messages) == 15
    assert messages[0].event == "response.created" and messages[0].id == "1"
    assert messages[-1].event == "response.completed" and messages[-1].id == "60"
    for message in messages:
        event = json.loads(message.data)
        assert event["type"] == message.event
        assert "HTTP_STATUS" not in message.data


@pytest.mark.parametrize("split", [byte_by_byte, random_chunks, lambda raw: [raw[:4096], raw[4096:]]])
def test_sse_fixture_decodes_the_same_however_it_is_chunked(split: Any) -> None:
    chunks = split(SSE_FIXTURE)
    assert len(chunks) > 1
    assert decode(chunks) == decode([SSE_FIXTURE])


# iter_sse on the JSONL example in both framings


@pytest.mark.parametrize("frame", [dashscope_sse, openai_sse])
@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_both_framings_and_all_line_endings_give_the_jsonl_events(frame: Any, newline: str) -> None:
    events = jsonl_events()
    raw = frame(events, newline)
    for chunks in ([raw], byte_by_byte(raw), random_chunks(raw)):
        assert list(iter_events(iter_sse(chunks))) == events


def test_dashscope_framing_keeps_event_names_and_ids() -> None:
    messages = decode(random_chunks(dashscope_sse(jsonl_events())))
    assert [m.id for m in messages] == [str(n) for n in range(1, len(messages) + 1)]
    assert [m.event for m in messages] == [e["type"] for e in jsonl_events()]


def test_openai_framing_ends_with_the_done_sentinel() -> None:
    messages = decode([openai_sse(jsonl_events())])
    assert messages[-1] == SSEMessage(None, "[DONE]", None)
    assert messages[0].event == "response.created"


# iter_sse framing details


def test_crlf_split_across_chunks_is_one_line_ending() -> None:
    assert decode([b"data:a\r", b"\ndata:b\r", b"\n\r", b"\n"]) == [SSEMessage(None, "a\nb", None)]


def test_cr_alone_ends_a_line() -> None:
    assert decode([b"event:x\rdata:1\r\rdata:2\r\r"]) == [SSEMessage("x", "1", None), SSEMessage(None, "2", None)]


def test_utf8_split_inside_a_character_at_every_position() -> None:
    raw = 'data:{"delta":"中文é🙂"}\n\n'.encode()
    for cut in range(len(raw)):
        for cut2 in range(cut, len(raw)):
            assert decode([raw[:cut], raw[cut:cut2], raw[cut2:]]) == [SSEMessage(None, '{"delta":"中文é🙂"}', None)]


def test_invalid_utf8_becomes_replacement_characters() -> None:
    assert decode([b"data:a\xff\xfeb\n\n", b"data:\xe4\xb8\n\n"]) == [
        SSEMessage(None, "a\ufffd\ufffdb", None),
        SSEMessage(None, "\ufffd", None),
    ]


def test_truncated_character_at_eof_becomes_a_replacement_character() -> None:
    assert decode([b"data:x\xe4\xb8"]) == [SSEMessage(None, "x\ufffd", None)]


def test_multiple_data_lines_join_with_newlines() -> None:
    assert decode([b'data:{\ndata: "a": 1\ndata:}\n\n']) == [SSEMessage(None, '{\n"a": 1\n}', None)]


def test_only_one_space_after_the_colon_is_dropped() -> None:
    assert decode([b"event:  x\ndata:  two\ndata:none\n\n"]) == [SSEMessage(" x", " two\nnone", None)]


def test_comments_retry_and_unknown_fields_are_ignored() -> None:
    raw = b":HTTP_STATUS/200\n: keep-alive\nretry: 3000\nfoo: bar\ndata:x\n:HTTP_STATUS/200\n\n"
    assert decode([raw]) == [SSEMessage(None, "x", None)]


def test_an_event_without_data_is_not_dispatched_but_resets_the_name() -> None:
    assert decode([b"event:ping\nid:7\n\ndata:x\n\n"]) == [SSEMessage(None, "x", "7")]


def test_empty_data_lines_still_dispatch() -> None:
    assert decode([b"data:\n\ndata\n\n"]) == [SSEMessage(None, "", None), SSEMessage(None, "", None)]


def test_the_last_event_id_carries_over_and_an_empty_id_clears_it() -> None:
    assert [m.id for m in decode([b"id:1\ndata:a\n\ndata:b\n\nid\ndata:c\n\nid:x\0y\ndata:d\n\n"])] == [
        "1",
        "1",
        None,
        None,
    ]


def test_unterminated_final_event_is_dispatched_only_with_data() -> None:
    assert decode([b'data:a\n\nevent:last\ndata:{"type":']) == [
        SSEMessage(None, "a", None),
        SSEMessage("last", '{"type":', None),
    ]
    assert decode([b"data:a\n\nevent:last\n"]) == [SSEMessage(None, "a", None)]
    assert decode([b"data:a\n\ndata:b\n"]) == [SSEMessage(None, "a", None), SSEMessage(None, "b", None)]


def test_a_byte_order_mark_is_ignored_only_at_the_start() -> None:
    assert decode([b"\xef\xbb", b"\xbfdata:\xef\xbb\xbfx\n\n"]) == [SSEMessage(None, "\ufeffx", None)]


def test_empty_input_and_empty_chunks() -> None:
    assert decode([]) == []
    assert decode([b"", b"data:x", b"", b"\n", b"", b"\n"]) == [SSEMessage(None, "x", None)]


def test_a_long_line_split_into_many_chunks() -> None:
    payload = "x" * 1_000_000
    raw = f"data:{payload}\n\n".encode()
    assert decode([raw[i : i + 4096] for i in range(0, len(raw), 4096)]) == [SSEMessage(None, payload, None)]


# iter_events


def test_done_sentinel_and_keep_alives_are_skipped_silently() -> None:
    reports: list[str] = []
    messages = [
        SSEMessage(None, "[DONE]", None),
        SSEMessage(None, "", None),
        SSEMessage(None, " [DONE] ", None),
        SSEMessage(None, '{"type":"x"}', None),
    ]
    assert list(iter_events(messages, reports.append)) == [{"type": "x"}]
    assert reports == []


def test_malformed_data_is_reported_and_the_stream_goes_on() -> None:
    reports: list[str] = []
    raw = b'data:{"type":"a"}\n\ndata:{"type":\n\ndata:[1, 2]\n\ndata:"text"\n\ndata:{"type":"b"}\n\n'
    assert [e["type"] for e in iter_events(iter_sse([raw]), reports.append)] == ["a", "b"]
    assert len(reports) == 3
    assert "invalid JSON" in reports[0] and '{"type":' in reports[0]
    assert "list" in reports[1] and "str" in reports[2]


def test_malformed_data_without_a_reporter_is_skipped() -> None:
    assert list(iter_events([SSEMessage(None, "{oops", None), SSEMessage(None, '{"type":"a"}', None)])) == [
        {"type": "a"}
    ]


def test_the_sse_event_name_supplies_a_missing_type() -> None:
    messages = [
        SSEMessage("response.created", '{"response":{}}', "1"),
        SSEMessage("ignored", '{"type":"real"}', "2"),
        SSEMessage(None, '{"a":1}', "3"),
    ]
    assert list(iter_events(messages)) == [{"response": {}, "type": "response.created"}, {"type": "real"}, {"a": 1}]


# StreamAccumulator on the reference streams


def sse_fixture_accumulator() -> tuple[StreamAccumulator, list[Delta]]:
    return accumulate(list(iter_events(iter_sse(random_chunks(SSE_FIXTURE)))))


def test_terminal_event_without_output_is_filled_from_the_stream() -> None:
    accumulator, deltas = sse_fixture_accumulator()
    final = accumulator.final_response()
    assert accumulator.terminal_type == "response.completed"
    assert TERMINAL_EVENTS == {"response.completed", "response.incomplete", "response.failed"}
    assert [item["type"] for item in final["output"]] == [
        "reasoning",
        "web_search_call",
        "web_extractor_call",
        "message",
    ]
    assert final["output"][-1]["id"] == "msg_final"
    assert accumulator.text == "我已经找到阿里云官网并提取了首页的关键信息：\n\n" == answer_text(final)
    assert accumulator.unshown_tail() == ""
    assert final["status"] == "completed" and final["id"] == "863df8d9-cb29-4239-a54f-3e15a2427xxx"
    assert usage_of(final).total_tokens == 365


def test_sse_fixture_reasoning_and_bookkeeping() -> None:
    accumulator, deltas = sse_fixture_accumulator()
    assert [d.kind for d in deltas] == ["reasoning", "text"]
    assert accumulator.reasoning.startswith("用户想要我：\n1. 搜索阿里云官网")
    assert reasoning_text(accumulator.final_response()).startswith(accumulator.reasoning[:10])
    assert accumulator.event_count == 15
    assert accumulator.response_id == "863df8d9-cb29-4239-a54f-3e15a2427xxx"
    assert accumulator.response["status"] == "completed"  # the terminal snapshot replaced in_progress
    # The reasoning item is done at index 1, like the search call: it still comes first, where it was added.
    assert [item["type"] for item in accumulator.items] == ["reasoning", "web_search_call", "web_extractor_call"]


def test_jsonl_stream_final_response_is_the_terminal_one() -> None:
    events = jsonl_events()
    accumulator, deltas = accumulate(events)
    final = accumulator.final_response()
    assert final["output"] == events[-1]["response"]["output"]
    assert final["model"] == "qwen3.7-plus"
    assert accumulator.text == "".join(e["delta"] for e in events if e["type"] == "response.output_text.delta")
    assert [d.text for d in deltas][:2] == ["人工智能", "（Art"]
    assert accumulator.items == [events[-2]["item"]]
    # The doc trimmed the middle of the stream, so the shown text is no prefix of the answer: nothing to add.
    assert not answer_text(final).startswith(accumulator.text)
    assert accumulator.unshown_tail() == ""


def test_snapshots_before_the_terminal_event() -> None:
    events = jsonl_events()
    accumulator = StreamAccumulator()
    accumulator.add(events[0])
    assert (
        accumulator.response["status"] == "queued" and accumulator.response_id == "47a71e7d-868c-4204-9693-ef8ff9058xxx"
    )
    accumulator.add(events[1])
    assert accumulator.response["status"] == "in_progress"
    assert (
        accumulator.terminal_type is None and accumulator.final_response() is None and accumulator.unshown_tail() == ""
    )


# StreamAccumulator on synthetic streams


def delta(
    text: str, item_id: str | None, index: int, kind: str = "response.output_text.delta", **extra: Any
) -> dict[str, Any]:
    event = {"type": kind, "delta": text, "output_index": index, **extra}
    if item_id is not None:
        event["item_id"] = item_id
    return event


def completed(response: dict[str, Any]) -> dict[str, Any]:
    return {"type": "response.completed", "response": response}


def stream_of(response: dict[str, Any], piece: int = 3) -> list[dict[str, Any]]:
    """A consistent DashScope-like stream that ends in `response`."""
    created = {"id": response["id"], "status": "queued", "output": []}
    events: list[dict[str, Any]] = [{"type": "response.created", "response": created}]
    for index, item in enumerate(response["output"]):
        skeleton = {"id": item["id"], "type": item["type"]}
        events.append({"type": "response.output_item.added", "output_index": index, "item": skeleton})
        kind, parts = (
            ("response.reasoning_text.delta", item["summary"])
            if item["type"] == "reasoning"
            else ("response.output_text.delta", item["content"])
        )
        text = "".join(part["text"] for part in parts)
        events += [delta(text[i : i + piece], item["id"], index, kind) for i in range(0, len(text), piece)]
        events.append({"type": "response.output_item.done", "output_index": index, "item": item})
    return events + [completed(response)]


def test_streamed_text_and_reasoning_equal_the_final_response() -> None:
    response = json.loads((FIXTURES / "nonstream-thinking-default.json").read_text(encoding="utf-8"))
    accumulator, deltas = accumulate(stream_of(response))
    final = accumulator.final_response()
    assert final == response | {"status": "completed"}
    assert accumulator.text == answer_text(final) == "".join(d.text for d in deltas if d.kind == "text")
    assert accumulator.reasoning == reasoning_text(final) == "".join(d.text for d in deltas if d.kind == "reasoning")
    assert accumulator.unshown_tail() == ""


def test_separator_between_items_makes_streamed_text_match_answer_text() -> None:
    response = {
        "id": "r",
        "status": "completed",
        "output": [
            {"id": "m1", "type": "message", "content": [{"type": "output_text", "text": "First answer."}]},
            {"id": "m2", "type": "message", "content": [{"type": "output_text", "text": "Second."}]},
        ],
    }
    accumulator, deltas = accumulate(stream_of(response, piece=5))
    assert Delta("text", "\n\nSecon") in deltas
    assert accumulator.text == answer_text(response) == "First answer.\n\nSecond."


def test_separators_fall_back_to_output_index_without_item_id() -> None:
    accumulator, deltas = accumulate(
        [delta("a", None, 0), delta("b", None, 0), delta("c", None, 1), delta("d", None, 1)]
    )
    assert [d.text for d in deltas] == ["a", "b", "\n\nc", "d"]


def test_item_id_decides_over_output_index_when_both_are_present() -> None:
    accumulator, deltas = accumulate([delta("a", "m1", 0), delta("b", "m1", 3), delta("c", "m2", 3)])
    assert accumulator.text == "ab\n\nc"


def test_reasoning_separators_and_openai_summary_deltas() -> None:
    events = [
        delta("think", "r1", 0, "response.reasoning_text.delta"),
        delta("ing", "r1", 0, "response.reasoning_text.delta"),
        delta("more", "r2", 2, "response.reasoning_summary_text.delta", summary_index=0),
        delta("part two", "r2", 2, "response.reasoning_summary_text.delta", summary_index=1),
        delta("answer", "m1", 3),
    ]
    accumulator, deltas = accumulate(events)
    assert deltas == [
        Delta("reasoning", "think"),
        Delta("reasoning", "ing"),
        Delta("reasoning", "\n\nmore"),
        Delta("reasoning", "\n\npart two"),
        Delta("text", "answer"),
    ]
    assert accumulator.reasoning == "thinking\n\nmore\n\npart two"
    assert accumulator.text == "answer"


def test_empty_and_missing_deltas_show_nothing_and_open_no_item() -> None:
    events = [delta("a", "m1", 0), delta("", "m2", 1), {"type": "response.output_text.delta"}, delta("b", "m1", 0)]
    accumulator, deltas = accumulate(events)
    assert deltas == [Delta("text", "a"), Delta("text", "b")]
    assert accumulator.event_count == 4


def test_terminal_without_output_and_without_items_builds_a_message() -> None:
    events = [
        {"type": "response.created", "response": {"id": "resp_1", "model": "qwen-plus", "output": []}},
        delta("Hel", "m1", 0),
        delta("lo", "m1", 0),
        delta("reason", "r", 1, "response.reasoning_text.delta"),
        completed({"id": "resp_1", "usage": {"input_tokens": 1, "output_tokens": 2}}),
    ]
    final = accumulate(events)[0].final_response()
    assert answer_text(final) == "Hello" and reasoning_text(final) == "reason"
    assert final["output"][-1]["id"] == "m1"
    assert final["model"] == "qwen-plus" and final["status"] == "completed"
    assert usage_of(final).total_tokens == 3


def test_an_unfinished_message_after_a_finished_one_is_rebuilt_from_the_rest_of_the_text() -> None:
    done = {"id": "m1", "type": "message", "content": [{"type": "output_text", "text": "A"}]}
    events = [
        delta("A", "m1", 0),
        {"type": "response.output_item.done", "output_index": 0, "item": done},
        delta("B", "m2", 1),
        {"type": "response.incomplete", "response": {"incomplete_details": {"reason": "max_output_tokens"}}},
    ]
    accumulator, _ = accumulate(events)
    final = accumulator.final_response()
    assert [item.get("id") for item in final["output"]] == ["m1", "m2"]
    assert answer_text(final) == accumulator.text == "A\n\nB"
    assert final["status"] == "incomplete" and incomplete_reason(final) == "max_output_tokens"


def test_unshown_tail_when_only_the_final_response_carries_the_answer() -> None:
    response = {"output": [{"type": "message", "content": [{"type": "output_text", "text": "All of it"}]}]}
    accumulator, deltas = accumulate([{"type": "response.output_text.done", "text": "All of it"}, completed(response)])
    assert deltas == [] and accumulator.unshown_tail() == "All of it"


def test_unshown_tail_is_the_rest_after_a_streamed_prefix() -> None:
    response = {
        "output": [
            {"type": "message", "id": "m1", "content": [{"type": "output_text", "text": "Hello world"}]},
            {"type": "message", "id": "m2", "content": [{"type": "output_text", "text": "Bye"}]},
        ]
    }
    accumulator, _ = accumulate([delta("Hello", "m1", 0), completed(response)])
    assert accumulator.unshown_tail() == " world\n\nBye"


def test_unshown_tail_is_empty_when_the_stream_disagrees() -> None:
    response = {"output": [{"type": "message", "content": [{"type": "output_text", "text": "Goodbye"}]}]}
    accumulator, _ = accumulate([delta("Hello", "m1", 0), completed(response)])
    assert accumulator.unshown_tail() == ""


def test_an_error_event_is_a_terminal_failure() -> None:
    events = [
        {"type": "response.created", "response": {"id": "resp_9", "status": "queued", "output": []}},
        delta("partial", "m1", 0),
        {
            "type": "error",
            "code": "rate_limit_exceeded",
            "message": "Rate limit reached",
            "param": None,
            "sequence_number": 3,
        },
    ]
    accumulator, _ = accumulate(events)
    final = accumulator.final_response()
    assert accumulator.terminal_type == "error"
    assert final["status"] == "failed" and final["id"] == "resp_9"
    assert final["error"] == {"code": "rate_limit_exceeded", "message": "Rate limit reached"}
    assert failure_of(final) == ("rate_limit_exceeded", "Rate limit reached")
    assert answer_text(final) == "partial" and accumulator.unshown_tail() == ""


def test_an_error_event_with_a_nested_or_missing_error() -> None:
    nested = accumulate([{"type": "error", "error": {"code": "server_error", "message": "boom"}}])[0].final_response()
    assert nested["error"] == {"code": "server_error", "message": "boom"} and nested["id"] is None
    bare = accumulate([{"type": "error"}])[0].final_response()
    assert bare["status"] == "failed" and bare["error"]["code"] is None and bare["error"]["message"]


def test_response_failed_as_dashscope_sends_it() -> None:
    raw = (
        b'id:1\nevent:response.failed\n:HTTP_STATUS/200\ndata:{"sequence_number":0,"type":"response.failed",'
        b'"response":{"id":"resp_x","output":[],"error":{"message":"Unsupported model: \'__nope__\'","code":"InvalidParameter"},'
        b'"status":"failed"}}\n\n'
    )
    accumulator, _ = accumulate(list(iter_events(iter_sse([raw]))))
    final = accumulator.final_response()
    assert accumulator.terminal_type == "response.failed"
    assert failure_of(final) == ("InvalidParameter", "Unsupported model: '__nope__'")
    assert final["output"] == [] and answer_text(final) == ""


def test_a_terminal_event_without_a_response_gets_its_status_from_the_type() -> None:
    accumulator, _ = accumulate(
        [
            {"type": "response.created", "response": {"id": "r", "status": "in_progress"}},
            delta("x", None, 0),
            {"type": "response.failed"},
        ]
    )
    final = accumulator.final_response()
    assert final["status"] == "failed" and final["id"] == "r" and answer_text(final) == "x"
    assert failure_of(final) is not None


def test_items_are_deduplicated_by_id_and_ordered_by_index() -> None:
    first = {"id": "a", "type": "web_search_call", "status": "in_progress"}
    again = {"id": "a", "type": "web_search_call", "status": "completed"}
    other = {"id": "b", "type": "function_call"}
    accumulator, _ = accumulate(
        [
            {"type": "response.output_item.done", "output_index": 2, "item": other},
            {"type": "response.output_item.done", "output_index": 0, "item": first},
            {"type": "response.output_item.done", "output_index": 0, "item": again},
            {"type": "response.output_item.done", "output_index": 1, "item": None},
        ]
    )
    assert accumulator.items == [again, other]


def test_items_keep_the_index_they_were_added_at() -> None:
    reasoning = {"id": "r", "type": "reasoning", "summary": []}
    search = {"id": "s", "type": "web_search_call"}
    accumulator, _ = accumulate(
        [
            {"type": "response.output_item.added", "output_index": 0, "item": {"id": "r", "type": "reasoning"}},
            {
                "type": "response.output_item.done",
                "output_index": 2,
                "item": reasoning,
            },  # announced at 0, finished "at 2"
            {"type": "response.output_item.added", "output_index": 1, "item": {"id": "s", "type": "web_search_call"}},
            {"type": "response.output_item.done", "output_index": 1, "item": search},
        ]
    )
    assert accumulator.items == [reasoning, search]
