"""Tests for qwen_cli.settings.presets: loading and checking preset files, lookup, extends, listing, templates, no keys."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from qwen_cli.errors import ExitCode, UsageError
from qwen_cli.settings.config import resolve_settings
from qwen_cli.settings.presets import (
    MAX_CHAIN,
    Preset,
    PresetInfo,
    apply_template,
    find_preset,
    list_presets,
    load_preset,
    load_preset_file,
    preset_names,
    preset_request_values,
    preset_settings,
    presets_dirs,
    project_presets_dir,
    resolved_view,
)
from qwen_cli.settings.trust import trust

# --- the three README examples: each must load cleanly -----------------------------------------------------

REVIEW = """\
# .qwen/presets/review.yaml
#   git diff main... | qwen ask -p review
#   qwen ask -p review -f src/billing.py "focus on error handling"
description: Review a change like a careful senior engineer
model: qwen3.8-max
think: true
effort: medium
max_output_tokens: 4000
instructions: |
  You are a senior software engineer reviewing a colleague's change before it is merged.
  Look for bugs, security problems, data races, unhandled errors, surprising behaviour
  and missing tests. Ignore style unless it hides a bug. Be specific and brief.
prompt: |
  Review this change. List the problems you find, the most serious first. For each one
  give the file and line, what goes wrong and when, and a concrete fix. If nothing needs
  changing, say so in one line; do not restate what the code does.

  {input}
"""

COMMIT = """\
# .qwen/presets/commit.yaml
#   git diff --staged | qwen ask -p commit
#   git diff --staged | qwen ask -p commit | git commit -F -
description: Write a commit message for a diff piped in from git
model: qwen3.8-flash
think: false
temperature: 0.3
max_output_tokens: 500
store: false
output: text
instructions: |
  You write git commit messages. Reply with the message only: no preamble, no Markdown,
  no code fences. First a summary line of at most 72 characters in the imperative mood
  ("Add", "Fix", not "Added"), then a blank line, then a body wrapped at 72 columns that
  says what changed and why. Mention breaking changes explicitly.
prompt: |
  Write the commit message for this diff:

  {input}
"""

RESEARCH = """\
# ~/.config/qwen/presets/research.yaml
#   qwen stream -p research "which rivers cross the most countries?"
description: Answer a question from current web sources, with citations
model: qwen3.8-max
think: true
effort: high
tools:
  - web_search
  - web_extractor
instructions: |
  You are a careful research assistant. Search the web before answering and read the
  most relevant pages in full. Prefer primary sources (official sites, papers,
  standards) to summaries. Cite every claim with a Markdown link to its source, give
  dates for anything that changes over time, and say plainly when sources disagree or
  when you could not find an answer.
