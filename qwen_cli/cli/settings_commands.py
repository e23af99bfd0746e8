"""`qwen presets` and `qwen config`: which presets exist and what they hold, which settings apply and why.

Part of the cli layer. Offline: reads files, never the network; the API key
is never printed, only whether it is set.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer

from qwen_cli.cli.flags import (
    MODEL,
    BaseUrlOption,
    OutputOption,
    RegionOption,
    RetriesOption,
    TimeoutOption,
    option,
    with_flags,
)
from qwen_cli.cli.help_format import CommandGroup
from qwen_cli.cli.terminal import error_boundary
from qwen_cli.cli.world import World
from qwen_cli.errors import AuthError, UsageError
from qwen_cli.settings.config import (
    API_KEY_ENV,
    ENVIRONMENT,
    REGIONS,
    Settings,
    api_key_from,
    config_path,
    resolve_settings,
)

if TYPE_CHECKING:
    from qwen_cli.settings.presets import Preset, PresetInfo

presets_app = CommandGroup(
    help="""Saved ways of asking: YAML presets for -p/--preset.

    \b
    Examples:
      qwen presets list
      qwen presets show review --resolved
      qwen presets trust       # once you have read a cloned project's presets
      qwen ask -p review -f app.py "focus on error handling"
    """,
    no_args_is_help=True,
)
config_app = CommandGroup(
    help="""The settings in effect and where each comes from; the config file.

    \b
    Examples:
      qwen config show
      QWEN_MODEL=qwen3.8-flash qwen config show -p review --region cn
      qwen config init && "${EDITOR:-vi}" "$(qwen config path)"
    """,
    short_help="The settings in effect and their sources; the config file.",
    no_args_is_help=True,
)

Json = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]
PresetRef = Annotated[
    str, typer.Argument(metavar="NAME|PATH", help="A preset name, or the path of a preset file.", show_default=False)
]

SETTINGS_ORDER = (
    "model",
    "region",
    "base_url",
    "timeout",
    "connect_timeout",
    "max_retries",
    "output",
    "history",
    "stdin_wait",
)
STARTER = """\
# qwen's config file: the lowest layer of settings, below flags, presets and the environment.
# Precedence: flag > preset > environment > config file > built-in default.
# Every line below is commented out, so the built-in default applies; uncomment a line to change it.
# `qwen config show` prints each setting in effect and where it comes from.
#
# The API key never goes in this file: set DASHSCOPE_API_KEY in the environment.

# The model a request uses (flag -m/--model, environment QWEN_MODEL).
# model: qwen-plus

# The endpoint region: intl (Singapore), cn (Beijing) or us (Virginia). An API key is bound to a region.
# region: intl

# A whole endpoint instead of a region (environment QWEN_BASE_URL); it wins over region.
# base_url: https://dashscope-intl.aliyuncs.com/compatible-mode/v1

# Seconds to wait for the server to send something (flag --timeout); thinking models are slow.
# timeout: 300

# Seconds to wait for a connection to open.
# connect_timeout: 10

# Retries of transient failures: network, 429, 5xx (flag --max-retries).
# max_retries: 2

# Output mode: auto (pretty on a terminal, else text), pretty, text, json or jsonl (flag -o/--output).
# output: auto

# Record each response in the local history (flag --no-history turns it off for one request).
# history: true

# Seconds an open but idle stdin may stay silent when a prompt is given (flag --stdin-wait); auto is 1,
# or 10 where qwen cannot see who writes it. A producer beside qwen in a pipeline is waited for to its end.
# stdin_wait: auto

