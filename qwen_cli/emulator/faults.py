"""Fault switches: what can go wrong on purpose (HTTP errors, rate limits, cut, stalled and malformed streams, gzip), set per test."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, get_args, get_type_hints

ERROR_BODIES = ("json", "nested", "html", "truncated", "invalid")


STREAM_BODIES = ("sse", "json", "html")


FAIL_EVENTS = ("response.failed", "error")


SSE_STYLES = ("dashscope", "openai", "crlf")


STALL_LIMIT = 120.0


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


@dataclass(frozen=True)
class Faults:
    """Fault switches; all off by default. Counters are consumed by POST /responses requests only, except batch_*.

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

    Batches (see the package docstring; read when a batch is created, so a batch keeps the pace it started with):
    batch_step_seconds: how long each step of a batch's life takes: validating, then in_progress (its lines
        finish one by one across the step), then finalizing, then settled; a cancel settles one step later.
    batch_expire: batches created while this is on run out of time: ``expired`` after half their lines.
    batch_http_status / batch_http_status_count: the next N requests to ``/files`` and ``/batches`` answer HTTP
        ``batch_http_status`` (0 = off) with the nested envelope, before doing anything (``retry_after`` applies).
    batch_create_lost: the next N batch creates make the batch, then answer HTTP 502 as if the reply had been
        lost on the way back (the case a client must reconcile through ``GET /batches?input_file_ids=``).
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
    batch_step_seconds: float = 0.5
    batch_expire: bool = False
    batch_http_status: int = 0
    batch_http_status_count: int = 1
    batch_create_lost: int = 0

    def __post_init__(self) -> None:
        if self.error_body not in ERROR_BODIES:
            raise ValueError(f"error_body must be one of {ERROR_BODIES}, got {self.error_body!r}")
        if self.sse_style not in SSE_STYLES:
            raise ValueError(f"sse_style must be one of {SSE_STYLES}, got {self.sse_style!r}")
        if self.stream_body not in STREAM_BODIES:
            raise ValueError(f"stream_body must be one of {STREAM_BODIES}, got {self.stream_body!r}")
        if not 0 <= self.batch_step_seconds <= STALL_LIMIT:
            raise ValueError(
                f"batch_step_seconds must be between 0 and {STALL_LIMIT:g}, got {self.batch_step_seconds!r}"
            )
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
            "batch_http_status": self.batch_http_status_count if self.batch_http_status else 0,
            "batch_create_lost": self.batch_create_lost,
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
