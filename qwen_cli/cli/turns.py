"""One turn, from flags to the answer: the recipe `ask`, `stream` and `continue` share; part of the cli layer.

resolve settings -> find the parent and the preset -> gather input -> plan tools -> build the request -> send
-> render, then answer function calls while qwen may run them. Needs no typer: `app` (the Typer app) and
`launch` (the fast entry, which parses a plain command line itself) both call `ask`, `stream` and `continue_`.
httpx, rich and yaml are imported only when a turn needs them.
"""

from __future__ import annotations

import contextlib
import keyword
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from qwen_cli.cli.flags import RequestFlags
from qwen_cli.cli.terminal import choose_mode, error_boundary
from qwen_cli.cli.world import World
from qwen_cli.errors import QwenError, UsageError
from qwen_cli.modes import OutputMode

if TYPE_CHECKING:
    from qwen_cli.api.request import PreparedRequest, RequestOptions, UserInput
    from qwen_cli.cli.continuation import Origin
    from qwen_cli.cli.inputs import Collected
    from qwen_cli.history import History
    from qwen_cli.settings.config import Settings, SettingSources
    from qwen_cli.tools.rounds import ToolPlan


def ask(prompt: list[str] | None, continue_last: bool, *, flags: RequestFlags, world: World) -> None:
    run_request(world, prompt, flags, stream=False, continue_from="last" if continue_last else None)


def stream(prompt: list[str] | None, continue_last: bool, *, flags: RequestFlags, world: World) -> None:
    run_request(world, prompt, flags, stream=True, continue_from="last" if continue_last else None)


def continue_(
    response: str,
    prompt: list[str] | None,
    stream: bool | None,
    tool_output: list[str] | None,
    *,
    flags: RequestFlags,
    world: World,
) -> None:
    run_request(world, prompt, flags, stream=stream, continue_from=response, tool_outputs=tuple(tool_output or ()))


@dataclass(frozen=True)
class Turn:
    """One request, prepared: everything sending it (and the tool rounds after it) needs, in the world it runs in
    (which hides the request's secrets)."""

    world: World
    settings: Settings
    mode: OutputMode
    options: RequestOptions
    user_input: UserInput
    request: PreparedRequest
    plan: ToolPlan
    history: History | None
    preset_ref: str | None
    origin: Origin
    stdin_left: bool = False  # an open stdin went unread after its grace period: checked again after the answer


def run_request(
    world: World,
    words: list[str] | None,
    flags: RequestFlags,
    stream: bool | None,
    continue_from: str | None = None,
    tool_outputs: tuple[str, ...] = (),
) -> None:
    from qwen_cli import bounds
    from qwen_cli.settings.config import require_key

    with error_boundary(world, flags.debug, json_errors=flags.wants_json()) as boundary:
        sources = flags.setting_sources(world.env)  # the config file is read once for the whole turn
        with history_for(world, flags, sources) as history:
            turn = prepare_turn(words or [], flags, stream, continue_from, tool_outputs, boundary, history, sources)
            if flags.dry_run:
                print(bounds.dumps(turn.request.redacted(), indent=2), file=world.stdout)
                return
            require_key(turn.settings)
            try:
                send_turn(turn, flags)
                check_nothing_left(turn)
            except QwenError as error:
                raise explained(error, turn) from None


def explained(error: QwenError, turn: Turn) -> QwenError:
    """A failure said in the user's terms: an unknown parent, a base URL that serves no API, a refused key."""
    from qwen_cli.cli import advice, continuation

    parent = turn.options.previous_response_id
    asked = continuation.endpoint_of(turn.settings.base_url)
    error = continuation.explain_unknown_parent(error, parent, asked, turn.history)
    return advice.explained(
        error, turn.settings, continuation.endpoint_of(turn.request.url), ids=(parent,) if parent else ()
    )


