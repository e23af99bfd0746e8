"""Settings: built-in defaults, the config file and the environment, merged by the one precedence rule.

flag > preset > environment > config file > built-in default: the first layer that sets a value wins.
Knows nothing of flags' spelling or of HTTP; yaml is imported only when a config file exists.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qwen_cli.errors import AuthError, UsageError
from qwen_cli.modes import OUTPUT_MODES, OutputMode
from qwen_cli.redaction import shown_url
from qwen_cli.settings.prices import NO_PRICES, Prices, parse_prices

REGIONS: dict[str, str] = {
    "intl": "https://dashscope-intl.aliyuncs.com/compatible-mode/v1",
    "cn": "https://dashscope.aliyuncs.com/compatible-mode/v1",
    "us": "https://dashscope-us.aliyuncs.com/compatible-mode/v1",
}
API_KEY_ENV = "DASHSCOPE_API_KEY"
# Where keys are made; a key works in its own region only (the international console serves intl and us).
KEY_CONSOLES: dict[str, str] = {
    "intl": "https://modelstudio.console.alibabacloud.com/",
    "cn": "https://bailian.console.aliyun.com/",
}

DEFAULTS: dict[str, Any] = {
    "model": "qwen-plus",
    "region": "intl",
    "base_url": None,
    "connect_timeout": 10.0,
    "timeout": 300.0,
    "max_retries": 2,
    "output": OutputMode.AUTO,
    "history": True,
    "stdin_wait": None,  # None: by who holds the pipe (see cli/stdin_source.py)
}
# The environment variables that set a setting (the API key is handled apart: it is never a "setting").
ENVIRONMENT: dict[str, str] = {"QWEN_MODEL": "model", "QWEN_BASE_URL": "base_url"}
# What the config file may hold, with the type each key must have.
CONFIG_KEYS: dict[str, tuple[type, ...]] = {
    "model": (str,),
    "region": (str,),
    "base_url": (str,),
    "connect_timeout": (int, float),
    "timeout": (int, float),
    "max_retries": (int,),
    "output": (str,),
    "history": (bool,),
    "stdin_wait": (int, float, str),  # seconds, or "auto"
    "prices": (dict,),  # model -> {input, output, cached} per 1M tokens, for estimates (settings/prices.py)
}


@dataclass(frozen=True)
class Settings:
    """Everything a request needs that is not part of the request body."""

    api_key: str | None
    base_url: str
    model: str
    connect_timeout: float
    timeout: float
    max_retries: int
    output: OutputMode
    history: bool = True
    stdin_wait: float | None = None  # seconds an idle stdin may stay silent; None: decided by who writes to it
    sources: Mapping[str, str] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()  # for the user, about the files the settings came from


@dataclass(frozen=True)
class Layer:
    """One source of settings, named for `config show` and error messages."""

    name: str
    values: Mapping[str, Any]
    warnings: tuple[str, ...] = ()


def config_path(env: Mapping[str, str]) -> Path:
    base = env.get("XDG_CONFIG_HOME") or str(Path(env.get("HOME") or Path.home()) / ".config")
    return Path(base) / "qwen" / "config.yaml"


def data_dir(env: Mapping[str, str]) -> Path:
    """qwen's folder for what it keeps between runs: the history, the record of trusted projects."""
    base = env.get("XDG_DATA_HOME") or str(Path(env.get("HOME") or Path.home()) / ".local" / "share")
    return Path(base) / "qwen"


def environment_layer(env: Mapping[str, str]) -> Layer:
    # An empty variable counts as unset: `QWEN_MODEL= qwen ask` must not send an empty model.
    return Layer("environment", {key: env[var] for var, key in ENVIRONMENT.items() if env.get(var)})


def config_file_layer(path: Path) -> Layer:
    if not path.is_file():
        return Layer("config file", {})
    from qwen_cli.settings.exposure import exposure_warning

    values, lines = load_yaml_mapping(path)
    check_keys(values, lines, path, CONFIG_KEYS)
    if "prices" in values:  # checked with the rest, so a mistake in it is found whatever the command
        values["prices"] = parse_prices(values["prices"], f"{path}:{lines.get('prices', '?')}")
    warning = exposure_warning(path, values)
    return Layer(f"config file {path}", values, (warning,) if warning else ())


def configured_prices(env: Mapping[str, str]) -> Prices:
    """The model prices of the config file (none when it gives none), for estimates of what tokens cost."""
    return prices_of(config_file_layer(config_path(env)))


def prices_of(layer: Layer) -> Prices:
    prices = layer.values.get("prices")
    return prices if isinstance(prices, Prices) else NO_PRICES


