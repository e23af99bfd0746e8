"""A local emulator of the DashScope (Model Studio) Responses API: a real HTTP server on 127.0.0.1.

Owns the emulated wire behaviour (routes, validation, deterministic replies, SSE framing, fault switches)
for tests and demos. Standard library only; imports nothing from the package and does nothing at import time.

Paths: everything lives under ``/compatible-mode/v1`` and, identically, under the legacy prefix
``/api/v2/apps/protocols/compatible-mode/v1``. Control endpoints (not part of the real API, never recorded,
no auth): ``GET /__emulator/requests``, ``GET|POST|DELETE /__emulator/faults``, ``POST /__emulator/reset``.

Reply rules (all derived from the request, so tests can assert them):

* The *prompt text* is the text of the last ``user`` message of this request's ``input`` (a string input, a
  content string, or its ``input_text``/``text`` parts joined with "\\n"); ``""`` when there is none.
* ``@@echo-key`` in the prompt makes the emulator a server that echoes the key back: every ``@@key`` in the
  request's input texts is read as the request's Bearer token before the rules below apply (so the echo, the
  reasoning, a call's arguments and the stored items carry it), the answer streams in deltas of at most
  ``ECHO_KEY_PIECE`` characters (so the key arrives in pieces), and a failure's message quotes the prompt.
* Answer, first rule that applies:
  1. the input ends with a ``function_call_output``: the calls of rule 3 written in those outputs when there are
     any (a tool result that asks for more calls, so multi-round loops can be tested), else
     ``"Tool results: <out1>; <out2>"`` (every ``function_call_output`` after the last user message, in order);
  2. ``@@fail``: the response fails: ``status "failed"``, ``error {"code": "InternalError",
     "message": "Emulated failure."}``, no output, no usage; a stream is created -> in_progress -> failed;
  3. ``@@call=NAME`` or ``@@call=NAME:{"json": "args"}`` (repeatable: parallel calls), only when ``tools`` has a
     ``function`` tool and ``tool_choice`` is not ``"none"``: ``function_call`` items instead of a message
     (any NAME; arguments are the JSON text exactly as written, ``"{}"`` without one);
  4. ``@@words=N``: ``"w1 w2 ... wN"`` (N at most 100000);
  5. ``@@bytes=N``: exactly N ASCII bytes: lines of 79 ``x`` plus ``"\\n"``, the remainder as ``x`` without a
     newline; streamed in deltas of at most 1000 characters (N at most 50000000);
  6. ``@@markdown``: the fixed ``MARKDOWN_SAMPLE`` (heading, **bold**, list, python fence, table);
  7. ``@@ansi``: ``ANSI_SAMPLE`` (clear screen, red SGR, an OSC 8 hyperlink);
  8. otherwise the echo: ``"You said: <prompt>"`` when the prompt has at most 200 characters, else
     ``"You said <N> characters: <first 100> ... <last 100>"``. Only the echo is decorated:
     ``"[<instructions>] "`` in front when ``instructions`` is given; then `` (1 image)``/`` (N images)`` for the
     ``input_image``/``image_url`` parts of this request, `` (1 file)``/`` (N files)`` for ``input_file`` parts,
     and `` (turn K)`` when ``previous_response_id`` or a non-empty conversation supplied history, K = number
     of user messages in history + input. Example: ``"[Be brief] You said: hi (2 images) (turn 3)"``.
* Tokens are whitespace-separated words. ``max_output_tokens`` caps the answer's words (not the reasoning):
  a longer answer is cut to that many words, the message item and the response get ``status "incomplete"``,
  ``incomplete_details {"reason": "max_output_tokens"}``, and a stream ends with ``response.incomplete``.
* Thinking is on when ``reasoning.effort`` is present and not ``"none"`` (it has priority), else when
  ``enable_thinking`` is true, else for the models in ``THINKING_BY_DEFAULT`` and their dated variants. The
  output then starts with a ``reasoning`` item whose text is ``"Thinking about: <first 200 chars of prompt>"``.
* Built-in tools in ``tools`` (see ``BUILTIN_TOOLS``) each add one call item, in ``tools`` order, between the
  reasoning and the answer, with the stream events of the reference (§7.2/§7.3) and ``usage.x_tools`` counts.
* Usage: input = words of history + instructions + input (min 1); output = answer + reasoning + function
  arguments words. Session cache (header ``x-dashscope-session-cache: enable``): with a
  ``previous_response_id`` history of at least 1024 words, ``cached_tokens`` = the history's words; a turn
  whose input reaches 1024 words reports ``cache_creation_input_tokens`` = input - cached in
  ``x_details[0].input_tokens_details`` (present whenever the header enables the cache).
* Streams are word-sized text deltas (``\\S+\\s*``), reasoning the same, function arguments 8 characters at a time.

Choices where the reference is silent or ambiguous:

* Missing ids (retrieve, delete, input_items, conversations, conversation items) answer HTTP 404 with the
  flat envelope, code ``InvalidParameter``, ``"Response with id 'X' not found."`` (``Conversation with id``,
  ``Item with id`` for the others).
* Unknown ``conversation`` on create: 400 ``"Not found conversation: <id>"`` (by analogy with
  ``previous_response_id``). Failed and store:false responses are never chainable; deleted ones neither.
* ``Invalid 'store': NOT_A_BOOL.`` is read as the probe's value: the value sent is quoted in the message, as
  for ``temperature``, ``top_p`` and ``reasoning.effort``. Non-numeric temperature/top_p use the same message.
* The chat-style nested function tool message is completed as "... valid openai-compatible JSON schema.".
* ``function_call_output`` is valid when its ``function_call`` is found going back through an unbroken run of
  function_call/function_call_output items (so parallel calls answered by previous_response_id work).
* ``input_items`` lists history (earlier inputs and assistant messages/function calls) plus this turn's
  input; reasoning and built-in tool items are neither listed nor carried as context; for a ``conversation``
  turn the listed history is the conversation's items. Conversations receive this turn's input and output
  (except reasoning and built-in tool items) unless it failed.
* Every response carries the keys seen live (T1): ``background``, ``frequency_penalty``, ``metadata``,
  ``presence_penalty``, ``service_tier``, ``store``, ``temperature``, ``top_p``, ``top_logprobs``,
  ``max_output_tokens``, ``reasoning`` (echoes or defaults), plus ``instructions``/``previous_response_id``
  when given. A streamed response is stored before its events are written, faults or not.
"""

from __future__ import annotations

import copy
import json
import re
import select
import socket
import threading
import time
import uuid
import zlib
from dataclasses import asdict, dataclass, replace
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Iterable, get_args, get_type_hints
from urllib.parse import parse_qsl, quote, urlsplit

from qwen_cli.models import RESPONSES_MODELS, THINKING_BY_DEFAULT

__all__ = ["Emulator", "Faults", "serve_forever"]

API_PREFIXES = ("/api/v2/apps/protocols/compatible-mode/v1", "/compatible-mode/v1")
CONTROL_PREFIX = "/__emulator"
JSON_TYPE = "application/json"
SSE_TYPE = "text/event-stream;charset=UTF-8"

MODELS = frozenset(RESPONSES_MODELS)
EFFORTS = ("none", "minimal", "low", "medium", "high", "xhigh", "max")
ROLES = ("user", "assistant", "system", "developer")
CONTEXT_TYPES = ("message", "function_call", "function_call_output")
TERMINAL_EVENTS = {"completed": "response.completed", "incomplete": "response.incomplete", "failed": "response.failed"}
ERROR_BODIES = ("json", "nested", "html", "truncated", "invalid")
STREAM_BODIES = ("sse", "json", "html")
FAIL_EVENTS = ("response.failed", "error")
SSE_STYLES = ("dashscope", "openai", "crlf")
ECHO_LIMIT = 200
CACHE_MINIMUM = 1024
STALL_LIMIT = 120.0
SPLIT_SIZE = 7
ECHO_KEY = "@@echo-key"
KEY_PLACEHOLDER = "@@key"
ECHO_KEY_PIECE = 5

