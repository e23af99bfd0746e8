"""One item's Responses request body turned into a line of a Batch API input file: a Chat Completions request.

Follows the mapping table of the batch reference (section 9) and nothing more: a field with no documented Chat
Completions counterpart raises `Unmappable`, naming the field and what to do instead, before anything is uploaded.
Pure: no I/O.

Decisions where the reference leaves a choice:
* `store` is dropped silently: the provider keeps nothing to continue from in a batch, so storing is meaningless;
  `stream` is dropped too, since results arrive as whole files either way.
* Thinking is always stated on the line when it is known: `enable_thinking` as set (top level of the body, as the
  provider documents for batch lines), `false` for `reasoning.effort: "none"`, and `true` for a model that thinks
  by default (THINKING_BY_DEFAULT and its dated variants) when nothing was set. A file then names its one thinking
  configuration on every line, which the provider requires and `limits` checks. Other models are left to their
  default, since some (deepseek-r1, say) have only one mode and a stated `false` would be a guess.
* `max_output_tokens` becomes `max_tokens`. Not quite the same cap: on thinking models the Chat field limits the
  reply only, while the Responses field (Qwen3.8) counts the reasoning too.
* Any other body field (from --extra: `seed`, `top_k`, `presence_penalty`, `thinking_budget`, ...) is copied as it
  is: the Chat API spells these the same way. Fields known to belong to the Responses API alone are refused.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from qwen_cli.errors import UsageError
from qwen_cli.models import thinks_by_default

TEST_MODEL = "batch-test-model"
CHAT_URL = "/v1/chat/completions"
TEST_URL = "/v1/chat/ds-test"  # the free test model answers only here
RUN_LOCALLY = "use qwen batch run, which sends Responses requests"

# Responses fields with no Chat Completions counterpart, and what to do instead.
REFUSED: dict[str, str] = {
    "previous_response_id": "a batch line carries its whole conversation: give the earlier turns in the item's input",
    "conversation": "a batch line carries its whole conversation: give the earlier turns in the item's input",
    "background": "a batch job is already asynchronous; leave it out",
    "include": "leave it out",
    "truncation": "leave it out",
    "max_tool_calls": "leave it out",
    "prompt": "put the prompt's text in the item",
    "prompt_cache_key": "the Batch API has no prompt cache; leave it out",
    "stream_options": "leave it out",
}
DROPPED = ("store", "stream")
# Handled one by one below; every other field is copied as it is.
MAPPED = frozenset(
    "model input instructions max_output_tokens reasoning enable_thinking text tools tool_choice".split()
)

# The table the README quotes: (Responses request, Chat Completions batch line).
MAPPING: tuple[tuple[str, str], ...] = (
    (
        "`model`",
        "`model` (one per file); `batch-test-model` goes to `/v1/chat/ds-test`, others to `/v1/chat/completions`",
    ),
    ("`instructions`", 'first message `{"role": "system", "content": ...}`'),
    ("`input` as a string", '`{"role": "user", "content": ...}`'),
    ("input messages, roles `user` / `assistant` / `system`", "the same roles (`developer`: refused)"),
    ("`input_text` parts (prompts, attached files)", '`{"type": "text", "text"}` (assistant, system: one string)'),
    ("`input_image` with an http(s) URL", '`{"type": "image_url", "image_url": {"url"}}`'),
    ("`input_image` inline (`data:`, a local file)", "refused: batch lines take only public URLs"),
    ("`input_file`, other parts", "refused"),
    ("`function_call` items", 'assistant `tool_calls: [{"id": call_id, "type": "function", "function"}]`'),
    ("`function_call_output` items", '`{"role": "tool", "tool_call_id", "content"}`'),
    ("`temperature`, `top_p`, `parallel_tool_calls`", "the same"),
    ("`max_output_tokens`", "`max_tokens` (on thinking models it caps the reply only)"),
    ("`enable_thinking` (`--think`)", "`enable_thinking`, top level; stated `true` for models that think by default"),
    ('`reasoning.effort: "none"`', "`enable_thinking: false`"),
    ("other `reasoning.effort` values, `reasoning.summary`", "refused (use `--think` and `thinking_budget`)"),
    ("function tools", '`{"type": "function", "function": {"name", "description", "parameters"}}`'),
    ("built-in tools (`web_search`, `code_interpreter`, `mcp`, ...)", "refused"),
    ("`tool_choice` `auto` / `none`", "the same"),
    ("`tool_choice` naming one function (`--tool-choice NAME`)", '`{"type": "function", "function": {"name"}}`'),
    ("`tool_choice` `required`, other `allowed_tools`", "refused"),
    ('`text.format` `{"type": "json_object"}`', '`response_format: {"type": "json_object"}`'),
    ("`text.format` json_schema, other `text` fields", "refused"),
    ("`store`, `stream`", "dropped (a batch keeps nothing and answers in files)"),
    (
        "`previous_response_id`, `conversation`, `background`, `include`, `truncation`, `max_tool_calls`, `prompt`, "
        "`prompt_cache_key`, `stream_options`",
        "refused",
    ),
    ("header `x-dashscope-session-cache: enable`", "refused (no context cache in batch)"),
    ("other fields (`--extra`: `seed`, `top_k`, `thinking_budget`, ...)", "copied as they are"),
)


class Unmappable(UsageError):
    """A request field with no Chat Completions counterpart: the item cannot be a batch line."""

    def __init__(self, item: str, field: str, reason: str, advice: str) -> None:
        super().__init__(f"item {json.dumps(item, ensure_ascii=False)}: {field} {reason}; {advice}")
        self.item, self.field = item, field


def mapping_table() -> str:
    """The mapping as a Markdown table, for the README."""
    rows = ["| Responses request | Chat Completions batch line |", "|---|---|"]
    rows += [f"| {source} | {target} |" for source, target in MAPPING]
    return "\n".join(rows)


def batch_url(model: str) -> str:
    """The `url` of a line (and the batch's `endpoint`) for `model`."""
    return TEST_URL if model == TEST_MODEL else CHAT_URL


def chat_line(custom_id: str, body: Mapping[str, Any], headers: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The batch input line for one item: `{"custom_id", "method", "url", "body"}`; `headers` are the request's
    (only the session-cache header matters: it has no batch counterpart)."""
    refuse_headers(custom_id, headers or {})
    chat = chat_body(custom_id, body)
    return {"custom_id": custom_id, "method": "POST", "url": batch_url(str(chat["model"])), "body": chat}


def refuse_headers(item: str, headers: Mapping[str, str]) -> None:
    for name, value in headers.items():
        if name.lower() == "x-dashscope-session-cache" and value.lower() != "disable":
            raise Unmappable(item, "the session cache (--session-cache)", "does not exist in batch", "leave it out")


def chat_body(item: str, body: Mapping[str, Any]) -> dict[str, Any]:
    """The Chat Completions body of a Responses body, in the mapping's order: model, thinking, the rest, messages."""
    for field, advice in REFUSED.items():
        if field in body:
            raise Unmappable(item, field, "has no Chat Completions mapping", f"{advice}, or {RUN_LOCALLY}")
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise UsageError(f"item {json.dumps(item, ensure_ascii=False)}: the request has no model")
    chat: dict[str, Any] = {"model": model}
    thinking = thinking_of(item, model, body)
    if thinking is not None:
        chat["enable_thinking"] = thinking
    if "max_output_tokens" in body:
        chat["max_tokens"] = body["max_output_tokens"]
    chat.update(response_format(item, body.get("text")))
    if "tools" in body:
        chat["tools"] = [chat_tool(item, index, tool) for index, tool in enumerate(body["tools"] or ())]
    if "tool_choice" in body:
        chat["tool_choice"] = chat_tool_choice(item, body["tool_choice"])
    chat.update({key: value for key, value in body.items() if key not in MAPPED and key not in DROPPED})
    chat["messages"] = messages_of(item, body.get("instructions"), body.get("input"))
    return chat


def thinking_mode(chat: Mapping[str, Any]) -> str:
    """A line's thinking configuration in words, for the one-per-file check: `enable_thinking true, thinking_budget 50`."""
    shown = [f"{key} {json.dumps(chat[key])}" for key in ("enable_thinking", "thinking_budget") if key in chat]
    return ", ".join(shown) or "the model's default thinking"


def thinking_of(item: str, model: str, body: Mapping[str, Any]) -> bool | None:
    """The line's `enable_thinking`: as set, false for effort "none", true for a model that thinks by default."""
    reasoning = body.get("reasoning")
    effort = None
    if reasoning is not None:
        if not isinstance(reasoning, Mapping):
            raise Unmappable(item, "reasoning", "is not an object", f'give {{"effort": "none"}} or {RUN_LOCALLY}')
        for key in reasoning:
            if key != "effort":
                raise Unmappable(item, f"reasoning.{key}", "has no Chat Completions mapping", RUN_LOCALLY)
        effort = reasoning.get("effort")
        if effort is not None and effort != "none":
            advice = f"turn thinking on with --think (and cap it with --extra '{{\"thinking_budget\": N}}'), or {RUN_LOCALLY}"
            raise Unmappable(item, f"reasoning.effort {effort!r}", "has no Chat Completions mapping", advice)
    enabled = body.get("enable_thinking")
    if effort == "none":
        if enabled is True:
            raise UsageError(
                f"item {json.dumps(item, ensure_ascii=False)}: enable_thinking true and reasoning.effort 'none' "
                "contradict each other; keep one"
            )
        return False
    if enabled is not None:
        return bool(enabled)
    return True if thinks_by_default(model) else None


def response_format(item: str, text: Any) -> dict[str, Any]:
    """`text.format` json_object becomes `response_format`; plain text is the default and needs nothing."""
    if text is None:
        return {}
    keys = set(text) if isinstance(text, Mapping) else {"(not an object)"}
    extra = sorted(keys - {"format"})
    if extra:
        raise Unmappable(item, f"text.{extra[0]}", "has no Chat Completions mapping", RUN_LOCALLY)
    kind = text.get("format", {}).get("type") if isinstance(text.get("format"), Mapping) else None
    if kind == "text":
        return {}
    if kind == "json_object":
        return {"response_format": {"type": "json_object"}}
    raise Unmappable(
        item, f"text.format {kind or text.get('format')!r}", "has no Chat Completions mapping", RUN_LOCALLY
    )


def chat_tool(item: str, index: int, tool: Any) -> dict[str, Any]:
    kind = tool.get("type") if isinstance(tool, Mapping) else None
    if kind != "function":
        what = f"built-in tool {kind}" if isinstance(kind, str) else f"tools[{index}]"
        raise Unmappable(item, what, "has no Chat Completions mapping", RUN_LOCALLY)
    unknown = sorted(set(tool) - {"type", "name", "description", "parameters"})
    if unknown:
        raise Unmappable(item, f"tools[{index}].{unknown[0]}", "has no Chat Completions mapping", "leave it out")
    function = {key: tool[key] for key in ("name", "description", "parameters") if key in tool}
    return {"type": "function", "function": function}


def chat_tool_choice(item: str, choice: Any) -> Any:
    """auto and none as they are; one named function (how --tool-choice NAME is sent: allowed_tools, mode required,
    one function) becomes Chat's forced function, which means the same."""
    if choice in ("auto", "none"):
        return choice
    if isinstance(choice, Mapping):
        named = forced_function(choice)
        if named is not None:
            return {"type": "function", "function": {"name": named}}
    shown = choice if isinstance(choice, str) else json.dumps(choice, ensure_ascii=False)
    advice = f"use auto or none, or name one function (--tool-choice NAME), or {RUN_LOCALLY}"
    raise Unmappable(item, f"tool_choice {shown}", "has no Chat Completions mapping", advice)


def forced_function(choice: Mapping[str, Any]) -> str | None:
    if choice.get("type") == "function" and isinstance(choice.get("name"), str):
        return str(choice["name"])
    tools = choice.get("tools")
    if choice.get("type") == "allowed_tools" and choice.get("mode") == "required" and isinstance(tools, list):
        if len(tools) == 1 and isinstance(tools[0], Mapping) and tools[0].get("type") == "function":
            name = tools[0].get("name")
            return name if isinstance(name, str) else None
    return None


# --- messages -----------------------------------------------------------------------------------------------------


def messages_of(item: str, instructions: Any, given: Any) -> list[dict[str, Any]]:
    """The Chat messages: the instructions as the first system message, then the input, item by item."""
    messages: list[dict[str, Any]] = []
    if instructions:
        messages.append({"role": "system", "content": instructions})
    if isinstance(given, str):
        messages.append({"role": "user", "content": given})
        return messages
    if not isinstance(given, list):
        raise UsageError(f"item {json.dumps(item, ensure_ascii=False)}: the request's input is neither text nor a list")
    for index, entry in enumerate(given):
        add_entry(item, f"input[{index}]", entry, messages)
    return messages


def add_entry(item: str, where: str, entry: Any, messages: list[dict[str, Any]]) -> None:
    if not isinstance(entry, Mapping):
        raise Unmappable(item, where, "is not an input item", "give messages as objects")
    kind = entry.get("type", "message")
    if kind == "message":
        messages.append(chat_message(item, where, entry))
    elif kind == "function_call":
        call = {"id": entry.get("call_id"), "type": "function"}
        call["function"] = {"name": entry.get("name"), "arguments": entry.get("arguments", "")}
        previous = messages[-1] if messages else None
        if previous is not None and previous["role"] == "assistant":
            previous.setdefault("tool_calls", []).append(call)  # parallel calls share one assistant turn
        else:
            messages.append({"role": "assistant", "content": "", "tool_calls": [call]})
    elif kind == "function_call_output":
        output = entry.get("output")
        if not isinstance(output, str):
            raise Unmappable(item, f"{where}.output", "is not text", "give the function's output as a string")
        messages.append({"role": "tool", "tool_call_id": entry.get("call_id"), "content": output})
    else:
        raise Unmappable(item, f"{where} of type {kind}", "has no Chat Completions mapping", RUN_LOCALLY)


def chat_message(item: str, where: str, entry: Mapping[str, Any]) -> dict[str, Any]:
    role = entry.get("role")
    if role not in ("user", "assistant", "system"):
        advice = "use system" if role == "developer" else "use user, assistant or system"
        raise Unmappable(item, f"{where}.role {role!r}", "has no documented Chat Completions role", advice)
    content = entry.get("content")
    if isinstance(content, str):
        return {"role": role, "content": content}
    if not isinstance(content, list):
        raise Unmappable(item, f"{where}.content", "is neither text nor a list of parts", "give text or parts")
    parts = [chat_part(item, f"{where}.content[{index}]", part) for index, part in enumerate(content)]
    if role == "user":
        return {"role": role, "content": parts}
    if any(part["type"] != "text" for part in parts):
        raise Unmappable(item, f"{where}", f"is a {role} message with an image", "send images in user messages")
    return {"role": role, "content": "\n\n".join(part["text"] for part in parts)}


def chat_part(item: str, where: str, part: Any) -> dict[str, Any]:
    kind = part.get("type") if isinstance(part, Mapping) else None
    if kind in ("input_text", "output_text", "text"):
        return {"type": "text", "text": part.get("text", "")}
    if kind == "input_image":
        url = part.get("image_url")
        if isinstance(url, Mapping):
            url = url.get("url")
        if isinstance(url, str) and url.startswith(("https://", "http://")):
            return {"type": "image_url", "image_url": {"url": url}}
        advice = "batch lines take only public image URLs (the provider cannot read local files); host the image, or "
        raise Unmappable(
            item, f"{where} (an image not given by URL)", "cannot be sent in a batch", advice + RUN_LOCALLY
        )
    raise Unmappable(item, f"{where} of type {kind}", "has no Chat Completions mapping", RUN_LOCALLY)
