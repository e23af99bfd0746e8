"""Tests for qwen_cli.settings.exposure: which values are secrets, and when their file is too open."""

from __future__ import annotations

from pathlib import Path

import pytest

from qwen_cli.settings.exposure import exposure_warning, secrets_held

MCP = {"type": "mcp", "server_label": "maps", "server_url": "https://maps.example.com/sse"}


@pytest.mark.parametrize(
    "values, held",
    [
        ({"base_url": "https://user:pa55@gateway.example/v1"}, ["a password in base_url"]),
        ({"base_url": "https://user@gateway.example/v1"}, []),  # a user name alone is not a secret
        ({"base_url": "https://gateway.example/v1"}, []),
        ({"base_url": "https://[broken/v1"}, []),  # malformed: the URL check reports it, not this one
        ({"tools": [{**MCP, "headers": {"Authorization": "Bearer t0k3n"}}]}, ["MCP header values"]),
        ({"tools": [{**MCP, "headers": {"Authorization": "env:MAPS_TOKEN"}}]}, []),
        ({"tools": ["web_search", {"type": "function", "name": "f", "headers": {"x": "y"}}]}, []),
        (
            {"base_url": "http://u:p@h/v1", "tools": [{**MCP, "headers": {"X-Key": "k"}}]},
            ["a password in base_url", "MCP header values"],
        ),
        ({"model": "qwen-max"}, []),
    ],
)
def test_the_secrets_a_file_can_hold(values: dict, held: list[str]) -> None:
    assert secrets_held(values) == held


@pytest.mark.parametrize("mode, warns", [(0o600, False), (0o400, False), (0o640, True), (0o604, True), (0o644, True)])
def test_a_file_with_a_secret_warns_when_group_or_others_can_read_it(tmp_path: Path, mode: int, warns: bool) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("base_url: https://u:hunter22@gw.example/v1\n")
    path.chmod(mode)
    warning = exposure_warning(path, {"base_url": "https://u:hunter22@gw.example/v1"})
    if warns:
        assert (
            warning
            == f"warning: {path} holds a password in base_url and other users can read it; make it private: chmod 600 {path}"
        )
    else:
        assert warning is None


def test_an_open_file_without_a_secret_or_a_vanished_file_does_not_warn(tmp_path: Path) -> None:
    path = tmp_path / "preset.yaml"
    path.write_text("model: qwen-max\n")
    path.chmod(0o644)
    assert exposure_warning(path, {"model": "qwen-max"}) is None
    assert exposure_warning(tmp_path / "gone.yaml", {"base_url": "https://u:p@gw.example/v1"}) is None


def test_a_path_with_spaces_is_quoted_in_the_chmod_advice(tmp_path: Path) -> None:
    path = tmp_path / "my presets" / "maps.yaml"
    path.parent.mkdir()
    path.write_text("x: 1\n")
    path.chmod(0o644)
    warning = exposure_warning(path, {"tools": [{**MCP, "headers": {"A": "b"}}]})
    assert warning is not None and warning.endswith(f"chmod 600 '{path}'")
