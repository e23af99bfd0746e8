"""The lines of a batch input file: their validation (job-level ``errors``) and the running of each line into an
output or error line, answered with the emulator's deterministic reply rules.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from dataclasses import dataclass
from typing import Any

from qwen_cli.emulator.replies import (
    Prompt,
    choose_answer,
    limit_answer,
    read_prompt,
    reasoning_text,
)
from qwen_cli.emulator.validation import Turn, wants_thinking
from qwen_cli.emulator.wire import count_words, new_call_id, now_seconds, render

CHAT_URL = "/v1/chat/completions"


EMBEDDINGS_URL = "/v1/embeddings"


TEST_URL = "/v1/chat/ds-test"


ENDPOINTS = (CHAT_URL, EMBEDDINGS_URL, TEST_URL)


TEST_MODEL = "batch-test-model"


TEST_ANSWER = "This is a test result."


MAX_LINES = 50_000


MAX_TEST_LINES = 100


MAX_TEST_BYTES = 1024 * 1024


MAX_LINE_BYTES = 6 * 1024 * 1024  # the older, larger of the two documented limits (reference §10.1)


MAX_CUSTOM_ID = 256


MAX_ERRORS = 1000  # a file with 50,000 bad lines still gets a job object of bounded size


FAIL_DIRECTIVE = re.compile(r"@@fail(-inside|=400)?")


@dataclass(frozen=True)
class Line:
    number: int  # 1-based, counting every line of the file (blank ones too), as ``errors.data[].line`` does
    custom_id: str
    url: str
    body: dict[str, Any]


@dataclass(frozen=True)
class Outcome:
    """A finished line: where it is written and what it counts as (``None``: neither completed nor failed)."""

    custom_id: str
    record: dict[str, Any]
    in_error_file: bool
    counted: str | None


def job_error(code: str, message: str, param: str | None, line: int | None) -> dict[str, Any]:
    return {"code": code, "message": message, "param": param, "line": line}


def validate_lines(content: bytes, endpoint: str) -> tuple[list[Line], list[dict[str, Any]]]:
    """The file's lines, or the job-level errors that fail the batch (reference §3, §5.5)."""
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        return [], [job_error("invalid_file", "The file is not UTF-8 text.", None, None)]
    raw_lines = text.splitlines()
    numbered = [(number, raw) for number, raw in enumerate(raw_lines, 1) if raw.strip()]
    if not numbered:
        return [], [job_error("empty_file", "The file has no requests.", None, None)]
    if len(numbered) > MAX_LINES:
        return [], [job_error("too_many_requests", f"The file has more than {MAX_LINES} requests.", None, None)]
    lines: list[Line] = []
    errors: list[dict[str, Any]] = []
    for number, raw in numbered:
        line, error = read_line(number, raw, endpoint)
        if error is not None:
            errors.append(error)
        elif line is not None:
            lines.append(line)
    errors.extend(file_wide_errors(lines, endpoint, len(content)))
    return lines, errors[:MAX_ERRORS]


def read_line(number: int, raw: str, endpoint: str) -> tuple[Line | None, dict[str, Any] | None]:
    if len(raw.encode("utf-8")) > MAX_LINE_BYTES:
        return None, job_error("line_too_large", "The request is larger than 6 MB.", None, number)
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        return None, job_error("invalid_json_line", "The line is not valid JSON.", None, number)
    if not isinstance(value, dict):
        return None, job_error("invalid_json_line", "The line is not a JSON object.", None, number)
    custom_id, url, body = value.get("custom_id"), value.get("url"), value.get("body")
    if not isinstance(custom_id, str) or not custom_id or len(custom_id) > MAX_CUSTOM_ID:
        message = f"'custom_id' must be a string of 1 to {MAX_CUSTOM_ID} characters."
        return None, job_error("invalid_custom_id", message, "custom_id", number)
    if value.get("method") != "POST":
        return None, job_error("invalid_method", "The method must be 'POST'.", "method", number)
    if url not in ENDPOINTS:
        message = f"The provided url '{render(url)}' is not supported by the Batch API."
        return None, job_error("url_not_found", message, "url", number)
    if url != endpoint:
        message = f"The provided url '{url}' does not match the batch's endpoint '{endpoint}'."
        return None, job_error("url_not_found", message, "url", number)
    if not isinstance(body, dict) or not isinstance(body.get("model"), str) or not body["model"]:
        return None, job_error("invalid_body", "'body' must be an object with a 'model'.", "body", number)
    return Line(number, custom_id, url, body), None


