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
# Each third-party library has one owner (markdown_stream is render's helper for streamed Markdown).
OWNERS = {
    "httpx": {"client"},
    "rich": {"render", "markdown_stream"},
    "yaml": {"yamlfile"},
    # flags turns its declarations into typer options only when the app is built; generate is dev-time only.
    "typer": {"cli", "cli_settings", "cli_stored", "cli_tools", "flags", "generate"},
}
# The fast entry point answers --version, --help and completion before typer loads: standard library only.
FAST = {"launch", "completion", "fast_argv", "_help_texts", "_completion_table"}
PURE = {"errors", "request", "stream", "responses", "redaction", "bounds", "wire"}


def imports_of(module: str) -> set[str]:
    tree = ast.parse((PACKAGE / f"{module}.py").read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names if node.module == "qwen_cli")
    return names


def modules() -> list[str]:
    return sorted(path.stem for path in PACKAGE.glob("*.py"))


@pytest.mark.parametrize("library", sorted(OWNERS))
def test_each_third_party_library_has_one_owner(library: str) -> None:
    users = {module for module in modules() if any(name.split(".")[0] == library for name in imports_of(module))}
    assert users <= OWNERS[library], f"{library} is imported outside its owner: {sorted(users - OWNERS[library])}"


@pytest.mark.parametrize("module", sorted(PURE))
def test_pure_modules_import_only_the_standard_library_and_pure_modules(module: str) -> None:
    allowed_package = {f"qwen_cli.{name}" for name in PURE} | {"qwen_cli", "qwen_cli.__version__"}
    for name in imports_of(module):
        if name.startswith("qwen_cli"):
            assert name in allowed_package, f"{module} imports {name}"
        else:
            assert name.split(".")[0] in sys.stdlib_module_names, f"{module} imports the third-party {name}"


def test_errors_imports_nothing_from_the_package() -> None:
    assert not [name for name in imports_of("errors") if name.startswith("qwen_cli")]


@pytest.mark.parametrize("module", sorted(FAST))
def test_the_fast_entry_point_imports_only_the_standard_library(module: str) -> None:
    third_party = [name for name in imports_of(module) if not name.startswith("qwen_cli") and name.split(".")[0] not in sys.stdlib_module_names]
    assert third_party == []


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
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=30, env={**base, **(env or {})})
    return eval(result.stderr.strip().splitlines()[-1])  # the last line is the printed list


@pytest.mark.parametrize("args", [["--version"], ["-V"], ["--help"], ["ask", "--help"], ["stream", "--help"], ["history", "list", "-h"]])
def test_start_up_paths_load_no_typer_httpx_rich_or_yaml(args: list[str]) -> None:
    assert loaded_after(args, watched=(*HEAVY, "typer")) == []


COMPLETION_REQUESTS = {
    "bash options": {"_QWEN_COMPLETE": "complete_bash", "COMP_WORDS": "qwen stream --ou", "COMP_CWORD": "2"},
    "zsh presets": {"_QWEN_COMPLETE": "complete_zsh", "_TYPER_COMPLETE_ARGS": "qwen ask -p "},
    "zsh models": {"_QWEN_COMPLETE": "complete_zsh", "_TYPER_COMPLETE_ARGS": "qwen ask -m qwen3"},
    "fish history": {"_QWEN_COMPLETE": "complete_fish", "_TYPER_COMPLETE_FISH_ACTION": "get-args", "_TYPER_COMPLETE_ARGS": "qwen continue "},
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
    ],
)
def test_a_plain_request_line_is_run_without_building_the_typer_app(args: list[str], tmp_path: Path) -> None:
    env = {"XDG_CONFIG_HOME": str(tmp_path / "config"), "XDG_DATA_HOME": str(tmp_path / "data")}
    assert loaded_after(args, env, watched=("typer",)) == []


def test_launch_checks_for_the_same_request_commands_that_fast_argv_reads() -> None:
    from qwen_cli.cli import fast_argv
    from qwen_cli.cli import launch

    assert launch.REQUEST_COMMANDS == fast_argv.COMMANDS


def test_httpx_never_loads_its_own_command_line_program_when_click_is_installed(tmp_path: Path) -> None:
    # httpx imports its CLI (click, rich, pygments) whenever `import click` works. A stand-in click that records
    # being imported shows whether qwen's client ever tried; it then fails, so nothing else of httpx's CLI loads.
    (tmp_path / "click").mkdir()
    (tmp_path / "click" / "__init__.py").write_text("import sys\nsys.click_was_imported = True\nraise ImportError('stand-in')\n")
    script = "import sys\nimport qwen_cli.api.client\nprint(getattr(sys, 'click_was_imported', False))\n"
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=30, env=env)
    assert (result.returncode, result.stdout) == (0, "False\n"), result.stderr


def test_the_redaction_rules_import_nothing_from_the_package() -> None:
    # One leaf module holds the rules, so every layer can use them without pulling in another.
    assert not [name for name in imports_of("redaction") if name.startswith("qwen_cli")]
