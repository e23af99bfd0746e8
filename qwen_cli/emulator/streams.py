"""Stream events for a response, and their SSE framing (DashScope, OpenAI and CRLF styles) with the stream faults applied."""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from qwen_cli.emulator.faults import MID_STREAM_FAILURE
from qwen_cli.emulator.replies import BUILTINS_BY_ITEM, TERMINAL_EVENTS, skeleton_of
from qwen_cli.emulator.wire import dump

if TYPE_CHECKING:
    from qwen_cli.emulator.faults import Faults


SPLIT_SIZE = 7


def stream_events(response: dict[str, Any], deltas: dict[str, tuple[str, ...]]) -> list[dict[str, Any]]:
    """Every event of a streamed create, without sequence numbers (``build_frames`` adds them)."""
    events = [
        {"type": "response.created", "response": response_skeleton(response, "queued")},
        {"type": "response.in_progress", "response": response_skeleton(response, "in_progress")},
    ]
    for index, item in enumerate(response["output"]):
        builder = ITEM_EVENT_BUILDERS.get(item["type"], builtin_events)
        events.extend(builder(item, index, deltas.get(item["id"], ())))
    events.append({"type": TERMINAL_EVENTS[response["status"]], "response": copy.deepcopy(response)})
    return events


def response_skeleton(response: dict[str, Any], status: str) -> dict[str, Any]:
    keys = ("id", "object", "created_at", "parallel_tool_calls", "tool_choice", "tools")
    return {**{key: copy.deepcopy(response[key]) for key in keys}, "model": "", "output": [], "status": status}


def added(item: dict[str, Any], index: int) -> dict[str, Any]:
    return {"type": "response.output_item.added", "output_index": index, "item": item}


def done(item: dict[str, Any], index: int) -> dict[str, Any]:
    return {"type": "response.output_item.done", "output_index": index, "item": copy.deepcopy(item)}


def reasoning_events(item: dict[str, Any], index: int, deltas: tuple[str, ...]) -> list[dict[str, Any]]:
    ref = {"item_id": item["id"], "output_index": index}
    text = item["summary"][0]["text"]
    return [
        added({"id": item["id"], "type": "reasoning", "summary": []}, index),
        *({"type": "response.reasoning_text.delta", **ref, "delta": delta} for delta in deltas),
        {"type": "response.reasoning_text.done", **ref, "text": text},
        done(item, index),
    ]


def message_events(item: dict[str, Any], index: int, deltas: tuple[str, ...]) -> list[dict[str, Any]]:
    ref = {"item_id": item["id"], "output_index": index, "content_index": 0}
    part = item["content"][0]
    skeleton = {"id": item["id"], "type": "message", "role": "assistant", "status": "in_progress", "content": []}
    empty: dict[str, Any] = {"type": "output_text", "text": "", "annotations": [], "logprobs": None}
    return [
        added(skeleton, index),
        {"type": "response.content_part.added", **ref, "part": empty},
        *({"type": "response.output_text.delta", **ref, "delta": delta, "logprobs": []} for delta in deltas),
        {"type": "response.output_text.done", **ref, "text": part["text"], "logprobs": []},
        {"type": "response.content_part.done", **ref, "part": {**copy.deepcopy(part), "logprobs": None}},
        done(item, index),
    ]


def function_call_events(item: dict[str, Any], index: int, deltas: tuple[str, ...]) -> list[dict[str, Any]]:
    ref = {"item_id": item["id"], "output_index": index}
    return [
        added({**item, "status": "in_progress", "arguments": ""}, index),
        *({"type": "response.function_call_arguments.delta", **ref, "delta": delta} for delta in deltas),
        {"type": "response.function_call_arguments.done", **ref, "arguments": item["arguments"]},
        done(item, index),
    ]


def builtin_events(item: dict[str, Any], index: int, deltas: tuple[str, ...]) -> list[dict[str, Any]]:
    spec = BUILTINS_BY_ITEM[item["type"]]
    ref = {"item_id": item["id"], "output_index": index}
    events = []
    if spec.arguments_first:
        events.append({"type": f"response.{item['type']}_arguments.delta", **ref, "delta": item["arguments"]})
        events.append({"type": f"response.{item['type']}_arguments.done", **ref, "arguments": item["arguments"]})
    events.append(added(skeleton_of(item, spec.pending), index))
    events.extend({"type": f"response.{item['type']}.{phase}", **ref} for phase in spec.phases)
    events.append(done(item, index))
    return events


ITEM_EVENT_BUILDERS = {"reasoning": reasoning_events, "message": message_events, "function_call": function_call_events}


def build_frames(events: tuple[dict[str, Any], ...], faults: Faults) -> list[bytes]:
    """Serialize events in the chosen style, with the injected unknown/malformed frames and [DONE]."""
    listed = list(events)
    if faults.unknown_event_at is not None and faults.unknown_event_at <= len(listed):
        listed.insert(faults.unknown_event_at, {"type": "response.emulator_unknown", "note": "ignore me"})
    if faults.fail_after_events is not None and faults.fail_after_events < len(listed):
        listed[faults.fail_after_events :] = [failure_event(listed, faults.fail_after_events, faults.fail_event)]
    numbered = [{**event, "sequence_number": number} for number, event in enumerate(listed)]
    frames = [frame_event(event, faults.sse_style) for event in numbered]
    if faults.malformed_at is not None and faults.malformed_at <= len(frames):
        frames.insert(faults.malformed_at, malformed_frame(faults.sse_style))
    if faults.sse_style == "openai":
        frames.append(b"data: [DONE]\n\n")
    return frames


def failure_event(events: list[dict[str, Any]], at: int, kind: str) -> dict[str, Any]:
    """The event that fails a stream at index ``at``: a failed Response holding what was streamed, or an error."""
    code, message = MID_STREAM_FAILURE
    if kind == "error":
        return {"type": "error", "code": code, "message": message, "param": None}
    final = copy.deepcopy(events[-1]["response"])
    final.update(status="failed", error={"code": code, "message": message}, output=[], usage=None)
    return {"type": "response.failed", "response": final}


def frame_event(event: dict[str, Any], style: str) -> bytes:
    data = dump(event).decode("utf-8")
    if style == "openai":
        return f"event: {event['type']}\ndata: {data}\n\n".encode()
    lines = [f"id:{event['sequence_number'] + 1}", f"event:{event['type']}", ":HTTP_STATUS/200", f"data:{data}"]
    newline = "\r\n" if style == "crlf" else "\n"
    return (newline.join(lines) + newline * 2).encode("utf-8")


def malformed_frame(style: str) -> bytes:
    broken = '{"type": "response.output_text.delta", '
    if style == "openai":
        return f"event: response.output_text.delta\ndata: {broken}\n\n".encode()
    newline = "\r\n" if style == "crlf" else "\n"
    lines = ["event:response.output_text.delta", ":HTTP_STATUS/200", f"data:{broken}"]
    return (newline.join(lines) + newline * 2).encode("utf-8")


def split_frame(frame: bytes) -> list[bytes]:
    """7-byte pieces, so readers must reassemble events and UTF-8 characters across reads."""
    return [frame[at : at + SPLIT_SIZE] for at in range(0, len(frame), SPLIT_SIZE)]
