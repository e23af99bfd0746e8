"""A plain command line of `ask`, `stream` or `continue`, parsed as click would parse it, from the generated table.

Building the Typer app costs more than the rest of a request's start-up together, so `launch` hands a plain
request straight to `turns`. Plain means nothing this parser would have to judge: an unknown, clustered or
attached short option (`-vc`, `-mqwen-max`), a missing or ill-typed value, a value outside the choices, a flag
given a value, `--help`, or a missing response ID gives None, and typer parses the line instead, so its errors
and its help stay the only ones. `tests/test_fast_argv.py` checks that both parsers agree. Standard library only.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from qwen_cli.cli.launch import REQUEST_COMMANDS as COMMANDS

HELP_NAME = "help"
INVALID = object()  # a value click would refuse: typer shall say so


@dataclass(frozen=True)
class Parsed:
    command: str
    values: dict[str, Any]  # by parameter name, as typer hands them to the command


def parse(args: list[str], table: Mapping[tuple[str, ...], Any] | None = None) -> Parsed | None:
    if not args or args[0] not in COMMANDS:
        return None
    if table is None:
        from qwen_cli.cli import _completion_table

        table = _completion_table.COMMANDS
    entry = table[(args[0],)]
    options = {option["name"]: option for option in entry["options"]}
    values = {name: option["default"] for name, option in options.items() if name != HELP_NAME}
    if any(option["default"] not in (None, False) for option in options.values()):
        return None  # a default that needs converting: the table is newer than this parser
    positional = read_options(iter(args[1:]), by_spelling(options.values()), values)
    if positional is None:
        return None
    arguments = assign(entry["arguments"], positional)
    return Parsed(args[0], {**values, **arguments}) if arguments is not None else None


def by_spelling(options: Any) -> dict[str, tuple[dict[str, Any], bool]]:
    """Each way to write an option, with the value a flag spelled that way sets."""
    spellings = {}
    for option in options:
        spellings.update(dict.fromkeys(option["names"], (option, True)))
        spellings.update(dict.fromkeys(option["negations"], (option, False)))
    return spellings


def read_options(
    tokens: Iterator[str], spellings: Mapping[str, tuple[dict[str, Any], bool]], values: dict[str, Any]
) -> list[str] | None:
    """Fill `values` from the options among `tokens` (anywhere, as click allows) and return the other words."""
    positional: list[str] = []
    for token in tokens:
        if token == "--":  # everything after it is words, even if it starts with a dash
            positional.extend(tokens)
            break
        if token == "-" or not token.startswith("-"):
            positional.append(token)
            continue
        spelling, equals, attached = token.partition("=") if token.startswith("--") else (token, "", "")
        option, flag_value = spellings.get(spelling, (None, False))
        if option is None or option["name"] == HELP_NAME:
            return None
        if option["nargs"] == 0:
            if equals:
                return None
            values[option["name"]] = flag_value
            continue
        if option["nargs"] != 1:
            return None
        raw = attached if equals else next(tokens, None)
        value = INVALID if raw is None else converted(option, raw)
        if value is INVALID:
            return None
        if option["multiple"]:
            values[option["name"]] = [*(values[option["name"]] or []), value]
        else:
            values[option["name"]] = value  # given twice, the last one wins, as in click
    return positional


def converted(option: Mapping[str, Any], raw: str) -> Any:
    kind = option["type"]
    if kind == "str":
        return raw
    if kind == "choice":
        return raw if raw in [value for value, _ in option["values"]] else INVALID
    if kind in ("int", "float"):
        try:
            return int(raw) if kind == "int" else float(raw)
        except ValueError:
            return INVALID
    return INVALID  # a type this parser does not know


def assign(arguments: tuple[dict[str, Any], ...], words: list[str]) -> dict[str, Any] | None:
    """Words to arguments: one word each, and the rest to the last, variadic one (None when it got none)."""
    assigned: dict[str, Any] = {}
    for argument in arguments:
        if argument["nargs"] == -1:
            assigned[argument["name"]], words = (list(words) or None), []
        elif argument["nargs"] == 1 and words:
            assigned[argument["name"]], words = words[0], words[1:]
        elif argument["nargs"] == 1 and not argument["required"]:
            assigned[argument["name"]] = None
        else:
            return None
    return assigned if not words else None
