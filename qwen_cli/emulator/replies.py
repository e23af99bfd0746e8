"""Deterministic replies derived from the request (the reply rules of the package docstring), built-in tool items, usage, whole responses."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from qwen_cli.emulator.wire import (
    CONTEXT_TYPES,
    count_words,
    is_user_message,
    item_text,
    message_text,
    new_call_id,
    new_id,
    now_seconds,
    plural,
    render,
)

if TYPE_CHECKING:
    from qwen_cli.emulator.state import EmulatorState
    from qwen_cli.emulator.validation import Turn


TERMINAL_EVENTS = {"completed": "response.completed", "incomplete": "response.incomplete", "failed": "response.failed"}


ECHO_LIMIT = 200


CACHE_MINIMUM = 1024


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
    "Terminal escapes: \x1b[2J\x1b[31mred\x1b[0m and a \x1b]8;;https://evil.example/\x1b\\hyperlink\x1b]8;;\x1b\\ end."
)


WORDS_DIRECTIVE = re.compile(r"@@words=(\d{1,9})")


BYTES_DIRECTIVE = re.compile(r"@@bytes=(\d{1,9})")


MAX_WORDS = 100_000  # caps keep a typo from exhausting memory


MAX_BYTES = 50_000_000


CALL_DIRECTIVE = re.compile(r"@@call=([A-Za-z0-9_.\-]+)")


DELTA_PIECES = re.compile(r"\S+\s*|\s+")


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


def reasoning_text(prompt: Prompt) -> str:
    return f"Thinking about: {prompt.text[:ECHO_LIMIT] or 'the conversation'}"


def reasoning_part(prompt: Prompt) -> tuple[dict[str, Any], tuple[str, ...]]:
    text = reasoning_text(prompt)
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
    detail: dict[str, Any] = {"input_tokens": input_tokens, "output_tokens": output_tokens, "total_tokens": total}
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
