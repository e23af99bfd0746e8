"""What `qwen WORDS...` means when the first word names no command: a prompt for `ask`, as `llm` and `sgpt` take
one (`qwen why is the sky blue`), unless the line reads as a mistyped command (`qwen histroy`), which is refused so
that a slip of the fingers never becomes a paid request. Standard library only: `launch` asks before typer loads,
from the generated `_completion_table`.

The rules, in order (the README's "Asking without `ask`" says the same):
- no words, a command, or a top-level option (`--help`, `--version`, ...): unchanged;
- `help [COMMAND...]`: that command's `--help`;
- a first word that starts with `-` and is one of `ask`'s options (`-m`, `--json`, `-c`): `ask` with every word;
  any other option is left to the Typer app, whose error suggests the nearest option;
- a first word of letters that is a near miss of a command (`spelling.is_near`) is refused when the words after it
  fit that command: nothing, an option, or for a group one of its sub-commands (`qwen histroy list`); after a near
  miss of `ask`, `stream` or `continue`, other words make a sentence (`qwen steam deck review`), which is asked.
  A lone word that is a sub-command's name (`qwen list`) is refused too, naming the commands it belongs to;
- anything else is a prompt: `ask` with every word (`qwen histroy of rome`, `qwen "stram of thought"`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from qwen_cli.cli.spelling import closest
from qwen_cli.errors import UsageError

DEFAULT_COMMAND = "ask"
HELP_WORD = "help"

Table = Mapping[tuple[str, ...], Any]


def routed(args: list[str], prog: str = "qwen", table: Table | None = None) -> list[str]:
    """`args` as the Typer app should read them; UsageError for a line that reads as a mistyped command."""
    if table is None:
        from qwen_cli.cli._completion_table import COMMANDS

        table = COMMANDS
    top = table[()]
    if not args or args[0] in command_names(top) or args[0] in option_names(top):
        return args
    first = args[0]
    if first == HELP_WORD and tuple(args[1:]) in table:
        return [*args[1:], "--help"]
    if first.startswith("-") and first != "-":
        return [DEFAULT_COMMAND, *args] if is_option_of(first, table[(DEFAULT_COMMAND,)]) else args
    mistake = slip(args, table, prog)
    if mistake is not None:
        raise UsageError(mistake)
    return [DEFAULT_COMMAND, *args]


def command_names(entry: Mapping[str, Any]) -> list[str]:
    return [name for name, _ in entry["commands"]]


def option_names(entry: Mapping[str, Any]) -> list[str]:
    return [name for option in entry["options"] for name in (*option["names"], *option["negations"])]


def is_option_of(word: str, entry: Mapping[str, Any]) -> bool:
    """`--name`, `--name=value`, `-x`, `-xVALUE` or `-xy` naming one of the command's options."""
    spelling = word.partition("=")[0] if word.startswith("--") else word[:2]
    return spelling in option_names(entry)


def slip(args: list[str], table: Table, prog: str) -> str | None:
    """Why the line reads as a mistyped command, or None when it reads as a prompt."""
    word, rest = args[0], args[1:]
    if not is_plain_word(word):
        return None  # quoted sentences, punctuation, digits: no command is spelt like that
    as_prompt = f"to ask it as a prompt: {prog} {DEFAULT_COMMAND} {word}{' ...' if rest else ''}"
    command = closest(word, command_names(table[()]))
    if command is not None and fits(table[(command,)], rest):
        return f"'{word}' is not a command; did you mean '{prog} {command}'? ({as_prompt})"
    owners = [" ".join(path) for path in table if len(path) == 2 and path[1] == word.lower()]
    if owners and not rest:
        return f"'{word}' is not a command; did you mean {alternatives(prog, owners)}? ({as_prompt})"
    return None


def is_plain_word(word: str) -> bool:
    return word.isascii() and word.replace("-", "").isalpha()


def fits(entry: Mapping[str, Any], rest: list[str]) -> bool:
    """Whether the words after a near miss read as that command's arguments."""
    if not rest or rest[0].startswith("-"):
        return True
    subcommands = command_names(entry)
    if subcommands:
        return rest[0] in subcommands or closest(rest[0], subcommands) is not None
    # ask, stream and continue take free words, so words after a near miss of theirs are a sentence more often than
    # a typo (`qwen steam deck review`, `qwen task list for today`): asked, as the whole line, by ask.
    return False


def alternatives(prog: str, paths: list[str]) -> str:
    quoted = [f"'{prog} {path}'" for path in paths]
    return quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} or {quoted[-1]}"