def prepare_turn(
    words: list[str],
    flags: RequestFlags,
    stream: bool | None,
    continue_from: str | None,
    tool_outputs: tuple[str, ...],
    boundary: Any,
    history: History | None,
    sources: SettingSources,
) -> Turn:
    from qwen_cli.api.request import build_request
    from qwen_cli.cli import continuation

    world = boundary.world
    parent = find_continued(world, flags, history, continue_from)
    preset_ref, preset, recorded = choose_preset(world, flags.preset, parent)
    # A continued turn goes where its parent went (the response lives there), unless a flag says otherwise.
    endpoint = continuation.parent_endpoint(parent) if flags.region is None and flags.base_url is None else None
    settings = sources.resolve(preset_layer(preset, endpoint))
    origin = (
        replace(recorded, endpoint=continuation.endpoint_of(settings.base_url))
        if recorded
        else continuation.origin_of(settings.base_url, preset)
    )
    boundary.json_errors = settings.output is OutputMode.JSON
    world.note_all((*settings.warnings, *(preset.warnings if preset else ())))
    options = flags.options(settings.model, preset_options(preset))
    if parent is not None:
        model_chosen = flags.model is not None or bool(flags.preset and preset and preset.model)
        options = continuation.inherit(options, parent, model_from_flag=model_chosen)
    mode = choose_mode(settings.output, world)
    # A preset's template shapes the turn it was asked for, not the later turns that inherit the preset.
    template = preset.prompt if preset and flags.preset else None
    collected = gather_input(world, words, flags, settings.stdin_wait, template, tool_outputs)
    user_input = collected.user_input
    plan = plan_request_tools(world, flags, preset, user_input)
    tools = plan.definitions() or (continuation.parent_tools(parent, world.note) if parent is not None else None)
    options = replace(options, tools=tools, tool_choice=plan.choice)
    streaming = stream if stream is not None else mode is OutputMode.JSONL
    request = build_request(settings.base_url, settings.api_key, options, user_input, streaming, plan.tools.secrets)
    world = boundary.learn(request.secrets)  # from here on no line shows an MCP header value or a URL's password
    return Turn(
        world, settings, mode, options, user_input, request, plan, history, preset_ref, origin, collected.stdin_left
    )


def send_turn(turn: Turn, flags: RequestFlags) -> None:
    """Send the turn; while the model answers with function calls that qwen may run, run them and go on.

    The one loop over tool rounds: `next_step` says what follows each response, `rounds` counts the rounds run.
    """
    from qwen_cli.tools.rounds import next_step, pending, run_programs

    request, user_input, rounds = turn.request, turn.user_input, 0
    while True:
        response = send_round(turn, flags, request, user_input, rounds)
        step = next_step(response, turn.plan, rounds)
        if not step.calls:
            return
        if not step.run:
            raise pending(list(step.calls), response, turn.world.note, step.why)
        outputs = run_programs(step.calls, turn.plan, turn.world.note)
        rounds += 1
        request, user_input = follow_up(turn, str(response.get("id")), outputs)


def send_round(
    turn: Turn, flags: RequestFlags, request: PreparedRequest, user_input: UserInput, rounds: int
) -> dict[str, Any]:
    """Send one request of the turn and show its answer; a response whose calls the loop will run is not shown as
    the final one (json mode prints only the last)."""
    from qwen_cli.cli import exchange
    from qwen_cli.tools.rounds import next_step

    world = turn.world
    output = exchange.Output(
        turn.mode, world.stdout, world.stderr, flags.show_reasoning, flags.verbose, world.note, turn.request.secrets
    )
    record = recorder(world, turn.history, request, user_input, turn.preset_ref, turn.origin)
    debug = world.note if flags.debug else None
    continues = lambda response: next_step(response, turn.plan, rounds).run  # noqa: E731
    return exchange.run(turn.settings, request, output, debug, record, continues, world.transport, world.sleep)


