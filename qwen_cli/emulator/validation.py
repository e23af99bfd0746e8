"""Validation of a create request, as the reference documents it: model, sampling, reasoning, tools, history, tool outputs."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from qwen_cli.emulator.wire import invalid, missing, normalize_input, render
from qwen_cli.models import RESPONSES_MODELS, thinks_by_default

if TYPE_CHECKING:
    from qwen_cli.emulator.state import EmulatorState
    from qwen_cli.emulator.wire import Call


MODELS = frozenset(RESPONSES_MODELS)


EFFORTS = ("none", "minimal", "low", "medium", "high", "xhigh", "max")


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
    return thinks_by_default(model)
