"""How qwen's commands read in their help: the Typer class every command group is made from, whose commands write
usage lines as the README does (`ID`, where typer writes `{ID}` for a required argument) and name the program as
it was called in their examples (`qwen-cli ask ...` under `qwen-cli`)."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from typing import Any

import typer
from typer.core import TyperCommand, TyperGroup

from qwen_cli.cli.spelling import closest

PROGRAM = "qwen"  # the name the help texts are written with
# `qwen` as a command in a help text: `qwen ask`, `| qwen`, `$(qwen config path)`; not `.qwen/presets`, `qwen-plus`
# or `qwen3.8-max`.
PROGRAM_WORD = re.compile(r"(?<![\w./-])qwen(?= )")


class CalledByName:
    """Help whose text and epilog name the program as it was called (the root context's name)."""

    help: str | None
    epilog: str | None

    def format_help(self, ctx: Any, formatter: Any) -> None:
        with called(self, ctx.find_root().info_name or PROGRAM):
            super().format_help(ctx, formatter)  # type: ignore[misc]


@contextlib.contextmanager
def called(command: CalledByName, prog: str) -> Iterator[None]:
    """The command's help and epilog with `qwen` renamed to `prog` while its help is written."""
    saved = command.help, command.epilog
    if prog != PROGRAM:
        command.help, command.epilog = (None if text is None else PROGRAM_WORD.sub(prog, text) for text in saved)
    try:
        yield
    finally:
        command.help, command.epilog = saved


class ReadableCommand(CalledByName, TyperCommand):
    """A command whose usage line names its arguments plainly: `qwen history show [OPTIONS] ID`."""

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        return [plain_metavar(piece) for piece in super().collect_usage_pieces(ctx)]


class ReadableGroup(CalledByName, TyperGroup):
    """A group whose help names the program as it was called, and whose unknown sub-command suggests the nearest
    by spelling, or nothing (`qwen history lst`: `list`; `qwen history bogus`: no guess)."""

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        name = args[0] if args else ""
        if name and not name.startswith("-") and not ctx.resilient_parsing and self.get_command(ctx, name) is None:
            nearest = closest(name, self.list_commands(ctx))
            ctx.fail(f"no such command '{name}'" + (f"; did you mean '{nearest}'?" if nearest else ""))
        return super().resolve_command(ctx, args)


def plain_metavar(piece: str) -> str:
    """`{ID}` (typer's mark of a required argument) as `ID`; optional `[PROMPT]` and the rest as they are."""
    return piece[1:-1] if piece.startswith("{") and piece.endswith("}") else piece


class CommandGroup(typer.Typer):
    """`typer.Typer` made of `ReadableGroup` and `ReadableCommand`s, unless a command asks for another class."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs["cls"] = kwargs.get("cls") or ReadableGroup
        super().__init__(**kwargs)

    def command(self, *args: Any, **kwargs: Any) -> Any:
        kwargs["cls"] = kwargs.get("cls") or ReadableCommand
        return super().command(*args, **kwargs)