def follow_up(turn: Turn, response_id: str, outputs: list[dict[str, Any]]) -> tuple[PreparedRequest, UserInput]:
    """The next round's request: the programs' outputs, continuing the response that asked for them."""
    from qwen_cli.api.request import UserInput, build_request
    from qwen_cli.tools.catalogue import choice_after_calls

    options = replace(turn.options, previous_response_id=response_id, tool_choice=choice_after_calls(turn.plan.choice))
    user_input = UserInput(messages=tuple(outputs))
    settings = turn.settings
    request = build_request(
        settings.base_url, settings.api_key, options, user_input, turn.request.stream, turn.plan.tools.secrets
    )
    return request, user_input


def plan_request_tools(world: World, flags: RequestFlags, preset: Any, user_input: UserInput) -> ToolPlan:
    from qwen_cli.tools.catalogue import ToolSpec
    from qwen_cli.tools.rounds import has_image, plan_tools

    spec = ToolSpec(
        builtins=flags.tool,
        web=flags.web,
        vector_stores=flags.vector_store,
        mcp=flags.mcp,
        mcp_headers=flags.mcp_header,
        tools_files=flags.tools_file,
        preset_tools=tuple(preset.tools or ()) if preset is not None else (),
        preset_source=f"preset '{preset.name}'" if preset is not None else "preset",
        preset_dir=str(preset.source.parent) if preset is not None else None,
    )
    choice = (
        flags.tool_choice if flags.tool_choice is not None else (preset.tool_choice if preset is not None else None)
    )
    if flags.run_tools and flags.store is False:
        raise UsageError(
            "--run-tools sends tool outputs with previous_response_id, which needs a stored response: drop --no-store"
        )
    images = has_image(user_input.messages, user_input.images)
    run, timeout, rounds = flags.run_tools, flags.tool_timeout, flags.max_tool_rounds
    return plan_tools(spec, choice, world.env, images, run, timeout, rounds, directory=str(world.cwd))


def find_continued(world: World, flags: RequestFlags, history: Any, continue_from: str | None) -> Any:
    from qwen_cli.cli import continuation

    if continue_from is None:
        return None
    continuation.check_exclusive(previous=flags.previous, conversation=flags.conversation)
    return continuation.find_parent(history, continue_from, warn=world.note)


def choose_preset(world: World, reference: str | None, parent: Any) -> tuple[str | None, Any, Origin | None]:
    """The preset named with -p; else the one the continued response was asked with, exactly as the history
    recorded it (with its origin), whatever the files and the current directory say now."""
    inherited = parent.entry.preset if parent is not None and parent.entry is not None else None
    if reference is None and inherited is not None:
        from qwen_cli.cli.continuation import recorded_preset

        found = recorded_preset(parent, world.note)
        if found is not None:
            return inherited, found[0], found[1]
    chosen = reference or inherited
    if chosen is None:
        return None, None, None
    from qwen_cli.settings.presets import UntrustedPreset, is_path, load_preset

    try:
        preset = load_preset(chosen, world.cwd, world.env)
    except UsageError as error:
        if reference or isinstance(error, UntrustedPreset):
            raise
        world.note(f"warning: the earlier turn's preset no longer loads, so it is not used: {error.message}")
        return None, None, None
    # A path is recorded whole, so a later `continue` from another folder finds the same file.
    return (str(preset.source.resolve()) if is_path(chosen) else chosen), preset, None


def preset_layer(preset: Any, endpoint: str | None = None) -> dict[str, Any] | None:
    """The preset's settings; a continued turn's recorded endpoint takes the place of the preset's own."""
    values: dict[str, Any] = {}
    if preset is not None:
        from qwen_cli.settings.presets import preset_settings

        values = preset_settings(preset)
    if endpoint:
        values.pop("region", None)
        values["base_url"] = endpoint
    return values or None


def preset_options(preset: Any) -> dict[str, Any] | None:
    if preset is None:
        return None
    from qwen_cli.settings.presets import preset_request_values

    values = preset_request_values(preset)
    values.pop("tools", None)  # tools arrive with the tools module
    values.pop("tool_choice", None)
    return values


