"""Presets and the config file end to end: the installed command, run from a project directory, against the
emulator over a real socket; `qwen presets` and `qwen config` read back what the files say.
"""

from __future__ import annotations

import json
import re
import stat
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import API_KEY, Result
from test_presets import COMMIT, RESEARCH, REVIEW

from qwen_cli.emulator import Emulator
from qwen_cli.settings.trust import trust

DIFF = """\
diff --git a/billing.py b/billing.py
--- a/billing.py
+++ b/billing.py
@@ -1,3 +1,3 @@
 def total(items):
-    return sum(item.price for item in items)
+    return sum(item.price * item.quantity for item in items)
"""
FAKE_KEY = "sk-0123456789abcdef0123456789abcdef"  # shaped like a DashScope key, not the test key
INTL = "https://dashscope-intl.aliyuncs.com/compatible-mode/v1"
CN = "https://dashscope.aliyuncs.com/compatible-mode/v1"
OTHER_PREFIX = "/api/v2/apps/protocols/compatible-mode/v1"  # the emulator serves the API under this path too

README = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")

Run = Callable[..., Result]


# --- helpers -------------------------------------------------------------------------------------------------


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A repository with a .qwen/presets directory; the project walk stops at its .git."""
    root = tmp_path / "project"
    (root / ".git").mkdir(parents=True)
    (root / ".qwen" / "presets").mkdir(parents=True)
    return root


@pytest.fixture
def user_dir(qwen_env: dict[str, str]) -> Path:
    return Path(qwen_env["XDG_CONFIG_HOME"]) / "qwen" / "presets"


@pytest.fixture
def config_file(qwen_env: dict[str, str]) -> Path:
    return Path(qwen_env["XDG_CONFIG_HOME"]) / "qwen" / "config.yaml"


@pytest.fixture
def run(qwen, project: Path) -> Run:
    """`qwen ARGS...` as a real process whose working directory is the project (or `cwd`)."""

    def run_qwen(
        *args: str, cwd: Path | None = None, input: str | None = None, env: dict[str, str] | None = None
    ) -> Result:
        return qwen(*args, cwd=cwd or project, input=input, env=env)

    return run_qwen


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def project_preset(project: Path, name: str, text: str) -> Path:
    """Write a project preset as its author would, and trust the project as it now is, as its user would
    (`qwen presets trust`; the tests of trust itself run that command). The data folder is qwen_env's."""
    path = write(project / ".qwen" / "presets" / f"{name}.yaml", text)
    trust(project, {"XDG_DATA_HOME": str(project.parent / "data")})
    return path


def created(emulator: Emulator) -> list[dict]:
    return [entry for entry in emulator.requests if entry["method"] == "POST" and entry["path"].endswith("/responses")]


def last_body(emulator: Emulator) -> dict:
    return created(emulator)[-1]["body"]


def ok(result: Result) -> Result:
    assert result.returncode == 0, result.stderr
    return result


def dry_run(run: Run, *args: str, env: dict[str, str] | None = None) -> dict:
    return json.loads(ok(run("ask", "--dry-run", *args, env=env)).stdout)


def settings_of(run: Run, *args: str, env: dict[str, str] | None = None) -> dict[str, tuple]:
    """`qwen config show --json` as {setting: (value, source)}."""
    document = json.loads(ok(run("config", "show", "--json", *args, env=env)).stdout)
    return {key: (entry["value"], entry["source"]) for key, entry in document["settings"].items()}


def columns(text: str) -> list[list[str]]:
    return [re.split(r" {2,}", line) for line in text.splitlines()]


# --- finding a preset: project, user, path --------------------------------------------------------------------


def test_a_project_preset_is_found_by_name_from_the_project_and_its_subdirectories(
    run: Run, project: Path, emulator: Emulator
) -> None:
    project_preset(project, "terse", "model: qwen3.8-flash\ninstructions: Answer in one sentence.\n")
    (project / "src" / "deep").mkdir(parents=True)

    for cwd in (project, project / "src" / "deep"):
        result = ok(run("ask", "-p", "terse", "what is a monad", cwd=cwd))
        assert last_body(emulator) == {
            "model": "qwen3.8-flash",
            "input": "what is a monad",
            "instructions": "Answer in one sentence.",
        }
        assert result.stdout == "[Answer in one sentence.] You said: what is a monad\n"