# Prices per 1M tokens, for the cost estimate of `qwen history usage` (an estimate, not a bill): input, output
# and cached (input read from the context cache; left out, it costs the input price). currency is a label only.
# Batch API results are priced at half the input and output price. Example numbers: take yours from the
# provider's price list.
# prices:
#   currency: USD
#   qwen-plus: {input: 0.4, output: 1.2, cached: 0.08}
"""


@dataclass(frozen=True)
class LayerFlags:
    """The flags of `config show`: the flag layer of every setting, to see what each would change.

    `--json` is not among them: for `config show` it asks for JSON on stdout, not for the output setting `json`.
    """

    preset: Annotated[
        Optional[str],
        option(
            "-p", "--preset", metavar="NAME|PATH", help="Add this preset's layer, as -p on a request does.", panel=MODEL
        ),
    ] = None
    model: Annotated[
        Optional[str], option("-m", "--model", metavar="MODEL", help="Model id, as -m on a request.", panel=MODEL)
    ] = None
    # The request commands' own declarations, reused.
    output: OutputOption = None
    region: RegionOption = None
    base_url: BaseUrlOption = None
    timeout: TimeoutOption = None
    max_retries: RetriesOption = None

    def setting_values(self) -> dict[str, Any]:
        values = {
            "model": self.model,
            "base_url": self.base_url,
            "timeout": self.timeout,
            "max_retries": self.max_retries,
        }
        return {**values, "region": self.region, "output": self.output}


# --- qwen presets ----------------------------------------------------------------------------------------------


@presets_app.command("list")
def presets_list(as_json: Json = False) -> None:
    """List the presets: name, project or user, file and description.

    A project preset says whether its project is trusted, untrusted or changed since trusted (see qwen presets
    trust). A user preset hidden by a project preset of the same name is marked shadowed; a file that does not
    load is listed with its error.

    \b
    Examples:
      qwen presets list
      qwen presets list --json | jq -r '.[] | select(.error) | .path'
    """
    from qwen_cli.settings.presets import list_presets

    world = World.of_process()
    with error_boundary(world, debug=False, json_errors=as_json):
        infos = list_presets(world.cwd, world.env)
        if as_json:
            print_json([info_json(info) for info in infos], world)
        elif infos:
            world.print_for_screen(table([info_row(info) for info in infos]))
            note_untrusted(infos, world)
        else:
            world.note(
                f"no presets yet; create one as NAME.yaml in one of: {', '.join(map(str, presets_path_list(world)))}"
            )


@presets_app.command("show")
def presets_show(
    preset: PresetRef,
    resolved: Annotated[
        bool,
        typer.Option(
            "--resolved", help="After extends, with the file each value comes from and what falls to lower layers."
        ),
    ] = False,
    as_json: Json = False,
) -> None:
    """Print a preset as written, or as a request uses it (--resolved).

    An untrusted project preset is shown as written (with a note), but --resolved needs the project trusted.

    \b
    Examples:
      qwen presets show review
      qwen presets show review --resolved
      qwen presets show ./presets/commit.yaml --json
    """
    from qwen_cli.settings.presets import UntrustedPreset, load_preset, require_trusted

    world = World.of_process()
    with error_boundary(world, debug=False, json_errors=as_json):
        cwd = world.cwd
        # A broken file is exit 2, one holding a key is never echoed; as written, it is only read, like `cat`.
        loaded = load_preset(preset, cwd, world.env, check_trust=resolved)
        world.note_all(loaded.warnings)
        try:
            require_trusted(loaded.source, world.env)
        except UntrustedPreset as untrusted:
            world.note(f"note: {untrusted.message}")
        if resolved:
            view = resolved_document(loaded, world.env)
            print_json(view, world) if as_json else world.print_for_screen(resolved_text(view))
            return
        as_written = read_text(loaded.source)
        print_json(own_document(preset, loaded.source, as_written), world) if as_json else world.print_for_screen(
            as_written, end="" if as_written.endswith("\n") else "\n"
        )


@presets_app.command("path", short_help="Print the directories searched for presets, in order.")
def presets_path() -> None:
    """Print the directories searched for presets, in order, one per line.

    First the project's, then the user's. The project's is the nearest .qwen/presets from the current
    directory upwards (stopping at a repository root or the home directory), or ./.qwen/presets where
    one would go.

    \b
    Examples:
      qwen presets path
      mkdir -p "$(qwen presets path | tail -1)"
    """
    world = World.of_process()
    for directory in presets_path_list(world):
        print(directory, file=world.stdout)


ProjectDir = Annotated[
    Optional[str],
    typer.Argument(
        metavar="[DIR]", help="The project (or a folder in it); by default the one found from here.", show_default=False
    ),
]


@presets_app.command("trust", short_help="Trust a project's presets as they are now, so -p may use them.")
def presets_trust(directory: ProjectDir = None) -> None:
    """Trust a project's presets (its .qwen/presets) as they are now, so -p may use them.

    A project's presets come with the repository and can send your key to any server (base_url) or run programs
    (--run-tools), so they are used only once trusted. The record keeps a digest of every preset file: a file
    changed, added or removed needs trusting again.

    \b
    Examples:
      qwen presets trust
      qwen presets trust ~/src/app
    """
    from qwen_cli.settings import trust

    world = World.of_process()
    with error_boundary(world, debug=False, json_errors=False):
        root = project_root(directory, world)
        files = trust.trust(root, world.env)
        print(f"trusted the presets of {root}: {', '.join(files) or 'none yet'}", file=world.stdout)


@presets_app.command("untrust", short_help="Forget a project's trust: -p refuses its presets again.")
def presets_untrust(directory: ProjectDir = None) -> None:
    """Forget that a project's presets are trusted; -p refuses them again.

    \b
    Examples:
      qwen presets untrust
      qwen presets untrust ~/src/app
    """
    from qwen_cli.settings import trust

    world = World.of_process()
    with error_boundary(world, debug=False, json_errors=False):
        key = recorded_key(directory, world) or trust.project_key(project_root(directory, world))
        print(
            f"untrusted the presets of {key}"
            if trust.untrust(key, world.env)
            else f"{key} was not trusted; nothing to do",
            file=world.stdout,
        )


def project_root(directory: str | None, world: World) -> Path:
    """The project whose presets `trust` means: the nearest .qwen/presets from DIR (or here) upwards."""
    from qwen_cli.settings.presets import project_presets_dir

    start = Path(directory) if directory else world.cwd
    if not start.is_dir():
        raise UsageError(f"{start} is not a directory; give the project's directory")
    found = project_presets_dir(start, world.env)
    if found is None:
        raise UsageError(
            f"no project presets found from {start.absolute()}: a project keeps them in .qwen/presets (a folder of yours)"
        )
    return found.parent.parent.absolute()


def recorded_key(directory: str | None, world: World) -> str | None:
    """A directory given to `untrust` that is itself recorded: forgotten even when the project is gone."""
    from qwen_cli.settings import trust

    if not directory:
        return None
    key = str(Path(directory).absolute().resolve())
    return key if trust.is_recorded(key, world.env) else None


def presets_path_list(world: World) -> list[Path]:
    from qwen_cli.settings.presets import presets_dirs

    return presets_dirs(world.cwd, world.env)


def note_untrusted(infos: list[PresetInfo], world: World) -> None:
    import shlex

    waiting = next((info for info in infos if info.trust in ("untrusted", "changed")), None)
    if waiting is not None:
        root = waiting.source.parent.parent.parent
        world.note(
            f"note: -p refuses this project's presets until you review them and run: qwen presets trust {shlex.quote(str(root))}"
        )


def info_json(info: PresetInfo) -> dict[str, Any]:
    return {
        "name": info.name,
        "description": info.description,
        "scope": info.scope,
        "path": str(info.source),
        "shadowed": info.shadowed,
        "trust": info.trust,
        "error": info.error,
    }


def info_row(info: PresetInfo) -> list[str]:
    trust = "changed since trusted" if info.trust == "changed" else info.trust
    marks = [*([trust] if trust else []), *(["shadowed"] if info.shadowed else [])]
    scope = f"{info.scope} ({', '.join(marks)})" if marks else info.scope
    about = f"error: {info.error}" if info.error else info.description or ""
    return [info.name, scope, str(info.source), about]


def read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise UsageError(f"{path} is not UTF-8 text") from exc


def own_document(ref: str, path: Path, as_written: str) -> dict[str, Any]:
    from qwen_cli.settings.presets import is_path, read_preset_file

    values, _ = read_preset_file(path)
    return {"name": path.stem if is_path(ref) else ref, "path": str(path), "text": as_written, "values": values}


def resolved_document(preset: Preset, env: Mapping[str, str]) -> dict[str, Any]:
    """The preset after `extends`: each value with its file, then the settings and body options it leaves
    to lower layers (settings resolved as a request without flags would resolve them)."""
    from qwen_cli.settings.presets import REQUEST_KEYS, preset_settings, resolved_view

    settings = resolve_without_key(env, {}, preset_settings(preset))
    lower = {
        key: {"value": settings_value(settings, key), "source": source_name(key, layer_of(settings, key), None, None)}
        for key in ("model", "region", "base_url", "output")
        if layer_of(settings, key) != "preset"
    }
    return {
        "name": preset.name,
        "path": str(preset.source),
        "chain": [str(path) for path in preset.chain],
        "values": resolved_view(preset),
        "lower_layers": lower,
        "not_sent": [key for key in REQUEST_KEYS if getattr(preset, key) is None],
    }


def resolved_text(view: Mapping[str, Any]) -> str:
    lines = [f"preset {view['name']}: " + " -> extends ".join(view["chain"])]
    for path in view["chain"]:
        own = [(key, entry["value"]) for key, entry in view["values"].items() if entry["source"] == path]
        if own:
            lines += ["", f"from {path}:", *(line for key, value in own for line in yaml_like(key, value))]
    if view["lower_layers"]:
        lines += ["", "left to lower layers (environment, config file, default) unless a flag sets them:"]
        lines += [
            f"  {key}: {shown(entry['value'])}  ({entry['source']})" for key, entry in view["lower_layers"].items()
        ]
    if view["not_sent"]:
        lines += [
            "",
            f"not set, so not sent (the server decides) unless a flag sets them: {', '.join(view['not_sent'])}",
        ]
    return "\n".join(lines)


def yaml_like(key: str, value: Any) -> list[str]:
    """One value as it reads in a preset file: text with a line break as a block, the rest inline."""
    if isinstance(value, str) and "\n" in value:
        return [f"  {key}: |", *(f"    {line}" if line else "" for line in value.rstrip("\n").split("\n"))]
    return [f"  {key}: {shown(value)}"]


# --- qwen config -----------------------------------------------------------------------------------------------


@config_app.command("show")
@with_flags(LayerFlags)
def config_show(as_json: Json = False, *, flags: LayerFlags) -> None:
    """Print every setting in effect and where it comes from.

    Each source is named: default, config file PATH, environment VARIABLE, preset NAME (FILE) or flag.
    Give flags and -p to see what each layer changes. The API key is never shown, only whether
    DASHSCOPE_API_KEY is set. An error in the config file or the preset is exit 2.

    \b
    Examples:
      qwen config show
      qwen config show -p review
      qwen config show --region cn -o text
      qwen config show --json | jq -r .settings.model.value
    """
    from qwen_cli.settings.presets import load_preset, preset_settings

    world = World.of_process()
    with error_boundary(world, debug=False, json_errors=as_json):
        preset = load_preset(flags.preset, world.cwd, world.env) if flags.preset else None
        settings = resolve_without_key(world.env, flags.setting_values(), preset_settings(preset) if preset else None)
        world.note_all((*settings.warnings, *(preset.warnings if preset else ())))
        view = settings_document(settings, flags, preset, world.env)
        print_json(view, world) if as_json else world.print_for_screen(settings_text(view))


@config_app.command("path")
def config_path_command() -> None:
    """Print where the config file is (whether or not it exists yet).

    \b
    Examples:
      qwen config path
      "${EDITOR:-vi}" "$(qwen config path)"
    """
    world = World.of_process()
    print(config_path(world.env), file=world.stdout)


@config_app.command("init")
def config_init(
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing config file.")] = False,
) -> None:
    """Write a commented starter config file (never with a key).

    The file is readable by you alone (0600). An existing file is left alone unless --force is given.

    \b
    Examples:
      qwen config init
      qwen config init --force
    """
    world = World.of_process()
    with error_boundary(world, debug=False, json_errors=False):
        path = config_path(world.env)
        write_private(path, STARTER, force)
        print(f"wrote {path}", file=world.stdout)


def resolve_without_key(env: Mapping[str, str], flags: Mapping[str, Any], preset: Mapping[str, Any] | None) -> Settings:
    """Settings as a request would resolve them; the key is left out, so showing settings never touches it."""
    return resolve_settings(flags, {name: value for name, value in env.items() if name != API_KEY_ENV}, preset)


def settings_document(
    settings: Settings, flags: LayerFlags, preset: Preset | None, env: Mapping[str, str]
) -> dict[str, Any]:
    rows = {
        key: {
            "value": settings_value(settings, key),
            "source": source_name(key, layer_of(settings, key), flags, preset),
        }
        for key in SETTINGS_ORDER
    }
    return {
        "settings": rows,
        "api_key": {"variable": API_KEY_ENV, "status": key_status(env)},
        "config_file": str(config_path(env)),
        "prices": prices_document(env),
        "preset": {"name": preset.name, "path": str(preset.source)} if preset is not None else None,
    }


def prices_document(env: Mapping[str, str]) -> dict[str, Any]:
    """The config file's model prices (per 1M tokens), for `qwen history usage` and the batch summaries."""
    from qwen_cli.settings.config import configured_prices

    prices = configured_prices(env)
    models = {model: dict(vars(price)) for model, price in sorted(prices.models.items())}
    return {"currency": prices.currency, "per_tokens": 1_000_000, "models": models}