@contextlib.contextmanager
def history_for(world: World, flags: RequestFlags, sources: SettingSources) -> Iterator[History | None]:
    """The local history for this turn (None when it is turned off), closed when the turn ends: its SQLite
    write-ahead log is folded back into the file then, not left to whatever collects objects at exit."""
    if not (sources.value("history") and not flags.no_history):
        yield None
        return
    from qwen_cli.history import History, history_path

    with History(history_path(world.env), warn=world.note) as history:
        yield history


def recorder(world: World, history: Any, request: Any, user_input: Any, preset: str | None, origin: Origin) -> Any:
    """Record each response in the history; a history that cannot be written only warns."""
    if history is None:
        return None
    from qwen_cli.cli.continuation import entry_for
    from qwen_cli.redaction import redacted_fields

    def record(outcome: Any) -> None:
        # A server may echo the key or a token back, in an answer or an id: none of it is stored.
        problem = history.record_or_explain(
            redacted_fields(entry_for(outcome, request, user_input, preset, origin), request.secrets)
        )
        if problem:
            world.note(f"warning: {problem}")

    return record


def gather_input(
    world: World,
    words: list[str],
    flags: RequestFlags,
    stdin_wait: float | None = None,
    template: str | None = None,
    tool_outputs: tuple[str, ...] = (),
) -> Collected:
    from qwen_cli.cli import inputs
    from qwen_cli.cli.stdin_source import stdin_grace

    stdin = None if flags.no_stdin or world.stdin_is_terminal else world.stdin
    policy = inputs.StdinPolicy(
        grace=lambda: stdin_grace(stdin, stdin_wait),
        note=world.note,
        waiting=lambda: announce_waiting(world),
    )
    sources = inputs.Sources(" ".join(words), flags.files, flags.images, flags.messages)
    collected = inputs.collect(sources, stdin, policy, answered_calls(tool_outputs))
    if template is None:
        return collected
    from qwen_cli.settings.presets import apply_template

    prompt = apply_template(template, collected.user_input.prompt)
    return replace(collected, user_input=replace(collected.user_input, prompt=prompt))


def announce_waiting(world: World) -> None:
    """Waiting on a silent stdin for more than a second is said on a terminal, with the way out."""
    if world.stderr_is_terminal():
        world.note("waiting for input on stdin; --no-stdin to skip")


def check_nothing_left(turn: Turn) -> None:
    """Never exit 0 with piped material unsent: a stdin that went unread is looked at once more."""
    from qwen_cli.cli.inputs import late_data
    from qwen_cli.errors import InputLeftError

    if turn.stdin_left and turn.world.stdin is not None and late_data(turn.world.stdin):
        raise InputLeftError(
            "stdin sent data after qwen had answered without it, so none of it was sent; "
            "wait for it with --stdin-wait SECONDS or -f -, or skip stdin with --no-stdin"
        )


def answered_calls(values: tuple[str, ...]) -> tuple[dict[str, Any], ...]:
    """`--tool-output CALL_ID=TEXT` (or `=@file`) as function_call_output items, sent before any prompt."""
    if not values:
        return ()
    from qwen_cli.settings.files import read_text
    from qwen_cli.tools.catalogue import parse_tool_outputs

    return tuple(parse_tool_outputs(values, read_text))


def runner_of(command: str) -> Callable[..., None]:
    """The function that runs request command `command` (one of launch.REQUEST_COMMANDS): the function of this
    module named as the command, `continue_` for `continue`, which is a Python keyword."""
    runner: Callable[..., None] = globals()[f"{command}_" if keyword.iskeyword(command) else command]
    return runner


def run_command(command: str, values: dict[str, Any], world: World) -> None:
    """Run `ask`, `stream` or `continue` from its parameters by name, as `fast_argv` read them."""
    from dataclasses import fields

    names = {field.name for field in fields(RequestFlags)}
    flags = RequestFlags(**{name: value for name, value in values.items() if name in names})
    arguments = {name: value for name, value in values.items() if name not in names}
    runner_of(command)(**arguments, flags=flags, world=world)
