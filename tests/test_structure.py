"""Structural tests that guard the architecture: who imports what, and what start-up loads."""

from __future__ import annotations

import ast
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
    "typer": {"cli", "cli_stored", "cli_tools", "flags", "terminal"},
}
PURE = {"errors", "request", "stream", "responses"}


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


def loaded_after(args: list[str]) -> list[str]:
    """Run the CLI in a fresh interpreter and list the heavy libraries it loaded."""
    script = (
        "import sys\n"
        f"sys.argv = {['qwen', *args]!r}\n"
        "from qwen_cli.cli import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        f"print(sorted({{m.split('.')[0] for m in sys.modules}} & {set(HEAVY)!r}), file=sys.stderr)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=30)
    return eval(result.stderr.strip().splitlines()[-1])  # the last line is the printed list


@pytest.mark.parametrize("args", [["--version"], ["--help"], ["ask", "--help"], ["stream", "--help"]])
def test_start_up_paths_load_no_httpx_rich_or_yaml(args: list[str]) -> None:
    assert loaded_after(args) == []


def test_dry_run_needs_no_httpx_or_rich() -> None:
    assert loaded_after(["ask", "--dry-run", "--no-stdin", "hi"]) == []
