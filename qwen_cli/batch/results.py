"""The result lines both engines write: one JSON object per item, in one schema.

`{"id", "status", "response_id", "text", "usage", "error", "request_digest", "finished_at", "elapsed"}`, plus
`"response"` (the whole Response, or the provider's whole line) with --full. `status` is one of STATUSES;
`usage` is `{"input_tokens", "output_tokens", "total_tokens"}` (plus `cached_tokens` and `reasoning_tokens` when the
server counted them) or null; `error` is `{"type", "message", "code"}` or null. Pure: no I/O.
"""

from __future__ import annotations

import time
from typing import Any

from qwen_cli.api.responses import ResponseView
from qwen_cli.errors import QwenError

COMPLETED = "completed"
INCOMPLETE = "incomplete"
FAILED = "failed"
FUNCTION_CALLS = "function_calls"
STATUSES = (COMPLETED, INCOMPLETE, FAILED, FUNCTION_CALLS)
# An item with one of these has its answer: a rerun skips it. A failed one is sent again.
SETTLED = frozenset({COMPLETED, INCOMPLETE, FUNCTION_CALLS})

Result = dict[str, Any]


def result_line(
    item_id: str,
    status: str,
    *,
    digest: str | None,
    response_id: str | None = None,
    text: str = "",
    usage: dict[str, int] | None = None,
    error: dict[str, Any] | None = None,
    elapsed: float | None = None,
    finished_at: float | None = None,
    full: Any = None,
) -> Result:
    """One item's result line, in the documented key order."""
    if status not in STATUSES:
        raise ValueError(f"unknown result status {status!r}")
    line: Result = {
        "id": item_id,
        "status": status,
        "response_id": response_id,
        "text": text,
        "usage": usage,
        "error": error,
        "request_digest": digest,
        "finished_at": iso_time(time.time() if finished_at is None else finished_at),
        "elapsed": None if elapsed is None else round(elapsed, 3),
    }
    if full is not None:
        line["response"] = full
    return line


def of_response(item_id: str, response: dict[str, Any], digest: str | None, elapsed: float, full: bool) -> Result:
    """The result of a Responses API answer (this machine's engine)."""
    view = ResponseView.of(response)
    failure = view.failure
    if failure is not None:
        status, error = FAILED, error_object("api_error", failure.message, failure.code)
    elif view.function_calls:
        status, error = FUNCTION_CALLS, None
    elif view.status == INCOMPLETE:
        status, error = INCOMPLETE, None
    else:
        status, error = COMPLETED, None
    usage = None
    if view.usage is not None:
        usage = usage_object(
            view.usage.input_tokens,
            view.usage.output_tokens,
            view.usage.total_tokens,
            cached=view.usage.cached_tokens,
            reasoning=view.usage.reasoning_tokens,
        )
    return result_line(
        item_id,
        status,
        digest=digest,
        response_id=view.id,
        text=view.answer,
        usage=usage,
        error=error,
        elapsed=elapsed,
        full=response if full else None,
    )


def of_error(item_id: str, error: QwenError, digest: str | None, elapsed: float | None) -> Result:
    """The result of an item whose request failed after its retries."""
    return result_line(
        item_id,
        FAILED,
        digest=digest,
        error=error_object(error.kind, error.message, error.code),
        elapsed=elapsed,
    )


def error_object(kind: str, message: str, code: str | None) -> dict[str, Any]:
    return {"type": kind, "message": message, "code": code}


def usage_object(
    inputs: int, outputs: int, total: int | None = None, *, cached: int = 0, reasoning: int = 0
) -> dict[str, int]:
    usage = {"input_tokens": inputs, "output_tokens": outputs, "total_tokens": total if total else inputs + outputs}
    if cached:
        usage["cached_tokens"] = cached
    if reasoning:
        usage["reasoning_tokens"] = reasoning
    return usage


def iso_time(seconds: float) -> str:
    """UTC, to the millisecond: `2026-12-06T04:31:07.123Z`."""
    whole = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))
    return f"{whole}.{int(seconds % 1 * 1000):03d}Z"