def layer_of(settings: Settings, key: str) -> str:
    return settings.sources["base_url" if key == "region" else key]  # a region and a base URL are one setting


def settings_value(settings: Settings, key: str) -> Any:
    if key == "region":  # the region the base URL belongs to, if it is one of theirs
        return next((name for name, url in REGIONS.items() if url == settings.base_url), None)
    if key == "base_url":
        from qwen_cli.redaction import shown_url

        return shown_url(settings.base_url)
    if key == "stdin_wait" and settings.stdin_wait is None:
        return "auto"
    return getattr(settings, key)


def source_name(key: str, layer: str, flags: LayerFlags | None, preset: Preset | None) -> str:
    """The layer a value came from, made precise: which flag, which variable, which preset file."""
    if layer == "flag" and flags is not None:
        return f"flag {flag_name(key, flags)}"
    if layer == "environment":
        setting = "base_url" if key == "region" else key
        return " ".join(["environment", *(name for name, target in ENVIRONMENT.items() if target == setting)])
    if layer == "preset" and preset is not None:
        file = preset.sources.get(key) or preset.sources.get("region" if key == "base_url" else "base_url")
        return f"preset {preset.name} ({file})"
    return layer


def flag_name(key: str, flags: LayerFlags) -> str:
    if key in ("region", "base_url"):
        return "--base-url" if flags.base_url else "--region"
    return "--" + key.replace("_", "-")


