"""Tools on a request: the tool set one request sends, and the loop that answers the model's function calls.

Runs a user's program only through `tool_runner`, and only when the plan says so (`--run-tools` on the
command line: never by default, never because a preset says so). No printing: lines go to `announce`.
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
    choice_after_calls,
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

    def definitions(self) -> tuple[dict[str, Any], ...] | None:
        return tuple(self.tools.definitions()) or None

    def would_run(self, response: Response, rounds_done: int) -> bool:
        """Whether the loop will answer this response's calls and ask again (so it is not the last answer)."""
        calls = function_calls(response)
        bindings = self.tools.bindings
        return (
            self.run and bool(calls) and rounds_done < self.max_rounds and all(c.get("name") in bindings for c in calls)
        )


def plan_tools(
    spec: ToolSpec,
    choice: str | dict[str, Any] | None,
    env: Mapping[str, str],
    has_image: bool,
    run: bool = False,
    timeout: float | None = None,
    max_rounds: int | None = None,
) -> ToolPlan:
    if timeout is not None and not timeout > 0:
        raise UsageError(f"--tool-timeout must be a positive number of seconds, got {timeout:g}")
    if max_rounds is not None and max_rounds < 1:
        raise UsageError(f"--max-tool-rounds must be at least 1, got {max_rounds}")
    tools = resolve_tools(spec, env, has_image)
    chosen = choice if isinstance(choice, dict) else tool_choice(choice, tools.tools)
    withheld = withheld_from_programs(env, tools)
    return ToolPlan(tools, chosen, run, timeout, max_rounds or DEFAULT_MAX_ROUNDS, dict(env), withheld)


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


def answer_calls(
    response: Response,
    plan: ToolPlan,
    ask_again: Callable[[str, list[dict[str, Any]], str | dict[str, Any] | None], Response],
    announce: Callable[[str], None],
) -> Response:
    """While the answer is function calls: run their programs and send the outputs back, round after round.

    Calls that qwen may not or cannot run are printed and end the command with exit 5, so a script can
    answer them with `qwen continue ID --tool-output CALL_ID=TEXT`.
    """
    rounds = 0
    while calls := function_calls(response):
        if not plan.run:
            raise pending(calls, response, announce, "pass --run-tools to run the programs bound with run:")
        if rounds >= plan.max_rounds:
            raise pending(calls, response, announce, f"--max-tool-rounds ({plan.max_rounds}) was reached")
        from qwen_cli.tools.runner import (
            DEFAULT_OUTPUT_CAP,
            DEFAULT_TIMEOUT,
            ProgramEnvironment,
            UnboundCalls,
            run_calls,
        )

        try:
            timeout = plan.timeout if plan.timeout is not None else DEFAULT_TIMEOUT
            environment = ProgramEnvironment(plan.environment, plan.withheld)
            outputs = run_calls(calls, plan.tools.bindings, timeout, DEFAULT_OUTPUT_CAP, announce, environment)
        except UnboundCalls as unbound:
            raise pending(list(unbound.calls), response, announce, str(unbound)) from None
        response = ask_again(str(response.get("id")), outputs, choice_after_calls(plan.choice))
        rounds += 1
    return response


def pending(
    calls: list[dict[str, Any]], response: Response, announce: Callable[[str], None], why: str
) -> ToolCallsPending:
    for call in calls:
        announce(describe_function_call(call))
    count = f"{len(calls)} function call{'s' if len(calls) != 1 else ''}"
    answer = f"qwen continue {response.get('id', 'ID')} --tool-output CALL_ID=TEXT"
    return ToolCallsPending(f"the model asked for {count} that qwen did not run ({why}); answer with: {answer}")
