"""The Typer app and its request commands. With `flags`, `terminal`, `cli_stored`, `cli_tools`, `cli_settings`
and the fast entry `launch`, the cli layer: the only code that knows flags, stdin/stdout/stderr, terminals and
exit codes.

Commands are short recipes: resolve settings -> gather input -> build the request -> send -> render.
httpx, rich and yaml are imported only inside the commands that need them, so `--help` stays fast.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer

from qwen_cli import __version__
from qwen_cli.cli_settings import config_app, presets_app
from qwen_cli.cli_stored import conversation_app, history_app, response_app
from qwen_cli.cli_tools import tools_app
from qwen_cli.errors import AuthError, ExitCode, QwenError, UsageError
from qwen_cli.flags import PromptArgument, RequestFlags, with_request_flags
from qwen_cli.terminal import choose_mode, error_boundary, fail, json_requested, note, remember_secrets, silence_stdout

if TYPE_CHECKING:
    from qwen_cli.config import Settings
    from qwen_cli.history import History
    from qwen_cli.request import PreparedRequest, RequestOptions, UserInput
    from qwen_cli.tool_loop import ToolPlan

STDIN_WAIT_SECONDS = 1.0  # how long an open stdin may stay silent before qwen goes on without it
ContinueLast = Annotated[bool, typer.Option("-c", "--continue", help="Continue the last response in the local history.")]

app = typer.Typer(
    name="qwen",
    help="Ask Qwen models from the shell, through Model Studio's (DashScope) Responses API.",
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    pretty_exceptions_show_locals=False,  # locals can hold the API key
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def show_version(value: bool) -> None:
    if value:
        print(f"qwen {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    version: bool = typer.Option(False, "--version", "-V", callback=show_version, is_eager=True, help="Print the version and exit."),
) -> None:
    """Ask Qwen models from the shell, through Model Studio's (DashScope) Responses API.

    \b
    Examples:
      qwen ask "why is the sky blue"
      git diff | qwen ask "write a commit message" > msg.txt
      qwen stream "tell me a story"
      qwen ask --json "hi" | jq -r .id

    The API key is read from DASHSCOPE_API_KEY. Exit codes: 0 ok, 1 API error, 2 bad usage or input,
    3 authentication, 4 network or server trouble after retries, 5 function calls not run, 130 interrupted.
    """


@app.command()
@with_request_flags
def ask(prompt: PromptArgument = None, continue_last: ContinueLast = False, *, flags: RequestFlags) -> None:
    """Send one prompt and print the answer once it is complete.

    The prompt is the words given, joined by spaces. Text piped into qwen is sent too, as material
    apart from the prompt (with no prompt it is sent alone).

    \b
    Examples:
      qwen ask "why is the sky blue"
      git diff | qwen ask "write a commit message" > msg.txt
      qwen ask -f main.py -f test_main.py "what does this test miss?"
      qwen ask --image photo.png "what is in this picture?"
      qwen ask -m qwen3.8-max --effort high "prove that sqrt(2) is irrational"
      qwen ask --json "hi" | jq .usage
      qwen ask --dry-run -s "answer in French" "hello"
      qwen ask -c "and in Go?"
    """
    run_request(prompt, flags, stream=False, continue_from="last" if continue_last else None)


@app.command()
@with_request_flags
def stream(prompt: PromptArgument = None, continue_last: ContinueLast = False, *, flags: RequestFlags) -> None:
    """Send one prompt and print the answer as it arrives.

    \b
    Examples:
      qwen stream "write a haiku about the sea"
      cat notes.md | qwen stream "summarise these notes"
      qwen stream --think "how many r's are in strawberry?"
      qwen stream -o jsonl "hi" | jq -c .type
      qwen stream -c "go on"
    """
    run_request(prompt, flags, stream=True, continue_from="last" if continue_last else None)


@app.command("continue")
@with_request_flags
def continue_command(
    response: Annotated[str, typer.Argument(metavar="ID", help="A response id, an unambiguous prefix of one, or 'last'.", show_default=False)],
    prompt: PromptArgument = None,
    stream: Annotated[Optional[bool], typer.Option("--stream", help="Print the answer as it arrives (as does -o jsonl).")] = None,
    tool_output: Annotated[Optional[list[str]], typer.Option("--tool-output", metavar="CALL_ID=TEXT", help="Answer a function call: TEXT, or @FILE for a file's text (repeatable).")] = None,
    *,
    flags: RequestFlags,
) -> None:
    """Continue an earlier response: the server supplies the context (previous_response_id).

    ID is a response id, an unambiguous prefix of one from the local history, or 'last' (the newest).
    The parent's model is kept unless -m names another, and its instructions are sent again, since the
    server does not carry instructions from turn to turn. Continuing an older id forks the thread.

    \b
    Examples:
      qwen continue last "and in Go?"
      qwen continue resp_4ca7 "shorter, please"
      git diff | qwen continue last --stream "and now review this"
      qwen continue last -m qwen3.8-max --effort high "think harder"
      qwen continue last --tools-file tools.yaml --tool-output call_abc='{"temp": 21}'
    """
    run_request(prompt, flags, stream=stream, continue_from=response, tool_outputs=tuple(tool_output or ()))


app.add_typer(history_app, name="history")
app.add_typer(response_app, name="response")
app.add_typer(conversation_app, name="conversation")
app.add_typer(tools_app, name="tools")
app.add_typer(presets_app, name="presets")
app.add_typer(config_app, name="config")


@app.command()
def emulator(
    port: int = typer.Option(8765, "--port", "-p", help="Port to listen on (0 picks a free one)."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    api_key: str = typer.Option(None, "--api-key", help="Accept only this key (default: any non-empty key)."),
) -> None:
    """Serve a local emulator of the Responses API, for trying qwen and testing scripts offline.

    Replies are deterministic and derived from the input; no key and no network are needed.

    \b
    Examples:
      qwen emulator --port 8765 &
      QWEN_BASE_URL=http://127.0.0.1:8765/compatible-mode/v1 DASHSCOPE_API_KEY=sk-test qwen ask hi
    """
    from qwen_cli.emulator import serve_forever

    with error_boundary(debug=False, json_errors=False):
        try:
            serve_forever(host, port, api_key, None, announce=lambda line: print(line, flush=True))
        except OSError as exc:
            raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc


@dataclass(frozen=True)
class Turn:
    """One request, prepared: everything sending it (and the tool rounds after it) needs."""

    settings: Settings
    mode: str
    options: RequestOptions
    user_input: UserInput
    request: PreparedRequest
    plan: ToolPlan
    history: History | None
    preset_ref: str | None


def run_request(
    words: list[str] | None, flags: RequestFlags, stream: bool | None, continue_from: str | None = None, tool_outputs: tuple[str, ...] = ()
) -> None:
    from qwen_cli import continuation

    with error_boundary(flags.debug, json_errors=flags.wants_json()) as boundary:
        turn = prepare_turn(words or [], flags, stream, continue_from, tool_outputs, boundary)
        if flags.dry_run:
            print(json.dumps(turn.request.redacted(), ensure_ascii=False, indent=2))
            return
        if not turn.settings.api_key:
            raise AuthError("DASHSCOPE_API_KEY is not set; create a key in the Model Studio console, then: export DASHSCOPE_API_KEY=sk-...")
        try:
            send_turn(turn, flags)
        except QwenError as error:
            raise continuation.explain_unknown_parent(error, turn.options.previous_response_id, turn.history) from None


def prepare_turn(
    words: list[str], flags: RequestFlags, stream: bool | None, continue_from: str | None, tool_outputs: tuple[str, ...], boundary: Any
) -> Turn:
    from qwen_cli import continuation
    from qwen_cli.request import build_request

    history = open_history(flags.settings(os.environ).history and not flags.no_history)
    parent = find_continued(flags, history, continue_from)
    preset_ref, preset = choose_preset(flags.preset, parent)
    settings = flags.settings(os.environ, preset_layer(preset))
    boundary.json_errors = settings.output == "json"
    for warning in (*settings.warnings, *(preset.warnings if preset else ())):
        note(warning)
    options = flags.options(settings.model, preset_options(preset))
    if parent is not None:
        model_chosen = flags.model is not None or bool(flags.preset and preset and preset.model)
        options = continuation.inherit(options, parent, model_from_flag=model_chosen)
    mode = choose_mode(settings.output)
    # A preset's template shapes the turn it was asked for, not the later turns that inherit the preset.
    user_input = gather_input(words, flags, template=preset.prompt if preset and flags.preset else None, tool_outputs=tool_outputs)
    plan = plan_request_tools(flags, preset, user_input)
    tools = plan.definitions() or (continuation.parent_tools(parent, note) if parent is not None else None)
    options = replace(options, tools=tools, tool_choice=plan.choice)
    streaming = stream if stream is not None else mode == "jsonl"
    request = build_request(settings.base_url, settings.api_key, options, user_input, streaming, plan.tools.secrets)
    remember_secrets(request.secrets)
    return Turn(settings, mode, options, user_input, request, plan, history, preset_ref)


def send_turn(turn: Turn, flags: RequestFlags) -> None:
    """Send the turn; while the model answers with function calls that qwen may run, run them and go on."""
    from qwen_cli import session
    from qwen_cli.request import UserInput, build_request
    from qwen_cli.tool_loop import answer_calls

    echoed_secrets = tuple(secret for secret in turn.request.secrets if secret != turn.settings.api_key)
    output = session.Output(turn.mode, sys.stdout, sys.stderr, flags.show_reasoning, flags.verbose, note, echoed_secrets)
    rounds_done = 0

    def send(request: PreparedRequest, user_input: UserInput) -> dict[str, Any]:
        record = recorder(turn.history, request, user_input, turn.preset_ref)
        debug = note if flags.debug else None
        return session.run(turn.settings, request, output, debug, record, lambda response: turn.plan.would_run(response, rounds_done))

    def ask_again(response_id: str, outputs: list[dict[str, Any]], choice: Any) -> dict[str, Any]:
        nonlocal rounds_done
        rounds_done += 1
        options = replace(turn.options, previous_response_id=response_id, tool_choice=choice)
        follow_up = UserInput(messages=tuple(outputs))
        request = build_request(turn.settings.base_url, turn.settings.api_key, options, follow_up, turn.request.stream, turn.request.secrets)
        return send(request, follow_up)

    answer_calls(send(turn.request, turn.user_input), turn.plan, ask_again, note)


def plan_request_tools(flags: RequestFlags, preset: Any, user_input: UserInput) -> ToolPlan:
    from qwen_cli.tool_loop import has_image, plan_tools
    from qwen_cli.tools import ToolSpec

    spec = ToolSpec(
        builtins=tuple(flags.tool),
        web=bool(flags.web),
        vector_stores=tuple(flags.vector_store),
        mcp=tuple(flags.mcp),
        mcp_headers=tuple(flags.mcp_header),
        tools_files=tuple(flags.tools_file),
        preset_tools=tuple(preset.tools or ()) if preset is not None else (),
        preset_source=f"preset '{preset.name}'" if preset is not None else "preset",
        preset_dir=str(preset.source.parent) if preset is not None else None,
    )
    choice = flags.tool_choice if flags.tool_choice is not None else (preset.tool_choice if preset is not None else None)
    if flags.run_tools and flags.store is False:
        raise UsageError("--run-tools sends tool outputs with previous_response_id, which needs a stored response: drop --no-store")
    images = has_image(user_input.messages, user_input.images)
    return plan_tools(spec, choice, os.environ, images, bool(flags.run_tools), flags.tool_timeout, flags.max_tool_rounds)


def find_continued(flags: RequestFlags, history: Any, continue_from: str | None) -> Any:
    from qwen_cli import continuation

    if continue_from is None:
        return None
    continuation.check_exclusive(previous=flags.previous, conversation=flags.conversation)
    return continuation.find_parent(history, continue_from, warn=note)


def choose_preset(reference: str | None, parent: Any) -> tuple[str | None, Any]:
    """The preset named with -p, else the one the continued response was asked with (if it still loads)."""
    from qwen_cli.presets import is_path, load_preset

    inherited = parent.entry.preset if parent is not None and parent.entry is not None else None
    chosen = reference or inherited
    if chosen is None:
        return None, None
    try:
        preset = load_preset(chosen, Path.cwd(), os.environ)
    except UsageError as error:
        if reference:
            raise
        note(f"warning: the earlier turn's preset no longer loads, so it is not used: {error.message}")
        return None, None
    # A path is recorded whole, so a later `continue` from another folder finds the same file.
    return (str(preset.source.resolve()) if is_path(chosen) else chosen), preset


def preset_layer(preset: Any) -> dict[str, Any] | None:
    from qwen_cli.presets import preset_settings

    return preset_settings(preset) if preset is not None else None


def preset_options(preset: Any) -> dict[str, Any] | None:
    from qwen_cli.presets import preset_request_values

    if preset is None:
        return None
    values = preset_request_values(preset)
    values.pop("tools", None)  # tools arrive with the tools module
    values.pop("tool_choice", None)
    return values


def open_history(enabled: bool) -> Any:
    from qwen_cli.history import History, history_path

    return History(history_path(os.environ)) if enabled else None


def recorder(history: Any, request: Any, user_input: Any, preset: str | None) -> Any:
    """Record each response in the history; a history that cannot be written only warns."""
    if history is None:
        return None
    from qwen_cli.continuation import entry_for

    def record(outcome: Any) -> None:
        problem = history.record_or_explain(entry_for(outcome, request, user_input, preset))
        if problem:
            note(f"warning: {problem}")

    return record


def gather_input(words: list[str], flags: RequestFlags, template: str | None = None, tool_outputs: tuple[str, ...] = ()) -> UserInput:
    from qwen_cli import inputs

    stdin = None if flags.no_stdin or sys.stdin is None or sys.stdin.isatty() else sys.stdin.buffer
    sources = inputs.Sources(" ".join(words), tuple(flags.files), tuple(flags.images), flags.messages)
    user_input = inputs.collect(sources, stdin, STDIN_WAIT_SECONDS, note, answered_calls(tool_outputs))
    if template is None:
        return user_input
    from qwen_cli.presets import apply_template

    return replace(user_input, prompt=apply_template(template, user_input.prompt))


def answered_calls(values: tuple[str, ...]) -> tuple[dict[str, Any], ...]:
    """`--tool-output CALL_ID=TEXT` (or `=@file`) as function_call_output items, sent before any prompt."""
    if not values:
        return ()
    from qwen_cli.inputs import decode_text, read_bytes
    from qwen_cli.tools import parse_tool_outputs

    return tuple(parse_tool_outputs(values, lambda path: decode_text(read_bytes(path), path)))


def main() -> None:
    try:
        code = app(prog_name="qwen", standalone_mode=False)
    except typer.TyperException as exc:
        code = show_usage_error(exc)
    except typer.Abort:
        code = ExitCode.INTERRUPTED
    except BrokenPipeError:
        silence_stdout()
        code = 0
    sys.exit(code or 0)


def show_usage_error(exc: Any) -> int:
    """Click's usage errors as one line that says what was wrong and where to look."""
    context = getattr(exc, "ctx", None)
    if type(exc).__name__ == "NoArgsIsHelpError" or context is None:
        exc.show()
        return int(getattr(exc, "exit_code", ExitCode.USAGE))
    error = UsageError(f"{exc.format_message()} (see '{context.command_path} --help')")
    try:
        fail(error, json_requested(sys.argv[1:]))
    except typer.Exit as exit_:
        return int(exit_.exit_code)

