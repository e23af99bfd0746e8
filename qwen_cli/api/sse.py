"""Server-Sent Events decoding and the accumulation of Responses stream events into the final response.

Pure: standard library and the pure `responses` reader only; no I/O, no network, no printing, no exceptions raised.
"""

from __future__ import annotations

import codecs
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Literal

from qwen_cli.api.responses import answer_text, reasoning_text
from qwen_cli.bounds import NotJSON, loads

TERMINAL_EVENTS = frozenset({"response.completed", "response.incomplete", "response.failed"})
ERROR_EVENT = "error"  # OpenAI's top-level stream error: terminal too, though DashScope documents none (§7.4)

_STATUS_OF = {
    "response.completed": "completed",
    "response.incomplete": "incomplete",
    "response.failed": "failed",
    ERROR_EVENT: "failed",
}
_TEXT_DELTA = "response.output_text.delta"
# `reasoning_text` is DashScope's name; `reasoning_summary_text` is OpenAI's for the same thing.
_REASONING_DELTAS = frozenset({"response.reasoning_text.delta", "response.reasoning_summary_text.delta"})
_DONE = "[DONE]"


@dataclass(frozen=True, slots=True)
class SSEMessage:
    event: str | None
    data: str
    id: str | None


class _SSEDecoder:
    """The SSE parser's state between network chunks (WHATWG "event stream interpretation").

    Lines are split once per chunk with `str.split`, and a line cut by a chunk boundary is kept as a list of
    pieces, so the cost stays linear however the body is chunked.
    """

    def __init__(self) -> None:
        self._utf8 = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._pieces: list[str] = []  # the unterminated line so far
        self._after_cr = False  # the text so far ended in CR: a first LF next is its CRLF partner, not a blank line
        self._started = False
        self._data: list[str] = []
        self._event: str | None = None
        self._id: str | None = None  # the spec's "last event ID": it carries over to later events

    def feed(self, chunk: bytes) -> list[SSEMessage]:
        return self._dispatch(self._lines(self._utf8.decode(chunk)))

    def close(self) -> list[SSEMessage]:
        lines = self._lines(self._utf8.decode(b"", True))
        if self._pieces:
            lines.append("".join(self._pieces))
            self._pieces = []
        messages = self._dispatch(lines)
        # The spec drops an event cut off before its blank line; we keep it when it has data, since the
        # JSON parse that follows decides whether it is whole (a cut JSON object fails and is reported).
        if self._data:
            messages.append(SSEMessage(self._event, "\n".join(self._data), self._id))
        return messages

    def _lines(self, text: str) -> list[str]:
        """The lines this text completes, with LF, CRLF and CR all ending a line."""
        if not text:
            return []
        if not self._started:
            self._started = True
            text = text[1:] if text[0] == "\ufeff" else text
        if self._after_cr and text[0] == "\n":
            text = text[1:]
        self._after_cr = text[-1:] == "\r"
        if "\r" in text:
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        if "\n" not in text:
            if text:
                self._pieces.append(text)
            return []
        lines = text.split("\n")
        if self._pieces:
            self._pieces.append(lines[0])
            lines[0] = "".join(self._pieces)
            self._pieces = []
        tail = lines.pop()
        if tail:
            self._pieces.append(tail)
        return lines

    def _dispatch(self, lines: list[str]) -> list[SSEMessage]:
        """Interpret complete lines; a blank line ends an event. The hot path: state lives in locals meanwhile."""
        messages: list[SSEMessage] = []
        data, event, last_id = self._data, self._event, self._id
        for line in lines:
            if line.startswith("data:"):
                data.append(line[6:] if line.startswith(" ", 5) else line[5:])
            elif not line:
                if data:
                    messages.append(SSEMessage(event, "\n".join(data), last_id))
                    data.clear()
                event = None
            elif line[0] == ":":  # a comment, such as DashScope's `:HTTP_STATUS/200`
                continue
            else:
                name, _, value = line.partition(":")
                if value.startswith(" "):
                    value = value[1:]
                if name == "event":
                    event = value or None
                elif name == "id" and "\0" not in value:
                    last_id = value or None
                elif name == "data":  # a bare `data` line without a colon is an empty data line
                    data.append(value)
                # `retry` and unknown fields are ignored: we do not reconnect.
        self._event, self._id = event, last_id
        return messages


def iter_sse(chunks: Iterable[bytes]) -> Iterator[SSEMessage]:
    """Decode raw network chunks, split anywhere (even inside a UTF-8 character), into SSE messages."""
    decoder = _SSEDecoder()
    for chunk in chunks:
        yield from decoder.feed(chunk)
    yield from decoder.close()