MARKDOWN_SAMPLE = """# Emulator Markdown Sample

This paragraph has **bold text**, *italic text* and `inline code`.

- first item
- second item
- third item

```python
def greet(name: str) -> str:
    return f"Hello, {name}!"
```

| Name | Value |
|------|-------|
| alpha | 1 |
| beta | 2 |
"""
ANSI_SAMPLE = (
    "Terminal escapes: \x1b[2J\x1b[31mred\x1b[0m and a "
    "\x1b]8;;https://evil.example/\x1b\\hyperlink\x1b]8;;\x1b\\ end."
)
GATEWAY_ERRORS = {
    400: ("InvalidParameter", "Emulated invalid request."),
    401: ("InvalidApiKey", "Invalid API-key provided."),
    403: ("AccessDenied", "Access denied."),
    404: ("Not Found", "Not support"),
    429: ("Throttling.RateQuota", "Requests rate limit exceeded, please try again later."),
    500: ("InternalError", "An internal error has occured, please try again later or contact service support."),
    502: ("Bad Gateway", "Bad Gateway"),
    503: ("ServiceUnavailable", "The service is temporarily unavailable, please try again later."),
    504: ("RequestTimeOut", "The request timed out, please try again later."),
}
RATE_LIMIT_MESSAGE = "Operation model request rate limit exceeded, please try again later."
MID_STREAM_FAILURE = ("InternalError", "Emulated failure mid-stream.")
NOT_JSON = b"upstream connect error or disconnect/reset before headers. reset reason: connection termination"
WORDS_DIRECTIVE = re.compile(r"@@words=(\d{1,9})")
BYTES_DIRECTIVE = re.compile(r"@@bytes=(\d{1,9})")
MAX_WORDS = 100_000  # caps keep a typo from exhausting memory
MAX_BYTES = 50_000_000
CALL_DIRECTIVE = re.compile(r"@@call=([A-Za-z0-9_.\-]+)")
DELTA_PIECES = re.compile(r"\S+\s*|\s+")


# ---------------------------------------------------------------------------------------------- faults


@dataclass(frozen=True)
class Faults:
    """Fault switches; all off by default. Counters are consumed by POST /responses requests only.

    rate_limit_http200: the next N creates answer HTTP 200 with the rate-limit ``failed`` Response
        (code ``server_error``); a stream gets that Response as its single ``response.failed`` event.
    http_status / http_status_count / retry_after / error_body: the next ``http_status_count`` (default 1)
        creates answer HTTP ``http_status`` (0 = off) before validation, with ``error_body`` "json" (flat
        envelope), "nested" (``{"error": {"message", "type"}}``, ``type`` holding the code), "html" (a proxy
        page), "truncated" (the envelope cut in half) or "invalid" (non-JSON text, still labelled JSON);
        ``Retry-After: retry_after`` when set.
    truncate_json: the next N successful non-stream creates send the JSON cut in half (Content-Length fits).
    invalid_json: the next N successful non-stream creates answer HTTP 200 with non-JSON text labelled JSON.
    stall_json: the next N successful non-stream creates send the headers (Content-Length of the whole body)
        and the first half of the JSON, then hold the connection open as ``stall_after_events`` does.
    stream_body: what a successful stream create answers with: "sse" (the event stream), "json" (the finished
        Response as one ``application/json`` body, as gateways that do not stream send) or "html" (HTTP 200 with
        a captive-portal page, ``text/html``). The response is generated and stored in every case.
    fail_after_events / fail_event: streams send a failure event in place of event N (counted among the
        events, an inserted unknown event included, the malformed frame not) and of all after it, then end
        cleanly: ``fail_event`` "response.failed" (the response with status ``failed``, error
        ``InternalError`` "Emulated failure mid-stream.", no output, no usage) or "error" (OpenAI's
        top-level ``{"type": "error", "code", "message", "param"}``). The stored response is not changed.
    cut_after_events: streams close the TCP connection after that many frames (no terminal chunk).
    stall_after_events: streams stop after that many frames and hold the connection open until the client
        leaves, the emulator stops, or 120 s pass.
    event_delay: seconds slept before each stream frame.
    first_event_delay: seconds slept before the first byte of a create's reply (streams and non-streams).
    malformed_at: a frame with broken JSON is inserted before event index N (no sequence number).
    unknown_event_at: a ``response.emulator_unknown`` event is inserted at index N (it takes a sequence number).
    sse_style: "dashscope" (``id:``/``event:``/``:HTTP_STATUS/200``/``data:``), "openai" (``event: ``/``data: ``
        and a final ``data: [DONE]``) or "crlf" (dashscope with CRLF line ends).
    split_writes: every frame is written as 7-byte chunks (splitting UTF-8 characters), flushed one by one.
    gzip: API replies (not the control endpoints) are sent with ``Content-Encoding: gzip`` when the request's
        ``Accept-Encoding`` allows gzip; a stream is compressed as one gzip body, flushed after every frame
        (so events still arrive one by one, and cut/stall still apply).
    Frame counts for cut/stall include inserted frames.
    """

    rate_limit_http200: int = 0
    http_status: int = 0
    http_status_count: int = 1
    retry_after: str | None = None
    error_body: str = "json"
    truncate_json: int = 0
    invalid_json: int = 0
    stall_json: int = 0
    stream_body: str = "sse"
    fail_after_events: int | None = None
    fail_event: str = "response.failed"
    cut_after_events: int | None = None
    stall_after_events: int | None = None
    event_delay: float = 0.0
    first_event_delay: float = 0.0
    malformed_at: int | None = None
    unknown_event_at: int | None = None
    sse_style: str = "dashscope"
    split_writes: bool = False
    gzip: bool = False

    def __post_init__(self) -> None:
        if self.error_body not in ERROR_BODIES:
            raise ValueError(f"error_body must be one of {ERROR_BODIES}, got {self.error_body!r}")
        if self.sse_style not in SSE_STYLES:
            raise ValueError(f"sse_style must be one of {SSE_STYLES}, got {self.sse_style!r}")
        if self.stream_body not in STREAM_BODIES:
            raise ValueError(f"stream_body must be one of {STREAM_BODIES}, got {self.stream_body!r}")
        if self.fail_event not in FAIL_EVENTS:
            raise ValueError(f"fail_event must be one of {FAIL_EVENTS}, got {self.fail_event!r}")

    @classmethod
    def from_mapping(cls, data: dict[str, Any]) -> Faults:
        """Build from JSON-like data, refusing unknown names and wrongly typed values."""
        hints = get_type_hints(cls)
        for name, value in data.items():
            if name not in hints:
                raise ValueError(f"Unknown fault: {name!r}")
            if not accepts_value(hints[name], value):
                raise ValueError(f"Invalid value for fault {name!r}: {value!r}")
        return cls(**data)

    def counters(self) -> dict[str, int]:
        """The per-request budgets these faults start with."""
        return {
            "rate_limit_http200": self.rate_limit_http200,
            "http_status": self.http_status_count if self.http_status else 0,
            "truncate_json": self.truncate_json,
            "invalid_json": self.invalid_json,
            "stall_json": self.stall_json,
        }


def accepts_value(hint: Any, value: Any) -> bool:
    """Whether a JSON value fits a field annotation (ints are fine for floats, bools only for bools)."""
    allowed = get_args(hint) or (hint,)
    if value is None:
        return type(None) in allowed
    if isinstance(value, bool):
        return bool in allowed
    if isinstance(value, int) and float in allowed:
        return True
    return any(isinstance(value, kind) for kind in allowed if isinstance(kind, type) and kind is not bool)


# ---------------------------------------------------------------------------------------------- state


class EmulatorState:
    """Everything the server remembers; one lock guards it because handlers run in many threads."""

    def __init__(self, api_key: str | None) -> None:
        self.api_key = api_key
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.faults = Faults()
        self.remaining = self.faults.counters()
        self.requests: list[dict[str, Any]] = []
        self.responses: dict[str, dict[str, Any]] = {}
        self.conversations: dict[str, dict[str, Any]] = {}

    def set_faults(self, faults: Faults) -> None:
        with self.lock:
            self.faults = faults
            self.remaining = faults.counters()

    def take(self, counter: str) -> bool:
        """Consume one unit of a fault budget; False when it is spent."""
        with self.lock:
            if self.remaining[counter] <= 0:
                return False
            self.remaining[counter] -= 1
            return True

    def record(self, entry: dict[str, Any]) -> None:
        with self.lock:
            self.requests.append(entry)

    def snapshot_requests(self) -> list[dict[str, Any]]:
        with self.lock:
            return copy.deepcopy(self.requests)

    def reset(self) -> None:
        with self.lock:
            self.requests.clear()
            self.responses.clear()
            self.conversations.clear()
        self.set_faults(Faults())


# ---------------------------------------------------------------------------------------------- wire values


class ApiFailure(Exception):
    """An error the emulated service reports with the flat envelope."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Call:
    """One HTTP request as the routes see it; headers have lower-case names."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    raw_body: bytes
    request_id: str


@dataclass(frozen=True)
class JsonReply:
    status: int
    body: bytes
    content_type: str = JSON_TYPE
    headers: tuple[tuple[str, str], ...] = ()
    stall: bool = False  # send the first half of the body, then hold the connection open


