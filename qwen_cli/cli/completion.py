"""Shell completion without typer: requests from the scripts typer installs (bash, zsh, fish), answered by click's
rules from the generated `_completion_table`, with values found offline. Imports no typer, httpx, rich or yaml, and
reads files (history, presets, config) only to complete their parameter, never writing them."""

from __future__ import annotations

import os
import shlex

from qwen_cli.cli._completion_table import COMMANDS, MODELS

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (~2 ms a shell would wait for)
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any, TextIO

    Item = tuple[str, str | None]  # a value and its description (shown by zsh and fish)
    Entry = dict[str, Any]

HISTORY_LIMIT = 20  # response ids offered, newest first
HINT_LENGTH = 60


def respond(shell: str, env: Mapping[str, str], out: TextIO) -> int:
    """Answer one request as typer's completion classes would: the same input variables and output format."""
    args, incomplete = request(shell, env)
    items = complete(args, incomplete, env)
    action = env.get("_TYPER_COMPLETE_FISH_ACTION", "")
    if shell == "fish" and action == "is-args":
        return 0 if items else 1  # fish offers files only when qwen has nothing to offer
    out.write(formatted(shell, items, action) + "\n")
    return 0


def request(shell: str, env: Mapping[str, str]) -> tuple[list[str], str]:
    """The complete words after `qwen`, and the word being typed."""
    if shell == "bash":
        words = split(env.get("COMP_WORDS", ""))
        index = int(env.get("COMP_CWORD", "").strip() or len(words))
        return words[1:index], words[index] if index < len(words) else ""
    line = env.get("_TYPER_COMPLETE_ARGS", "")
    args = split(line)[1:]
    if args and not line.endswith(" "):
        return args[:-1], args[-1]
    return args, ""


def split(line: str) -> list[str]:
    """Words as a POSIX shell splits them; an unclosed quote keeps its partial word (click's split_arg_string)."""
    lexer = shlex.shlex(line, posix=True)
    lexer.whitespace_split = True
    lexer.commenters = ""
    words: list[str] = []
    try:
        words.extend(lexer)
    except ValueError:
        words.append(lexer.token)
    return words


def formatted(shell: str, items: list[Item], fish_action: str) -> str:
    if shell == "bash":
        return "\n".join(value for value, _ in items)
    if shell == "zsh":
        return "_arguments '*: :((" + "\n".join(map(zsh_item, items)) + "))'" if items else "_files"
    return "\n".join(fish_item(value, description) for value, description in items) if fish_action == "get-args" else ""


def zsh_item(item: Item) -> str:
    value, description = item
    return f'"{zsh_escape(value)}":"{zsh_escape(description)}"' if description else f'"{zsh_escape(value)}"'


def zsh_escape(text: str) -> str:
    return text.replace('"', '""').replace("'", "''").replace("$", "\\$").replace("`", "\\`").replace(":", r"\\:")


def fish_item(value: str, description: str | None) -> str:
    return f"{value}\t{''.join(' ' if char.isspace() else char for char in description)}" if description else value


# --- what completes where (click's _resolve_context and _resolve_incomplete) --------------------------------------


def complete(args: list[str], incomplete: str, env: Mapping[str, str]) -> list[Item]:
    path, given = resolve(args)
    entry = COMMANDS[path]
    args = list(args)
    if incomplete == "=":
        incomplete = ""
    elif "=" in incomplete and incomplete.startswith("-"):
        name, _, incomplete = incomplete.partition("=")
        args.append(name)
    if "--" not in args and incomplete.startswith("-"):
        return command_items(entry, given, incomplete)
    for option in entry["options"]:
        if option["nargs"] and last_option(args, option["nargs"]) in option["names"]:
            return value_items(option["values"], incomplete, env)
    for argument in entry["arguments"]:
        if argument["nargs"] == -1 or argument["name"] not in given:
            return value_items(argument["values"], incomplete, env)
    return command_items(entry, given, incomplete)


