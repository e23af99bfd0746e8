"""Structural tests that guard the architecture: who imports what, and what start-up loads."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parent.parent / "qwen_cli"
HEAVY = ("httpx", "rich", "yaml")
# What each part of the package may import from the package: one direction, `cli` composes everything. A part is
# a sub-package or a top-level module; `__init__` (the version) may be imported by anything.
MAY_IMPORT = {
    "errors": set(),
    "models": set(),
    "redaction": set(),  # what must never reach a screen or a file: the leaf every layer may use
    "bounds": set(),  # the limits on what comes from outside, and the strict JSON reader that keeps to them
    "modes": set(),  # the output modes: settings names them, render draws them, cli chooses one
    "api": {"errors", "redaction", "bounds"},
    "settings": {"errors", "redaction", "bounds", "modes", "api"},  # api's pure request facts, never its client
    "tools": {"errors", "redaction", "bounds", "api", "settings"},
    "render": {"errors", "redaction", "bounds", "modes", "api"},
    "history": {"errors", "redaction", "bounds", "settings"},
    "emulator": {"models"},  # the emulated server shares only the product's facts with the client
    "batch": {"errors", "redaction", "bounds", "models", "api", "settings", "history"},  # many prompts: both engines
    "cli": {
        "errors",
        "redaction",
        "bounds",
        "modes",
        "models",
        "api",
        "settings",
        "tools",
        "render",
        "history",
        "emulator",
        "batch",
    },
    "dev": {"cli", "models", "tools"},  # the generator of help texts and completion tables, run by developers
}
# Each third-party library has one owner; typer is the cli's (flags makes its options only when the app is built).
OWNERS = {
    "httpx": {"api.client"},
    "rich": {"render.renderers", "render.markdown_stream", "render.progress"},
    "yaml": {"settings.yamlfile"},
    "typer": {
        "cli.app",
        "cli.settings_commands",
        "cli.stored_commands",
        "cli.tools_commands",
        "cli.batch_commands",
        "cli.flags",
        "cli.help_format",
        "dev.generate",
    },
}
# The fast entry point answers --version, --help and completion before typer loads: standard library only.
FAST = {
    "cli.launch",
    "cli.completion",
    "cli.fast_argv",
    "cli.default_command",
    "cli.spelling",
    "cli._help_texts",
    "cli._completion_table",
}
PURE = {"errors", "bounds", "redaction", "modes", "api.request", "api.sse", "api.responses", "api.wire"}


def modules() -> list[str]:
    """Every module of the package, dotted from the package: `errors`, `api.client`, `emulator` (its __init__)."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if parts:
            found.append(".".join(parts))
    return found


def source_of(module: str) -> Path:
    path = PACKAGE.joinpath(*module.split("."))
    return path / "__init__.py" if path.is_dir() else path.with_suffix(".py")


def imports_of(module: str) -> set[str]:
    """Every module `module` imports, dotted and without the `qwen_cli.` prefix for the package's own."""
    tree = ast.parse(source_of(module).read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            if node.module == "qwen_cli" or (
                node.module.startswith("qwen_cli.") and source_of(node.module[9:]).name == "__init__.py"
            ):
                names.update(f"{node.module}.{alias.name}" for alias in node.names)  # `from qwen_cli.cli import turns`
    return names


def own_imports(module: str) -> set[str]:
    prefix = "qwen_cli."
    return {name[len(prefix) :] for name in imports_of(module) if name.startswith(prefix)} - {"__version__"}


def part_of(module: str) -> str:
    return module.split(".")[0]


def test_every_module_belongs_to_a_known_part() -> None:
    assert {part_of(module) for module in modules()} - {"__main__"} <= set(MAY_IMPORT)


@pytest.mark.parametrize("module", [m for m in modules() if part_of(m) in MAY_IMPORT])
def test_each_part_imports_only_the_parts_below_it(module: str) -> None:
    part = part_of(module)
    for name in own_imports(module):
        if name in MAY_IMPORT or part_of(name) in MAY_IMPORT:
            assert part_of(name) == part or part_of(name) in MAY_IMPORT[part], f"{module} ({part}) imports {name}"


@pytest.mark.parametrize("library", sorted(OWNERS))
def test_each_third_party_library_has_one_owner(library: str) -> None:
    users = {module for module in modules() if any(name.split(".")[0] == library for name in imports_of(module))}
    assert users <= OWNERS[library], f"{library} is imported outside its owner: {sorted(users - OWNERS[library])}"


@pytest.mark.parametrize("module", sorted(PURE))
def test_pure_modules_import_only_the_standard_library_and_pure_modules(module: str) -> None:
    for name in imports_of(module):
        if name.startswith("qwen_cli"):
            assert name.removeprefix("qwen_cli.") in PURE | {"qwen_cli", "__version__"}, f"{module} imports {name}"
        else:
            assert name.split(".")[0] in sys.stdlib_module_names, f"{module} imports the third-party {name}"


def test_errors_imports_nothing_from_the_package() -> None:
    assert not [name for name in imports_of("errors") if name.startswith("qwen_cli")]


@pytest.mark.parametrize("module", sorted(FAST))
def test_the_fast_entry_point_imports_only_the_standard_library(module: str) -> None:
    third_party = [
        name
        for name in imports_of(module)
        if not name.startswith("qwen_cli") and name.split(".")[0] not in sys.stdlib_module_names
    ]
    assert third_party == []


def test_the_generator_of_tables_is_never_imported_at_run_time() -> None:
    users = [
        module
        for module in modules()
        if part_of(module) != "dev" and any(name.startswith("qwen_cli.dev") for name in imports_of(module))
    ]
    assert users == []


def loaded_after(args: list[str], env: dict[str, str] | None = None, watched: tuple[str, ...] = HEAVY) -> list[str]:
    """Run the `qwen` entry point in a fresh interpreter and list the watched libraries it loaded."""
    script = (
        "import sys\n"
        f"sys.argv = {['qwen', *args]!r}\n"
        "from qwen_cli.cli.launch import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        f"print(sorted({{m.split('.')[0] for m in sys.modules}} & {set(watched)!r}), file=sys.stderr)\n"
    )
    base = {key: value for key, value in os.environ.items() if key != "COLUMNS" and not key.startswith("_QWEN")}
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=30, env={**base, **(env or {})}
    )
    return eval(result.stderr.strip().splitlines()[-1])  # the last line is the printed list


