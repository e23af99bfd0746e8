"""Tests for qwen_cli.settings.trust and the trust rule in qwen_cli.settings.presets: digests, verdicts, the store, which files
are a project's, and what the history keeps of a preset for `continue`."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from qwen_cli.api.request import REDACTED
from qwen_cli.cli.continuation import endpoint_of
from qwen_cli.errors import UsageError
from qwen_cli.settings.presets import (
    UntrustedPreset,
    chain_digest,
    load_preset,
    preset_from_record,
    project_of,
    recorded_values,
)
from qwen_cli.settings.trust import (
    CHANGED,
    TRUSTED,
    UNTRUSTED,
    Verdict,
    file_digests,
    store_path,
    trust,
    untrust,
    verdict,
)


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {
        "HOME": str(tmp_path / "home"),
        "XDG_CONFIG_HOME": str(tmp_path / "xdg"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
    }


@pytest.fixture
def root(tmp_path: Path) -> Path:
    project = tmp_path / "repo"
    (project / ".git").mkdir(parents=True)
    (project / ".qwen" / "presets").mkdir(parents=True)
    return project


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_the_digest_covers_yaml_and_yml_files_at_any_depth_and_nothing_else(root: Path) -> None:
    presets = root / ".qwen" / "presets"
    write(presets / "a.yaml", "model: a\n")
    write(presets / "team" / "b.yml", "model: b\n")
    write(presets / "notes.txt", "not a preset\n")
    assert sorted(file_digests(presets)) == ["a.yaml", "team/b.yml"]


def test_a_project_is_untrusted_then_trusted_then_changed(root: Path, env: dict[str, str]) -> None:
    presets = root / ".qwen" / "presets"
    write(presets / "a.yaml", "model: a\n")
    write(presets / "old.yaml", "model: old\n")
    assert verdict(root, env) == Verdict(UNTRUSTED)
    trust(root, env)
    assert verdict(root, env) == Verdict(TRUSTED)

    write(presets / "a.yaml", "model: b\n")
    write(presets / "new.yml", "model: n\n")
    (presets / "old.yaml").unlink()
    assert verdict(root, env) == Verdict(CHANGED, ("a.yaml changed", "new.yml added", "old.yaml removed"))
    assert untrust(str(root.resolve()), env) is True
    assert verdict(root, env) == Verdict(UNTRUSTED)
    assert untrust(str(root.resolve()), env) is False


def test_the_store_is_private_and_holds_the_directory_and_the_digests(root: Path, env: dict[str, str]) -> None:
    write(root / ".qwen" / "presets" / "a.yaml", "model: a\n")
    trust(root, env)
    path = store_path(env)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    record = json.loads(path.read_text(encoding="utf-8"))["projects"][str(root.resolve())]
    assert set(record) == {"digest", "files", "trusted_at"} and record["digest"].startswith("sha256:")


def test_a_store_others_can_write_is_refused(root: Path, env: dict[str, str]) -> None:
    trust(root, env)
    store_path(env).chmod(0o620)
    with pytest.raises(UsageError, match="can be changed by other users"):
        verdict(root, env)


def test_project_files_are_those_under_a_dot_qwen_presets_but_not_the_users(
    root: Path, env: dict[str, str], tmp_path: Path
) -> None:
    user = Path(env["XDG_CONFIG_HOME"]) / "qwen" / "presets" / "u.yaml"
    assert project_of(root / ".qwen" / "presets" / "p.yaml", env) == root
    assert project_of(root / ".qwen" / "presets" / "team" / "p.yaml", env) == root
    assert project_of(root / ".qwen" / "presets" / ".." / ".." / "p.yaml", env) is None  # `..` taken out
    assert project_of(tmp_path / "elsewhere.yaml", env) is None
    assert project_of(user, env) is None


def test_a_symlink_into_a_project_counts_as_the_projects(root: Path, env: dict[str, str], tmp_path: Path) -> None:
    target = write(root / ".qwen" / "presets" / "p.yaml", "model: m\n")
    link = tmp_path / "link.yaml"
    link.symlink_to(target)
    assert project_of(link, env) == root
    with pytest.raises(UntrustedPreset):
        load_preset(str(link), tmp_path, env)


def test_an_untrusted_project_preset_is_refused_before_its_parent_is_looked_up(root: Path, env: dict[str, str]) -> None:
    path = write(root / ".qwen" / "presets" / "p.yaml", "extends: missing\n")
    with pytest.raises(UntrustedPreset) as caught:
        load_preset("p", root, env)
    assert caught.value.message.startswith(f"{path} is a project preset you have not trusted")
    with pytest.raises(UsageError) as unchecked:  # read without the check (as listing does), the file is followed
        load_preset("p", root, env, check_trust=False)
    assert not isinstance(unchecked.value, UntrustedPreset) and "'extends'" in unchecked.value.message


def test_the_recorded_values_keep_env_header_names_and_drop_literal_values(root: Path, env: dict[str, str]) -> None:
    write(
        root / ".qwen" / "presets" / "p.yaml",
        (
            "model: m\ninstructions: hi\nbase_url: https://u:pw@proxy.example/v1\nprompt: 'Q: {input}'\n"
            "tools:\n"
            "  - {type: mcp, server_label: a, server_url: 'https://a.example', headers: {X-Key: literal-value}}\n"
            "  - {type: mcp, server_label: b, server_url: 'https://b.example', headers: {X-Key: 'env:B_KEY'}}\n"
        ),
    )
    trust(root, env)
    values = recorded_values(load_preset("p", root, env))
    assert set(values) == {"model", "instructions", "tools"}  # no endpoint (kept apart), no template
    assert [tool["headers"] for tool in values["tools"]] == [{"X-Key": REDACTED}, {"X-Key": "env:B_KEY"}]

    preset, dropped = preset_from_record("p", str(root / "p.yaml"), {**values, "temperature": 7, "unknown": 1})
    assert (preset.model, preset.instructions, preset.temperature) == ("m", "hi", None)
    assert [tool["server_label"] for tool in preset.tools] == ["b"]
    assert dropped == (
        "its 'temperature' (not valid)",
        "its MCP servers with secret headers (pass --mcp and --mcp-header again)",
    )


def test_the_chain_digest_changes_with_any_file_and_is_none_when_one_is_gone(tmp_path: Path) -> None:
    child, parent = write(tmp_path / "c.yaml", "extends: p.yaml\n"), write(tmp_path / "p.yaml", "model: m\n")
    before = chain_digest((child, parent))
    write(parent, "model: n\n")
    assert chain_digest((child, parent)) not in (before, None)
    parent.unlink()
    assert chain_digest((child, parent)) is None


@pytest.mark.parametrize(
    ("url", "endpoint"),
    [
        (
            "https://dashscope-intl.aliyuncs.com/compatible-mode/v1",
            "https://dashscope-intl.aliyuncs.com/compatible-mode/v1",
        ),
        ("https://ada:secret@gw.example:8443/v1", "https://gw.example:8443/v1"),
        ("https://ada@gw.example/v1?token=t#x", "https://gw.example/v1"),
    ],
)
def test_the_recorded_endpoint_has_no_user_password_or_query(url: str, endpoint: str) -> None:
    assert endpoint_of(url) == endpoint