def load_yaml_mapping(path: Path) -> tuple[dict[str, Any], dict[str, int]]:
    """Read a YAML file that must hold a mapping; return it with the line number of each top-level key."""
    from qwen_cli.bounds import MAX_TEXT_BYTES, MIB
    from qwen_cli.settings import yamlfile

    try:
        with path.open("rb") as file:
            data = file.read(MAX_TEXT_BYTES + 1)  # bounded: a preset may be a link to /dev/zero
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from exc
    if len(data) > MAX_TEXT_BYTES:
        raise UsageError(
            f"{path} holds more than {MAX_TEXT_BYTES // MIB} MiB, the limit for a settings file; is it the right file?"
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(f"{path} is not UTF-8 text") from exc
    return yamlfile.parse_mapping(text, str(path))


def check_keys(
    values: Mapping[str, Any], lines: Mapping[str, int], path: Path, allowed: Mapping[str, tuple[type, ...]]
) -> None:
    """Unknown keys and wrong types are errors that name the file, the line and the key."""
    for key, value in values.items():
        where = f"{path}:{lines.get(str(key), '?')}"
        if key not in allowed:
            close = difflib.get_close_matches(str(key), list(allowed), n=1)
            hint = f"; did you mean '{close[0]}'?" if close else f"; valid keys: {', '.join(allowed)}"
            raise UsageError(f"{where}: unknown key '{key}'{hint}")
        types = allowed[key]
        if isinstance(value, bool) and bool not in types or not isinstance(value, types):
            wanted = " or ".join(t.__name__ for t in types)
            raise UsageError(f"{where}: '{key}' must be {wanted}, not {type(value).__name__}")


def first_set(key: str, layers: list[Layer]) -> tuple[Any, str]:
    """The one precedence rule: the first layer holding a non-None value for `key` wins."""
    for layer in layers:
        value = layer.values.get(key)
        if value is not None:
            return value, layer.name
    return DEFAULTS.get(key), "default"


def resolve_base_url(layers: list[Layer]) -> tuple[str, str]:
    """Within a layer an explicit base_url beats a region; a higher layer beats a lower one."""
    for layer in [*layers, Layer("default", DEFAULTS)]:
        if layer.values.get("base_url"):
            return check_base_url(str(layer.values["base_url"]), layer.name), layer.name
        region = layer.values.get("region")
        if region is not None:
            if region not in REGIONS:
                raise UsageError(f"unknown region '{region}' ({layer.name}); choose one of: {', '.join(REGIONS)}")
            return REGIONS[region], layer.name
    raise AssertionError("the defaults always name a region")


def check_base_url(url: str, source: str) -> str:
    if not url.startswith(("http://", "https://")):
        raise UsageError(f"base URL '{shown_url(url)}' ({source}) must start with http:// or https://")
    return url.rstrip("/")


@dataclass(frozen=True)
class SettingSources:
    """The layers around a preset, read once per command: the flags above it; the environment and the config file
    (read from disk here, once) below it. A turn resolves its settings from these when its preset is known."""

    flags: Layer
    environment: Layer
    config_file: Layer
    api_key: str | None

    def value(self, key: str) -> Any:
        """A setting no preset can set (`history`), without resolving the rest."""
        return first_set(key, [self.flags, self.environment, self.config_file])[0]

    def resolve(self, preset: Mapping[str, Any] | None = None) -> Settings:
        layers = [self.flags, Layer("preset", preset or {}), self.environment, self.config_file]
        values: dict[str, Any] = {}
        sources: dict[str, str] = {}
        for key in ("model", "connect_timeout", "timeout", "max_retries", "output", "history", "stdin_wait"):
            values[key], sources[key] = first_set(key, layers)
        values["base_url"], sources["base_url"] = resolve_base_url(layers)
        check_settings(values, sources)
        values["output"] = OutputMode(values["output"])
        values["stdin_wait"] = None if values["stdin_wait"] == "auto" else values["stdin_wait"]
        return Settings(api_key=self.api_key, sources=sources, warnings=self.config_file.warnings, **values)


def read_sources(flags: Mapping[str, Any], env: Mapping[str, str]) -> SettingSources:
    config_file = config_file_layer(config_path(env))
    return SettingSources(Layer("flag", flags), environment_layer(env), config_file, api_key_from(env))


def resolve_settings(
    flags: Mapping[str, Any], env: Mapping[str, str], preset: Mapping[str, Any] | None = None
) -> Settings:
    return read_sources(flags, env).resolve(preset)


def api_key_from(env: Mapping[str, str]) -> str | None:
    """The key as the environment holds it, less surrounding white space (a key file's trailing newline).

    Anything else that is not plain printable ASCII would end up in an HTTP error message that quotes the
    header, so it is refused here, without ever showing the value.
    """
    key = (env.get(API_KEY_ENV) or "").strip()
    if key and not all("!" <= character <= "~" for character in key):
        raise AuthError(
            f"{API_KEY_ENV} holds spaces, control characters or non-ASCII characters; set it to the key alone"
        )
    return key or None


def require_key(settings: Settings) -> str:
    """The key a request sends; without one, the error that says where keys are made and how to try qwen without."""
    if settings.api_key:
        return settings.api_key
    raise AuthError(
        f"{API_KEY_ENV} is not set; create a key in the Model Studio console ({KEY_CONSOLES['intl']} for --region"
        f" intl, the default, and us; {KEY_CONSOLES['cn']} for --region cn; a key works only in its own region),"
        f" then: export {API_KEY_ENV}=sk-...; to try qwen without a key: qwen emulator, or --dry-run to print the"
        " request instead of sending it"
    )


def check_settings(values: Mapping[str, Any], sources: Mapping[str, str]) -> None:
    for key in ("connect_timeout", "timeout"):
        if not math.isfinite(values[key]) or values[key] <= 0:
            raise UsageError(f"{key} must be a positive number of seconds, got {values[key]} ({sources[key]})")
    wait = values.get("stdin_wait")
    if wait is not None and wait != "auto" and (isinstance(wait, str) or not (math.isfinite(wait) and wait >= 0)):
        raise UsageError(f"stdin_wait must be 0 or more seconds, or auto, got {wait} ({sources['stdin_wait']})")
    if values["max_retries"] < 0:
        raise UsageError(f"max_retries must be 0 or more, got {values['max_retries']} ({sources['max_retries']})")
    if values["output"] not in OUTPUT_MODES:
        raise UsageError(
            f"output must be one of {', '.join(OUTPUT_MODES)}, got '{values['output']}' ({sources['output']})"
        )
    if not str(values["model"]).strip():
        raise UsageError(f"the model name is empty ({sources['model']})")
