"""How qwen's commands read in their help: the Typer class every command group is made from, whose commands write
usage lines as the README does (`ID`, where typer writes `{ID}` for a required argument)."""

from __future__ import annotations

from typing import Any

import typer
from typer.core import TyperCommand


class ReadableCommand(TyperCommand):
    """A command whose usage line names its arguments plainly: `qwen history show [OPTIONS] ID`."""

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        return [plain_metavar(piece) for piece in super().collect_usage_pieces(ctx)]


def plain_metavar(piece: str) -> str:
    """`{ID}` (typer's mark of a required argument) as `ID`; optional `[PROMPT]` and the rest as they are."""
    return piece[1:-1] if piece.startswith("{") and piece.endswith("}") else piece


class CommandGroup(typer.Typer):
    """`typer.Typer` whose commands are `ReadableCommand`s unless a command asks for another class."""

    def command(self, *args: Any, **kwargs: Any) -> Any:
        kwargs["cls"] = kwargs.get("cls") or ReadableCommand
        return super().command(*args, **kwargs)