def last_option(args: list[str], nargs: int) -> str | None:
    """The option whose value the word being typed would be, if any."""
    for arg in reversed(args[-nargs:]):
        if arg.startswith("-"):
            return arg
    return None


def command_items(entry: Entry, given: set[str], incomplete: str) -> list[Item]:
    """Sub-commands; and option names once the word starts with a dash (not those given already, unless repeatable)."""
    items = [(name, description) for name, description in entry["commands"] if name.startswith(incomplete)]
    if incomplete and not incomplete[0].isalnum():
        for option in entry["options"]:
            if option["multiple"] or option["name"] not in given:
                items += [
                    (name, option["help"])
                    for name in (*option["names"], *option["negations"])
                    if name.startswith(incomplete)
                ]
    return items


def resolve(args: list[str]) -> tuple[tuple[str, ...], set[str]]:
    """The command the words lead to, and the names of its parameters they give a value."""
    path: tuple[str, ...] = ()
    while True:
        entry = COMMANDS[path]
        positionals, given = parse(entry, args, group=bool(entry["commands"]))
        if not entry["commands"]:
            return path, given | assigned(entry["arguments"], positionals)
        if not positionals or (*path, positionals[0]) not in COMMANDS:
            return path, given
        path, args = (*path, positionals[0]), positionals[1:]


class Stop(Exception):
    """Where click's resilient parser gives up (an unknown option, a missing value): later words are ignored."""


def parse(entry: Entry, args: list[str], group: bool) -> tuple[list[str], set[str]]:
    """Click's option parser, reduced to what completion needs: which options are given, and the positionals.
    A group stops at its first positional (the sub-command); a parser that gives up assigns no arguments."""
    options = {name: option for option in entry["options"] for name in (*option["names"], *option["negations"])}
    given: set[str] = set()
    positionals: list[str] = []
    rest = list(args)
    try:
        while rest:
            arg = rest.pop(0)
            if arg == "--":
                return positionals + rest, given
            if arg.startswith("-") and len(arg) > 1:
                take_option(arg, rest, options, given)
            elif group:
                return [arg, *rest], given
            else:
                positionals.append(arg)
    except Stop:
        return (positionals if group else []), given
    return positionals, given


def take_option(arg: str, rest: list[str], options: dict[str, Entry], given: set[str]) -> None:
    name, equals, value = arg.partition("=")
    option = options.get(name) if name.startswith("--") else None
    if option is not None:
        if equals and not option["nargs"]:
            raise Stop
        if equals:
            rest.insert(0, value)
        take_values(option, rest, given)
    elif arg.startswith("--"):
        raise Stop
    else:
        take_short_options(arg, rest, options, given)


def take_short_options(arg: str, rest: list[str], options: dict[str, Entry], given: set[str]) -> None:
    """`-vc` is two flags; `-ojson` and `-o json` give -o the value json."""
    for index, char in enumerate(arg[1:], start=2):
        option = options.get(f"-{char}")
        if option is None:
            raise Stop
        if option["nargs"] and index < len(arg):
            rest.insert(0, arg[index:])
            take_values(option, rest, given)
            return
        take_values(option, rest, given)


def take_values(option: Entry, rest: list[str], given: set[str]) -> None:
    if len(rest) < option["nargs"]:
        raise Stop
    del rest[: option["nargs"]]
    given.add(option["name"])


def assigned(arguments: tuple[Entry, ...], positionals: list[str]) -> set[str]:
    """The arguments the positional words fill, in order; a variadic one leaves what later ones need."""
    names = set()
    left = len(positionals)
    for index, argument in enumerate(arguments):
        needed_later = sum(max(later["nargs"], 0) for later in arguments[index + 1 :])
        taken = max(left - needed_later, 0) if argument["nargs"] == -1 else min(argument["nargs"], left)
        if taken:
            names.add(argument["name"])
        left -= taken
    return names


# --- values ------------------------------------------------------------------------------------------------------