def _parse(data: str) -> tuple[dict[str, Any] | None, str]:
    """The JSON object in a message's data, or None and why not."""
    try:
        value = loads(data)
    except NotJSON as error:  # absurdly deep nesting too: still just one bad event
        return None, f"invalid JSON ({error}): {data[:80]!r}"
    if not isinstance(value, dict):
        return None, f"event data is a JSON {type(value).__name__}, not an object: {data[:80]!r}"
    return value, ""


def iter_events(
    messages: Iterable[SSEMessage], on_malformed: Callable[[str], None] | None = None
) -> Iterator[dict[str, Any]]:
    """The JSON event in each message; a `[DONE]` sentinel, keep-alive or malformed message is skipped."""
    for message in messages:
        data = message.data
        if data == _DONE or not data.strip() or data.strip() == _DONE:
            continue  # OpenAI-style servers end with `[DONE]`; an empty `data:` is a keep-alive, not an error
        event, reason = _parse(data)
        if event is None:
            if on_malformed is not None:
                on_malformed(reason)
            continue
        if not event.get("type") and message.event:
            event["type"] = message.event
        yield event


DeltaKind = Literal["text", "reasoning"]


@dataclass(frozen=True)
class Delta:
    kind: DeltaKind
    text: str


_Where = tuple[Any, Any, Any]  # (item_id, output_index, part index) of a delta


def _same_item(before: _Where, now: _Where) -> bool:
    if before[2] != now[2]:
        return False
    if before[0] is not None and now[0] is not None:
        return before[0] == now[0]
    return before[1] == now[1]  # some DashScope deltas carry no item_id (stream-web-extractor.sse)


class _Transcript:
    """Streamed text of one kind, with a blank line between output items, the way `answer_text` joins them."""

    def __init__(self) -> None:
        self._parts: list[str] = []
        self.where: _Where | None = None  # where the last delta belonged

    def append(self, delta: str, where: _Where) -> str:
        """Record a delta; return it as it should be shown (with a separator when a new item starts)."""
        if self.where is not None and not _same_item(self.where, where):
            delta = "\n\n" + delta
        self.where = where
        self._parts.append(delta)
        return delta

    @property
    def text(self) -> str:
        # Joined on demand and kept joined, so reading it once at the end costs one pass over the text.
        if len(self._parts) > 1:
            self._parts[:] = ["".join(self._parts)]
        return self._parts[0] if self._parts else ""


def _remainder(streamed: str, covered: str) -> str:
    """The streamed text beyond what completed items already hold ("" when they disagree)."""
    if not covered:
        return streamed
    if streamed.startswith(covered + "\n\n"):
        return streamed[len(covered) + 2 :]
    return ""


