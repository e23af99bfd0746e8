"""The Batch API's output and error files read into result lines (the schema of `results`), one provider line at a
time, and the items that got no line at all.

Reads bytes it is given (chunks of a download or a file) and never the network or the disk. A line that cannot be
read (not JSON, too long, no `custom_id`, an id the job does not have, an id seen before) is reported as `Unreadable`
and skipped: one bad line never hides the others. Every line is matched by `custom_id`, since the provider keeps no
order, and each line's own `status_code` decides, never the job's counts (a failed request can sit in the output file).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, TypeGuard

from qwen_cli.batch.lines import bounded_lines
from qwen_cli.batch.results import (
    COMPLETED,
    FAILED,
    FUNCTION_CALLS,
    INCOMPLETE,
    Result,
    error_object,
    result_line,
    usage_object,
)
from qwen_cli.bounds import MAX_BODY_BYTES, NotJSON, loads

MAX_LINE_BYTES = MAX_BODY_BYTES  # a line holds one Chat Completions reply: none is near this
MISSING = "missing"


@dataclass(frozen=True)
class Unreadable:
    """A provider line that gave no result: where it was and why."""

    source: str  # "the output file", "the error file"
    line: int
    reason: str

    def message(self) -> str:
        return f"{self.source}, line {self.line}: {self.reason}; skipped"


class ProviderResults:
    """Reads a job's provider files into result lines; remembers which items it has seen, for `missing`."""

    def __init__(self, digests: Mapping[str, str | None], full: bool = False, limit: int = MAX_LINE_BYTES) -> None:
        self.digests = digests  # every item id of the job, with its request digest
        self.full = full
        self.limit = limit
        self.seen: set[str] = set()

    def read(self, chunks: Iterable[bytes], source: str) -> Iterator[Result | Unreadable]:
        """The result of each line of one file (`source` names it in reports), in the file's order."""
        for number, data in bounded_lines(chunks, self.limit):
            if data is None:
                yield Unreadable(source, number, f"longer than {self.limit:,} bytes")
                continue
            outcome = self.read_line(data)
            yield Unreadable(source, number, outcome) if isinstance(outcome, str) else outcome

    def read_line(self, data: bytes) -> Result | str:
        """The result of one line, or why there is none."""
        try:
            line = loads(data)
        except NotJSON as exc:
            return f"not JSON ({exc})"
        if not isinstance(line, dict):
            return "not a JSON object"
        item_id = line.get("custom_id")
        if not isinstance(item_id, str):
            return "no custom_id"
        shown = json.dumps(item_id, ensure_ascii=False)
        if item_id not in self.digests:
            return f"custom_id {shown} is not an item of this job"
        if item_id in self.seen:
            return f"custom_id {shown} has a result already (the first one is kept)"
        self.seen.add(item_id)
        return result_of(line, self.digests[item_id], self.full)

    def missing(self, item_ids: Iterable[str]) -> Iterator[Result]:
        """A failed result for each item (in the order given) that no line of the files answered."""
        for item_id in item_ids:
            if item_id not in self.seen:
                error = error_object(MISSING, "no result line in the provider's files", None)
                yield result_line(item_id, FAILED, digest=self.digests.get(item_id), error=error)


def result_of(line: Mapping[str, Any], digest: str | None, full: bool = False) -> Result:
    """One provider line (`{"id", "custom_id", "response": {"status_code", "request_id", "body"}, "error"}`) as a
    result line. `finished_at` is the reply's `created` time when it has one; `elapsed` is not known."""
    response = mapping(line.get("response"))
    body = mapping(response.get("body"))
    shared: dict[str, Any] = {"digest": digest, "full": dict(line) if full else None}
    created = body.get("created")
    if is_count(created) and created > 0:
        shared["finished_at"] = float(created)
    if isinstance(body.get("id"), str):
        shared["response_id"] = body["id"]
    failure = failure_of(line.get("error"), response.get("status_code"), body)
    if failure is not None:
        return result_line(line["custom_id"], FAILED, error=failure, **shared)
    choice = mapping(body["choices"][0])
    message = mapping(choice.get("message"))
    return result_line(
        line["custom_id"],
        status_of(choice.get("finish_reason"), message),
        text=text_of(message.get("content")),
        usage=usage_of(body.get("usage")),
        **shared,
    )


def failure_of(error: Any, status_code: Any, body: Mapping[str, Any]) -> dict[str, Any] | None:
    """The error of a failed line: its `error`, else the body's `error`, else a status other than 200, else a reply
    without choices; None for a line that answered. Both spellings are read: `code`/`message` (the field table) and
    `error_code`/`error_message` (the docs' own CSV helper)."""
    for given in (error, body.get("error")):
        if given:
            code, message = described(given)
            return error_object("api_error", message or failed_with(status_code), code)
    if status_code is not None and status_code != 200:
        return error_object("api_error", failed_with(status_code), None)
    choices = body.get("choices")
    if not isinstance(choices, list) or not choices:
        return error_object("api_error", "the provider's line holds no answer (no choices)", None)
    return None


def described(error: Any) -> tuple[str | None, str | None]:
    if not isinstance(error, Mapping):
        return None, str(error)
    code = error.get("code") or error.get("error_code")
    message = error.get("message") or error.get("error_message")
    return (None if code is None else str(code)), (None if message is None else str(message))


def failed_with(status_code: Any) -> str:
    return f"the request failed at the provider (HTTP {status_code})" if status_code else "the request failed"


def status_of(finish_reason: Any, message: Mapping[str, Any]) -> str:
    if message.get("tool_calls") or finish_reason == "tool_calls":
        return FUNCTION_CALLS
    if finish_reason == "length":
        return INCOMPLETE  # cut at max_tokens
    return COMPLETED


def text_of(content: Any) -> str:
    """The answer: `content` is text, null beside tool calls, or (some models) a list of text parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(str(part.get("text", "")) for part in content if isinstance(part, Mapping))
    return ""


def usage_of(usage: Any) -> dict[str, int] | None:
    """Chat's token counts under the Responses names the result lines use."""
    if not isinstance(usage, Mapping):
        return None
    inputs, outputs, total = (usage.get(key) for key in ("prompt_tokens", "completion_tokens", "total_tokens"))
    if not (is_count(inputs) and is_count(outputs)):
        return None
    cached = mapping(usage.get("prompt_tokens_details")).get("cached_tokens")
    reasoning = mapping(usage.get("completion_tokens_details")).get("reasoning_tokens")
    return usage_object(
        inputs,
        outputs,
        total if is_count(total) else None,
        cached=cached if is_count(cached) else 0,
        reasoning=reasoning if is_count(reasoning) else 0,
    )


def is_count(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}
