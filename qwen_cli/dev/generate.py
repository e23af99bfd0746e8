"""Renders, from the live Typer app, what `launch` answers without loading typer: every command's help text, the
table shell completion reads, and the completion scripts in `completions/`. Development only: nothing imports it
at run time. After changing a command, a flag or a help text, run

    .venv/bin/python -m qwen_cli.dev.generate            # rewrites the generated files
    .venv/bin/python -m qwen_cli.dev.generate --check    # exit 1 when one is out of date
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

CHECKOUT = (
    Path(__file__).resolve().parents[2]
)  # qwen_cli/dev/generate.py; written to through an editable install of the checkout
# The generated files, relative to the checkout.
HELP_MODULE = Path("qwen_cli", "cli", "_help_texts.py")
TABLE_MODULE = Path("qwen_cli", "cli", "_completion_table.py")
PROGRAMS = ("qwen", "qwen-cli")  # the package installs both names (launch.PROGRAMS)
# One script per program and shell, as `PROGRAM --install-completion` installs it: a script registered for `qwen`
# would run whatever `qwen` is on the PATH at every Tab, and where Alibaba's Qwen Code owns that name, it is not qwen.
SCRIPTS = {
    (program, shell): Path("completions", pattern.format(program))
    for program in PROGRAMS
    for shell, pattern in (("bash", "{}.bash"), ("zsh", "_{}"), ("fish", "{}.fish"))
}
COMMAND = "python -m qwen_cli.dev.generate"
HELP_COLUMNS = 80  # click wraps help to the terminal, at most 80 columns: launch uses these texts only that wide
# Where the values of a parameter come from, by option name or by argument path: "tools" are copied into the
# table from the catalogue (so completing never imports `tools`); the others are found when completing.
OPTION_VALUES = {"preset": "presets", "model": "models", "tool": "tools"}
ARGUMENT_VALUES = {
    ("continue", "response"): "history",
    ("history", "show", "response"): "history",
    ("history", "thread", "response"): "history",
    ("presets", "show", "preset"): "presets",
    ("tools", "show", "name"): "tools",
}

Path_ = tuple[str, ...]
UNSUPPORTED_DEFAULT = "unsupported"  # a default `fast_argv` would have to convert: it leaves such commands to typer


def typer_group() -> Any:
    import typer

    from qwen_cli.cli.app import app

    return typer.main.get_command(app)


def walk(command: Any, path: Path_ = (), parent: Any = None) -> Iterator[tuple[Path_, Any, Any]]:
    """Every command and group with its path and a click context like the one a real run would build."""
    context = command.context_class(
        command, info_name=path[-1] if path else "qwen", parent=parent, **command.context_settings
    )
    yield path, command, context
    for name, sub in getattr(command, "commands", {}).items():
        yield from walk(sub, (*path, name), context)


# --- help texts ----------------------------------------------------------------------------------------------


@contextlib.contextmanager
def environment(**values: str) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def run_app(args: list[str], prog_name: str = "qwen", **env: str) -> str:
    """What the Typer app writes to stdout for `PROG_NAME ARGS`, run in this process."""
    from qwen_cli.cli.app import app

    out = io.StringIO()
    with environment(**env), contextlib.redirect_stdout(out):
        try:
            app(args=args, prog_name=prog_name, standalone_mode=False)
        except SystemExit:
            pass
    return out.getvalue()


def render_help(path: Path_, flag: str = "--help", columns: int = HELP_COLUMNS) -> str:
    return run_app([*path, flag], COLUMNS=str(columns), LINES="24")


def help_texts() -> dict[Path_, str]:
    texts = {}
    for path, _, _ in walk(typer_group()):
        texts[path] = render_help(path)
        if render_help(path, "-h") != texts[path]:
            raise SystemExit(f"qwen {' '.join(path)}: -h and --help print different texts; launch answers both alike")
    return texts


# --- the completion table ------------------------------------------------------------------------------------


def completion_table() -> dict[Path_, dict[str, Any]]:
    """For each command: its sub-commands with their short help, its options and its arguments."""
    table = {}
    for path, command, context in walk(typer_group()):
        params = [param for param in command.get_params(context) if not param.hidden]
        table[path] = {
            "commands": tuple(
                (name, sub.get_short_help_str())
                for name, sub in getattr(command, "commands", {}).items()
                if not sub.hidden
            ),
            "options": tuple(option_entry(param, context) for param in params if param.param_type_name == "option"),
            "arguments": tuple(
                argument_entry(path, param, context) for param in params if param.param_type_name == "argument"
            ),
        }
    check_rules(table)
    return table


def option_entry(option: Any, context: Any) -> dict[str, Any]:
    takes_value = not (option.is_flag or option.count)
    names = tuple(option.opts)
    if option is context.command.get_help_option(context):  # click builds its names from a set: any order
        names = tuple(name for name in context.help_option_names if name in names)
    return {
        "name": option.name,
        "names": names,
        "negations": tuple(option.secondary_opts),
        "help": option.help,
        "nargs": option.nargs if takes_value else 0,
        "multiple": bool(option.multiple),
        "values": values_of(option, context, OPTION_VALUES.get(option.name)),
        "type": option.type.name,  # for `fast_argv`: str, int, float, choice, boolean (a flag) or others it leaves alone
        "default": option.default if option.default in (None, False) else UNSUPPORTED_DEFAULT,
    }


def argument_entry(path: Path_, argument: Any, context: Any) -> dict[str, Any]:
    values = values_of(argument, context, ARGUMENT_VALUES.get((*path, argument.name)))
    return {"name": argument.name, "nargs": argument.nargs, "values": values, "required": argument.required}


def values_of(param: Any, context: Any, source: str | None) -> Any:
    """A source named for completion time, a static list of (value, help), "file", or None for nothing."""
    if source == "tools":
        from qwen_cli.tools.catalogue import BUILTINS

        return tuple((name, tool.description) for name, tool in BUILTINS.items())
    if source is not None:
        return source
    items = param.shell_complete(context, "")  # what typer itself offers: the choices of an Enum, or files
    if any(item.type == "file" for item in items):
        return "file"
    return tuple((item.value, item.help) for item in items) or None


def check_rules(table: dict[Path_, dict[str, Any]]) -> None:
    """A rule that names no parameter any more is a mistake to hear about, not to ignore."""
    arguments = {(*path, argument["name"]) for path, entry in table.items() for argument in entry["arguments"]}
    for key in ARGUMENT_VALUES:
        if key not in arguments:
            raise SystemExit(f"generate: no argument {key[-1]!r} in 'qwen {' '.join(key[:-1])}' (see ARGUMENT_VALUES)")


def models() -> tuple[str, ...]:
    from qwen_cli.models import RESPONSES_MODELS

    return tuple(sorted(RESPONSES_MODELS))


# --- completion scripts --------------------------------------------------------------------------------------


def completion_script(program: str, shell: str) -> str:
    """The script `PROGRAM --install-completion` installs for `shell`, as typer writes it."""
    variable = "_" + program.upper().replace("-", "_") + "_COMPLETE"  # typer's name, as launch.COMPLETE_VARIABLES
    return run_app([], program, **{variable: f"source_{shell}"}).strip() + "\n"


# --- writing -------------------------------------------------------------------------------------------------


HEADER = '"""{what}\n\nGenerated from the Typer app by `{command}`: do not edit; regenerate after changing a command or a flag.\n"""\n\n'


def help_module() -> str:
    texts = help_texts()
    lines = [
        HEADER.format(
            what="Every command's --help text, rendered 80 columns wide, for `launch` to print without typer.",
            command=COMMAND,
        )
    ]
    lines.append(f"COLUMNS = {HELP_COLUMNS}\n\nHELP: dict[tuple[str, ...], str] = {{\n")
    lines += [f"    {path!r}: {text!r},\n" for path, text in texts.items()]
    lines.append("}\n")
    return "".join(lines)


def table_module() -> str:
    lines = [
        HEADER.format(
            what="Commands, options and values for shell completion, read by `completion` without typer.",
            command=COMMAND,
        )
    ]
    lines.append("from typing import Any\n\n")  # the entries' values differ in shape: readers index them freely
    lines.append(f"MODELS = {models()!r}\n\nCOMMANDS: dict[tuple[str, ...], dict[str, Any]] = {{\n")
    for path, entry in completion_table().items():
        lines.append(f"    {path!r}: {{\n")
        for key, value in entry.items():
            lines.append(
                f"        {key!r}: (\n" + "".join(f"            {item!r},\n" for item in value) + "        ),\n"
            )
        lines.append("    },\n")
    lines.append("}\n")
    return "".join(lines)


def outputs() -> dict[Path, str]:
    files = {HELP_MODULE: help_module(), TABLE_MODULE: table_module()}
    files.update({path: completion_script(program, shell) for (program, shell), path in SCRIPTS.items()})
    return files


def stale(root: Path, files: dict[Path, str]) -> list[Path]:
    return [
        path
        for path, text in files.items()
        if not (root / path).is_file() or (root / path).read_text(encoding="utf-8") != text
    ]


def main(argv: list[str]) -> int:
    if not (CHECKOUT / "pyproject.toml").is_file():
        raise SystemExit(
            f"generate: {CHECKOUT} is not a checkout of qwen; run this from an editable install (pip install -e .)"
        )
    files = outputs()
    out_of_date = stale(CHECKOUT, files)
    if argv == ["--check"]:
        for path in out_of_date:
            print(f"out of date: {path} (run: {COMMAND})", file=sys.stderr)
        return 1 if out_of_date else 0
    for path in out_of_date:
        (CHECKOUT / path).parent.mkdir(parents=True, exist_ok=True)
        (CHECKOUT / path).write_text(files[path], encoding="utf-8")
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
