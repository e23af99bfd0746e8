"""Reading a Response object (a dict, as the API returns it): answer, reasoning, usage, failure, tool calls.

`ResponseView.of(response)` reads them all once, typed, for the layers that show and judge a response (render,
cli); the functions below read one thing each. Pure: standard library only; no I/O. Every reader tolerates
missing, None and oddly typed fields and never raises.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Part types that carry answer text: `output_text` on the wire; `text` in a DashScope doc example (`msg_final`).
_TEXT_PARTS = frozenset({"output_text", "text"})
_INPUT_AND_OUTPUT_TEXT = frozenset({"input_text", "output_text", "text"})

# Rate limits that clear by themselves, so a retry after a pause can succeed (§12.2). Compared in lower case.
_RATE_LIMIT_CODES = frozenset(
    {
        "throttling",
        "throttling.ratequota",
        "throttling.burstrate",
        "limitrequests",
        "limit_requests",
        "limit_burst_rate",
        "rate_limit_exceeded",
    }
)
# Quota exhausted (§12.2 `Throttling.AllocationQuota` / `insufficient_quota`): retrying cannot fix it.
_QUOTA_CODES = frozenset({"throttling.allocationquota", "insufficient_quota"})
_QUOTA_WORDS = ("quota exceeded", "exceeded your current quota", "increase your quota")
_RATE_LIMIT_WORDS = ("rate limit", "throttling", "request limit", "too quickly", "too many requests")


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _dicts(value: Any) -> list[dict[str, Any]]:
    """The dict members of a list; anything else reads as an empty list."""
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _output(response: Any) -> list[dict[str, Any]]:
    return _dicts(_dict(response).get("output"))


def _texts(parts: Any, types: frozenset[str] | None = None) -> list[str]:
    """The non-empty `text` of each part (of the given types, when given)."""
    return [
        part["text"]
        for part in _dicts(parts)
        if isinstance(part.get("text"), str) and part["text"] and (types is None or part.get("type") in types)
    ]


def answer_text(response: dict[str, Any]) -> str:
    """The answer: each message's text parts joined as they are, messages separated by a blank line."""
    messages = (item for item in _output(response) if item.get("type") == "message")
    texts = ("".join(_texts(message.get("content"), _TEXT_PARTS)) for message in messages)
    # A message without text (a skeleton, a refusal) adds no empty paragraph: streaming shows nothing for it either.
    return "\n\n".join(text for text in texts if text)


def reasoning_text(response: dict[str, Any]) -> str:
    """The thinking: every reasoning item's summary texts (or its `content` texts when it has no summary)."""
    texts: list[str] = []
    for item in _output(response):
        if item.get("type") == "reasoning":
            # DashScope puts the whole thinking in `summary`; OpenAI-style servers may use `content` instead.
            texts.extend(_texts(item.get("summary")) or _texts(item.get("content")))
    return "\n\n".join(texts)


@dataclass(frozen=True)
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0
    total_tokens: int = 0
    reasoning_tokens: int = 0
    cached_tokens: int = 0


def _int(value: Any) -> int:
    if isinstance(value, bool):
        return 0
    return int(value) if isinstance(value, (int, float)) else 0


def _first_count(entry: dict[str, Any], sections: tuple[str, ...], key: str) -> int:
    for section in sections:
        count = _int(_dict(entry.get(section)).get(key))
        if count:
            return count
    return 0


def _detail(usage: dict[str, Any], sections: tuple[str, ...], key: str) -> int:
    """`usage[sections[0]][key]`, else the sum over `x_details[]` of the first of `sections` holding it.

    DashScope fills the cache counts in `x_details[]` under two names (§6), sometimes leaving the top level at 0.
    """
    top = _int(_dict(usage.get(sections[0])).get(key))
    if top:
        return top
    return sum(_first_count(entry, sections, key) for entry in _dicts(usage.get("x_details")))


def usage_of(response: dict[str, Any]) -> Usage | None:
    """The token counts, or None when the response carries no usage object."""
    usage = _dict(response).get("usage")
    if not isinstance(usage, dict):
        return None
    input_tokens, output_tokens = _int(usage.get("input_tokens")), _int(usage.get("output_tokens"))
    return Usage(
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        # §6 defines total as input + output; derive it when a trimmed usage leaves it out.
        total_tokens=_int(usage.get("total_tokens")) or input_tokens + output_tokens,
        reasoning_tokens=_detail(usage, ("output_tokens_details",), "reasoning_tokens"),
        cached_tokens=_detail(usage, ("input_tokens_details", "prompt_tokens_details"), "cached_tokens"),
    )