def file_wide_errors(lines: list[Line], endpoint: str, size: int) -> list[dict[str, Any]]:
    """Duplicate custom_ids, a second model, and the test model's own rules."""
    errors, seen = [], set()
    first_model = lines[0].body["model"] if lines else None
    for line in lines:
        if line.custom_id in seen:
            message = f"The custom_id '{line.custom_id}' is used by more than one request."
            errors.append(job_error("duplicate_custom_id", message, "custom_id", line.number))
        seen.add(line.custom_id)
        model = line.body["model"]
        if model != first_model:
            message = (
                f"The model '{model}' for this request does not match the rest of the batch. "
                "Each batch must contain requests for a single model."
            )
            errors.append(job_error("model_mismatch", message, "body.model", line.number))
        elif model == TEST_MODEL and endpoint != TEST_URL:
            message = f"The provided URL '{endpoint}' does not match the test model '{TEST_MODEL}'."
            errors.append(job_error("mismatched_test_url", message, "url", line.number))
    if first_model == TEST_MODEL and (len(lines) > MAX_TEST_LINES or size > MAX_TEST_BYTES):
        message = f"A file for '{TEST_MODEL}' may hold at most {MAX_TEST_LINES} requests and 1 MB."
        errors.append(job_error("test_model_limit", message, None, None))
    return errors


def run_line(line: Line) -> Outcome:
    """One request of the batch, answered as the emulator answers; a directive can make it fail (module docs)."""
    request_id = str(uuid.uuid4())
    if line.url == TEST_URL:
        return success(line, request_id, test_body(line.body["model"], request_id))
    if line.url == EMBEDDINGS_URL:
        return success(line, request_id, embeddings_body(line.body))
    messages = line.body.get("messages")
    if not isinstance(messages, list) or not messages or not all(isinstance(item, dict) for item in messages):
        error = {"code": "InvalidParameter", "message": "'messages' must be a non-empty array of messages."}
        return failure(line, request_id, 400, error, in_error_file=True)
    turn = chat_turn(line.body, messages)
    prompt = read_prompt(turn.items)
    directive = FAIL_DIRECTIVE.search(prompt.text)
    if directive is not None:
        return directed_failure(line, request_id, directive.group(1))
    return success(line, request_id, chat_body(turn, prompt, request_id))


def success(line: Line, request_id: str, body: dict[str, Any]) -> Outcome:
    response = {"status_code": 200, "request_id": request_id, "body": body}
    record = {"id": request_id, "custom_id": line.custom_id, "response": response, "error": None}
    return Outcome(line.custom_id, record, False, "completed")


def failure(line: Line, request_id: str, status: int, error: dict[str, str], *, in_error_file: bool) -> Outcome:
    kind = "invalid_request_error" if status < 500 else "server_error"
    body = {"error": {**error, "type": kind, "param": None}}
    response = {"status_code": status, "request_id": request_id, "body": body}
    record = {"id": request_id, "custom_id": line.custom_id, "response": response, "error": error}
    return Outcome(line.custom_id, record, in_error_file, "failed" if in_error_file else None)


def directed_failure(line: Line, request_id: str, variant: str | None) -> Outcome:
    if variant == "-inside":  # the observed deviation: a failed line in the output file, counted as nothing
        error = {"code": "InternalError", "message": "Emulated failure inside the output file."}
        return failure(line, request_id, 500, error, in_error_file=False)
    if variant == "=400":
        return failure(
            line,
            request_id,
            400,
            {"code": "InvalidParameter", "message": "Emulated invalid request."},
            in_error_file=True,
        )
    return failure(line, request_id, 500, {"code": "InternalError", "message": "Emulated failure."}, in_error_file=True)


def cancelled(line: Line) -> Outcome:
    """A line the batch's cancellation left unrun: an error-file line, counted as failed (as seen live)."""
    error = {"code": "batch_cancelled", "message": "The batch was cancelled before this request ran."}
    return failure(line, str(uuid.uuid4()), 400, error, in_error_file=True)


def chat_turn(body: dict[str, Any], messages: list[dict[str, Any]]) -> Turn:
    """The Chat Completions request read as a Responses turn, so that the reply rules apply unchanged."""
    system = [message_text(message.get("content")) for message in messages if message.get("role") == "system"]
    items = tuple(item for message in messages for item in chat_items(message))
    turn_body = {**body, "instructions": "\n".join(system) or None}
    tools: list[Any] = body["tools"] if isinstance(body.get("tools"), list) else []
    model = body["model"]
    return Turn(
        turn_body, model, items, (), tuple(tools), body.get("tool_choice", "auto"), wants_thinking(model, body), False
    )