prompt: "Research this question and answer it with sources: {input}"
"""

DIFF = "diff --git a/app.py b/app.py\n-    return {'ok': False}\n+    return {'ok': True}\n"
KEY = "sk-0123456789abcdef0123456789abcdef"  # shaped like a DashScope key


# The environment of the running test, whose record of trusted projects `project_preset` writes to.
TRUSTING: dict[str, str] = {}


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    values = {
        "HOME": str(tmp_path / "home"),
        "XDG_CONFIG_HOME": str(tmp_path / "xdg"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
    }
    TRUSTING.clear()
    TRUSTING.update(values)
    return values


@pytest.fixture
def cwd(tmp_path: Path) -> Path:
    """A repository root: the project walk stops here, so nothing above tmp_path is ever read."""
    root = tmp_path / "repo"
    (root / ".git").mkdir(parents=True)
    return root


def project_preset(cwd: Path, name: str, text: str) -> Path:
    """Write a project preset as its author would, and trust the project as it now is (as its user would)."""
    path = write(cwd / ".qwen" / "presets" / f"{name}.yaml", text)
    trust(cwd, TRUSTING)
    return path


def user_preset(env: dict[str, str], name: str, text: str) -> Path:
    return write(Path(env["XDG_CONFIG_HOME"]) / "qwen" / "presets" / f"{name}.yaml", text)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def load_error(ref: str, cwd: Path, env: dict[str, str]) -> str:
    with pytest.raises(UsageError) as caught:
        load_preset(ref, cwd, env)
    assert caught.value.exit_code == ExitCode.USAGE
    return caught.value.message


def preset_error(cwd: Path, env: dict[str, str], text: str) -> tuple[str, Path]:
    """Load `text` as the project preset `p`; return the error and the file, for exact messages."""
    path = project_preset(cwd, "p", text)
    return load_error("p", cwd, env), path


# --- the README examples ------------------------------------------------------------------------------------


def test_the_code_reviewer_example_loads_and_puts_the_change_after_its_prompt(cwd: Path, env: dict[str, str]) -> None:
    project_preset(cwd, "review", REVIEW)
    preset = load_preset("review", cwd, env)

    assert (preset.model, preset.think, preset.effort, preset.max_output_tokens) == (
        "qwen3.8-max",
        True,
        "medium",
        4000,
    )
    assert preset.instructions and preset.instructions.startswith("You are a senior software engineer")
    assert apply_template(preset.prompt or "", DIFF).endswith(
        "say so in one line; do not restate what the code does.\n\n" + DIFF + "\n"
    )


def test_the_commit_message_example_loads_and_takes_the_piped_diff_as_its_input(cwd: Path, env: dict[str, str]) -> None:
    project_preset(cwd, "commit", COMMIT)
    preset = load_preset("commit", cwd, env)

    assert preset_settings(preset) == {"model": "qwen3.8-flash", "output": "text"}
    assert {key: value for key, value in preset_request_values(preset).items() if key != "instructions"} == {
        "temperature": 0.3,
        "think": False,
        "max_output_tokens": 500,
        "store": False,
    }
    assert (
        apply_template(preset.prompt or "", DIFF.rstrip())
        == "Write the commit message for this diff:\n\n" + DIFF.rstrip() + "\n"
    )


def test_the_researcher_example_loads_with_web_tools_and_thinking(cwd: Path, env: dict[str, str]) -> None:
    user_preset(env, "research", RESEARCH)
    preset = load_preset("research", cwd, env)

    values = preset_request_values(preset)
    assert (values["think"], values["effort"], values["tools"]) == (True, "high", ["web_search", "web_extractor"])
    assert preset.description == "Answer a question from current web sources, with citations"
    assert (
        apply_template(preset.prompt or "", "who wrote Dune?")
        == "Research this question and answer it with sources: who wrote Dune?"
    )


# --- what a file may hold -----------------------------------------------------------------------------------

EVERY_KEY = """\
description: every key
model: qwen3.7-plus
instructions: be brief
temperature: 1
top_p: 0.5
think: yes
effort: low
max_output_tokens: 16
store: false
session_cache: true
tools:
  - web_search
  - {type: function, name: get_weather, parameters: {type: object}, run: ./weather.sh}
  - {type: mcp, server_label: maps, server_url: "https://example.com/sse", headers: {Authorization: "env:MAPS_TOKEN"}}