def test_a_user_preset_is_found_by_name_from_any_directory(
    run: Run, user_dir: Path, tmp_path: Path, emulator: Emulator
) -> None:
    write(user_dir / "french.yaml", "instructions: Réponds en français.\ntemperature: 0.4\n")
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / ".git").mkdir(parents=True)

    ok(run("ask", "--preset", "french", "hello", cwd=elsewhere))
    assert last_body(emulator) == {
        "model": "qwen-plus",
        "input": "hello",
        "instructions": "Réponds en français.",
        "temperature": 0.4,
    }


def test_a_project_preset_shadows_the_users_preset_of_the_same_name(
    run: Run, project: Path, user_dir: Path, emulator: Emulator
) -> None:
    write(user_dir / "style.yaml", "instructions: from the user\n")
    project_preset(project, "style", "instructions: from the project\n")

    ok(run("ask", "-p", "style", "hi"))
    assert last_body(emulator)["instructions"] == "from the project"


def test_a_path_names_a_preset_file_relative_to_the_working_directory_or_absolute(
    run: Run, project: Path, tmp_path: Path, emulator: Emulator
) -> None:
    write(project / "presets" / "brief.yaml", "max_output_tokens: 64\n")
    absolute = write(tmp_path / "anywhere" / "warm.yml", "temperature: 1.5\n")

    ok(run("ask", "-p", "presets/brief.yaml", "hi"))
    assert last_body(emulator) == {"model": "qwen-plus", "input": "hi", "max_output_tokens": 64}
    ok(run("ask", "-p", str(absolute), "hi"))
    assert last_body(emulator) == {"model": "qwen-plus", "input": "hi", "temperature": 1.5}


# --- the README examples, through the real process ---------------------------------------------------------------


def test_the_commit_writer_takes_a_piped_git_diff_into_its_template(
    run: Run, project: Path, emulator: Emulator
) -> None:
    project_preset(project, "commit", COMMIT)

    result = ok(run("ask", "-p", "commit", input=DIFF))

    body = last_body(emulator)
    assert body["input"] == "Write the commit message for this diff:\n\n" + DIFF
    assert body["instructions"].startswith("You write git commit messages. Reply with the message only")
    assert {key: body[key] for key in ("model", "temperature", "enable_thinking", "max_output_tokens", "store")} == {
        "model": "qwen3.8-flash",
        "temperature": 0.3,
        "enable_thinking": False,
        "max_output_tokens": 500,
        "store": False,
    }
    assert result.stdout.startswith("[You write git commit messages.")  # output: text, so the plain answer


def test_the_code_reviewer_puts_the_words_in_its_template_and_sends_the_diff_as_material(
    run: Run, project: Path, emulator: Emulator
) -> None:
    project_preset(project, "review", REVIEW)

    ok(run("ask", "-p", "review", "focus on rounding", input=DIFF))

    body = last_body(emulator)
    (message,) = body["input"]
    assert message["content"][0] == {
        "type": "input_text",
        "text": f'<document name="stdin">\n{DIFF.rstrip()}\n</document>',
    }
    assert message["content"][1]["text"].startswith("Review this change. List the problems you find")
    assert message["content"][1]["text"].endswith("do not restate what the code does.\n\nfocus on rounding\n")
    assert (body["model"], body["enable_thinking"], body["reasoning"], body["max_output_tokens"]) == (
        "qwen3.8-max",
        True,
        {"effort": "medium"},
        4000,
    )


def test_the_researcher_sends_web_search_and_thinking(run: Run, user_dir: Path, emulator: Emulator) -> None:
    write(user_dir / "research.yaml", RESEARCH)

    ok(run("stream", "-p", "research", "which rivers cross the most countries?"))

    body = last_body(emulator)
    assert body["tools"] == [{"type": "web_search"}, {"type": "web_extractor"}]
    assert (body["enable_thinking"], body["reasoning"], body["stream"]) == (True, {"effort": "high"}, True)
    assert body["input"] == "Research this question and answer it with sources: which rivers cross the most countries?"


@pytest.mark.parametrize("example", [REVIEW, COMMIT, RESEARCH], ids=["review", "commit", "research"])
def test_the_readme_shows_exactly_the_examples_run_here(example: str) -> None:
    assert f"```yaml\n{example}```" in README


def test_a_presets_mcp_header_written_env_var_is_read_from_the_environment(
    run: Run, project: Path, emulator: Emulator
) -> None:
    project_preset(
        project,
        "maps",
        (
            "tools:\n"
            "  - type: mcp\n"
            "    server_label: maps\n"
            "    server_url: https://maps.example.com/sse\n"
            "    headers: {Authorization: env:MAPS_TOKEN}\n"
        ),
    )

    ok(run("ask", "-p", "maps", "where is the nearest cafe?", env={"MAPS_TOKEN": "Bearer maps-token-1"}))

    (tool,) = last_body(emulator)["tools"]
    assert (tool["type"], tool["server_label"], tool["headers"]) == (
        "mcp",
        "maps",
        {"Authorization": "Bearer maps-token-1"},
    )