def chat_items(message: dict[str, Any]) -> list[dict[str, Any]]:
    role = message.get("role")
    if role == "tool":
        output = render(message.get("content", ""))
        return [{"type": "function_call_output", "call_id": message.get("tool_call_id"), "output": output}]
    if role not in ("user", "assistant"):
        return []
    content = message.get("content")
    kind = "input_text" if role == "user" else "output_text"
    parts = [{"type": kind, "text": content}] if isinstance(content, str) else chat_parts(content, kind)
    items: list[dict[str, Any]] = [{"type": "message", "role": role, "content": parts}] if parts else []
    for call in message.get("tool_calls") or []:
        if not isinstance(call, dict):
            continue
        function = call["function"] if isinstance(call.get("function"), dict) else {}
        name, arguments = function.get("name"), function.get("arguments", "{}")
        items.append({"type": "function_call", "call_id": call.get("id"), "name": name, "arguments": arguments})
    return items


def chat_parts(content: Any, kind: str) -> list[dict[str, Any]]:
    parts = []
    for part in content if isinstance(content, list) else []:
        if isinstance(part, dict) and part.get("type") == "text":
            parts.append({"type": kind, "text": part.get("text", "")})
        elif isinstance(part, dict):
            parts.append(part)  # image_url and the like: read_prompt counts images by their type
    return parts


def message_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    return "\n".join(part.get("text", "") for part in chat_parts(content, "text") if part.get("type") == "text")


def chat_body(turn: Turn, prompt: Prompt, request_id: str) -> dict[str, Any]:
    """A ``chat.completion`` (reference §8.2) with the answer the Responses rules give this request."""
    max_tokens = turn.body.get("max_tokens") if isinstance(turn.body.get("max_tokens"), int) else None
    answer = limit_answer(choose_answer(turn, prompt), max_tokens)
    message: dict[str, Any] = {"role": "assistant", "content": answer.text}
    reasoning = reasoning_text(prompt) if turn.thinking else ""
    if reasoning:
        message["reasoning_content"] = reasoning
    finish = "length" if answer.incomplete else "stop"
    if answer.calls:
        message["content"] = ""
        message["tool_calls"] = [
            {"id": new_call_id(), "type": "function", "function": {"name": name, "arguments": arguments}}
            for name, arguments in answer.calls
        ]
        finish = "tool_calls"
    spoken = answer.text + " " + " ".join(arguments for _, arguments in answer.calls)
    usage = chat_usage(turn, count_words(spoken) + count_words(reasoning), count_words(reasoning))
    choice = {"index": 0, "message": message, "finish_reason": finish, "logprobs": None}
    return completion(request_id, turn.model, [choice], usage)


def chat_usage(turn: Turn, completion_tokens: int, reasoning: int) -> dict[str, Any]:
    words = sum(count_words(item_words(item)) for item in turn.items) + count_words(turn.instructions or "")
    prompt_tokens = max(1, words)
    usage: dict[str, Any] = {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
        "prompt_tokens_details": {"cached_tokens": 0},  # batch has no context cache (reference §5.3)
    }
    if reasoning:
        usage["completion_tokens_details"] = {"reasoning_tokens": reasoning}
    return usage


def item_words(item: dict[str, Any]) -> str:
    if item["type"] == "message":
        return " ".join(str(part.get("text", "")) for part in item["content"])
    if item["type"] == "function_call":
        return f"{item.get('name', '')} {item.get('arguments', '')}"
    return str(item.get("output", ""))


def completion(request_id: str, model: str, choices: list[dict[str, Any]], usage: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": f"chatcmpl-{request_id}",
        "object": "chat.completion",
        "created": now_seconds(),
        "model": model,
        "choices": choices,
        "usage": usage,
    }


def test_body(model: str, request_id: str) -> dict[str, Any]:
    """The test model's fixed answer (reference §5.5); the documented example has no ``role``."""
    choice = {"finish_reason": "stop", "index": 0, "message": {"content": TEST_ANSWER}}
    return completion(request_id, model, [choice], {"completion_tokens": 6, "prompt_tokens": 20, "total_tokens": 26})


def embeddings_body(body: dict[str, Any]) -> dict[str, Any]:
    """An embeddings response: eight deterministic numbers per input text, derived from its hash."""
    texts = body.get("input")
    texts = [texts] if isinstance(texts, str) else [str(text) for text in texts or []]
    data = [{"object": "embedding", "index": index, "embedding": vector_of(text)} for index, text in enumerate(texts)]
    tokens = max(1, sum(count_words(text) for text in texts))
    return {
        "object": "list",
        "data": data,
        "model": body["model"],
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }


def vector_of(text: str) -> list[float]:
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return [round(byte / 255 * 2 - 1, 6) for byte in digest[:8]]