def key_status(env: Mapping[str, str]) -> str:
    try:
        return "set" if api_key_from(env) else "not set"
    except AuthError as error:
        return f"set, but unusable: {error.message}"


def settings_text(view: Mapping[str, Any]) -> str:
    rows = [[key, shown(entry["value"]), entry["source"]] for key, entry in view["settings"].items()]
    rows.append(["api key", f"{API_KEY_ENV} {view['api_key']['status']}", "environment (the key is never shown)"])
    found = Path(view["config_file"]).is_file()
    rows.append(
        ["config file", view["config_file"], "found" if found else "none yet (qwen config init writes a starter)"]
    )
    prices = view["prices"]
    if prices["models"]:
        unit = f"{prices['currency']} per 1M tokens" if prices["currency"] else "per 1M tokens"
        rows.append(["prices", f"{', '.join(prices['models'])} ({unit})", "config file"])
    return table(rows)


def write_private(path: Path, text: str, force: bool) -> None:
    """Write `text` readable by its owner alone (0600; a new parent directory 0700). Without `force` an existing
    file is an error; with it the file is replaced whole, never left half written."""
    if path.is_dir():
        raise UsageError(f"{path} is a directory, not a config file")
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        from qwen_cli.settings.files import replace_private

        replace_private(path, text) if force else create_private(path, text)
    except FileExistsError:
        raise UsageError(f"{path} already exists and was left as it is; use --force to overwrite it") from None
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from exc


def create_private(path: Path, text: str) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # O_EXCL: never clobber, even in a race
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(text)


# --- shared ----------------------------------------------------------------------------------------------------


def shown(value: Any) -> str:
    """A value for a person: text as it is, true/false, whole numbers without '.0', anything else as JSON."""
    if value is None:
        return "-"
    if isinstance(value, str):
        return value
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return json.dumps(value, ensure_ascii=False)


def table(rows: list[list[str]]) -> str:
    """Rows in columns two spaces apart; the last column is not padded."""
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]) - 1)]
    return "\n".join(
        "  ".join([*(cell.ljust(width) for cell, width in zip(row, widths)), row[-1]]).rstrip() for row in rows
    )


def print_json(value: Any, world: World) -> None:
    print(json.dumps(value, ensure_ascii=False, indent=2), file=world.stdout)