@pytest.mark.parametrize(
    "args", [["--version"], ["-V"], ["--help"], ["ask", "--help"], ["stream", "--help"], ["history", "list", "-h"]]
)
def test_start_up_paths_load_no_typer_httpx_rich_or_yaml(args: list[str]) -> None:
    assert loaded_after(args, watched=(*HEAVY, "typer")) == []


COMPLETION_REQUESTS = {
    "bash options": {"_QWEN_COMPLETE": "complete_bash", "COMP_WORDS": "qwen stream --ou", "COMP_CWORD": "2"},
    "bash under qwen-cli": {
        "_QWEN_CLI_COMPLETE": "complete_bash",
        "COMP_WORDS": "qwen-cli ask --ou",
        "COMP_CWORD": "2",
    },
    "zsh presets": {"_QWEN_COMPLETE": "complete_zsh", "_TYPER_COMPLETE_ARGS": "qwen ask -p "},
    "zsh models": {"_QWEN_COMPLETE": "complete_zsh", "_TYPER_COMPLETE_ARGS": "qwen ask -m qwen3"},
    "fish history": {
        "_QWEN_COMPLETE": "complete_fish",
        "_TYPER_COMPLETE_FISH_ACTION": "get-args",
        "_TYPER_COMPLETE_ARGS": "qwen continue ",
    },
}


@pytest.mark.parametrize("request_env", COMPLETION_REQUESTS.values(), ids=COMPLETION_REQUESTS.keys())
def test_completion_requests_load_no_typer_httpx_rich_or_yaml(request_env: dict[str, str], tmp_path: Path) -> None:
    from qwen_cli.history import Entry, History

    (tmp_path / "config" / "qwen" / "presets").mkdir(parents=True)
    (tmp_path / "config" / "qwen" / "presets" / "review.yaml").write_text("model: qwen-max\n")
    (tmp_path / "config" / "qwen" / "config.yaml").write_text("model: qwen3.8-max\n")
    History(tmp_path / "data" / "qwen" / "history.db").record(Entry(id="resp_1", prompt="hello"))
    env = {"XDG_CONFIG_HOME": str(tmp_path / "config"), "XDG_DATA_HOME": str(tmp_path / "data"), **request_env}
    assert loaded_after([], env, watched=(*HEAVY, "typer")) == []


def test_dry_run_needs_no_httpx_or_rich() -> None:
    assert loaded_after(["ask", "--dry-run", "--no-stdin", "hi"]) == []


@pytest.mark.parametrize(
    "args",
    [
        ["ask", "--dry-run", "--no-stdin", "-o", "text", "hi"],
        ["stream", "--no-stdin", "--dry-run", "--think", "-m", "qwen-max", "hi"],
        ["continue", "resp_1", "--dry-run", "--no-stdin", "--tool-output", "call_1=ok"],
        ["--dry-run", "--no-stdin", "why", "is", "the", "sky", "blue"],  # a prompt without `ask`
        ["why is the sky blue", "--dry-run", "--no-stdin"],
        ["histroy"],  # a typo, refused
    ],
)
def test_a_plain_request_line_is_run_without_building_the_typer_app(args: list[str], tmp_path: Path) -> None:
    env = {"XDG_CONFIG_HOME": str(tmp_path / "config"), "XDG_DATA_HOME": str(tmp_path / "data")}
    assert loaded_after(args, env, watched=("typer",)) == []


def test_the_request_commands_are_listed_once_and_each_has_a_runner_and_a_typer_command() -> None:
    from qwen_cli.cli import app, fast_argv, launch, turns

    assert fast_argv.COMMANDS is launch.REQUEST_COMMANDS
    import typer.main

    typer_commands = set(typer.main.get_command(app.app).commands)
    for command in launch.REQUEST_COMMANDS:
        assert callable(turns.runner_of(command))
        assert command in typer_commands


def test_httpx_never_loads_its_own_command_line_program_when_click_is_installed(tmp_path: Path) -> None:
    # httpx imports its CLI (click, rich, pygments) whenever `import click` works. A stand-in click that records
    # being imported shows whether qwen's client ever tried; it then fails, so nothing else of httpx's CLI loads.
    (tmp_path / "click").mkdir()
    (tmp_path / "click" / "__init__.py").write_text(
        "import sys\nsys.click_was_imported = True\nraise ImportError('stand-in')\n"
    )
    script = "import sys\nimport qwen_cli.api.client\nprint(getattr(sys, 'click_was_imported', False))\n"
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=30, env=env)
    assert (result.returncode, result.stdout) == (0, "False\n"), result.stderr


def test_the_redaction_rules_import_nothing_from_the_package() -> None:
    # One leaf module holds the rules, so every layer can use them without pulling in another.
    assert not [name for name in imports_of("redaction") if name.startswith("qwen_cli")]
