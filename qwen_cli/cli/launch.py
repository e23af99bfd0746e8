"""The `qwen` command's entry point: `--version`, `--help` and shell completion answered before typer loads, from
texts and tables generated from the Typer app (`python -m qwen_cli.dev.generate`), and a plain `ask`, `stream` or
`continue` command line parsed from the same table (`fast_argv`) and run by `turns` without the Typer app; a line
whose first word is no command is first read by `default_command` (a prompt for `ask`, or a typo refused);
everything else goes to the Typer app (`app`). Help is answered here only at the width it was rendered for, and
only as `qwen`: the stored texts name it, so `qwen-cli` has typer render its own."""

from __future__ import annotations

import gc
import os
import sys
from collections.abc import Mapping

PROGRAMS = ("qwen", "qwen-cli")  # the two names the package installs (Qwen Code installs a `qwen` too)
# typer's variables for the two programs: the generated scripts set the first, `qwen-cli --install-completion` the second
COMPLETE_VARIABLES = ("_QWEN_COMPLETE", "_QWEN_CLI_COMPLETE")
FAST_COMPLETIONS = {"complete_bash": "bash", "complete_zsh": "zsh", "complete_fish": "fish"}
VERSION_FLAGS = (["--version"], ["-V"])
HELP_FLAGS = ("--help", "-h")
REQUEST_COMMANDS = (
    "ask",
    "stream",
    "continue",
)  # the one list of request commands: `fast_argv` reads them, `turns` runs them
GC_THRESHOLD = 50_000  # allocations between young collections (Python's default is 700)


def main() -> None:
    # A run of qwen is short and most of what it allocates (modules, classes) lives until exit: collecting young
    # objects every 700 allocations during start-up, and all of them again at exit, is wasted work (a quarter
    # of a request's time). Collections stay on, only rarer; at exit the whole heap is frozen out of the last one.
    gc.set_threshold(GC_THRESHOLD)
    try:
        dispatch()
    finally:
        gc.freeze()


def dispatch() -> None:
    completing = completion_request(os.environ)
    shell = FAST_COMPLETIONS.get(completing or "")
    if shell is not None:
        from qwen_cli.cli.completion import respond

        try:
            code = respond(shell, os.environ, sys.stdout)
            sys.stdout.flush()
        except OSError as exc:
            cannot_write(exc)
        sys.exit(code)
    prog = program_name(sys.argv[0])
    args = command_line(sys.argv[1:], prog)
    if args[:1] and args[0] in REQUEST_COMMANDS and completing is None:
        if run_plain_request(args):
            return
    # The stored texts name `qwen`; under another name typer renders the help with the name it was called by.
    text = ready_answer(args, os.environ) if prog == PROGRAMS[0] else None
    if text is None:
        from qwen_cli.cli.app import main as run_app

        run_app(args, prog)
        return
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except OSError as exc:
        cannot_write(exc)
    sys.exit(0)


def cannot_write(exc: OSError) -> None:
    """stdout failed on the fast path: a reader that left ends qwen quietly; a full disk is exit 6 with one line."""
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # the buffered rest must not fail again at exit
    if isinstance(exc, BrokenPipeError):
        sys.exit(0)
    from qwen_cli.errors import ExitCode

    print(f"qwen: error: cannot write the answer: {exc.strerror or exc}", file=sys.stderr)
    sys.exit(ExitCode.OUTPUT)


def completion_request(env: Mapping[str, str]) -> str | None:
    """What a completion script asks for (`complete_bash`, ...), under either program's variable; None when none."""
    return next((env[name] for name in COMPLETE_VARIABLES if name in env), None)


def program_name(argv0: str) -> str:
    """The name qwen was called by, for its usage lines: `qwen-cli` as such; `qwen`, or `python -m qwen_cli`, as qwen."""
    name = os.path.basename(argv0)
    return name if name in PROGRAMS else PROGRAMS[0]


def command_line(args: list[str], prog: str) -> list[str]:
    """The words as the commands read them: a first word that is no command is a prompt for `ask`
    (`default_command`); a line that reads as a mistyped command ends here, exit 2."""
    if not args or args[0] in REQUEST_COMMANDS or args in VERSION_FLAGS or args[0] in HELP_FLAGS or stored_help(args):
        return args  # the commonest lines, decided without reading the command table (~5 ms)
    from qwen_cli.cli.default_command import routed
    from qwen_cli.errors import UsageError

    try:
        return routed(args, prog)
    except UsageError as error:
        from qwen_cli.cli.terminal import fail, json_requested
        from qwen_cli.cli.world import World

        fail(error, World.of_process(), json_requested(args))


def stored_help(args: list[str]) -> bool:
    """Whether `args` ask for the help of a command (`history list --help`), which the stored texts hold."""
    if args[-1] not in HELP_FLAGS:
        return False
    from qwen_cli.cli._help_texts import HELP

    return tuple(args[:-1]) in HELP


def run_plain_request(args: list[str]) -> bool:
    """Run a request command line `fast_argv` could read, as the Typer app would; False for any other line."""
    from qwen_cli.cli.fast_argv import parse

    parsed = parse(args)
    if parsed is None:
        return False
    from qwen_cli.cli.terminal import silence_stdout
    from qwen_cli.cli.turns import run_command
    from qwen_cli.cli.world import World

    try:
        run_command(parsed.command, parsed.values, World.of_process())
    except KeyboardInterrupt:  # before the command's error boundary was set up, as click's Abort
        sys.exit(130)
    except BrokenPipeError:
        silence_stdout(sys.stdout)
    return True


def ready_answer(args: list[str], env: Mapping[str, str]) -> str | None:
    """The output of `qwen ARGS` when it is one of the texts known in advance, else None."""
    if args in VERSION_FLAGS:
        from qwen_cli import __version__

        return f"qwen {__version__}\n"
    if not args or args[-1] not in HELP_FLAGS:
        return None
    from qwen_cli.cli._help_texts import COLUMNS, HELP

    text = HELP.get(tuple(args[:-1]))
    return text if text is not None and help_columns(env) >= COLUMNS else None


def help_columns(env: Mapping[str, str]) -> int:
    """The width click wraps help to is min(this, 80) - 2: `shutil.get_terminal_size().columns`, without shutil."""
    try:
        columns = int(env.get("COLUMNS", ""))
    except ValueError:
        columns = 0
    if columns > 0:
        return columns
    try:
        return os.get_terminal_size(sys.__stdout__.fileno()).columns or 80  # type: ignore[union-attr]
    except (AttributeError, ValueError, OSError):
        return 80
