"""Wire values: the request as received, replies, the error envelope, ids, JSON parsing and input items as the API normalises them."""

from __future__ import annotations

import copy
import json
import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from qwen_cli.emulator.faults import Faults


API_PREFIXES = ("/api/v2/apps/protocols/compatible-mode/v1", "/compatible-mode/v1")


CONTROL_PREFIX = "/__emulator"


JSON_TYPE = "application/json"


SSE_TYPE = "text/event-stream;charset=UTF-8"


ROLES = ("user", "assistant", "system", "developer")


CONTEXT_TYPES = ("message", "function_call", "function_call_output")


class ApiFailure(Exception):
    """An error the emulated service reports with the flat envelope."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


class NestedFailure(ApiFailure):
    """An error the Files and Batches endpoints report with OpenAI's nested envelope (reference §6)."""

    def __init__(
        self, status: int, message: str, *, code: str | None = None, param: str | None = None, kind: str = ""
    ) -> None:
        super().__init__(status, code or "", message)
        self.code_or_null = code
        self.param = param
        self.kind = kind or ("invalid_request_error" if status < 500 else "server_error")


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
    if isinstance(failure, NestedFailure):
        error = {"message": failure.message, "type": failure.kind, "param": failure.param}
        return json_reply(failure.status, {"error": {**error, "code": failure.code_or_null}})
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
