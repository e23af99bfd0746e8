"""Tools on a request: the tool set one request sends, and what a tool round does next.

`next_step` decides, purely, what follows a response; the one loop over rounds lives in the turn recipe
(cli/turns.py). Programs run only through `runner`, and only when the plan says so (`--run-tools` on the command
line: never by default, never because a preset says so). No printing: lines go to `announce`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from qwen_cli.api.responses import function_calls
from qwen_cli.errors import ToolCallsPending, UsageError
from qwen_cli.redaction import Secrets, withheld_variables
from qwen_cli.settings.config import API_KEY_ENV, api_key_from
from qwen_cli.tools.catalogue import (
    ToolSet,
    ToolSpec,
    describe_function_call,
    resolve_tools,
    tool_choice,
)

DEFAULT_MAX_ROUNDS = 8
Response = dict[str, Any]


@dataclass(frozen=True)
class ToolPlan:
    tools: ToolSet
    choice: str | dict[str, Any] | None
    run: bool = False
    timeout: float | None = None  # None: the runner's default
    max_rounds: int = DEFAULT_MAX_ROUNDS
    environment: Mapping[str, str] = field(default_factory=dict, repr=False)  # what a program receives
    withheld: frozenset[str] = frozenset()  # the variables of `env` kept from programs: the key and tokens
    directory: str | None = None  # where programs run: the working directory of the command

    def definitions(self) -> tuple[dict[str, Any], ...] | None:
        return tuple(self.tools.definitions()) or None


def plan_tools(
    spec: ToolSpec,
    choice: str | dict[str, Any] | None,
    env: Mapping[str, str],
    has_image: bool,
    run: bool = False,
    timeout: float | None = None,
    max_rounds: int | None = None,
    directory: str | None = None,
) -> ToolPlan:
    if timeout is not None and not timeout > 0:
        raise UsageError(f"--tool-timeout must be a positive number of seconds, got {timeout:g}")
    if max_rounds is not None and max_rounds < 1:
        raise UsageError(f"--max-tool-rounds must be at least 1, got {max_rounds}")
    tools = resolve_tools(spec, env, has_image)
    chosen = choice if isinstance(choice, dict) else tool_choice(choice, tools.tools)
    withheld = withheld_from_programs(env, tools)
    return ToolPlan(tools, chosen, run, timeout, max_rounds or DEFAULT_MAX_ROUNDS, dict(env), withheld, directory)


def withheld_from_programs(env: Mapping[str, str], tools: ToolSet) -> frozenset[str]:
    """A program is the model's agent: it gets neither the key nor an MCP token, under any variable's name."""
    secrets = Secrets.of(api_key_from(env), tools.secrets)
    return withheld_variables(env, (API_KEY_ENV, *tools.secret_variables), secrets)


def has_image(messages: Any, images: tuple[str, ...]) -> bool:
    """image_search needs an image in the input: attached with --image, or inside a --messages file."""
    if images:
        return True
    parts = [part for item in messages or () if isinstance(item, dict) for part in as_list(item.get("content"))]
    return any(isinstance(part, dict) and part.get("type") in ("input_image", "image_url") for part in parts)


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


@dataclass(frozen=True)
class Step:
    """What follows a response: nothing (it is the answer), running its calls' programs, or stopping with its
    calls unanswered (exit 5), for the reason `why`."""

    calls: tuple[dict[str, Any], ...] = ()
    run: bool = False
    why: str = ""


def next_step(response: Response, plan: ToolPlan, rounds_done: int) -> Step:
    """What happens after `response`, `rounds_done` tool rounds into the turn. Pure: runs nothing.

    Calls run only when the plan allows it (`--run-tools`), rounds are left, and every call has a program bound:
    half a round of outputs would leave the model's other calls unanswered.
    """
    calls = tuple(function_calls(response))
    if not calls:
        return Step()
    if not plan.run:
        return Step(calls, why="pass --run-tools to run the programs bound with run:")
    if rounds_done >= plan.max_rounds:
        return Step(calls, why=f"--max-tool-rounds ({plan.max_rounds}) was reached")
    unbound = tuple(
        dict.fromkeys(str(call.get("name")) for call in calls if call.get("name") not in plan.tools.bindings)
    )
    if unbound:
        return Step(calls, why=f"no program is bound to {', '.join(unbound)} (add run: [...] to its tools-file entry)")
    return Step(calls, run=True)


def run_programs(
    calls: tuple[dict[str, Any], ...], plan: ToolPlan, announce: Callable[[str], None]
) -> list[dict[str, Any]]:
    """Run the programs bound to `calls` (a step that may run) and return their function_call_output items."""
    from qwen_cli.tools.runner import DEFAULT_OUTPUT_CAP, DEFAULT_TIMEOUT, ProgramEnvironment, run_calls

    timeout = plan.timeout if plan.timeout is not None else DEFAULT_TIMEOUT
    environment = ProgramEnvironment(plan.environment, plan.withheld, plan.directory)
    return run_calls(calls, plan.tools.bindings, timeout, DEFAULT_OUTPUT_CAP, announce, environment)


def pending(
    calls: list[dict[str, Any]], response: Response, announce: Callable[[str], None], why: str
) -> ToolCallsPending:
    for call in calls:
        announce(describe_function_call(call))
    count = f"{len(calls)} function call{'s' if len(calls) != 1 else ''}"
    answer = f"qwen continue {response.get('id', 'ID')} --tool-output CALL_ID=TEXT"
    return ToolCallsPending(f"the model asked for {count} that qwen did not run ({why}); answer with: {answer}")