tool_choice: {type: function, name: get_weather}
output: jsonl
region: cn
prompt: "{input}"
"""


def test_every_key_loads_into_the_frozen_dataclass_with_its_type(cwd: Path, env: dict[str, str]) -> None:
    path = project_preset(cwd, "all", EVERY_KEY)
    preset = load_preset("all", cwd, env)

    assert preset == Preset(
        name="all",
        source=path,
        description="every key",
        model="qwen3.7-plus",
        instructions="be brief",
        temperature=1.0,
        top_p=0.5,
        think=True,
        effort="low",
        max_output_tokens=16,
        store=False,
        session_cache=True,
        tools=(
            "web_search",
            {"type": "function", "name": "get_weather", "parameters": {"type": "object"}, "run": "./weather.sh"},
            {
                "type": "mcp",
                "server_label": "maps",
                "server_url": "https://example.com/sse",
                "headers": {"Authorization": "env:MAPS_TOKEN"},
            },
        ),
        tool_choice={"type": "function", "name": "get_weather"},
        output="jsonl",
        region="cn",
        prompt="{input}",
    )
    assert isinstance(preset.temperature, float)  # an integer is fine where a number is wanted
    with pytest.raises(dataclasses.FrozenInstanceError):
        preset.model = "qwen-max"  # type: ignore[misc]


@pytest.mark.parametrize("text", ["", "\n", "# nothing set yet\n", "---\n"])
def test_an_empty_file_is_a_valid_empty_preset(cwd: Path, env: dict[str, str], text: str) -> None:
    path = project_preset(cwd, "empty", text)
    assert load_preset("empty", cwd, env) == Preset(name="empty", source=path)


def test_a_key_with_no_value_counts_as_not_set(cwd: Path, env: dict[str, str]) -> None:
    path = project_preset(cwd, "p", "model:\ntemperature: 0.5\n")
    assert load_preset("p", cwd, env) == Preset(name="p", source=path, temperature=0.5)


@pytest.mark.parametrize(("text", "found"), [("- model: qwen-max\n", "list"), ("just words\n", "str"), ("42\n", "int")])
def test_a_top_level_that_is_not_a_mapping_is_an_error(cwd: Path, env: dict[str, str], text: str, found: str) -> None:
    message, path = preset_error(cwd, env, text)
    assert message == f"{path}: expected a mapping (key: value), found {found}"


def test_a_yaml_syntax_error_shows_the_line_and_where_an_unclosed_construct_began(
    cwd: Path, env: dict[str, str]
) -> None:
    message, path = preset_error(cwd, env, "model: qwen-max\ninstructions: [unclosed\ntemperature: 1\n")
    assert (
        message
        == f"{path}:3: invalid YAML: expected ',' or ']', but got ':' (while parsing a flow sequence that starts at line 2)"
    )


def test_a_file_that_is_not_utf8_is_an_error(cwd: Path, env: dict[str, str]) -> None:
    path = cwd / ".qwen" / "presets" / "p.yaml"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"description: caf\xe9\n")
    trust(cwd, env)
    assert load_error("p", cwd, env) == f"{path} is not UTF-8 text"


# --- unknown keys, wrong types, out-of-range values ---------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "hint"),
    [
        ("temprature", "did you mean 'temperature'?"),
        ("max-output-tokens", "did you mean 'max_output_tokens'?"),
        ("max_tokens", "did you mean 'max_output_tokens'?"),
        ("Model", "did you mean 'model'?"),
        ("enable_thinking", "did you mean 'think'?"),
        ("system", "did you mean 'instructions'?"),
        ("reasoning_effort", "did you mean 'effort'?"),
    ],
)
def test_an_unknown_key_names_file_line_and_the_closest_valid_key(
    cwd: Path, env: dict[str, str], key: str, hint: str
) -> None:
    message, path = preset_error(cwd, env, f"model: qwen-max\n\n{key}: 1\n")
    assert message == f"{path}:3: unknown key '{key}'; {hint}"


def test_an_unknown_key_with_nothing_close_lists_the_valid_keys(cwd: Path, env: dict[str, str]) -> None:
    message, path = preset_error(cwd, env, "colour: blue\n")
    assert message == (
        f"{path}:1: unknown key 'colour'; valid keys: description, model, instructions, temperature, top_p, think, "
        "effort, max_output_tokens, store, session_cache, tools, tool_choice, output, region, base_url, prompt, extends"
    )


def test_connection_settings_belong_to_the_config_file_not_to_presets(cwd: Path, env: dict[str, str]) -> None:
    message, path = preset_error(cwd, env, "timeout: 600\n")
    assert message.startswith(f"{path}:1: unknown key 'timeout'; ")


@pytest.mark.parametrize(
    ("line", "rule"),
    [
        ("temperature: true", "'temperature' must be a number, not true/false"),
        ("temperature: '0.5'", "'temperature' must be a number, not text"),
        ("top_p: [1]", "'top_p' must be a number, not a list"),
        ("max_output_tokens: true", "'max_output_tokens' must be an integer, not true/false"),
        ("max_output_tokens: 100.5", "'max_output_tokens' must be an integer, not a decimal number"),
        ("think: 'yes'", "'think' must be true or false, not text"),
        ("store: 1", "'store' must be true or false, not an integer"),
        ("session_cache: enable", "'session_cache' must be true or false, not text"),
        ("model: 3", "'model' must be text, not an integer"),
        ("model: ''", "'model' must not be empty"),
        ("description: [a, b]", "'description' must be text, not a list"),
        ("instructions: {a: 1}", "'instructions' must be text, not a mapping"),
        ("prompt: 2024-01-01", "'prompt' must be text, not date"),
        ("effort: 3", "'effort' must be text, not an integer"),
        ("extends: ''", "'extends' must not be empty"),
        ("tools: web_search", "'tools' must be a list, not text; write one tool as a list: [web_search]"),
        ("tools: {type: web_search}", "'tools' must be a list, not a mapping"),
        ("tools: [web_search, 3]", "'tools[1]' must be a tool name or a mapping with a 'type', not an integer"),
        ("tools: ['']", "'tools[0]' must not be empty"),
        ("tools: [{description: x}]", "'tools[0]' must have a 'type' (or a 'name')"),
        ("tools: [{type: 3}]", "'tools[0].type' must be non-empty text, not an integer"),
        ("tool_choice: [auto]", "'tool_choice' must be text or a mapping, not a list"),
    ],
)
def test_a_wrong_type_names_file_line_key_and_rule(cwd: Path, env: dict[str, str], line: str, rule: str) -> None:
    message, path = preset_error(cwd, env, f"description: typed\n{line}\n")
    assert message == f"{path}:2: {rule}"


@pytest.mark.parametrize(
    ("line", "rule"),
    [
        ("temperature: 2", "'temperature' must be in [0, 2), got 2"),
        ("temperature: -0.1", "'temperature' must be in [0, 2), got -0.1"),
        (
            "temperature: .nan",
            ".nan is not a finite number, and JSON has no NaN or infinity",
        ),  # refused as the file is read
        ("top_p: 0", "'top_p' must be in (0, 1], got 0"),
        ("top_p: 1.5", "'top_p' must be in (0, 1], got 1.5"),
        ("max_output_tokens: 15", "'max_output_tokens' must be at least 16, got 15"),
        ("effort: extreme", "'effort' must be one of none, minimal, low, medium, high, xhigh, max, got 'extreme'"),
        ("output: yaml", "'output' must be one of auto, pretty, text, json, jsonl, got 'yaml'"),
        ("region: eu", "'region' must be one of intl, cn, us, got 'eu'"),
        ("base_url: ftp://example.com", "'base_url' must start with http:// or https://, got 'ftp://example.com'"),
        ("base_url: example.com/v1", "'base_url' must start with http:// or https://, got 'example.com/v1'"),
    ],
)
def test_an_out_of_range_value_names_file_line_key_and_rule(
    cwd: Path, env: dict[str, str], line: str, rule: str
) -> None:
    message, path = preset_error(cwd, env, f"# limits\n\n{line}\n")
    assert message == f"{path}:3: {rule}"


@pytest.mark.parametrize(
    ("line", "field", "value"),
    [
        ("temperature: 0", "temperature", 0.0),
        ("temperature: 1.99", "temperature", 1.99),
        ("top_p: 1", "top_p", 1.0),
        ("top_p: 0.01", "top_p", 0.01),
        ("max_output_tokens: 16", "max_output_tokens", 16),
        ("effort: none", "effort", "none"),
        ("base_url: http://127.0.0.1:8765/compatible-mode/v1", "base_url", "http://127.0.0.1:8765/compatible-mode/v1"),
        ("tool_choice: required", "tool_choice", "required"),
    ],
)
def test_values_on_the_edge_of_their_range_are_accepted(
    cwd: Path, env: dict[str, str], line: str, field: str, value: Any
) -> None:
    project_preset(cwd, "p", line + "\n")
    assert getattr(load_preset("p", cwd, env), field) == value


def test_region_and_base_url_in_one_file_is_an_error(cwd: Path, env: dict[str, str]) -> None:
    message, path = preset_error(cwd, env, "region: cn\nmodel: qwen-max\nbase_url: https://proxy.example.com/v1\n")
    assert (
        message
        == f"{path}:3: set 'region' or 'base_url', not both: base_url is a whole endpoint and wins over any region"
    )


# --- the API key never lives in a preset --------------------------------------------------------------------


@pytest.mark.parametrize(
    "key",
    [
        "api_key",
        "API_KEY",
        "key",
        "Key",
        "dashscope_api_key",
        "DASHSCOPE-API-KEY",
        "authorization",
        "Token",
        "github_token",
    ],
)
def test_a_key_named_like_a_credential_is_refused(cwd: Path, env: dict[str, str], key: str) -> None:
    message, path = preset_error(cwd, env, f"model: qwen-max\n{key}: something\n")
    assert (
        message
        == f"{path}:2: '{key}': a preset can never hold the API key; set DASHSCOPE_API_KEY in the environment instead"
    )


@pytest.mark.parametrize(
    ("text", "line", "where"),
    [
        (f"instructions: 'use {KEY} when asked'\n", 1, "instructions"),
        (f"model: qwen-max\ndescription: {KEY}\n", 2, "description"),
        (f"colour: {KEY}\n", 1, "colour"),  # refused before it is reported (and echoed) as an unknown key
    ],
)
def test_a_value_shaped_like_an_api_key_is_refused_without_echoing_it(
    cwd: Path, env: dict[str, str], text: str, line: int, where: str
) -> None:
    message, path = preset_error(cwd, env, text)
    assert message == (
        f"{path}:{line}: '{where}' holds what looks like an API key (sk-...); "
        "a preset can never hold one: set DASHSCOPE_API_KEY in the environment instead"
    )
    assert KEY not in message


MCP_WITH_KEY = f"""\
description: maps
tools:
  - web_search
  - type: mcp
    server_label: amap-maps
    server_url: https://dashscope-intl.aliyuncs.com/api/v1/mcps/amap-maps/sse
    headers:
      Authorization: Bearer {KEY}