def value_items(values: Any, incomplete: str, env: Mapping[str, str]) -> list[Item]:
    if values is None:
        return []
    if values == "file":
        return [(incomplete, None)]  # typer's answer for a path: the shell completes files itself
    if values == "history":
        return recent_responses(env, incomplete)
    found = {"models": models, "presets": presets}[values](env) if isinstance(values, str) else values
    return [(value, description) for value, description in found if value.startswith(incomplete)]


def models(env: Mapping[str, str]) -> list[Item]:
    """The model the config file or QWEN_MODEL names first, then the models the package knows."""
    chosen = [
        (name, where)
        for name, where in ((env.get("QWEN_MODEL"), "QWEN_MODEL"), (config_model(env), "config file"))
        if name
    ]
    return unique([*chosen, *((name, None) for name in MODELS)])


def unique(items: list[Item]) -> list[Item]:
    first: dict[str, str | None] = {}
    for value, description in items:
        first.setdefault(value, description)
    return list(first.items())


def config_model(env: Mapping[str, str]) -> str | None:
    """`model:` from the config file, read as a line: a plain or quoted name on a top-level `model:` key.

    Anything YAML would need a parser for (a block scalar, an alias, a multi-line value) is skipped rather than
    paying ~12 ms for yaml."""
    import re

    try:
        with open(config_file(env), encoding="utf-8") as file:
            text = file.read(65536)
    except (OSError, UnicodeDecodeError):
        return None
    match = re.search(r"""^model:[ \t]*(["']?)([\w.:/+-]+)\1[ \t]*(?:#.*)?$""", text, re.MULTILINE)
    return match.group(2) if match else None


def config_file(env: Mapping[str, str]) -> str:
    """Where `config.config_path` finds the config file (a test keeps the two equal; importing it costs ~20 ms)."""
    base = env.get("XDG_CONFIG_HOME") or os.path.join(env.get("HOME") or os.path.expanduser("~"), ".config")
    return os.path.join(base, "qwen", "config.yaml")


def presets(env: Mapping[str, str]) -> list[Item]:
    from pathlib import Path

    from qwen_cli.settings.presets import preset_names

    return [(name, None) for name in preset_names(Path.cwd(), env)]


def recent_responses(env: Mapping[str, str], prefix: str) -> list[Item]:
    """`last`, then the newest ids in the local history that start with the word, each with its prompt."""
    items: list[Item] = [("last", "the newest response in the local history")] if "last".startswith(prefix) else []
    path = history_file(env)
    if not os.path.isfile(path):
        return items
    import sqlite3

    pattern = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    query = "SELECT id, prompt FROM responses WHERE id LIKE ? ESCAPE '\\' ORDER BY created_at DESC, rowid DESC LIMIT ?"
    try:
        database = read_only(path)
        try:
            rows = database.execute(query, (pattern, HISTORY_LIMIT)).fetchall()
        finally:
            database.close()
    except sqlite3.Error:
        return items  # a damaged or locked history completes nothing rather than failing in the shell
    return items + [(str(response_id), hint(prompt or "")) for response_id, prompt in rows]


def history_file(env: Mapping[str, str]) -> str:
    """Where `history.history_path` keeps the history (a test keeps the two equal; importing it costs ~20 ms)."""
    base = env.get("XDG_DATA_HOME") or os.path.join(env.get("HOME") or os.path.expanduser("~"), ".local", "share")
    return os.path.join(base, "qwen", "history.db")


def read_only(path: str) -> Any:
    """The history opened for reading only; one on a read-only disk is read as immutable, as `history` does."""
    import sqlite3

    uri = "file:" + path.replace("%", "%25").replace("?", "%3f").replace("#", "%23")
    database = sqlite3.connect(f"{uri}?mode=ro", uri=True, timeout=0.5)
    try:
        database.execute("SELECT 1 FROM responses LIMIT 0")
        return database
    except sqlite3.OperationalError:  # WAL needs a writable -shm file, which `immutable` does without
        database.close()
        return sqlite3.connect(f"{uri}?immutable=1", uri=True)


def hint(prompt: str) -> str:
    text = " ".join(prompt.split())
    return text if len(text) <= HINT_LENGTH else text[: HINT_LENGTH - 1] + "…"