def failure_of(response: dict[str, Any]) -> tuple[str | None, str] | None:
    """(code, message) when the response failed, which DashScope also reports with HTTP 200 (§7.4); else None."""
    response = _dict(response)
    error = _dict(response.get("error"))
    # An empty error object says nothing; `"error": null` is the success value.
    if response.get("status") != "failed" and not error:
        return None
    code = error.get("code") or error.get("type")  # the nested not-found envelope names its code `type` (§12.1)
    message = error.get("message")
    return (
        str(code) if code else None,
        message if isinstance(message, str) and message else "the response failed without an error message",
    )


def is_rate_limited(code: str | None, message: str) -> bool:
    """True for a rate limit that a later retry can pass; False for an exhausted quota, which needs the user.

    Codes come from §12.2 (`Throttling*`, `LimitRequests`/`limit_requests`, `limit_burst_rate`); on this endpoint
    rate limits arrive as `server_error` with "rate limit exceeded" in the message (§7.4), so the message decides
    when the code is generic.
    """
    code_key = (code or "").lower()
    text = (message or "").lower()
    if code_key in _QUOTA_CODES or any(words in text for words in _QUOTA_WORDS):
        return False
    if code_key in _RATE_LIMIT_CODES or code_key.startswith("throttling"):
        return True
    return any(words in text for words in _RATE_LIMIT_WORDS)


def incomplete_reason(response: dict[str, Any]) -> str | None:
    """Why an `incomplete` response stopped (e.g. `max_output_tokens`), "" when the server gave no reason; None
    for any other status."""
    response = _dict(response)
    if response.get("status") != "incomplete":
        return None
    reason = _dict(response.get("incomplete_details")).get("reason")
    return reason if isinstance(reason, str) else ""


def function_calls(response: dict[str, Any]) -> list[dict[str, Any]]:
    """The `function_call` output items, in output order."""
    return [item for item in _output(response) if item.get("type") == "function_call"]


def item_text(item: dict[str, Any]) -> str:
    """One input or conversation item as a line of text: a message's text, a call, or a call's output."""
    kind = item.get("type")
    if kind == "function_call":
        return f"{item.get('name', '?')}({item.get('arguments', '')})"
    if kind == "function_call_output":
        return str(item.get("output", ""))
    content = item.get("content")
    if isinstance(content, str):
        return content
    return "\n".join(_texts(content, _INPUT_AND_OUTPUT_TEXT))


@dataclass(frozen=True)
class ResponseFailure:
    """Why a response failed: the server's code (None when it gave none) and its message."""

    code: str | None
    message: str

    @property
    def rate_limited(self) -> bool:
        return is_rate_limited(self.code, self.message)


@dataclass(frozen=True)
class ResponseView:
    """A Response read once, typed: what is shown and judged of it. `raw` is the object as the server sent it,
    for what prints or keeps it whole (json mode, the tool rounds)."""

    raw: dict[str, Any] = field(repr=False)
    id: str | None  # None when the server gave none (or an empty one)
    status: str | None
    model: str | None
    answer: str
    reasoning: str
    usage: Usage | None
    failure: ResponseFailure | None
    incomplete_reason: str | None
    function_calls: tuple[dict[str, Any], ...]

    @classmethod
    def of(cls, response: Any) -> ResponseView:
        raw = _dict(response)
        failure = failure_of(raw)
        return cls(
            raw=raw,
            id=_given(raw.get("id")),
            status=_given(raw.get("status")),
            model=_given(raw.get("model")),
            answer=answer_text(raw),
            reasoning=reasoning_text(raw),
            usage=usage_of(raw),
            failure=ResponseFailure(*failure) if failure is not None else None,
            incomplete_reason=incomplete_reason(raw),
            function_calls=tuple(function_calls(raw)),
        )

    @property
    def usage_object(self) -> dict[str, Any] | None:
        """The usage object as the server sent it (the history keeps it so)."""
        usage = self.raw.get("usage")
        return usage if isinstance(usage, dict) else None


def _given(value: Any) -> str | None:
    """A field as text; None when it is missing, null or empty."""
    return str(value) if value else None