"""


def test_a_key_inside_an_mcp_header_is_refused_with_the_env_var_advice(cwd: Path, env: dict[str, str]) -> None:
    message, path = preset_error(cwd, env, MCP_WITH_KEY)
    assert message == (
        f"{path}:2: 'tools[1].headers.Authorization' holds what looks like an API key (sk-...); "
        "a preset can never hold one: for an MCP header write the value as env:VAR, read from the environment variable VAR"
    )
    assert KEY not in message


@pytest.mark.parametrize(
    ("text", "where"),
    [
        (
            f"tools:\n  - type: function\n    name: f\n    parameters: {{default: [{KEY}]}}\n",
            "tools[0].parameters.default[0]",
        ),
        (f"tool_choice: {{type: function, name: {KEY}}}\n", "tool_choice.name"),
        (f"tools:\n  - type: mcp\n    headers: {{{KEY}: x}}\n", "tools[0].headers"),  # a name, not a value
    ],
)
def test_a_key_is_found_at_any_depth_of_tools(cwd: Path, env: dict[str, str], text: str, where: str) -> None:
    message, path = preset_error(cwd, env, text)
    assert message.startswith(
        f"{path}:1: '{where}' holds what looks like an API key (sk-...); a preset can never hold one"
    )
    assert KEY not in message


def test_a_key_used_as_a_top_level_key_is_refused_without_naming_it(cwd: Path, env: dict[str, str]) -> None:
    message, path = preset_error(cwd, env, f"{KEY}: 1\n")
    assert message == f"{path}:1: a name in this file looks like an API key (sk-...); a preset can never hold one"


def test_things_that_only_resemble_keys_are_accepted(cwd: Path, env: dict[str, str]) -> None:
    project_preset(
        cwd,
        "p",
        "instructions: 'a task-0123456789abcdef0123 id, an sk-short value, the sk- prefix'\n"
        "tools:\n"
        "  - type: function\n"
        "    name: lookup\n"
        "    parameters: {type: object, properties: {key: {type: string}, token: {type: string}}}\n"
        "  - {type: mcp, server_label: maps, headers: {Authorization: 'env:DASHSCOPE_API_KEY'}}\n",
    )
    preset = load_preset("p", cwd, env)
    assert preset.tools and preset.tools[0]["parameters"]["properties"].keys() == {"key", "token"}  # type: ignore[index]


# --- lookup by name and by path -----------------------------------------------------------------------------


def test_a_name_is_found_in_the_project_before_the_user_directory(cwd: Path, env: dict[str, str]) -> None:
    project = project_preset(cwd, "review", "model: from-project\n")
    user_preset(env, "review", "model: from-user\n")
    preset = load_preset("review", cwd, env)
    assert (preset.name, preset.source, preset.model) == ("review", project, "from-project")


def test_a_name_only_the_user_has_comes_from_the_user_directory(cwd: Path, env: dict[str, str]) -> None:
    project_preset(cwd, "other", "model: x\n")
    user = user_preset(env, "review", "model: from-user\n")
    assert load_preset("review", cwd, env).source == user


def test_the_user_directory_defaults_to_home_dot_config(cwd: Path, tmp_path: Path) -> None:
    env = {"HOME": str(tmp_path / "home")}
    path = write(tmp_path / "home" / ".config" / "qwen" / "presets" / "r.yaml", "model: m\n")
    assert load_preset("r", cwd, env).source == path


@pytest.mark.parametrize("ref", ["presets/mine.yaml", "./mine.yaml", "mine.yaml", "mine.yml"])
def test_a_value_with_a_separator_or_a_yaml_suffix_is_a_path_relative_to_cwd(
    cwd: Path, env: dict[str, str], ref: str
) -> None:
    path = write(cwd / ref, "model: from-path\n")
    project_preset(cwd, "mine", "model: from-name\n")
    preset = load_preset(ref, cwd, env)
    assert (preset.name, preset.source, preset.model) == ("mine", cwd / ref, "from-path")
    assert path.is_file()


def test_an_absolute_path_is_used_as_it_is(cwd: Path, env: dict[str, str], tmp_path: Path) -> None:
    path = write(tmp_path / "elsewhere" / "p.yaml", "model: abs\n")
    assert load_preset(str(path), cwd, env).model == "abs"


def test_a_missing_path_is_an_error(cwd: Path, env: dict[str, str]) -> None:
    assert load_error("nope/p.yaml", cwd, env) == f"no such preset file: {cwd / 'nope' / 'p.yaml'}"


def test_a_missing_name_lists_the_presets_of_both_places_and_the_closest(cwd: Path, env: dict[str, str]) -> None:
    project_preset(cwd, "review", "")
    user_preset(env, "research", "")
    user_preset(env, "review", "")
    assert (
        load_error("revew", cwd, env) == "no preset named 'revew' (did you mean 'review'?); available: research, review"
    )
    assert load_error("zzz", cwd, env) == "no preset named 'zzz'; available: research, review"


def test_a_missing_name_with_no_presets_at_all_says_where_to_create_one(cwd: Path, env: dict[str, str]) -> None:
    user = Path(env["XDG_CONFIG_HOME"]) / "qwen" / "presets"
    assert load_error("review", cwd, env) == (
        f"no preset named 'review', and there are none yet: create {cwd}/.qwen/presets/review.yaml or {user}/review.yaml"
    )


def test_an_empty_name_is_an_error(cwd: Path, env: dict[str, str]) -> None:
    assert load_error(" ", cwd, env) == "a preset name cannot be empty"


def test_only_dot_yaml_files_are_presets_by_name(cwd: Path, env: dict[str, str]) -> None:
    write(cwd / ".qwen" / "presets" / "review.yml", "model: m\n")
    assert load_error("review", cwd, env).startswith("no preset named 'review'")
    assert find_preset(".qwen/presets/review.yml", cwd, env) == cwd / ".qwen/presets/review.yml"


# --- where the project directory is -------------------------------------------------------------------------


def test_project_presets_are_found_from_a_subdirectory(cwd: Path, env: dict[str, str]) -> None:
    path = project_preset(cwd, "review", "model: m\n")
    deep = cwd / "src" / "pkg"
    deep.mkdir(parents=True)
    assert load_preset("review", deep, env).source == path


def test_the_nearest_project_directory_wins(cwd: Path, env: dict[str, str]) -> None:
    project_preset(cwd, "review", "model: outer\n")
    inner = cwd / "sub"
    project_preset(inner, "review", "model: inner\n")
    (inner / "deeper").mkdir()
    assert load_preset("review", inner / "deeper", env).model == "inner"
    assert load_preset("review", cwd, env).model == "outer"


def test_the_walk_stops_at_the_repository_root(cwd: Path, env: dict[str, str], tmp_path: Path) -> None:
    project_preset(tmp_path, "review", "model: above-the-repository\n")  # tmp_path/.qwen is outside cwd's repository
    assert project_presets_dir(cwd, env) is None
    assert load_error("review", cwd, env).startswith("no preset named 'review'")


def test_the_walk_stops_at_the_home_directory(tmp_path: Path) -> None:
    home = tmp_path / "home"
    project_preset(tmp_path, "review", "model: above-home\n")
    (home / "notes").mkdir(parents=True)
    assert project_presets_dir(home / "notes", {"HOME": str(home)}) is None


def test_a_project_directory_owned_by_another_user_is_ignored(cwd: Path, env: dict[str, str]) -> None:
    project_preset(cwd, "review", "base_url: https://attacker.example.com/v1\n")
    me = os.stat(cwd).st_uid
    assert project_presets_dir(cwd, env, uid=me) == cwd / ".qwen" / "presets"
    assert project_presets_dir(cwd, env, uid=me + 1) is None


def test_presets_dirs_are_the_project_then_the_user_directory(cwd: Path, env: dict[str, str]) -> None:
    user = Path(env["XDG_CONFIG_HOME"]) / "qwen" / "presets"
    assert presets_dirs(cwd / "src", env) == [cwd / "src" / ".qwen" / "presets", user]  # none yet: where one would go
    project_preset(cwd, "p", "")
    assert presets_dirs(cwd / "src", env) == [cwd / ".qwen" / "presets", user]


# --- extends ------------------------------------------------------------------------------------------------


def test_a_child_wins_over_its_parent_and_inherits_the_rest(cwd: Path, env: dict[str, str]) -> None:
    base = user_preset(env, "base", "model: qwen3.8-max\ntemperature: 0.2\ninstructions: be brief\n")
    child = project_preset(cwd, "child", "extends: base\ntemperature: 0.9\n")
    preset = load_preset("child", cwd, env)

    assert (preset.name, preset.source) == ("child", child)
    assert (preset.model, preset.temperature, preset.instructions, preset.extends) == (
        "qwen3.8-max",
        0.9,
        "be brief",
        "base",
    )
    assert resolved_view(preset) == {
        "model": {"value": "qwen3.8-max", "source": str(base)},
        "instructions": {"value": "be brief", "source": str(base)},
        "temperature": {"value": 0.9, "source": str(child)},
    }


def test_a_chain_of_three_resolves_nearest_first(cwd: Path, env: dict[str, str]) -> None:
    project_preset(cwd, "a", "model: a\ntemperature: 0.1\ntop_p: 0.1\ndescription: from a\n")
    project_preset(cwd, "b", "extends: a\ntemperature: 0.2\ntop_p: 0.2\n")
    c = project_preset(cwd, "c", "extends: b\ntop_p: 0.3\n")
    preset = load_preset("c", cwd, env)
    assert (preset.model, preset.temperature, preset.top_p, preset.description) == ("a", 0.2, 0.3, "from a")
    assert preset.sources["top_p"] == c


def test_a_childs_tools_replace_the_parents_list(cwd: Path, env: dict[str, str]) -> None:
    project_preset(cwd, "base", "tools: [web_search, code_interpreter]\nthink: true\n")
    project_preset(cwd, "child", "extends: base\ntools: [web_extractor]\nthink: false\n")
    assert preset_request_values(load_preset("child", cwd, env)) == {"think": False, "tools": ["web_extractor"]}


def test_a_childs_region_replaces_the_parents_base_url(cwd: Path, env: dict[str, str]) -> None:
    project_preset(cwd, "base", "base_url: https://proxy.example.com/v1\nmodel: m\n")
    project_preset(cwd, "child", "extends: base\nregion: us\n")
    assert preset_settings(load_preset("child", cwd, env)) == {"model": "m", "region": "us"}


def test_extends_by_path_is_relative_to_the_extending_file(cwd: Path, env: dict[str, str], tmp_path: Path) -> None:
    write(tmp_path / "shared" / "base.yaml", "model: shared-model\n")
    write(tmp_path / "shared" / "team" / "child.yaml", "extends: ../base.yaml\n")
    assert load_preset(str(tmp_path / "shared" / "team" / "child.yaml"), cwd, env).model == "shared-model"


def test_a_missing_parent_names_the_extends_line(cwd: Path, env: dict[str, str]) -> None:
    project_preset(cwd, "basic", "model: m\n")
    child = project_preset(cwd, "child", "model: m\nextends: basc\n")
    assert load_error("child", cwd, env) == (
        f"{child}:2: 'extends': no preset named 'basc' (did you mean 'basic'?); available: basic, child"
    )


def test_a_missing_parent_path_names_the_extends_line(cwd: Path, env: dict[str, str]) -> None:
    child = project_preset(cwd, "child", "extends: ./gone.yaml\n")
    assert load_error("child", cwd, env) == f"{child}:1: 'extends': no such preset file: {child.parent / 'gone.yaml'}"


def test_an_error_in_the_parent_names_the_parents_file(cwd: Path, env: dict[str, str]) -> None:
    base = user_preset(env, "base", "model: m\ntemperature: 5\n")
    project_preset(cwd, "child", "extends: base\n")
    assert load_error("child", cwd, env) == f"{base}:2: 'temperature' must be in [0, 2), got 5"


def test_a_cycle_is_an_error_naming_the_chain(cwd: Path, env: dict[str, str]) -> None:
    a = project_preset(cwd, "a", "extends: b\n")
    b = project_preset(cwd, "b", "model: m\nextends: c\n")
    c = project_preset(cwd, "c", "extends: a\n")
    assert load_error("a", cwd, env) == f"{c}:1: 'extends' makes a cycle: {a} -> {b} -> {c} -> {a}"


def test_a_preset_extending_its_own_path_is_a_cycle(cwd: Path, env: dict[str, str]) -> None:
    a = project_preset(cwd, "a", "extends: ./a.yaml\n")
    assert load_error("a", cwd, env) == f"{a}:1: 'extends' makes a cycle: {a} -> {a}"


def test_a_preset_can_extend_the_user_preset_it_shadows(cwd: Path, env: dict[str, str]) -> None:
    user = user_preset(env, "review", "model: qwen3.8-max\ninstructions: find bugs\n")
    project_preset(cwd, "review", "extends: review\nmodel: qwen3.8-flash\n")
    preset = load_preset("review", cwd, env)
    assert (preset.model, preset.instructions, preset.sources["instructions"]) == ("qwen3.8-flash", "find bugs", user)


def test_a_preset_cannot_extend_itself_by_name(cwd: Path, env: dict[str, str]) -> None:
    path = project_preset(cwd, "review", "extends: review\n")
    assert (
        load_error("review", cwd, env)
        == f"{path}:1: 'extends': no other preset named 'review' to extend (a preset cannot extend itself)"
    )


def test_a_chain_deeper_than_the_limit_is_an_error(cwd: Path, env: dict[str, str]) -> None:
    for index in range(MAX_CHAIN + 1):
        project_preset(cwd, f"p{index}", f"extends: p{index + 1}\n" if index < MAX_CHAIN else "model: m\n")
    assert load_error("p0", cwd, env) == (
        f"{cwd}/.qwen/presets/p{MAX_CHAIN - 1}.yaml:1: 'extends' goes deeper than {MAX_CHAIN} presets, "
        f"starting at {cwd}/.qwen/presets/p0.yaml"
    )
    assert load_preset("p1", cwd, env).model == "m"  # exactly MAX_CHAIN presets is fine


# --- listing ------------------------------------------------------------------------------------------------


def test_list_shows_both_places_sorted_with_shadowing_and_broken_files(cwd: Path, env: dict[str, str]) -> None:
    review = project_preset(cwd, "review", "description: project reviewer\n")
    broken = project_preset(cwd, "broken", "description: oops\ntemprature: 1\n")
    user_review = user_preset(env, "review", "description: my reviewer\n")
    research = user_preset(env, "research", "extends: review\n")  # inherits the project review's description
    write(Path(env["XDG_CONFIG_HOME"]) / "qwen" / "presets" / "notes.txt", "not a preset")

    assert list_presets(cwd, env) == [
        PresetInfo(
            "broken",
            None,
            broken,
            "project",
            error=f"{broken}:2: unknown key 'temprature'; did you mean 'temperature'?",
            trust="trusted",
        ),
        PresetInfo("research", "project reviewer", research, "user"),
        PresetInfo("review", "project reviewer", review, "project", trust="trusted"),
        PresetInfo("review", "my reviewer", user_review, "user", shadowed=True),
    ]
    assert preset_names(cwd, env) == ["broken", "research", "review"]


def test_list_is_empty_when_there_are_no_presets(cwd: Path, env: dict[str, str]) -> None:
    assert list_presets(cwd, env) == []


def test_preset_names_imports_no_yaml(cwd: Path, env: dict[str, str]) -> None:
    project_preset(cwd, "review", "model: m\n")
    script = (
        "import sys; from pathlib import Path\n"
        "from qwen_cli.settings.presets import preset_names\n"
        f"print(preset_names(Path({str(cwd)!r}), {env!r}), 'yaml' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=30, check=True)
    assert result.stdout.strip() == "['review'] False"


# --- what a preset gives the settings and the request -------------------------------------------------------


def test_settings_and_request_values_hold_only_what_is_set(cwd: Path, env: dict[str, str]) -> None:
    project_preset(cwd, "p", EVERY_KEY)
    preset = load_preset("p", cwd, env)
    assert preset_settings(preset) == {"model": "qwen3.7-plus", "region": "cn", "output": "jsonl"}
    assert list(preset_request_values(preset)) == [
        "instructions",
        "temperature",
        "top_p",
        "think",
        "effort",
        "max_output_tokens",
        "store",
        "session_cache",
        "tools",
        "tool_choice",
    ]
    assert preset_settings(Preset(name="e", source=Path("e.yaml"))) == {}
    assert preset_request_values(Preset(name="e", source=Path("e.yaml"))) == {}


def test_the_values_handed_out_are_copies(cwd: Path, env: dict[str, str]) -> None:
    project_preset(cwd, "p", EVERY_KEY)
    preset = load_preset("p", cwd, env)
    values = preset_request_values(preset)
    values["tools"][1]["name"] = "changed"
    values["tools"].append("code_interpreter")
    assert preset_request_values(preset)["tools"] == list(preset.tools or ())
    assert preset.tools and preset.tools[1]["name"] == "get_weather"  # type: ignore[index]


def test_preset_settings_fit_the_preset_layer_of_config(cwd: Path, env: dict[str, str]) -> None:
    project_preset(cwd, "p", "model: qwen3.8-max\nregion: us\noutput: text\n")
    settings = resolve_settings({}, {**env, "QWEN_MODEL": "from-env"}, preset_settings(load_preset("p", cwd, env)))
    assert (settings.model, settings.base_url, settings.output) == (
        "qwen3.8-max",
        "https://dashscope-us.aliyuncs.com/compatible-mode/v1",
        "text",
    )
    assert settings.sources["model"] == "preset"


def test_load_preset_file_names_a_preset_after_its_file(cwd: Path, env: dict[str, str]) -> None:
    path = project_preset(cwd, "review", "model: m\n")
    assert load_preset_file(path, cwd, env).name == "review"


# --- templates ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("template", "text", "expected"),
    [
        ("Translate: {input}", "hola", "Translate: hola"),
        ("{input}\n---\n{input}", "x", "x\n---\nx"),
        ('Reply as JSON like {"ok": true} about {input}', "cats", 'Reply as JSON like {"ok": true} about cats'),
        ("Keep {name}, {0}, {} and {{x}}: {input}", "y", "Keep {name}, {0}, {} and {{x}}: y"),
        ("Write {{input}} literally, then {input}", "z", "Write {input} literally, then z"),
        ("Quote: {input}", "a {input} and {{input}} and {0}", "Quote: a {input} and {{input}} and {0}"),
        ("Summarise:\n\n{input}", "", "Summarise:\n\n"),
    ],
)
def test_input_goes_where_the_template_says_and_other_braces_survive(template: str, text: str, expected: str) -> None:
    assert apply_template(template, text) == expected


@pytest.mark.parametrize(
    ("template", "text", "expected"),
    [
        ("Be terse.\n", "why?", "Be terse.\n\nwhy?"),
        ("Show {{input}} like this", "q", "Show {input} like this\n\nq"),
        ("Tell me a joke", "", "Tell me a joke"),
        ("", "only words", "only words"),
    ],
)
def test_a_template_without_input_gets_the_words_after_a_blank_line(template: str, text: str, expected: str) -> None:
    assert apply_template(template, text) == expected
