"""The linters run as the suite runs: ruff's lint, ruff's formatter (checking only) and mypy must all pass.

Each runs as `python -m TOOL` with the interpreter running the tests, from the repository root, so it reads the
settings in pyproject.toml and checks what a developer's own run would check.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
CHECKED = ("qwen_cli", "tests", "bench")

LINTERS = {
    "ruff check": ["ruff", "check", *CHECKED],
    "ruff format --check": ["ruff", "format", "--check", *CHECKED],
    "mypy": ["mypy"],  # its files (the package) come from pyproject.toml
}


@pytest.mark.parametrize("name", sorted(LINTERS))
def test_the_linter_passes(name: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", *LINTERS[name]], cwd=ROOT, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, f"{name} failed (exit {result.returncode}):\n{result.stdout}{result.stderr}"