def test_a_presets_tools_reach_the_body_and_a_flags_tools_join_them(
    run: Run, project: Path, emulator: Emulator
) -> None:
    project_preset(project, "search", "tools: [web_search]\n")

    ok(run("ask", "-p", "search", "news?"))
    assert last_body(emulator)["tools"] == [{"type": "web_search"}]
    ok(run("ask", "-p", "search", "--tool", "code_interpreter", "news?"))
    assert {tool["type"] for tool in last_body(emulator)["tools"]} == {"web_search", "code_interpreter"}


# --- precedence: flag > preset > environment > config file > default ---------------------------------------------


@pytest.mark.parametrize(
    ("layers", "model"),
    [
        ((), "qwen-plus"),
        (("config",), "qwen-max"),
        (("config", "environment"), "qwen-turbo"),
        (("config", "environment", "preset"), "qwen3.8-flash"),
        (("config", "environment", "preset", "flag"), "qwen3.8-max"),
    ],
)
def test_the_model_comes_from_the_highest_layer_that_sets_it(
    run: Run, project: Path, config_file: Path, emulator: Emulator, layers: tuple[str, ...], model: str
) -> None:
    write(config_file, "model: qwen-max\n" if "config" in layers else "")
    project_preset(project, "p", "model: qwen3.8-flash\n")
    env = {"QWEN_MODEL": "qwen-turbo"} if "environment" in layers else {}
    args = [*(["-p", "p"] if "preset" in layers else []), *(["-m", "qwen3.8-max"] if "flag" in layers else [])]

    ok(run("ask", *args, "hi", env=env))
    assert last_body(emulator)["model"] == model


def test_instructions_and_temperature_come_from_the_preset_unless_a_flag_sets_them(
    run: Run, project: Path, emulator: Emulator
) -> None:
    project_preset(project, "p", "instructions: from the preset\ntemperature: 0.2\n")

    ok(run("ask", "-p", "p", "hi"))
    assert (last_body(emulator)["instructions"], last_body(emulator)["temperature"]) == ("from the preset", 0.2)
    ok(run("ask", "-p", "p", "-s", "from the flag", "-t", "1.1", "hi"))
    assert (last_body(emulator)["instructions"], last_body(emulator)["temperature"]) == ("from the flag", 1.1)
    ok(run("ask", "hi"))
    assert "instructions" not in last_body(emulator) and "temperature" not in last_body(emulator)


def test_the_output_mode_comes_from_the_highest_layer_that_sets_it(
    run: Run, project: Path, config_file: Path, emulator: Emulator
) -> None:
    project_preset(project, "plain", "output: text\n")

    assert ok(run("ask", "hi")).stdout == "You said: hi\n"  # default auto: text in a pipe
    write(config_file, "output: json\n")
    assert json.loads(ok(run("ask", "hi")).stdout)["object"] == "response"  # the config file
    assert ok(run("ask", "-p", "plain", "hi")).stdout == "You said: hi\n"  # the preset beats the config file
    lines = ok(run("ask", "-p", "plain", "-o", "jsonl", "hi")).stdout.splitlines()  # the flag beats the preset
    assert len(lines) == 1 and json.loads(lines[0])["object"] == "response"


def test_the_base_url_comes_from_the_highest_layer_that_sets_it(
    run: Run, project: Path, config_file: Path, emulator: Emulator
) -> None:
    origin = emulator.base_url.removesuffix("/compatible-mode/v1")
    usual, other = emulator.base_url, origin + OTHER_PREFIX
    write(config_file, f"base_url: {other}\n")
    project_preset(project, "p", f"base_url: {other}\n")

    def path_used(*args: str, env: dict[str, str] | None = None) -> str:
        ok(run("ask", *args, "hi", env=env))
        return created(emulator)[-1]["path"]

    assert path_used(env={"QWEN_BASE_URL": ""}) == OTHER_PREFIX + "/responses"  # the config file
    assert path_used() == "/compatible-mode/v1/responses"  # the environment beats the config file
    assert path_used("-p", "p") == OTHER_PREFIX + "/responses"  # the preset beats the environment
    assert path_used("-p", "p", "--base-url", usual) == "/compatible-mode/v1/responses"  # the flag beats the preset


