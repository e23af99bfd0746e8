"""Tests for qwen_cli.settings.config: the one precedence rule across flags, presets, environment, config file and defaults."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from qwen_cli.errors import ExitCode, UsageError
from qwen_cli.modes import OutputMode
from qwen_cli.settings.config import REGIONS, Settings, config_path, read_sources, resolve_settings

INTL = "https://dashscope-intl.aliyuncs.com/compatible-mode/v1"
CN = "https://dashscope.aliyuncs.com/compatible-mode/v1"
US = "https://dashscope-us.aliyuncs.com/compatible-mode/v1"


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """An environment with its own, empty config directory and nothing else set."""
    return {"HOME": str(tmp_path / "home"), "XDG_CONFIG_HOME": str(tmp_path / "xdg")}


def write_config(env: dict[str, str], text: str) -> Path:
    path = Path(env["XDG_CONFIG_HOME"]) / "qwen" / "config.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def resolve(env: dict[str, str], flags: dict[str, Any] | None = None, preset: dict[str, Any] | None = None) -> Settings:
    return resolve_settings(flags or {}, env, preset)


def config_error(env: dict[str, str], text: str, **flags: Any) -> str:
    write_config(env, text)
    with pytest.raises(UsageError) as caught:
        resolve(env, flags)
    assert caught.value.exit_code == ExitCode.USAGE
    return caught.value.message


# --- defaults ------------------------------------------------------------------------------------------------


def test_with_nothing_set_the_built_in_defaults_apply(env: dict[str, str]) -> None:
    settings = resolve(env)

    assert settings == Settings(
        api_key=None,
        base_url=INTL,
        model="qwen-plus",
        connect_timeout=10.0,
        timeout=300.0,
        max_retries=2,
        output="auto",
        history=True,
        sources=settings.sources,
    )
    assert dict(settings.sources) == {
        "history": "default",
        "model": "default",
        "connect_timeout": "default",
        "timeout": "default",
        "max_retries": "default",
        "output": "default",
        "base_url": "default",
        "stdin_wait": "default",
    }


def test_the_regions_are_the_documented_endpoints() -> None:
    assert REGIONS == {"intl": INTL, "cn": CN, "us": US}


def test_the_api_key_comes_from_the_environment_only(env: dict[str, str]) -> None:
    write_config(env, "model: qwen-max\n")
    assert resolve({**env, "DASHSCOPE_API_KEY": "sk-abc"}).api_key == "sk-abc"
    assert resolve({**env, "DASHSCOPE_API_KEY": ""}).api_key is None  # empty is unset, not an empty key


# --- the config file location ---------------------------------------------------------------------------------


def test_the_config_file_lives_under_xdg_config_home(tmp_path: Path) -> None:
    assert config_path({"XDG_CONFIG_HOME": str(tmp_path), "HOME": "/nowhere"}) == tmp_path / "qwen" / "config.yaml"


@pytest.mark.parametrize("xdg", [None, ""])
def test_without_xdg_config_home_the_config_file_is_under_home_dot_config(tmp_path: Path, xdg: str | None) -> None:
    env = {"HOME": str(tmp_path)} if xdg is None else {"HOME": str(tmp_path), "XDG_CONFIG_HOME": xdg}

    assert config_path(env) == tmp_path / ".config" / "qwen" / "config.yaml"


def test_a_config_file_under_home_is_read_when_xdg_is_unset(tmp_path: Path) -> None:
    path = tmp_path / ".config" / "qwen" / "config.yaml"
    path.parent.mkdir(parents=True)
    path.write_text("model: from-home\n", encoding="utf-8")

    assert resolve({"HOME": str(tmp_path)}).model == "from-home"


# --- precedence: flag > preset > environment > config file > default ----------------------------------------


def test_the_config_file_sets_every_setting_it_may_hold(env: dict[str, str]) -> None:
    path = write_config(
        env,
        "model: qwen3.8-max\nregion: cn\ntimeout: 60\nconnect_timeout: 2.5\nmax_retries: 0\noutput: json\nhistory: false\n"
        "stdin_wait: 4\n",
    )
    settings = resolve(env)

    assert (settings.model, settings.base_url, settings.timeout, settings.connect_timeout) == (
        "qwen3.8-max",
        CN,
        60,
        2.5,
    )
    assert (settings.max_retries, settings.output, settings.stdin_wait) == (0, "json", 4)
    assert settings.output is OutputMode.JSON  # chosen once, typed: nothing after compares strings
    assert set(settings.sources.values()) == {f"config file {path}"}


def test_the_config_file_is_read_once_and_settings_resolve_from_what_was_read(env: dict[str, str]) -> None:
    # A turn reads the config file before it knows its preset (the history setting decides whether the parent is
    # looked up), and resolves its settings once the preset is known: from what was read, not from the disk again.
    path = write_config(env, "model: qwen3.8-max\nhistory: false\n")
    sources = read_sources({"timeout": 30}, env)
    path.unlink()

    assert sources.value("history") is False
    settings = sources.resolve({"model": "from-preset"})
    assert (settings.model, settings.timeout, settings.history) == ("from-preset", 30, False)
    assert sources.resolve().sources["model"] == f"config file {path}"


def test_model_precedence_across_every_layer(env: dict[str, str]) -> None:
    path = write_config(env, "model: from-file\n")
    full_env = {**env, "QWEN_MODEL": "from-env"}

    assert resolve(env).model == "from-file"
    assert resolve(env).sources["model"] == f"config file {path}"
    assert resolve(full_env).model == "from-env"
    assert resolve(full_env).sources["model"] == "environment"
    assert resolve(full_env, preset={"model": "from-preset"}).model == "from-preset"
    settings = resolve(full_env, flags={"model": "from-flag"}, preset={"model": "from-preset"})
    assert (settings.model, settings.sources["model"]) == ("from-flag", "flag")


def test_a_flag_left_unset_falls_through_to_the_next_layer(env: dict[str, str]) -> None:
    write_config(env, "timeout: 42\nmax_retries: 5\n")
    settings = resolve(env, flags={"model": None, "timeout": None, "max_retries": 1, "output": None})

    assert (settings.timeout, settings.max_retries, settings.output) == (42, 1, "auto")
    assert (settings.sources["timeout"], settings.sources["max_retries"]) == (f"config file {config_path(env)}", "flag")


@pytest.mark.parametrize("variable", ["QWEN_MODEL", "QWEN_BASE_URL"])
def test_an_empty_environment_variable_counts_as_unset(env: dict[str, str], variable: str) -> None:
    write_config(env, "model: from-file\nbase_url: https://file.example/v1\n")
    settings = resolve({**env, variable: ""})

    assert (settings.model, settings.base_url) == ("from-file", "https://file.example/v1")


def test_flags_with_falsy_values_still_win(env: dict[str, str]) -> None:
    # 0 retries is a choice, not "unset".
    write_config(env, "max_retries: 5\n")

    assert resolve(env, flags={"max_retries": 0}).max_retries == 0


# --- region and base_url at each layer ---------------------------------------------------------------------


@pytest.mark.parametrize("region", ["intl", "cn", "us"])
def test_a_region_flag_picks_its_endpoint(env: dict[str, str], region: str) -> None:
    assert resolve(env, flags={"region": region}).base_url == REGIONS[region]


@pytest.mark.parametrize(
    ("flags", "preset", "environment", "config", "url", "source"),
    [
        # within one layer an explicit base_url beats a region
        ({"region": "cn", "base_url": "https://flag.example/v1"}, {}, {}, "", "https://flag.example/v1", "flag"),
        ({}, {"region": "cn", "base_url": "https://preset.example/v1"}, {}, "", "https://preset.example/v1", "preset"),
        ({}, {}, {}, "region: us\nbase_url: https://file.example/v1\n", "https://file.example/v1", "config"),
        # a higher layer beats a lower one, whichever of the two it names
        ({"region": "cn"}, {}, {"QWEN_BASE_URL": "https://env.example/v1"}, "", CN, "flag"),
        ({}, {"region": "us"}, {"QWEN_BASE_URL": "https://env.example/v1"}, "", US, "preset"),
        ({"base_url": "https://flag.example/v1"}, {"region": "us"}, {}, "", "https://flag.example/v1", "flag"),
        ({}, {}, {"QWEN_BASE_URL": "https://env.example/v1"}, "region: cn\n", "https://env.example/v1", "environment"),
        (
            {},
            {},
            {"QWEN_BASE_URL": "https://env.example/v1"},
            "base_url: https://f.example/v1\n",
            "https://env.example/v1",
            "environment",
        ),
        ({"region": "us"}, {}, {}, "base_url: https://file.example/v1\n", US, "flag"),
        ({}, {}, {}, "region: cn\n", CN, "config"),
        ({}, {}, {}, "", INTL, "default"),
        # unset values in a higher layer do not hide a lower one
        ({"region": None, "base_url": None}, {"base_url": None}, {}, "region: us\n", US, "config"),
    ],
)
def test_region_and_base_url_follow_the_precedence_rule(
    env: dict[str, str],
    flags: dict[str, Any],
    preset: dict[str, Any],
    environment: dict[str, str],
    config: str,
    url: str,
    source: str,
) -> None:
    path = write_config(env, config)
    settings = resolve({**env, **environment}, flags=flags, preset=preset)

    assert settings.base_url == url
    assert settings.sources["base_url"] == (f"config file {path}" if source == "config" else source)


def test_a_trailing_slash_on_the_base_url_is_dropped(env: dict[str, str]) -> None:
    settings = resolve({**env, "QWEN_BASE_URL": "http://127.0.0.1:8765/compatible-mode/v1/"})

    assert settings.base_url == "http://127.0.0.1:8765/compatible-mode/v1"


def test_a_base_url_without_a_scheme_is_a_usage_error_naming_its_source(env: dict[str, str]) -> None:
    with pytest.raises(UsageError) as caught:
        resolve({**env, "QWEN_BASE_URL": "dashscope.aliyuncs.com/compatible-mode/v1"})

    assert caught.value.message == (
        "base URL 'dashscope.aliyuncs.com/compatible-mode/v1' (environment) must start with http:// or https://"
    )


def test_an_unknown_region_in_the_config_file_is_a_usage_error(env: dict[str, str]) -> None:
    path = config_path(env)

    assert config_error(env, "region: eu\n") == f"unknown region 'eu' (config file {path}); choose one of: intl, cn, us"


# --- config file errors ------------------------------------------------------------------------------------


def test_an_unknown_key_names_the_file_line_and_a_suggestion(env: dict[str, str]) -> None:
    path = config_path(env)

    assert config_error(env, "model: qwen-max\n\nmodle: qwen-plus\n") == (
        f"{path}:3: unknown key 'modle'; did you mean 'model'?"
    )


def test_an_unknown_key_with_no_close_match_lists_the_valid_keys(env: dict[str, str]) -> None:
    path = config_path(env)

    assert config_error(env, "colour: blue\n") == (
        f"{path}:1: unknown key 'colour'; valid keys: model, region, base_url, connect_timeout, timeout, max_retries, output, history, stdin_wait, prices"
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("model: qwen\ntimeout: fast\n", ":2: 'timeout' must be int or float, not str"),
        ("max_retries: 2.5\n", ":1: 'max_retries' must be int, not float"),
        ("max_retries: true\n", ":1: 'max_retries' must be int, not bool"),  # a bool is an int to Python, not to us
        ("connect_timeout: yes\n", ":1: 'connect_timeout' must be int or float, not bool"),
        ("model: 3\n", ":1: 'model' must be str, not int"),
        ("model: [a, b]\n", ":1: 'model' must be str, not list"),
    ],
)
def test_a_value_of_the_wrong_type_names_the_file_line_and_key(env: dict[str, str], text: str, message: str) -> None:
    assert config_error(env, text) == f"{config_path(env)}{message}"


def test_a_yaml_syntax_error_names_the_file_and_line(env: dict[str, str]) -> None:
    path = config_path(env)

    assert config_error(env, "model: qwen\ntimeout: 10\n  region: cn\n") == (
        f"{path}:3: invalid YAML: mapping values are not allowed here"
    )


def test_a_config_file_that_is_not_a_mapping_is_a_usage_error(env: dict[str, str]) -> None:
    assert config_error(env, "- model\n- qwen\n") == f"{config_path(env)}: expected a mapping (key: value), found list"


def test_a_config_file_that_is_not_utf8_is_a_usage_error(env: dict[str, str]) -> None:
    path = write_config(env, "")
    path.write_bytes(b"model: caf\xe9\n")

    with pytest.raises(UsageError) as caught:
        resolve(env)
    assert caught.value.message == f"{path} is not UTF-8 text"


def test_an_empty_config_file_is_no_config(env: dict[str, str]) -> None:
    write_config(env, "# nothing yet\n")

    assert resolve(env).model == "qwen-plus"


def test_a_config_error_is_reported_even_when_flags_override_the_key(env: dict[str, str]) -> None:
    # A broken config file is always worth knowing about, not only when its value would be used.
    assert config_error(env, "modle: x\n", model="qwen-max").endswith("unknown key 'modle'; did you mean 'model'?")


# --- values that cannot work -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        ({"timeout": 0}, "timeout must be a positive number of seconds, got 0 (flag)"),
        ({"timeout": -5.0}, "timeout must be a positive number of seconds, got -5.0 (flag)"),
        ({"max_retries": -1}, "max_retries must be 0 or more, got -1 (flag)"),
        ({"output": "xml"}, "output must be one of auto, pretty, text, json, jsonl, got 'xml' (flag)"),
        ({"model": "  "}, "the model name is empty (flag)"),
    ],
)
def test_settings_that_cannot_work_are_usage_errors_naming_their_source(
    env: dict[str, str], flags: dict[str, Any], message: str
) -> None:
    with pytest.raises(UsageError) as caught:
        resolve(env, flags)
    assert caught.value.message == message


def test_a_bad_value_in_the_config_file_names_the_file(env: dict[str, str]) -> None:
    assert config_error(env, "connect_timeout: 0\n") == (
        f"connect_timeout must be a positive number of seconds, got 0 (config file {config_path(env)})"
    )


def test_the_config_file_can_turn_the_history_off(env: dict[str, str]) -> None:
    write_config(env, "history: false\n")
    assert resolve(env).history is False
    assert "'history' must be bool" in config_error(env, "history: sometimes\n")