class StreamAccumulator:
    """Consumes stream events in order: says what to show now, and rebuilds the final response at the end.

    Each event costs O(1) amortised; the text is joined only when read, so read `text` at the end, not per event.
    """

    def __init__(self) -> None:
        self._text = _Transcript()
        self._reasoning = _Transcript()
        self._snapshot: dict[str, Any] | None = None  # the latest non-terminal `response`
        self._terminal: dict[str, Any] | None = None
        self._done: dict[Any, tuple[float, int, dict[str, Any]]] = {}  # key -> (output_index, arrival, item)
        self._added_index: dict[Any, int] = {}  # item id -> output_index announced by `output_item.added`
        self._added_id: dict[int, Any] = {}  # output_index -> item id, for deltas without item_id
        self.response: dict[str, Any] | None = None
        self.terminal_type: str | None = None
        self.event_count = 0
        self.response_id: str | None = None

    def add(self, event: dict[str, Any]) -> Delta | None:
        """Take the next event; return the text to show for it, if any."""
        self.event_count += 1
        kind = event.get("type")
        if kind == _TEXT_DELTA:
            return self._delta("text", event)
        if kind in _REASONING_DELTAS:
            return self._delta("reasoning", event)
        if isinstance(event.get("response"), dict):
            self._take_response(event["response"], kind in TERMINAL_EVENTS)
        if kind == "response.output_item.added":
            self._note_added(event)
        elif kind == "response.output_item.done":
            self._note_done(event)
        elif kind in TERMINAL_EVENTS or kind == ERROR_EVENT:
            self.terminal_type = kind
            self._terminal = event
        return None

    def _delta(self, kind: DeltaKind, event: dict[str, Any]) -> Delta | None:
        delta = event.get("delta")
        if not isinstance(delta, str) or not delta:
            return None  # an empty delta must not open a new item: its separator would precede nothing
        if kind == "text":
            transcript, part = self._text, None
        else:
            # OpenAI streams the summary parts of an item apart; reasoning_text() puts a blank line between them.
            transcript, part = self._reasoning, event.get("summary_index", event.get("content_index"))
        return Delta(kind, transcript.append(delta, (event.get("item_id"), event.get("output_index"), part)))

    def _take_response(self, response: dict[str, Any], terminal: bool) -> None:
        self.response = response
        if not terminal:
            self._snapshot = response
        if isinstance(response.get("id"), str) and response["id"]:
            self.response_id = response["id"]

    def _note_added(self, event: dict[str, Any]) -> None:
        item, index = event.get("item"), event.get("output_index")
        if isinstance(item, dict) and isinstance(index, int) and item.get("id") is not None:
            self._added_index.setdefault(item["id"], index)
            self._added_id[index] = item["id"]

    def _note_done(self, event: dict[str, Any]) -> None:
        item = event.get("item")
        if not isinstance(item, dict):
            return
        item_id = item.get("id")
        # Real streams announce an item at one index and finish it at another (stream-web-extractor.sse: the
        # reasoning item is added at 0, done at 1, colliding with the search call): trust the first index.
        index = self._added_index.get(item_id, event.get("output_index"))
        order = index if isinstance(index, int) else float("inf")
        key = item_id if item_id is not None else ("arrival", len(self._done))
        arrival = self._done[key][1] if key in self._done else len(self._done)
        self._done[key] = (order, arrival, item)

    @property
    def text(self) -> str:
        """All answer text streamed so far, separators included."""
        return self._text.text

    @property
    def reasoning(self) -> str:
        return self._reasoning.text

    @property
    def items(self) -> list[dict[str, Any]]:
        """The completed output items, in output order (arrival order among equal indexes)."""
        return [item for _, _, item in sorted(self._done.values(), key=lambda entry: (entry[0], entry[1]))]

    def final_response(self) -> dict[str, Any] | None:
        """The terminal event's response, its gaps filled from the stream; None before a terminal event."""
        if self._terminal is None or self.terminal_type is None:
            return None
        # Fields the terminal response leaves out (model, created_at) come from the last snapshot.
        final = dict(self._snapshot or {})
        if self.terminal_type == ERROR_EVENT:
            final.update(self._error_fields(self._terminal))
        else:
            response = self._terminal.get("response")
            final.update(response if isinstance(response, dict) else {})
            if not isinstance(response, dict) or "status" not in response:
                final["status"] = _STATUS_OF[self.terminal_type]
        if not final.get("output"):
            # Some terminal events carry no output (stream-web-extractor.sse's response.completed).
            final["output"] = self._streamed_output()
        return final

    def _error_fields(self, event: dict[str, Any]) -> dict[str, Any]:
        # OpenAI puts code and message at the top of the event; some servers nest them under `error`.
        source = event["error"] if isinstance(event.get("error"), dict) else event
        code, message = source.get("code"), source.get("message")
        return {
            "id": self.response_id,
            "status": "failed",
            "error": {
                "code": str(code) if code else None,
                "message": message if isinstance(message, str) and message else "the stream reported an error",
            },
        }

    def _streamed_output(self) -> list[dict[str, Any]]:
        """The completed items, plus whatever was streamed but never arrived as a completed item."""
        output = self.items
        thinking = _remainder(self.reasoning, reasoning_text({"output": output}))
        if thinking:
            output.append({"type": "reasoning", "summary": [{"type": "summary_text", "text": thinking}]})
        answer = _remainder(self.text, answer_text({"output": output}))
        if answer:
            output.append(self._message(answer))
        return output

    def _message(self, text: str) -> dict[str, Any]:
        item_id, index, _ = self._text.where or (None, None, None)
        if item_id is None and isinstance(index, int):
            item_id = self._added_id.get(index)
        message: dict[str, Any] = {"type": "message", "role": "assistant", "status": "completed"}
        if item_id is not None:
            message["id"] = item_id
        message["content"] = [{"type": "output_text", "text": text, "annotations": []}]
        return message

    def unshown_tail(self) -> str:
        """After the terminal event: the end of the final answer that no text delta showed.

        Empty when the stream showed it all, and when the shown text is not a prefix of the answer: what is
        printed cannot be taken back, so only a clean continuation is offered.
        """
        final = self.final_response()
        if final is None:
            return ""
        answer, shown = answer_text(final), self.text
        return answer[len(shown) :] if answer.startswith(shown) else ""