def test_a_presets_region_beats_the_environment_and_a_region_flag_beats_the_preset(
    run: Run, project: Path, emulator: Emulator
) -> None:
    project_preset(project, "china", "region: cn\n")

    assert dry_run(run, "hi", env={"QWEN_BASE_URL": ""})["url"] == INTL + "/responses"  # the default
    assert dry_run(run, "-p", "china", "hi")["url"] == CN + "/responses"
    assert dry_run(run, "-p", "china", "--region", "intl", "hi")["url"] == INTL + "/responses"
    assert emulator.requests == []


# --- extends --------------------------------------------------------------------------------------------------


def test_a_preset_inherits_from_the_one_it_extends_and_wins_where_both_set(
    run: Run, project: Path, user_dir: Path, emulator: Emulator
) -> None:
    write(user_dir / "base.yaml", "model: qwen-max\ninstructions: Be exact.\ntemperature: 0.1\n")
    project_preset(project, "child", "extends: base\ntemperature: 0.7\nprompt: 'Q: {input}'\n")

    ok(run("ask", "-p", "child", "why"))
    assert last_body(emulator) == {
        "model": "qwen-max",
        "input": "Q: why",
        "instructions": "Be exact.",
        "temperature": 0.7,
    }


def test_a_project_preset_can_extend_the_users_preset_of_the_same_name(
    run: Run, project: Path, user_dir: Path, emulator: Emulator
) -> None:
    write(user_dir / "review.yaml", "instructions: Review carefully.\nmodel: qwen-max\n")
    project_preset(project, "review", "extends: review\nmodel: qwen3-coder-plus\n")

    ok(run("ask", "-p", "review", "hi"))
    assert last_body(emulator) == {"model": "qwen3-coder-plus", "input": "hi", "instructions": "Review carefully."}


# --- broken presets: exit 2 before any network, one line naming the file and the line ----------------------------


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("model: qwen-max\ntemprature: 0.5\n", 2, "unknown key 'temprature'; did you mean 'temperature'?"),
        ("model: qwen-max\ntools: [web_search\n", 3, "invalid YAML: "),
        ("think: maybe\n", 1, "'think' must be true or false, not text"),
        ("model: qwen-max\n\ntemperature: 2.5\n", 3, "'temperature' must be in [0, 2), got 2.5"),
        ("model: qwen-max\napi_key: " + FAKE_KEY + "\n", 2, "'api_key': a preset can never hold the API key"),
        ("instructions: use " + FAKE_KEY + "\n", 1, "'instructions' holds what looks like an API key (sk-...)"),
    ],
)
def test_a_broken_preset_is_one_line_naming_file_and_line_and_nothing_is_sent(
    run: Run, project: Path, emulator: Emulator, text: str, line: int, message: str
) -> None:
    path = project_preset(project, "broken", text)

    for command in ("ask", "stream"):
        result = run(command, "-p", "broken", "hi")
        assert (result.returncode, result.stdout) == (2, "")
        assert result.stderr.startswith(f"qwen: error: {path}:{line}: {message}")
        assert result.stderr.count("\n") == 1
        assert FAKE_KEY not in result.stderr
    assert emulator.requests == []


def test_a_missing_preset_lists_the_ones_that_exist(
    run: Run, project: Path, user_dir: Path, emulator: Emulator
) -> None:
    project_preset(project, "review", REVIEW)
    write(user_dir / "research.yaml", RESEARCH)

    result = run("ask", "-p", "reveiw", "hi")
    assert (result.returncode, result.stdout) == (2, "")
    assert (
        result.stderr == "qwen: error: no preset named 'reveiw' (did you mean 'review'?); available: research, review\n"
    )
    assert emulator.requests == []


def test_a_broken_parent_names_the_parents_file(run: Run, project: Path, user_dir: Path, emulator: Emulator) -> None:
    parent = write(user_dir / "base.yaml", "modle: qwen-max\n")
    project_preset(project, "child", "extends: base\n")

    result = run("ask", "-p", "child", "hi")
    assert (result.returncode, result.stderr) == (
        2,
        f"qwen: error: {parent}:1: unknown key 'modle'; did you mean 'model'?\n",
    )
    assert emulator.requests == []


# --- continue reuses the parent's preset, not its template -----------------------------------------------------


def test_continue_reuses_the_parents_preset_but_not_its_template(run: Run, project: Path, emulator: Emulator) -> None:
    project_preset(project, "review", REVIEW)
    ok(run("ask", "-p", "review", input=DIFF))
    first = last_body(emulator)
    assert first["input"].startswith("Review this change.")

    ok(run("continue", "last", "and the tests?"))

    body = last_body(emulator)
    assert body["input"] == "and the tests?"
    assert (body["model"], body["instructions"], body["max_output_tokens"]) == (
        "qwen3.8-max",
        first["instructions"],
        4000,
    )
    assert body["previous_response_id"].startswith("resp_")