@dataclass(frozen=True)
class StreamReply:
    events: tuple[dict[str, Any], ...]
    faults: Faults


Reply = JsonReply | StreamReply


def invalid(message: str, status: int = 400) -> ApiFailure:
    return ApiFailure(status, "InvalidParameter", message)


def missing(name: str) -> ApiFailure:
    return invalid(f"[400] missing_required_parameter: Missing required parameter: '{name}'.")


def new_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4()}"


def new_call_id() -> str:
    return "call_" + uuid.uuid4().hex[:24]


def dump(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def render(value: Any) -> str:
    """A request value as DashScope quotes it in messages: strings bare, the rest as JSON."""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def json_reply(status: int, value: Any) -> JsonReply:
    return JsonReply(status, dump(value))


def error_reply(failure: ApiFailure, request_id: str) -> JsonReply:
    envelope = {"request_id": request_id, "code": failure.code, "message": failure.message}
    return json_reply(failure.status, envelope)


def parse_json(raw: bytes) -> Any:
    """The parsed body, None when empty; ApiFailure when it is not JSON."""
    if not raw.strip():
        return None
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise invalid(f"The request body is not valid JSON: {exc}") from None


def parse_object(raw: bytes) -> dict[str, Any]:
    body = parse_json(raw)
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise invalid("The request body must be a JSON object.")
    return body


def count_words(text: str) -> int:
    return len(text.split())


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def now_seconds() -> int:
    return int(time.time())


# ---------------------------------------------------------------------------------------------- items


def part_kind(role: str) -> str:
    return "output_text" if role == "assistant" else "input_text"


def normalize_message(item: dict[str, Any], where: str) -> dict[str, Any]:
    """A message item in the stored shape: an id, a status and a list of content parts."""
    role = item.get("role", "user")
    if role not in ROLES:
        supported = ",".join(f"'{name}'" for name in ROLES)
        raise invalid(f"Invalid '{where}.role': {render(role)}. Supported values are: ({supported}).")
    content = item.get("content")
    if isinstance(content, str):
        parts = [{"type": part_kind(role), "text": content}]
    elif isinstance(content, list) and all(isinstance(part, dict) for part in content):
        parts = copy.deepcopy(content)
    else:
        raise invalid(f"Invalid '{where}.content': must be a string or an array of content parts.")
    message_id = item.get("id") or new_id("msg")
    status = item.get("status", "completed")
    return {"id": message_id, "type": "message", "role": role, "status": status, "content": parts}


def normalize_item(item: Any, where: str) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise invalid(f"Invalid '{where}': must be an object.")
    if item.get("type", "message") == "message":
        return normalize_message(item, where)
    return {**copy.deepcopy(item), "id": item.get("id") or new_id("msg")}


def normalize_input(value: Any) -> tuple[dict[str, Any], ...]:
    if isinstance(value, str):
        return (normalize_message({"role": "user", "content": value}, "input"),)
    if not isinstance(value, list):
        raise invalid("Invalid 'input': must be a string or an array of input items.")
    if not value:
        raise invalid("<400> InternalError.Algo.InvalidParameter: Range of input length should be [1, 1000000]")
    return tuple(normalize_item(item, f"input[{index}]") for index, item in enumerate(value))


def message_text(item: dict[str, Any]) -> str:
    parts = [part for part in item.get("content", []) if part.get("type") in ("input_text", "output_text", "text")]
    return "\n".join(part["text"] for part in parts if isinstance(part.get("text"), str))


def item_text(item: dict[str, Any]) -> str:
    """The words an item contributes to a context, for token counts."""
    kind = item.get("type")
    if kind == "message":
        return message_text(item)
    if kind == "function_call":
        return f"{item.get('name', '')} {item.get('arguments', '')}"
    if kind == "function_call_output":
        return render(item.get("output", ""))
    return ""


def is_user_message(item: dict[str, Any]) -> bool:
    return item.get("type") == "message" and item.get("role") == "user"


# ---------------------------------------------------------------------------------------------- validation


@dataclass(frozen=True)
class Turn:
    """A validated create request with its assembled history."""

    body: dict[str, Any]
    model: str
    items: tuple[dict[str, Any], ...]
    history: tuple[dict[str, Any], ...]
    tools: tuple[Any, ...]
    tool_choice: Any
    thinking: bool
    cache: bool

    @property
    def instructions(self) -> str | None:
        return self.body.get("instructions")

    @property
    def conversation_id(self) -> str | None:
        return conversation_ref(self.body.get("conversation"))


def validate_create(state: EmulatorState, call: Call, body: dict[str, Any]) -> Turn:
    """Check a create body like the real service does, in a fixed order, and assemble its context."""
    model = check_model(body)
    check_sampling(body)
    check_store(body)
    check_instructions(body)
    tools = check_tools(body.get("tools", []))
    tool_choice = check_tool_choice(body.get("tool_choice", "auto"), tools)
    history = load_history(state, body)
    items = normalize_input(body["input"])
    check_tool_outputs(history + items)
    cache = call.headers.get("x-dashscope-session-cache", "").strip().lower() == "enable"
    thinking = wants_thinking(model, body)
    return Turn(body, model, items, history, tuple(tools), tool_choice, thinking, cache)


def check_model(body: dict[str, Any]) -> str:
    model = body.get("model")
    if model is None or model == "":
        raise missing("model")
    if body.get("input") is None:
        raise missing("input")
    if not isinstance(model, str) or model not in MODELS:
        raise invalid(f"Unsupported model: '{render(model)}'")
    return model


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def check_sampling(body: dict[str, Any]) -> None:
    temperature, top_p = body.get("temperature"), body.get("top_p")
    if temperature is not None and not (is_number(temperature) and 0 <= temperature < 2):
        value = render(temperature)
        raise invalid(f"Invalid 'temperature': {value}. Expected a value between [0,2), but got {value} instead.")
    if top_p is not None and not (is_number(top_p) and 0 < top_p <= 1):
        value = render(top_p)
        raise invalid(f"Invalid 'top_p': {value}. Expected a value between (0,1], but got {value} instead.")
    check_max_output_tokens(body.get("max_output_tokens"))
    check_reasoning(body.get("reasoning"))


def check_max_output_tokens(value: Any) -> None:
    if value is None:
        return
    if not isinstance(value, int) or isinstance(value, bool):
        raise invalid(f"Invalid 'max_output_tokens': must be an integer, got {render(value)}.")
    if value < 16:
        raise invalid(f"Invalid 'max_output_tokens': must be greater than or equal to 16, got {value}.")


def check_reasoning(reasoning: Any) -> None:
    if reasoning is None:
        return
    if not isinstance(reasoning, dict):
        raise invalid("Invalid 'reasoning': must be an object.")
    effort = reasoning.get("effort")
    if effort is not None and effort not in EFFORTS:
        supported = ",".join(f"'{level}'" for level in EFFORTS)
        raise invalid(f"Invalid 'reasoning.effort': {render(effort)}. Supported values are: ({supported}).")


def check_store(body: dict[str, Any]) -> None:
    store = body.get("store")
    if store is not None and not isinstance(store, bool):
        raise invalid(f"Invalid 'store': {render(store)}. Must be a boolean.")


def check_instructions(body: dict[str, Any]) -> None:
    instructions = body.get("instructions")
    if instructions is not None and not isinstance(instructions, str):
        raise invalid("Invalid 'instructions': must be a string.")


def check_tools(tools: Any) -> list[Any]:
    """Only the function tool shape is checked; unknown tool types are accepted and echoed."""
    if not isinstance(tools, list):
        raise invalid("Invalid 'tools': must be an array.")
    for index, tool in enumerate(tools):
        if not isinstance(tool, dict):
            raise invalid(f"Invalid 'tools[{index}]': must be an object.")
        if tool.get("type") == "function" and isinstance(tool.get("function"), dict):
            raise invalid(
                "<400> InternalError.Algo.InvalidParameter: The parameters, when provided as a dict, "
                "must confirm to a valid openai-compatible JSON schema."
            )
        if tool.get("type") == "function" and not tool.get("name"):
            raise missing(f"tools[{index}].name")
    return tools


def check_tool_choice(choice: Any, tools: list[Any]) -> Any:
    if isinstance(choice, dict):
        return choice
    if choice not in ("auto", "none", "required"):
        raise invalid(f"Invalid 'tool_choice': {render(choice)}. Supported values are: ('auto','none','required').")
    if choice == "required" and len(tools) != 1:
        raise invalid(
            f"Invalid 'tool_choice': 'required' is only allowed when 'tools' contains exactly one tool, "
            f"but {len(tools)} were provided."
        )
    return choice


def conversation_ref(value: Any) -> str | None:
    """The conversation id, given as a string or as OpenAI's ``{"id": ...}`` object."""
    if isinstance(value, dict):
        value = value.get("id")
    return value if value is None or isinstance(value, str) else render(value)


def load_history(state: EmulatorState, body: dict[str, Any]) -> tuple[dict[str, Any], ...]:
    previous, conversation = body.get("previous_response_id"), conversation_ref(body.get("conversation"))
    if previous is not None and conversation is not None:
        raise invalid(
            "[400] INVALID_REQUEST: Mutually exclusive parameters: Ensure you are only providing one of: "
            "previous_response_id or conversation."
        )
    with state.lock:
        if previous is not None:
            record = state.responses.get(previous) if isinstance(previous, str) else None
            if record is None or record["response"]["status"] == "failed":
                raise invalid(f"Not found previous_response_id: {render(previous)}")
            return tuple(copy.deepcopy(record["context"]))
        if conversation is not None:
            if conversation not in state.conversations:
                raise invalid(f"Not found conversation: {conversation}")
            return tuple(copy.deepcopy(state.conversations[conversation]["items"]))
    return ()


def check_tool_outputs(context: tuple[dict[str, Any], ...]) -> None:
    for index, item in enumerate(context):
        if item.get("type") == "function_call_output" and not call_precedes(context, index):
            raise invalid(
                "<400> InternalError.Algo.InvalidParameter: The function_call_output with call_id "
                f"'{render(item.get('call_id'))}' must immediately follow its function_call."
            )


def call_precedes(context: tuple[dict[str, Any], ...], index: int) -> bool:
    """Whether the output's call sits in the unbroken run of tool items just before it."""
    call_id = context[index].get("call_id")
    for item in reversed(context[:index]):
        if item.get("type") not in ("function_call", "function_call_output"):
            return False
        if item.get("type") == "function_call" and item.get("call_id") == call_id:
            return True
    return False


def wants_thinking(model: str, body: dict[str, Any]) -> bool:
    effort = (body.get("reasoning") or {}).get("effort")
    if effort is not None:
        return effort != "none"
    if isinstance(body.get("enable_thinking"), bool):
        return body["enable_thinking"]
    return any(model == base or model.startswith(base + "-") for base in THINKING_BY_DEFAULT)


# ---------------------------------------------------------------------------------------------- answers


@dataclass(frozen=True)
class Prompt:
    text: str
    images: int
    files: int


@dataclass(frozen=True)
class Answer:
    text: str = ""
    calls: tuple[tuple[str, str], ...] = ()
    failed: bool = False
    piece: int = 0  # the size of the text deltas; 0: word-sized deltas
    incomplete: bool = False


def read_prompt(items: tuple[dict[str, Any], ...]) -> Prompt:
    users = [item for item in items if is_user_message(item)]
    parts = [part for item in users for part in item["content"]]
    images = sum(part.get("type") in ("input_image", "image_url") for part in parts)
    files = sum(part.get("type") == "input_file" for part in parts)
    return Prompt(message_text(users[-1]) if users else "", images, files)


def choose_answer(turn: Turn, prompt: Prompt) -> Answer:
    """Apply the reply rules of the module docstring, first match wins."""
    outputs = trailing_tool_outputs(turn.items)
    if outputs:
        more_calls = parse_calls("\n".join(outputs)) if may_call_functions(turn) else ()
        return Answer(calls=more_calls) if more_calls else Answer("Tool results: " + "; ".join(outputs))
    text = prompt.text
    if "@@fail" in text:
        return Answer(failed=True)
    calls = parse_calls(text) if may_call_functions(turn) else ()
    if calls:
        return Answer(calls=calls)
    answer = directive_answer(text) or Answer(echo_text(turn, prompt))
    return replace(answer, piece=ECHO_KEY_PIECE) if ECHO_KEY in text else answer


def directive_answer(text: str) -> Answer | None:
    words, size = WORDS_DIRECTIVE.search(text), BYTES_DIRECTIVE.search(text)
    if words:
        return Answer(" ".join(f"w{n}" for n in range(1, min(int(words.group(1)), MAX_WORDS) + 1)))
    if size:
        return Answer(x_lines(min(int(size.group(1)), MAX_BYTES)), piece=1000)
    if "@@markdown" in text:
        return Answer(MARKDOWN_SAMPLE)
    if "@@ansi" in text:
        return Answer(ANSI_SAMPLE)
    return None


def trailing_tool_outputs(items: tuple[dict[str, Any], ...]) -> list[str]:
    if not items or items[-1].get("type") != "function_call_output":
        return []
    last_user = max((index for index, item in enumerate(items) if is_user_message(item)), default=-1)
    tail = items[last_user + 1 :]
    return [render(item.get("output", "")) for item in tail if item.get("type") == "function_call_output"]


def may_call_functions(turn: Turn) -> bool:
    has_function = any(tool.get("type") == "function" for tool in turn.tools)
    return has_function and turn.tool_choice != "none"


def parse_calls(text: str) -> tuple[tuple[str, str], ...]:
    """``@@call=NAME`` with optional ``:{json}`` arguments, kept exactly as written."""
    calls, decoder = [], json.JSONDecoder()
    for match in CALL_DIRECTIVE.finditer(text):
        arguments = "{}"
        if text[match.end() : match.end() + 1] == ":":
            try:
                _, end = decoder.raw_decode(text, match.end() + 1)
                arguments = text[match.end() + 1 : end]
            except json.JSONDecodeError:
                pass
        calls.append((match.group(1), arguments))
    return tuple(calls)


def x_lines(size: int) -> str:
    lines, rest = divmod(size, 80)
    return ("x" * 79 + "\n") * lines + "x" * rest


def echo_text(turn: Turn, prompt: Prompt) -> str:
    text = prompt.text
    if len(text) <= ECHO_LIMIT:
        answer = f"You said: {text}"
    else:
        answer = f"You said {len(text)} characters: {text[:100]} ... {text[-100:]}"
    if turn.instructions:
        answer = f"[{turn.instructions}] {answer}"
    if prompt.images:
        answer += f" ({plural(prompt.images, 'image')})"
    if prompt.files:
        answer += f" ({plural(prompt.files, 'file')})"
    if turn.history:
        answer += f" (turn {sum(is_user_message(item) for item in turn.history + turn.items)})"
    return answer


def limit_answer(answer: Answer, max_tokens: int | None) -> Answer:
    """Cut the answer to ``max_tokens`` words, marking it incomplete when something was cut."""
    if max_tokens is None or answer.calls or count_words(answer.text) <= max_tokens:
        return answer
    words = re.findall(r"\S+\s*", answer.text)
    return replace(answer, text="".join(words[:max_tokens]).rstrip(), incomplete=True)


def text_deltas(text: str, piece: int = 0) -> tuple[str, ...]:
    if piece:
        return tuple(text[start : start + piece] for start in range(0, len(text), piece))
    return tuple(DELTA_PIECES.findall(text))


# ---------------------------------------------------------------------------------------------- built-in tools


@dataclass(frozen=True)
class BuiltinTool:
    """How one built-in tool shows up: its item, its stream phases, its usage key."""

    item_type: str
    usage_key: str | None
    phases: tuple[str, ...]
    pending: tuple[str, ...]  # dotted fields absent from the output_item.added skeleton
    build: Callable[[str, dict[str, Any]], dict[str, Any]]
    arguments_first: bool = False  # mcp: argument events come before output_item.added


def web_search_item(query: str, tool: dict[str, Any]) -> dict[str, Any]:
    sources = [{"type": "url", "url": f"https://example.com/search?q={quote(query)}&n={n}"} for n in (1, 2)]
    return {"action": {"type": "search", "query": query, "sources": sources}}


def web_extractor_item(query: str, tool: dict[str, Any]) -> dict[str, Any]:
    url = "https://example.com/"
    output = f"The useful information in {url} for {query}."
    return {"goal": f"Extract information about: {query}", "urls": [url], "output": output}


def code_interpreter_item(query: str, tool: dict[str, Any]) -> dict[str, Any]:
    return {"code": f"print({query!r})", "outputs": [{"type": "logs", "logs": query}], "container_id": "cntr_emulator"}


def web_search_image_item(query: str, tool: dict[str, Any]) -> dict[str, Any]:
    found = [{"title": f"Image of {query}", "url": "https://example.com/image-1.jpg", "index": 1}]
    arguments = json.dumps({"queries": [query]}, ensure_ascii=False)
    return {"name": "web_search_image", "arguments": arguments, "output": json.dumps(found, ensure_ascii=False)}


def image_search_item(query: str, tool: dict[str, Any]) -> dict[str, Any]:
    found = [{"title": f"Similar to {query}", "url": "https://example.com/similar-1.jpg", "index": 1}]
    arguments = json.dumps({"img_idx": 0, "bbox": [0, 0, 1000, 1000]})
    return {"name": "image_search", "arguments": arguments, "output": json.dumps(found, ensure_ascii=False)}


def file_search_item(query: str, tool: dict[str, Any]) -> dict[str, Any]:
    result = {"file_id": "file_emulator_1", "filename": "knowledge.txt", "score": 0.9}
    result["text"] = f"Knowledge about {query}."
    return {"queries": [query], "results": [result]}


def mcp_item(query: str, tool: dict[str, Any]) -> dict[str, Any]:
    label = str(tool.get("server_label", "mcp"))
    arguments = json.dumps({"query": query}, ensure_ascii=False)
    output = json.dumps({"echo": query}, ensure_ascii=False)
    return {"name": f"{label}-echo", "server_label": label, "arguments": arguments, "output": output}


SEARCH_PHASES = ("in_progress", "searching", "completed")
BUILTIN_TOOLS: dict[str, BuiltinTool] = {
    "web_search": BuiltinTool("web_search_call", "web_search", SEARCH_PHASES, ("action.sources",), web_search_item),
    "web_extractor": BuiltinTool("web_extractor_call", "web_extractor", (), ("output",), web_extractor_item),
    "code_interpreter": BuiltinTool(
        "code_interpreter_call",
        "code_interpreter",
        ("in_progress", "interpreting", "completed"),
        ("outputs",),
        code_interpreter_item,
    ),
    "web_search_image": BuiltinTool(
        "web_search_image_call", "web_search_image", (), ("output",), web_search_image_item
    ),
    "image_search": BuiltinTool("image_search_call", "image_search", (), ("output",), image_search_item),
    "file_search": BuiltinTool("file_search_call", "file_search", SEARCH_PHASES, ("results",), file_search_item),
    "mcp": BuiltinTool("mcp_call", None, ("completed",), ("output",), mcp_item, arguments_first=True),
}
BUILTINS_BY_ITEM = {spec.item_type: spec for spec in BUILTIN_TOOLS.values()}


def builtin_items(turn: Turn, prompt: Prompt) -> list[dict[str, Any]]:
    if turn.tool_choice == "none":
        return []
    query = prompt.text[:100] or "emulator"
    items = []
    for tool in turn.tools:
        spec = BUILTIN_TOOLS.get(str(tool.get("type")))
        if spec is not None:
            head = {"id": new_id("msg"), "type": spec.item_type, "status": "completed"}
            items.append({**head, **spec.build(query, tool)})
    return items


def skeleton_of(item: dict[str, Any], pending: tuple[str, ...]) -> dict[str, Any]:
    """The in-progress form of a finished tool item: status in_progress, pending fields removed."""
    skeleton = copy.deepcopy(item)
    skeleton["status"] = "in_progress"
    for path in pending:
        *parents, last = path.split(".")
        holder = skeleton
        for key in parents:
            holder = holder[key]
        holder.pop(last, None)
    return skeleton


# ---------------------------------------------------------------------------------------------- responses


@dataclass(frozen=True)
class Composition:
    output: tuple[dict[str, Any], ...]
    deltas: dict[str, tuple[str, ...]]
    status: str


def execute(state: EmulatorState, turn: Turn) -> tuple[dict[str, Any], dict[str, tuple[str, ...]]]:
    """Run one turn: compose the output, build and remember the Response; also return stream deltas."""
    prompt = read_prompt(turn.items)
    answer = limit_answer(choose_answer(turn, prompt), turn.body.get("max_output_tokens"))
    composition = compose_output(turn, prompt, answer)
    response = build_response(turn, composition)
    remember(state, turn, response)
    return response, composition.deltas


def compose_output(turn: Turn, prompt: Prompt, answer: Answer) -> Composition:
    if answer.failed:
        return Composition((), {}, "failed")
    parts: list[tuple[dict[str, Any], tuple[str, ...]]] = []
    if turn.thinking:
        parts.append(reasoning_part(prompt))
    parts.extend((item, ()) for item in builtin_items(turn, prompt))
    if answer.calls:
        parts.extend(call_part(name, arguments) for name, arguments in answer.calls)
    else:
        parts.append(message_part(answer))
    status = "incomplete" if answer.incomplete else "completed"
    return Composition(tuple(item for item, _ in parts), {item["id"]: deltas for item, deltas in parts}, status)


def reasoning_part(prompt: Prompt) -> tuple[dict[str, Any], tuple[str, ...]]:
    text = f"Thinking about: {prompt.text[:ECHO_LIMIT] or 'the conversation'}"
    item = {"id": new_id("msg"), "type": "reasoning", "summary": [{"type": "summary_text", "text": text}]}
    return item, text_deltas(text)


def call_part(name: str, arguments: str) -> tuple[dict[str, Any], tuple[str, ...]]:
    item = {"id": new_id("msg"), "type": "function_call", "status": "completed", "name": name}
    item.update(arguments=arguments, call_id=new_call_id())
    return item, tuple(arguments[start : start + 8] for start in range(0, len(arguments), 8))


def message_part(answer: Answer) -> tuple[dict[str, Any], tuple[str, ...]]:
    content = [{"type": "output_text", "text": answer.text, "annotations": []}]
    status = "incomplete" if answer.incomplete else "completed"
    item = {"id": new_id("msg"), "type": "message", "role": "assistant", "status": status, "content": content}
    return item, text_deltas(answer.text, answer.piece)


def build_response(turn: Turn, composition: Composition) -> dict[str, Any]:
    now = now_seconds()
    response = base_response(turn.body, turn.model, list(turn.tools), turn.tool_choice)
    response.update(status=composition.status, output=list(composition.output), completed_at=now)
    if composition.status == "failed":
        prompt = read_prompt(turn.items).text
        message = f"Emulated failure of: {prompt}" if ECHO_KEY in prompt else "Emulated failure."
        response.update(completed_at=None, error={"code": "InternalError", "message": message})
        return response
    if composition.status == "incomplete":
        response["incomplete_details"] = {"reason": "max_output_tokens"}
    response["usage"] = build_usage(turn, response["output"])
    return response


def base_response(body: dict[str, Any], model: str, tools: list[Any], tool_choice: Any) -> dict[str, Any]:
    """The fields every Response carries, with the echoes and defaults seen live."""
    response = {
        "id": new_id("resp"),
        "object": "response",
        "created_at": now_seconds(),
        "completed_at": None,
        "status": "in_progress",
        "model": model,
        "output": [],
        "error": None,
        "parallel_tool_calls": body.get("parallel_tool_calls", False),
        "tool_choice": tool_choice,
        "tools": tools,
        "background": False,
        "frequency_penalty": 0.0,
        "presence_penalty": 0.0,
        "top_logprobs": 0,
        "metadata": body.get("metadata") or {},
        "service_tier": "default",
        "store": body.get("store", True),
        "temperature": body.get("temperature", 1.0),
        "top_p": body.get("top_p", 1.0),
        "max_output_tokens": body.get("max_output_tokens"),
        "reasoning": body.get("reasoning"),
    }
    for key in ("instructions", "previous_response_id"):
        if body.get(key) is not None:
            response[key] = body[key]
    return response


def failed_shell(code: str, message: str) -> dict[str, Any]:
    """A Response that failed before any generation (rate limit, stream validation)."""
    return {
        "id": new_id("resp"),
        "object": "response",
        "created_at": now_seconds(),
        "model": "",
        "output": [],
        "parallel_tool_calls": False,
        "status": "failed",
        "tool_choice": "auto",
        "tools": [],
        "error": {"code": code, "message": message},
    }


def items_tokens(items: Iterable[dict[str, Any]]) -> int:
    return sum(count_words(item_text(item)) for item in items)


def reasoning_tokens(output: list[dict[str, Any]]) -> int:
    reasoning = [item for item in output if item["type"] == "reasoning"]
    return sum(count_words(part["text"]) for item in reasoning for part in item["summary"])


def build_usage(turn: Turn, output: list[dict[str, Any]]) -> dict[str, Any]:
    history = items_tokens(turn.history)
    input_tokens = max(1, history + count_words(turn.instructions or "") + items_tokens(turn.items))
    reasoning = reasoning_tokens(output)
    output_tokens = reasoning + items_tokens(item for item in output if item["type"] != "reasoning")
    chained = turn.body.get("previous_response_id") is not None
    cached = history if turn.cache and chained and history >= CACHE_MINIMUM else 0
    total = input_tokens + output_tokens
    detail = {"input_tokens": input_tokens, "output_tokens": output_tokens, "total_tokens": total}
    detail["x_billing_type"] = "response_api"
    if reasoning:
        detail["output_tokens_details"] = {"reasoning_tokens": reasoning}
    if turn.cache:
        detail["input_tokens_details"] = cache_details(input_tokens, cached)
    usage = {
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "total_tokens": total,
        "input_tokens_details": {"cached_tokens": cached},
        "output_tokens_details": {"reasoning_tokens": reasoning},
        "x_details": [detail],
    }
    return add_tool_counts(usage, output)


def cache_details(input_tokens: int, cached: int) -> dict[str, Any]:
    created = input_tokens - cached if input_tokens >= CACHE_MINIMUM else 0
    return {
        "cached_tokens": cached,
        "cache_creation_input_tokens": created,
        "cache_creation": {"ephemeral_5m_input_tokens": created},
        "cache_type": "ephemeral",
    }


def add_tool_counts(usage: dict[str, Any], output: list[dict[str, Any]]) -> dict[str, Any]:
    counts: dict[str, dict[str, int]] = {}
    for item in output:
        spec = BUILTINS_BY_ITEM.get(item["type"])
        if spec is not None and spec.usage_key:
            counts.setdefault(spec.usage_key, {"count": 0})["count"] += 1
    if counts:
        usage["x_tools"] = counts
    return usage


def remember(state: EmulatorState, turn: Turn, response: dict[str, Any]) -> None:
    """Store the response (unless store:false) and extend the turn's conversation (unless it failed)."""
    kept = [copy.deepcopy(item) for item in response["output"] if item["type"] in CONTEXT_TYPES]
    listing = [*turn.history, *turn.items]
    record = {"response": copy.deepcopy(response), "listing": listing, "context": [*listing, *kept]}
    with state.lock:
        if turn.body.get("store", True):
            state.responses[response["id"]] = record
        conversation = state.conversations.get(turn.conversation_id or "")
        if conversation is not None and response["status"] != "failed":
            conversation["items"].extend(copy.deepcopy([*turn.items, *kept]))


# ---------------------------------------------------------------------------------------------- stream events


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
    empty = {"type": "output_text", "text": "", "annotations": [], "logprobs": None}
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


# ---------------------------------------------------------------------------------------------- SSE frames


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
        return f"event: {event['type']}\ndata: {data}\n\n".encode("utf-8")
    lines = [f"id:{event['sequence_number'] + 1}", f"event:{event['type']}", ":HTTP_STATUS/200", f"data:{data}"]
    newline = "\r\n" if style == "crlf" else "\n"
    return (newline.join(lines) + newline * 2).encode("utf-8")


def malformed_frame(style: str) -> bytes:
    broken = '{"type": "response.output_text.delta", '
    if style == "openai":
        return f"event: response.output_text.delta\ndata: {broken}\n\n".encode("utf-8")
    newline = "\r\n" if style == "crlf" else "\n"
    lines = ["event:response.output_text.delta", ":HTTP_STATUS/200", f"data:{broken}"]
    return (newline.join(lines) + newline * 2).encode("utf-8")


def split_frame(frame: bytes) -> list[bytes]:
    """7-byte pieces, so readers must reassemble events and UTF-8 characters across reads."""
    return [frame[at : at + SPLIT_SIZE] for at in range(0, len(frame), SPLIT_SIZE)]


# ---------------------------------------------------------------------------------------------- endpoints


def create_response(state: EmulatorState, call: Call) -> Reply:
    """POST /responses: faults, validation, generation, then a JSON body or an event stream."""
    faults = state.faults
    try:
        reply = answer_create(state, call, faults)
    except ApiFailure as failure:
        reply = error_reply(failure, call.request_id)
    # Delay only after the reply is decided: a request its client gave up on must not wake later and
    # spend fault counters set for the requests that follow it.
    state.stopping.wait(faults.first_event_delay)
    return reply


def answer_create(state: EmulatorState, call: Call, faults: Faults) -> Reply:
    body = echo_key(parse_object(call.raw_body), call)
    streaming = body.get("stream") is True
    if state.take("http_status"):
        return gateway_fault(faults, call.request_id)
    if state.take("rate_limit_http200"):
        return failure_reply(failed_shell("server_error", RATE_LIMIT_MESSAGE), streaming, faults)
    try:
        turn = validate_create(state, call, body)
    except ApiFailure as failure:
        if not streaming:
            raise
        return failure_reply(failed_shell(failure.code, failure.message), True, faults)
    response, deltas = execute(state, turn)
    if streaming:
        return stream_reply(response, deltas, faults)
    return finished_reply(state, response)


def echo_key(body: dict[str, Any], call: Call) -> dict[str, Any]:
    """``@@echo-key``: every ``@@key`` in the input becomes the request's Bearer token (a hostile server's echo)."""
    if ECHO_KEY not in json.dumps(body.get("input")):
        return body
    token = call.headers.get("authorization", "").strip().partition(" ")[2].strip()
    return {**body, "input": replace_strings(body.get("input"), KEY_PLACEHOLDER, token)}


def replace_strings(value: Any, old: str, new: str) -> Any:
    if isinstance(value, str):
        return value.replace(old, new)
    if isinstance(value, list):
        return [replace_strings(item, old, new) for item in value]
    if isinstance(value, dict):
        return {key: replace_strings(item, old, new) for key, item in value.items()}
    return value


def stream_reply(response: dict[str, Any], deltas: dict[str, tuple[str, ...]], faults: Faults) -> Reply:
    """The events of a stream, or what a gateway that does not stream answers instead."""
    if faults.stream_body == "json":
        return JsonReply(200, dump(response))
    if faults.stream_body == "html":
        return JsonReply(200, portal_page(), "text/html")
    return StreamReply(tuple(stream_events(response, deltas)), faults)


def failure_reply(response: dict[str, Any], streaming: bool, faults: Faults) -> Reply:
    if streaming:
        return StreamReply(({"type": "response.failed", "response": response},), faults)
    return json_reply(200, response)


def finished_reply(state: EmulatorState, response: dict[str, Any]) -> JsonReply:
    body = dump(response)
    if response["status"] == "failed":
        return JsonReply(200, body)
    if state.take("truncate_json"):
        body = body[: len(body) // 2]
    elif state.take("invalid_json"):
        body = NOT_JSON
    elif state.take("stall_json"):
        return JsonReply(200, body, stall=True)
    return JsonReply(200, body)


def gateway_fault(faults: Faults, request_id: str) -> JsonReply:
    status = faults.http_status
    code, message = GATEWAY_ERRORS.get(status, (status_phrase(status), status_phrase(status)))
    envelope = dump({"request_id": request_id, "code": code, "message": message})
    headers = (("Retry-After", faults.retry_after),) if faults.retry_after is not None else ()
    if faults.error_body == "html":
        return JsonReply(status, proxy_page(status), "text/html", headers)
    if faults.error_body == "nested":
        envelope = dump({"error": {"message": message, "type": code}})
    elif faults.error_body == "truncated":
        envelope = envelope[: len(envelope) // 2]
    elif faults.error_body == "invalid":
        envelope = NOT_JSON
    return JsonReply(status, envelope, JSON_TYPE, headers)


def status_phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def portal_page() -> bytes:
    """What a captive portal or a web filter answers, HTTP 200, in place of the API's reply."""
    return (
        "<!DOCTYPE html>\r\n<html>\r\n<head><title>Sign in to the network</title></head>\r\n"
        "<body><p>Please accept the terms of use to continue.</p></body>\r\n</html>\r\n"
    ).encode("utf-8")


def proxy_page(status: int) -> bytes:
    title = f"{status} {status_phrase(status)}"
    return (
        f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n<center><h1>{title}</h1></center>\r\n"
        "<hr><center>istio-envoy</center>\r\n</body>\r\n</html>\r\n"
    ).encode("utf-8")


def stored_record(state: EmulatorState, response_id: str) -> dict[str, Any]:
    with state.lock:
        record = state.responses.get(response_id)
        if record is None:
            raise invalid(f"Response with id '{response_id}' not found.", 404)
        return copy.deepcopy(record)


def retrieve_response(state: EmulatorState, call: Call, response_id: str) -> Reply:
    return json_reply(200, stored_record(state, response_id)["response"])


def delete_response(state: EmulatorState, call: Call, response_id: str) -> Reply:
    with state.lock:
        if state.responses.pop(response_id, None) is None:
            raise invalid(f"Response with id '{response_id}' not found.", 404)
    return json_reply(200, {"deleted": True, "id": response_id})


def list_input_items(state: EmulatorState, call: Call, response_id: str) -> Reply:
    record = stored_record(state, response_id)
    response = record["response"]
    page, has_more = paginate(record["listing"], call.query)
    listing = {**page_body(page, has_more), "id": response_id, "model": response["model"]}
    listing["created_at"] = response["created_at"] * 1000  # milliseconds here, unlike the Response itself
    if response.get("previous_response_id"):
        listing["previous_response_id"] = response["previous_response_id"]
    return json_reply(200, listing)


def paginate(items: list[dict[str, Any]], query: dict[str, str]) -> tuple[list[dict[str, Any]], bool]:
    """Order (default desc), skip past ``after``, then cut to ``limit`` (1-100, default 20)."""
    limit, order = query.get("limit", "20"), query.get("order", "desc")
    if not limit.isdigit() or not 1 <= int(limit) <= 100:
        raise invalid(f"Invalid 'limit': {limit}. Expected a value between [1,100], but got {limit} instead.")
    if order not in ("asc", "desc"):
        raise invalid(f"Invalid 'order': {order}. Supported values are: ('asc','desc').")
    ordered = list(reversed(items)) if order == "desc" else list(items)
    after = query.get("after")
    if after:
        position = next((index for index, item in enumerate(ordered) if item.get("id") == after), None)
        ordered = [] if position is None else ordered[position + 1 :]
    return ordered[: int(limit)], len(ordered) > int(limit)


def page_body(page: list[dict[str, Any]], has_more: bool) -> dict[str, Any]:
    first = page[0]["id"] if page else None
    last = page[-1]["id"] if page else None
    return {"data": page, "first_id": first, "last_id": last, "has_more": has_more}


# ---------------------------------------------------------------------------------------------- conversations


def check_conversation_items(value: Any) -> list[dict[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise invalid("Invalid 'items': must be an array.")
    if len(value) > 20:
        raise invalid(f"Invalid 'items': at most 20 items are allowed, but got {len(value)}.")
    items = []
    for index, item in enumerate(value):
        if not isinstance(item, dict) or item.get("type", "message") != "message":
            raise invalid(f"Invalid 'items[{index}]': only items of type 'message' are supported.")
        items.append(normalize_message(item, f"items[{index}]"))
    return items


def check_metadata(value: Any) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise invalid("Invalid 'metadata': must be an object.")
    if len(value) > 16:
        raise invalid(f"Invalid 'metadata': at most 16 key-value pairs are allowed, but got {len(value)}.")
    for key, item in value.items():
        if len(key) > 64:
            raise invalid(f"Invalid 'metadata': key '{key}' is longer than 64 characters.")
        if not isinstance(item, str) or len(item) > 512:
            raise invalid(f"Invalid 'metadata': the value of '{key}' must be a string of at most 512 characters.")
    return dict(value)


def conversation_record(state: EmulatorState, conversation_id: str) -> dict[str, Any]:
    """The live record; callers hold the lock."""
    record = state.conversations.get(conversation_id)
    if record is None:
        raise invalid(f"Conversation with id '{conversation_id}' not found.", 404)
    return record


def create_conversation(state: EmulatorState, call: Call) -> Reply:
    body = parse_object(call.raw_body)
    items, metadata = check_conversation_items(body.get("items")), check_metadata(body.get("metadata"))
    conversation = {"id": new_id("conv"), "object": "conversation", "created_at": int(time.time() * 1000)}
    conversation["metadata"] = metadata
    with state.lock:
        state.conversations[conversation["id"]] = {"object": conversation, "items": items}
    return json_reply(200, conversation)


def get_conversation(state: EmulatorState, call: Call, conversation_id: str) -> Reply:
    with state.lock:
        return json_reply(200, conversation_record(state, conversation_id)["object"])


def update_conversation(state: EmulatorState, call: Call, conversation_id: str) -> Reply:
    body = parse_object(call.raw_body)
    if body.get("metadata") is None:
        raise missing("metadata")
    metadata = check_metadata(body["metadata"])
    with state.lock:
        record = conversation_record(state, conversation_id)
        record["object"]["metadata"] = metadata
        return json_reply(200, record["object"])


def delete_conversation(state: EmulatorState, call: Call, conversation_id: str) -> Reply:
    with state.lock:
        conversation_record(state, conversation_id)
        del state.conversations[conversation_id]
    return json_reply(200, {"id": conversation_id, "object": "conversation.deleted", "deleted": True})


def add_conversation_items(state: EmulatorState, call: Call, conversation_id: str) -> Reply:
    body = parse_object(call.raw_body)
    if body.get("items") is None:
        raise missing("items")
    items = check_conversation_items(body["items"])
    with state.lock:
        conversation_record(state, conversation_id)["items"].extend(items)
    return json_reply(200, page_body(items, False))


def list_conversation_items(state: EmulatorState, call: Call, conversation_id: str) -> Reply:
    with state.lock:
        items = copy.deepcopy(conversation_record(state, conversation_id)["items"])
    page, has_more = paginate(items, call.query)
    return json_reply(200, {**page_body(page, has_more), "object": "list"})


def find_item(state: EmulatorState, conversation_id: str, item_id: str) -> dict[str, Any]:
    """The live item; callers hold the lock."""
    for item in conversation_record(state, conversation_id)["items"]:
        if item["id"] == item_id:
            return item
    raise invalid(f"Item with id '{item_id}' not found.", 404)


def get_conversation_item(state: EmulatorState, call: Call, conversation_id: str, item_id: str) -> Reply:
    with state.lock:
        return json_reply(200, find_item(state, conversation_id, item_id))


def delete_conversation_item(state: EmulatorState, call: Call, conversation_id: str, item_id: str) -> Reply:
    with state.lock:
        item = find_item(state, conversation_id, item_id)
        conversation_record(state, conversation_id)["items"].remove(item)
    return json_reply(200, {"id": item_id, "object": "conversation.item.deleted", "deleted": True})


# ---------------------------------------------------------------------------------------------- routing

Route = Callable[..., Reply]
SEGMENT = r"([^/]+)"
ROUTES: tuple[tuple[re.Pattern[str], dict[str, Route]], ...] = (
    (re.compile(r"/responses"), {"POST": create_response}),
    (re.compile(rf"/responses/{SEGMENT}"), {"GET": retrieve_response, "DELETE": delete_response}),
    (re.compile(rf"/responses/{SEGMENT}/input_items"), {"GET": list_input_items}),
    (re.compile(r"/conversations"), {"POST": create_conversation}),
    (
        re.compile(rf"/conversations/{SEGMENT}"),
        {"GET": get_conversation, "POST": update_conversation, "DELETE": delete_conversation},
    ),
    (re.compile(rf"/conversations/{SEGMENT}/items"), {"GET": list_conversation_items, "POST": add_conversation_items}),
    (
        re.compile(rf"/conversations/{SEGMENT}/items/{SEGMENT}"),
        {"GET": get_conversation_item, "DELETE": delete_conversation_item},
    ),
)


def handle_call(state: EmulatorState, call: Call) -> Reply:
    """The single entry point of every request: control endpoints, else record, auth and route."""
    try:
        if call.path.startswith(CONTROL_PREFIX):
            return handle_control(state, call)
        state.record(describe_call(call))
        check_auth(state, call)
        route, ids = resolve_route(call)
        return route(state, call, *ids)
    except ApiFailure as failure:
        return error_reply(failure, call.request_id)
    except Exception as exc:  # a bug must reach the client as a 500, not as a dropped connection
        return error_reply(ApiFailure(500, "InternalError", f"Emulator error: {exc!r}"), call.request_id)


def describe_call(call: Call) -> dict[str, Any]:
    headers = {name: ("[redacted]" if name == "authorization" else value) for name, value in call.headers.items()}
    try:
        body = parse_json(call.raw_body)
    except ApiFailure:
        body = None
    return {"method": call.method, "path": call.path, "query": dict(call.query), "headers": headers, "body": body}


def check_auth(state: EmulatorState, call: Call) -> None:
    header = call.headers.get("authorization", "").strip()
    scheme, _, token = header.partition(" ")
    if not header or (scheme.lower() == "bearer" and not token.strip()):
        raise ApiFailure(401, "InvalidApiKey", "No API-key provided.")
    if scheme.lower() != "bearer" or (state.api_key is not None and token.strip() != state.api_key):
        raise ApiFailure(401, "InvalidApiKey", "Invalid API-key provided.")


def resolve_route(call: Call) -> tuple[Route, tuple[str, ...]]:
    rest = next((call.path[len(prefix) :] for prefix in API_PREFIXES if call.path.startswith(prefix + "/")), None)
    if rest is None:
        raise ApiFailure(404, "Not Found", "Not support")
    for pattern, methods in ROUTES:
        match = pattern.fullmatch(rest.rstrip("/"))
        if match is None:
            continue
        if call.method not in methods:
            raise ApiFailure(405, "Method Not Allowed", f"Method '{call.method}' is not allowed for '{call.path}'.")
        return methods[call.method], match.groups()
    raise ApiFailure(404, "Not Found", "Not support")


def handle_control(state: EmulatorState, call: Call) -> Reply:
    route = (call.method, call.path.rstrip("/"))
    if route == ("GET", "/__emulator/requests"):
        return json_reply(200, state.snapshot_requests())
    if route == ("POST", "/__emulator/reset"):
        state.reset()
        return json_reply(200, {"reset": True})
    if route[1] == "/__emulator/faults" and call.method in ("GET", "POST", "DELETE"):
        return control_faults(state, call)
    raise ApiFailure(404, "Not Found", "Not support")


def control_faults(state: EmulatorState, call: Call) -> Reply:
    if call.method == "POST":
        try:
            state.set_faults(Faults.from_mapping(parse_object(call.raw_body)))
        except (TypeError, ValueError) as exc:
            raise invalid(str(exc)) from None
    elif call.method == "DELETE":
        state.set_faults(Faults())
    with state.lock:
        return json_reply(200, {"faults": asdict(state.faults), "remaining": dict(state.remaining)})


# ---------------------------------------------------------------------------------------------- HTTP server


class _Handler(BaseHTTPRequestHandler):
    """Turns sockets into Calls and Replies into bytes: chunked streams, Content-Length bodies, faults."""

    protocol_version = "HTTP/1.1"
    server_version = "qwen-emulator"
    chunked = False
    gzip = False
    compressor: Any = None
    timeout = 60  # idle keep-alive connections end instead of holding a thread forever
    server: _Server

    def setup(self) -> None:
        super().setup()
        # Small SSE frames (and split writes) must leave at once rather than wait for Nagle.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: test output must not be flooded with access logs."""

    def do_GET(self) -> None:
        self.dispatch()

    do_POST = do_DELETE = do_PUT = do_PATCH = do_GET

    def dispatch(self) -> None:
        call = self.read_call()
        reply = handle_call(self.server.state, call)
        self.gzip, self.compressor = wants_gzip(self.server.state.faults, call), None  # a keep-alive handler serves many
        try:
            if isinstance(reply, StreamReply):
                self.send_stream(reply, call.request_id)
            else:
                self.send_json(reply, call.request_id)
        except OSError:  # the client went away mid-reply; nothing is left to tell it
            self.close_connection = True

    def read_call(self) -> Call:
        parts = urlsplit(self.path)
        headers = {name.lower(): value for name, value in self.headers.items()}
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        return Call(self.command, parts.path, query, headers, self.read_body(headers), str(uuid.uuid4()))

    def read_body(self, headers: dict[str, str]) -> bytes:
        if "chunked" in headers.get("transfer-encoding", "").lower():
            return self.read_chunked_body()
        length = int(headers.get("content-length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def read_chunked_body(self) -> bytes:
        chunks = []
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass
                return b"".join(chunks)
            chunks.append(self.rfile.read(size))
            self.rfile.readline()

    def send_json(self, reply: JsonReply, request_id: str) -> None:
        body = gzip_whole(reply.body) if self.gzip else reply.body
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("x-request-id", request_id)
        if self.gzip:
            self.send_header("Content-Encoding", "gzip")
        for name, value in reply.headers:
            self.send_header(name, value)
        self.end_headers()
        if not reply.stall:
            self.wfile.write(body)
            return
        self.wfile.write(body[: len(body) // 2])
        self.wfile.flush()
        self.hold_open()

    def send_stream(self, reply: StreamReply, request_id: str) -> None:
        faults = reply.faults
        self.chunked = self.request_version == "HTTP/1.1"
        self.send_response(200)
        self.send_header("Content-Type", SSE_TYPE)
        self.send_header("Cache-Control", "no-cache")
        self.send_header("x-request-id", request_id)
        if self.gzip:
            self.send_header("Content-Encoding", "gzip")
            self.compressor = zlib.compressobj(wbits=31)
        if self.chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.close_connection = True  # without chunks only the close can end the body
        self.end_headers()
        if not self.write_frames(build_frames(reply.events, faults), faults):
            return
        if self.compressor is not None:
            self.write_chunk(self.compressor.flush(), compressed=True)
        if self.chunked:
            self.write_chunk(b"", compressed=True)

    def write_frames(self, frames: list[bytes], faults: Faults) -> bool:
        """Write frames with the stream faults applied; False when the stream was cut or stalled."""
        for index, frame in enumerate(frames):
            if faults.cut_after_events is not None and index >= faults.cut_after_events:
                self.cut_connection()
                return False
            if faults.stall_after_events is not None and index >= faults.stall_after_events:
                self.hold_open()
                return False
            if faults.event_delay and self.server.state.stopping.wait(faults.event_delay):
                self.close_connection = True
                return False
            for piece in split_frame(frame) if faults.split_writes else [frame]:
                self.write_chunk(piece)
        return True

    def write_chunk(self, data: bytes, compressed: bool = False) -> None:
        if self.compressor is not None and not compressed:
            data = self.compressor.compress(data) + self.compressor.flush(zlib.Z_SYNC_FLUSH)
        if self.chunked:
            data = b"%x\r\n%s\r\n" % (len(data), data)
        self.wfile.write(data)
        self.wfile.flush()

    def cut_connection(self) -> None:
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def hold_open(self) -> None:
        """Send nothing more until the client leaves, the emulator stops or the stall limit passes."""
        self.close_connection = True
        deadline = time.monotonic() + STALL_LIMIT
        while time.monotonic() < deadline and not self.server.state.stopping.is_set():
            readable, _, _ = select.select([self.connection], [], [], 0.1)
            if readable and self.peer_closed():
                return

    def peer_closed(self) -> bool:
        try:
            if self.connection.recv(1, socket.MSG_PEEK) == b"":
                return True
        except OSError:
            return True
        time.sleep(0.1)  # the client sent bytes: keep waiting without spinning on them
        return False


def wants_gzip(faults: Faults, call: Call) -> bool:
    if not faults.gzip or call.path.startswith(CONTROL_PREFIX):
        return False
    accepted = [part.split(";")[0].strip().lower() for part in call.headers.get("accept-encoding", "").split(",")]
    return "gzip" in accepted


def gzip_whole(body: bytes) -> bytes:
    compressor = zlib.compressobj(wbits=31)
    return compressor.compress(body) + compressor.flush()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # stalled streams and idle keep-alive connections must not block stop()
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], state: EmulatorState) -> None:
        self.state = state
        super().__init__(address, _Handler)


def base_url_of(server: _Server) -> str:
    host, port = server.server_address[:2]
    return f"http://{host}:{port}/compatible-mode/v1"


class Emulator:
    """The emulator as a context manager: ``with Emulator() as emu: ... emu.base_url``."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, api_key: str | None = None) -> None:
        self.host = host
        self.port = port
        self._state = EmulatorState(api_key)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> Emulator:
        """Bind and serve in a daemon thread."""
        self._state.stopping.clear()
        self._server = _Server((self.host, self.port), self._state)
        self._thread = threading.Thread(target=self._server.serve_forever, name="qwen-emulator", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._state.stopping.set()
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server, self._thread = None, None

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("The emulator is not running; call start() first.")
        return base_url_of(self._server)

    @property
    def requests(self) -> list[dict[str, Any]]:
        return self._state.snapshot_requests()

    @property
    def faults(self) -> Faults:
        return self._state.faults

    def set_faults(self, faults: Faults | None = None, **fields: Any) -> None:
        """Replace the current faults with ``faults`` or with ``Faults(**fields)``."""
        self._state.set_faults(faults if faults is not None else Faults(**fields))

    def reset(self) -> None:
        """Forget faults, recorded requests, stored responses and conversations."""
        self._state.reset()

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def serve_forever(
    host: str, port: int, api_key: str | None, faults: Faults | None, announce: Callable[[str], None]
) -> None:
    """Serve in the calling thread until KeyboardInterrupt, announcing the base URL once listening."""
    state = EmulatorState(api_key)
    if faults is not None:
        state.set_faults(faults)
    server = _Server((host, port), state)
    try:
        announce(f"Emulator listening on {base_url_of(server)}")
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        state.stopping.set()
        server.server_close()
