"""The Typer app: every command, its flags and its help; the commands of each group live beside it
(`stored_commands`, `tools_commands`, `settings_commands`).

Commands are short recipes; the request commands hand their flags to `turns`, which `launch` calls directly for
a plain command line, so a request does not pay for building this app. httpx, rich and yaml are imported only
inside the commands that need them, so `--help` stays fast.
"""

from __future__ import annotations

import sys
from typing import Annotated, Any, Optional

import typer

from qwen_cli import __version__
from qwen_cli.cli import turns
from qwen_cli.cli.batch_commands import batch_app
from qwen_cli.cli.flags import RequestFlags, with_request_flags
from qwen_cli.cli.help_format import CommandGroup
from qwen_cli.cli.settings_commands import config_app, presets_app
from qwen_cli.cli.spelling import closest_option
from qwen_cli.cli.stored_commands import conversation_app, history_app, response_app
from qwen_cli.cli.terminal import error_boundary, fail, json_requested, silence_stdout, stdout_guard
from qwen_cli.cli.tools_commands import tools_app
from qwen_cli.cli.world import World
from qwen_cli.errors import ExitCode, UsageError

PromptArgument = Annotated[
    Optional[list[str]],
    typer.Argument(help="The prompt: all words, joined by spaces.", metavar="PROMPT", show_default=False),
]
ContinueLast = Annotated[
    bool, typer.Option("-c", "--continue", help="Continue the last response in the local history.")
]

# The variables qwen reads, listed under the help of `qwen` and of the request commands.
ENVIRONMENT_HELP = """\b
Environment:
  DASHSCOPE_API_KEY  the API key; none? try qwen emulator or --dry-run
  QWEN_BASE_URL      the endpoint, instead of the region's (--region)
  QWEN_MODEL         the model (default qwen-plus)
  XDG_CONFIG_HOME    where config.yaml and presets/ are (~/.config/qwen)
  XDG_DATA_HOME      where the history is (~/.local/share/qwen)
  NO_COLOR           no colour on a terminal
"""

app = CommandGroup(
    name="qwen",
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


@app.callback(epilog=ENVIRONMENT_HELP)
def main_options(
    version: bool = typer.Option(
        False, "--version", "-V", callback=show_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Ask Qwen models from the shell, through Model Studio's (DashScope) Responses API.

    Words that start with no command are a prompt for ask (a near miss of a command is refused).

    \b
    Examples:
      qwen "why is the sky blue"
      git diff | qwen "write a commit message" > msg.txt
      qwen stream "tell me a story"
      qwen ask --json "hi" | jq -r .id
      qwen history list

    Exit codes: 0 ok, 1 API error, 2 bad usage or input, 3 authentication, 4 network or server trouble
    after retries, 5 function calls not run, 6 stdout could not be written, 7 piped input arrived too late
    to be sent, 8 some items of a batch failed, 9 a batch job not settled yet, 130 interrupted.
    """


@app.command(epilog=ENVIRONMENT_HELP)
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
    turns.ask(prompt, continue_last, flags=flags, world=World.of_process())


@app.command(epilog=ENVIRONMENT_HELP)
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
    turns.stream(prompt, continue_last, flags=flags, world=World.of_process())


@app.command("continue", epilog=ENVIRONMENT_HELP, short_help="Continue an earlier response (previous_response_id).")
@with_request_flags
def continue_command(
    response: Annotated[
        str,
        typer.Argument(
            metavar="ID", help="A response id, an unambiguous prefix of one, or 'last'.", show_default=False
        ),
    ],
    prompt: PromptArgument = None,
    stream: Annotated[
        Optional[bool], typer.Option("--stream", help="Print the answer as it arrives (as does -o jsonl).")
    ] = None,
    tool_output: Annotated[
        Optional[list[str]],
        typer.Option(
            "--tool-output",
            metavar="CALL_ID=TEXT",
            help="Answer a function call: TEXT, or @FILE for a file's text (repeatable).",
        ),
    ] = None,
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
    turns.continue_(response, prompt, stream, tool_output, flags=flags, world=World.of_process())


app.add_typer(batch_app, name="batch")
app.add_typer(history_app, name="history")
app.add_typer(response_app, name="response")
app.add_typer(conversation_app, name="conversation")
app.add_typer(tools_app, name="tools")
app.add_typer(presets_app, name="presets")
app.add_typer(config_app, name="config")


@app.command(short_help="Serve a local emulator of the API, to try qwen offline.")
def emulator(
    port: int = typer.Option(8765, "--port", "-p", metavar="N", help="Port to listen on (0 picks a free one)."),
    host: str = typer.Option("127.0.0.1", "--host", metavar="ADDRESS", help="Address to listen on."),
    api_key: str = typer.Option(
        None, "--api-key", metavar="KEY", help="Accept only this key (default: any non-empty key)."
    ),
) -> None:
    """Serve a local emulator of the Responses API, for trying qwen and testing scripts offline.

    Replies are deterministic and derived from the input; no key and no network are needed.

    \b
    Examples:
      qwen emulator --port 8765 &
      QWEN_BASE_URL=http://127.0.0.1:8765/compatible-mode/v1 DASHSCOPE_API_KEY=sk-test qwen ask hi
    """
    from qwen_cli.emulator import serve_forever

    with error_boundary(World.of_process(), debug=False, json_errors=False):
        try:
            serve_forever(host, port, api_key, None, announce=lambda line: print(line, flush=True))
        except OSError as exc:
            raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc


def main(args: list[str] | None = None, prog_name: str = "qwen") -> None:
    """Run the Typer app on `args` (by default the process's), naming the program `prog_name` in usage and help."""
    try:
        with stdout_guard():  # also for commands that have no error boundary of their own (`presets path`, ...)
            code = app(args=args, prog_name=prog_name, standalone_mode=False)
    except typer.TyperException as exc:
        code = show_usage_error(exc)
    except typer.Abort:
        code = ExitCode.INTERRUPTED
    except BrokenPipeError:
        silence_stdout(sys.stdout)
        code = 0
    sys.exit(code or 0)


def show_usage_error(exc: Any) -> int:
    """Click's usage errors as one line that says what was wrong and where to look."""
    context = getattr(exc, "ctx", None)
    if type(exc).__name__ == "NoArgsIsHelpError" or context is None:
        exc.show()
        return int(getattr(exc, "exit_code", ExitCode.USAGE))
    message = unknown_option(exc, context) if type(exc).__name__ == "NoSuchOption" else exc.format_message()
    error = UsageError(f"{message} (see '{context.command_path} --help')")
    try:
        fail(error, World.of_process(), json_requested(sys.argv[1:]))
    except SystemExit as exit_:
        return int(exit_.code or 0)


def unknown_option(exc: Any, context: Any) -> str:
    """Click's "no such option", suggesting the one option nearest by spelling, or none when none is near: click
    lists every option that shares a few letters (`--bogus`: `--verbose`), which only sends the reader astray."""
    options = [name for param in context.command.get_params(context) for name in (*param.opts, *param.secondary_opts)]
    if context.parent is None:  # `qwen --model x hi` is ask's option (see default_command): suggest those too
        from qwen_cli.cli._completion_table import COMMANDS
        from qwen_cli.cli.default_command import DEFAULT_COMMAND, option_names

        options += option_names(COMMANDS[(DEFAULT_COMMAND,)])
    nearest = closest_option(exc.option_name, options)
    return f"no such option: {exc.option_name}" + (f"; did you mean {nearest}?" if nearest else "")