def test_a_preset_given_to_continue_applies_its_template_to_that_turn(
    run: Run, project: Path, emulator: Emulator
) -> None:
    project_preset(project, "terse", "instructions: Be terse.\n")
    project_preset(project, "quote", "prompt: 'Quote: {input}'\n")
    ok(run("ask", "-p", "terse", "first"))

    ok(run("continue", "last", "-p", "quote", "second"))
    assert last_body(emulator)["input"] == "Quote: second"


# --- qwen presets list | show | path --------------------------------------------------------------------------


def test_presets_list_shows_name_scope_file_and_description_with_shadowed_and_broken_ones(
    run: Run, project: Path, user_dir: Path, emulator: Emulator
) -> None:
    review = project_preset(project, "review", REVIEW)
    commit = project_preset(project, "commit", COMMIT)
    research = write(user_dir / "research.yaml", RESEARCH)
    user_review = write(user_dir / "review.yaml", "description: the user's own reviewer\n")
    broken = write(user_dir / "broken.yaml", "modle: qwen-max\n")

    result = ok(run("presets", "list"))

    assert columns(result.stdout) == [
        ["broken", "user", str(broken), f"error: {broken}:1: unknown key 'modle'; did you mean 'model'?"],
        ["commit", "project (trusted)", str(commit), "Write a commit message for a diff piped in from git"],
        ["research", "user", str(research), "Answer a question from current web sources, with citations"],
        ["review", "project (trusted)", str(review), "Review a change like a careful senior engineer"],
        ["review", "user (shadowed)", str(user_review), "the user's own reviewer"],
    ]
    listing = json.loads(ok(run("presets", "list", "--json")).stdout)
    assert listing[-1] == {
        "name": "review",
        "description": "the user's own reviewer",
        "scope": "user",
        "path": str(user_review),
        "shadowed": True,
        "trust": None,
        "error": None,
    }
    assert [entry["name"] for entry in listing if entry["error"]] == ["broken"]
    assert emulator.requests == []


def test_presets_list_with_no_presets_prints_nothing_and_says_where_they_go(
    run: Run, project: Path, user_dir: Path
) -> None:
    result = ok(run("presets", "list"))
    assert result.stdout == ""
    assert (
        result.stderr
        == f"qwen: no presets yet; create one as NAME.yaml in one of: {project / '.qwen' / 'presets'}, {user_dir}\n"
    )
    assert json.loads(ok(run("presets", "list", "--json")).stdout) == []


def test_presets_show_prints_the_file_as_written(run: Run, project: Path) -> None:
    project_preset(project, "review", REVIEW)

    assert ok(run("presets", "show", "review")).stdout == REVIEW
    assert ok(run("presets", "show", ".qwen/presets/review.yaml")).stdout == REVIEW
    document = json.loads(ok(run("presets", "show", "review", "--json")).stdout)
    assert (document["name"], document["text"]) == ("review", REVIEW)
    assert document["values"]["model"] == "qwen3.8-max" and "extends" not in document["values"]


def test_presets_show_resolved_gives_each_value_with_its_file_and_what_falls_to_lower_layers(
    run: Run, project: Path, user_dir: Path, config_file: Path
) -> None:
    base = write(user_dir / "base.yaml", "instructions: |\n  Be exact.\n  Cite sources.\ntemperature: 0.1\n")
    child = project_preset(project, "child", "extends: base\ntemperature: 0.7\nmodel: qwen-max\n")
    write(config_file, "output: text\n")

    result = ok(run("presets", "show", "child", "--resolved", env={"QWEN_BASE_URL": ""}))

    assert result.stdout == (
        f"preset child: {child} -> extends {base}\n"
        "\n"
        f"from {child}:\n"
        "  model: qwen-max\n"
        "  temperature: 0.7\n"
        "\n"
        f"from {base}:\n"
        "  instructions: |\n"
        "    Be exact.\n"
        "    Cite sources.\n"
        "\n"
        "left to lower layers (environment, config file, default) unless a flag sets them:\n"
        "  region: intl  (default)\n"
        f"  base_url: {INTL}  (default)\n"
        f"  output: text  (config file {config_file})\n"
        "\n"
        "not set, so not sent (the server decides) unless a flag sets them: "
        "top_p, think, effort, max_output_tokens, store, session_cache, tools, tool_choice\n"
    )
    document = json.loads(ok(run("presets", "show", "child", "--resolved", "--json")).stdout)
    assert document["values"]["temperature"] == {"value": 0.7, "source": str(child)}
    assert document["values"]["instructions"] == {"value": "Be exact.\nCite sources.\n", "source": str(base)}
    assert document["chain"] == [str(child), str(base)]
    assert "model" not in document["lower_layers"]


def test_presets_show_of_a_broken_or_missing_preset_is_exit_2_and_never_echoes_a_key(run: Run, project: Path) -> None:
    path = project_preset(project, "leaky", f"model: qwen-max\napi_key: {FAKE_KEY}\n")

    for args in (("leaky",), ("leaky", "--resolved"), ("leaky", "--json")):
        result = run("presets", "show", *args)
        assert result.returncode == 2
        assert f"{path}:2: 'api_key': a preset can never hold the API key" in result.stderr
        assert FAKE_KEY not in result.stdout + result.stderr
    result = run("presets", "show", "nothing")
    assert (result.returncode, result.stderr) == (2, "qwen: error: no preset named 'nothing'; available: leaky\n")


def test_presets_path_lists_the_project_then_the_user_directory(
    run: Run, project: Path, user_dir: Path, tmp_path: Path
) -> None:
    (project / "src").mkdir()
    assert ok(run("presets", "path", cwd=project / "src")).stdout == f"{project / '.qwen' / 'presets'}\n{user_dir}\n"

    bare = tmp_path / "bare"
    (bare / ".git").mkdir(parents=True)
    assert ok(run("presets", "path", cwd=bare)).stdout == f"{bare / '.qwen' / 'presets'}\n{user_dir}\n"


# --- qwen config path | init | show ----------------------------------------------------------------------------


def test_config_path_follows_xdg_config_home_then_home(run: Run, config_file: Path, qwen_env: dict[str, str]) -> None:
    assert ok(run("config", "path")).stdout == f"{config_file}\n"
    assert (
        ok(run("config", "path", env={"XDG_CONFIG_HOME": ""})).stdout
        == f"{Path(qwen_env['HOME']) / '.config' / 'qwen' / 'config.yaml'}\n"
    )


def test_config_init_writes_a_private_commented_starter_that_loads_cleanly(run: Run, config_file: Path) -> None:
    result = ok(run("config", "init"))

    assert result.stdout == f"wrote {config_file}\n"
    assert stat.S_IMODE(config_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(config_file.parent.stat().st_mode) == 0o700
    text = config_file.read_text(encoding="utf-8")
    assert "DASHSCOPE_API_KEY" in text and API_KEY not in text and "sk-" not in text
    assert all(line == "" or line.startswith("#") for line in text.splitlines())  # every setting left to its default
    assert {value[1] for value in settings_of(run).values()} <= {"default", "environment QWEN_BASE_URL"}


def test_the_starter_files_settings_uncommented_are_valid_and_are_the_defaults(run: Run, config_file: Path) -> None:
    ok(run("config", "init"))
    defaults = settings_of(run, env={"QWEN_BASE_URL": ""})
    text = config_file.read_text(encoding="utf-8")
    write(config_file, re.sub(r"^# ([a-z_]+: )", r"\1", text, flags=re.MULTILINE))

    uncommented = settings_of(run, env={"QWEN_BASE_URL": ""})

    assert {key: value for key, (value, _) in uncommented.items()} == {
        key: value for key, (value, _) in defaults.items()
    }
    assert {source for _, source in uncommented.values()} == {f"config file {config_file}"}


def test_config_init_twice_refuses_to_overwrite_without_force(run: Run, config_file: Path) -> None:
    ok(run("config", "init"))
    write(config_file, "model: qwen-max\n")

    result = run("config", "init")
    assert (result.returncode, result.stdout) == (2, "")
    assert (
        result.stderr
        == f"qwen: error: {config_file} already exists and was left as it is; use --force to overwrite it\n"
    )
    assert config_file.read_text(encoding="utf-8") == "model: qwen-max\n"

    config_file.chmod(0o644)
    ok(run("config", "init", "--force"))
    assert config_file.read_text(encoding="utf-8").startswith("# qwen's config file")
    assert stat.S_IMODE(config_file.stat().st_mode) == 0o600
    assert [path.name for path in config_file.parent.iterdir()] == ["config.yaml"]  # no temporary file left


def test_config_show_names_the_source_of_every_setting_layer_by_layer(
    run: Run, project: Path, config_file: Path
) -> None:
    write(config_file, "model: qwen-max\ntimeout: 600\nconnect_timeout: 5\nhistory: false\nregion: cn\n")
    preset = project_preset(project, "fast", "model: qwen3.8-flash\noutput: text\n")
    from_file = f"config file {config_file}"

    assert settings_of(run, env={"QWEN_BASE_URL": ""}) == {
        "model": ("qwen-max", from_file),
        "region": ("cn", from_file),
        "base_url": (CN, from_file),
        "timeout": (600, from_file),
        "connect_timeout": (5, from_file),
        "max_retries": (2, "default"),
        "output": ("auto", "default"),
        "history": (False, from_file),
        "stdin_wait": ("auto", "default"),
    }
    env = {"QWEN_MODEL": "qwen-turbo", "QWEN_BASE_URL": "http://127.0.0.1:9/compatible-mode/v1"}
    layered = settings_of(run, env=env)
    assert layered["model"] == ("qwen-turbo", "environment QWEN_MODEL")
    assert layered["base_url"] == ("http://127.0.0.1:9/compatible-mode/v1", "environment QWEN_BASE_URL")
    assert layered["region"] == (None, "environment QWEN_BASE_URL")
    layered = settings_of(run, "-p", "fast", env=env)
    assert (layered["model"], layered["output"]) == (
        ("qwen3.8-flash", f"preset fast ({preset})"),
        ("text", f"preset fast ({preset})"),
    )
    flags = ("-m", "qwen3.8-max", "--region", "intl", "--timeout", "30", "--max-retries", "0", "-o", "jsonl")
    layered = settings_of(run, "-p", "fast", *flags, env=env)
    assert {key: layered[key] for key in ("model", "output", "region", "base_url", "timeout", "max_retries")} == {
        "model": ("qwen3.8-max", "flag --model"),
        "output": ("jsonl", "flag --output"),
        "region": ("intl", "flag --region"),
        "base_url": (INTL, "flag --region"),
        "timeout": (30, "flag --timeout"),
        "max_retries": (0, "flag --max-retries"),
    }


def test_config_show_in_text_has_one_row_per_setting_and_only_says_whether_the_key_is_set(
    run: Run, project: Path, config_file: Path
) -> None:
    preset = project_preset(project, "plain", "output: text\n")

    result = ok(run("config", "show", "-p", "plain", "--base-url", "http://127.0.0.1:9/v1"))

    assert API_KEY not in result.stdout
    assert columns(result.stdout) == [
        ["model", "qwen-plus", "default"],
        ["region", "-", "flag --base-url"],
        ["base_url", "http://127.0.0.1:9/v1", "flag --base-url"],
        ["timeout", "300", "default"],
        ["connect_timeout", "10", "default"],
        ["max_retries", "2", "default"],
        ["output", "text", f"preset plain ({preset})"],
        ["history", "true", "default"],
        ["stdin_wait", "auto", "default"],
        ["api key", "DASHSCOPE_API_KEY set", "environment (the key is never shown)"],
        ["config file", str(config_file), "none yet (qwen config init writes a starter)"],
    ]
    without_key = ok(run("config", "show", "-o", "text", env={"DASHSCOPE_API_KEY": ""}))
    assert "DASHSCOPE_API_KEY not set" in without_key.stdout
    spaced = ok(run("config", "show", "--json", env={"DASHSCOPE_API_KEY": "sk-with a space"}))
    assert json.loads(spaced.stdout)["api_key"]["status"].startswith(
        "set, but unusable: DASHSCOPE_API_KEY holds spaces"
    )
    assert "with a space" not in spaced.stdout


def test_config_show_reports_a_broken_config_file_like_a_broken_preset(
    run: Run, config_file: Path, project: Path
) -> None:
    write(config_file, "model: qwen-max\nmax_retires: 3\n")
    result = run("config", "show")
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == f"qwen: error: {config_file}:2: unknown key 'max_retires'; did you mean 'max_retries'?\n"

    write(config_file, "timeout: [600\n")
    result = run("config", "show")
    assert result.returncode == 2 and result.stderr.startswith(f"qwen: error: {config_file}:2: invalid YAML: ")

    write(config_file, "history: sometimes\n")
    result = run("config", "show", "--json")
    assert result.returncode == 2
    assert json.loads(result.stdout)["error"]["message"] == f"{config_file}:1: 'history' must be bool, not str"


def test_config_show_with_a_broken_or_missing_preset_is_exit_2(run: Run, project: Path) -> None:
    path = project_preset(project, "bad", "effort: extreme\n")

    result = run("config", "show", "-p", "bad")
    assert result.returncode == 2
    assert result.stderr.startswith(f"qwen: error: {path}:1: 'effort' must be one of ")
    result = run("config", "show", "-p", "missing")
    assert (result.returncode, result.stderr) == (2, "qwen: error: no preset named 'missing'; available: bad\n")


def test_a_key_in_the_environment_is_never_in_any_presets_or_config_output(
    run: Run, project: Path, config_file: Path
) -> None:
    project_preset(project, "review", REVIEW)
    ok(run("config", "init"))
    for args in (
        ("config", "show"),
        ("config", "show", "--json"),
        ("presets", "list"),
        ("presets", "show", "review", "--resolved"),
    ):
        result = ok(run(*args))
        assert API_KEY not in result.stdout + result.stderr
    assert API_KEY not in config_file.read_text(encoding="utf-8")


# --- secrets in files other users can read ---------------------------------------------------------------------


def exposure_line(path: Path, held: str) -> str:
    return f"qwen: warning: {path} holds {held} and other users can read it; make it private: chmod 600 {path}\n"


def test_a_readable_config_file_with_a_password_in_base_url_warns_and_the_key_is_still_sent(
    run: Run, config_file: Path, emulator: Emulator
) -> None:
    with_password = emulator.base_url.replace("http://", "http://gateway:hunter22@")
    write(config_file, f"base_url: {with_password}\n").chmod(0o644)
    no_env_url = {"QWEN_BASE_URL": ""}

    result = ok(run("ask", "hi", env=no_env_url))
    assert (result.stdout, result.stderr) == ("You said: hi\n", exposure_line(config_file, "a password in base_url"))
    shown = ok(run("config", "show", env=no_env_url))
    assert shown.stderr == exposure_line(config_file, "a password in base_url")
    assert "gateway:[redacted]@127.0.0.1" in shown.stdout and "hunter22" not in shown.stdout
    dry = ok(run("ask", "--dry-run", "hi", env=no_env_url))
    assert "hunter22" not in dry.stdout + dry.stderr

    config_file.chmod(0o600)
    assert ok(run("ask", "hi", env=no_env_url)).stderr == ""


def test_a_readable_preset_with_literal_mcp_header_values_warns_and_env_values_do_not(
    run: Run, project: Path, emulator: Emulator
) -> None:
    def maps_preset(name: str, header: str) -> Path:
        return project_preset(
            project,
            name,
            (
                "tools:\n"
                "  - type: mcp\n"
                "    server_label: maps\n"
                "    server_url: https://maps.example.com/sse\n"
                f"    headers: {{Authorization: '{header}'}}\n"
            ),
        )

    literal = maps_preset("literal", "Bearer maps-token-7f3a")
    literal.chmod(0o640)
    child = project_preset(project, "child", "extends: literal\nmodel: qwen-max\n")
    child.chmod(0o644)
    maps_preset("from-env", "env:MAPS_TOKEN").chmod(0o644)

    result = ok(run("ask", "-p", "child", "hi"))  # the warning names the file in the chain that holds the value
    assert result.stderr == exposure_line(literal, "MCP header values")
    assert ok(run("presets", "show", "literal")).stderr == exposure_line(literal, "MCP header values")
    assert ok(run("ask", "-p", "from-env", "hi", env={"MAPS_TOKEN": "Bearer t"})).stderr == ""
    literal.chmod(0o600)
    assert ok(run("ask", "-p", "child", "hi")).stderr == ""


def test_a_base_url_password_is_never_shown_however_short_or_wherever_it_is_quoted(run: Run, project: Path) -> None:
    refused = run("ask", "--max-retries", "0", "--base-url", "http://bob:pw@127.0.0.1:1/v1", "hi")
    assert refused.returncode == 4 and "bob:pw" not in refused.stderr
    assert "connection to 127.0.0.1:1 refused" in refused.stderr
    project_preset(project, "typo", "base_url: htps://bob:hunterPW99@gateway.example/v1\n")
    typo = run("ask", "-p", "typo", "hi")
    assert typo.returncode == 2 and "hunterPW99" not in typo.stderr and "bob:[redacted]@gateway.example" in typo.stderr
    project_preset(project, "gateway", "base_url: https://bob:hunterPW99@gateway.example/v1\n").chmod(0o644)
    for args in (("--resolved",), ("--resolved", "--json")):
        shown = ok(run("presets", "show", "gateway", *args))
        assert "hunterPW99" not in shown.stdout and "bob:[redacted]@gateway.example" in shown.stdout
        assert "holds a password in base_url and other users can read it" in shown.stderr
