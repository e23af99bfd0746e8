"""YAML presets: saved ways of asking, found by name or path, checked into frozen dataclasses, `extends` resolved.

Reads preset files and nothing more: no printing, no typer, no httpx; yaml only through `yamlfile`, lazily.
Every problem is a UsageError (exit 2) that names the file, the line and the key. A preset never holds a key.
A project's preset (a file in some `.qwen/presets`) is read for a request only once the user has trusted the
project (`trust`); listing and showing it as written need no trust, since they send nothing and run nothing.
"""

from __future__ import annotations

import copy
import difflib
import hashlib
import os
import re
import shlex
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qwen_cli.api.request import EFFORTS, REDACTED, shown_url
from qwen_cli.errors import UsageError
from qwen_cli.modes import OUTPUT_MODES, OutputMode
from qwen_cli.settings.config import API_KEY_ENV, REGIONS, config_path, load_yaml_mapping
from qwen_cli.settings.exposure import ENV_PREFIX, exposure_warning
from qwen_cli.settings.trust import TRUSTED, Verdict, verdict

SUFFIX = ".yaml"
MAX_CHAIN = 10  # presets in one `extends` chain, the preset itself included
PLACEHOLDER = "{input}"
ESCAPED_PLACEHOLDER = "{{input}}"  # written in a template, it stands for a literal {input}
SETTINGS_KEYS = ("model", "region", "base_url", "output")
REQUEST_KEYS = (
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
)
ENDPOINT_KEYS = frozenset({"region", "base_url"})
# What the history keeps of a preset, for `continue` to reuse: the endpoint is kept apart (without credentials),
# the template shapes only the turn it was asked for.
RECORDED_KEYS = ("model", "output", *REQUEST_KEYS)
# Top-level names that could only mean a credential. Nested names are not refused: a function's
# parameters may well have a property called "key" or "token"; nested values are scanned instead.
SECRET_NAMES = frozenset(
    {"key", "api_key", "apikey", "dashscope_api_key", "authorization", "token", "access_token", "secret"}
)
SECRET_SUFFIXES = ("_api_key", "_token", "_secret")
KEY_PATTERN = re.compile(r"(?<![A-Za-z0-9])sk-[A-Za-z0-9]{16,}")
# What people write from habit (the wire names, other tools' names) and the key that means it here.
ALIASES = {
    "enable_thinking": "think",
    "reasoning": "effort",
    "reasoning_effort": "effort",
    "system": "instructions",
    "system_prompt": "instructions",
    "template": "prompt",
}


@dataclass(frozen=True)
class Preset:
    """A preset after `extends`: None means "not set here", so a lower layer (or the server) decides."""

    name: str
    source: Path
    description: str | None = None
    model: str | None = None
    instructions: str | None = None
    temperature: float | None = None
    top_p: float | None = None
    think: bool | None = None
    effort: str | None = None
    max_output_tokens: int | None = None
    store: bool | None = None
    session_cache: bool | None = None
    tools: tuple[str | dict[str, Any], ...] | None = None
    tool_choice: str | dict[str, Any] | None = None
    output: OutputMode | None = None
    region: str | None = None
    base_url: str | None = None
    prompt: str | None = None
    extends: str | None = None
    chain: tuple[Path, ...] = field(default=(), compare=False, repr=False)  # the file, then each one it extends
    sources: Mapping[str, Path] = field(default_factory=dict, compare=False, repr=False)  # key -> the file that set it
    warnings: tuple[str, ...] = field(default=(), compare=False, repr=False)  # secrets in files others can read


@dataclass(frozen=True)
class PresetInfo:
    """One line of `qwen presets list`: a broken file is listed with its error instead of its description."""

    name: str
    description: str | None
    source: Path
    scope: str  # "project" or "user"
    shadowed: bool = False  # True for a user preset hidden by a project preset of the same name
    error: str | None = None
    trust: str | None = None  # a project preset's: trusted, untrusted or changed (since trusted)


class UntrustedPreset(UsageError):
    """A project's preset that the user has not trusted (or that changed since): never used, never skipped."""


# --- checking values -----------------------------------------------------------------------------------------


class Invalid(Exception):
    """A value broke a rule; `check_entry` adds the file, the line and the key (`subkey` points inside it)."""

    def __init__(self, rule: str, subkey: str = "") -> None:
        super().__init__(rule)
        self.rule = rule
        self.subkey = subkey


def kind(value: Any) -> str:
    names = {bool: "true/false", int: "an integer", float: "a decimal number", str: "text", list: "a list"}
    names[dict] = "a mapping"
    return names.get(type(value), type(value).__name__)


def text(value: Any) -> str:
    if not isinstance(value, str):
        raise Invalid(f"must be text, not {kind(value)}")
    return value


def name_text(value: Any) -> str:
    if not text(value).strip():
        raise Invalid("must not be empty")
    return value


def boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise Invalid(f"must be true or false, not {kind(value)}")
    return value


def number(value: Any) -> float:
    # bool is a subclass of int in Python, but `temperature: true` is a mistake, not 1.
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise Invalid(f"must be a number, not {kind(value)}")
    return float(value)


def temperature(value: Any) -> float:
    value = number(value)
    if not 0 <= value < 2:
        raise Invalid(f"must be in [0, 2), got {value:g}")
    return value


def top_p(value: Any) -> float:
    value = number(value)
    if not 0 < value <= 1:
        raise Invalid(f"must be in (0, 1], got {value:g}")
    return value


def max_output_tokens(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise Invalid(f"must be an integer, not {kind(value)}")
    if value < 16:
        raise Invalid(f"must be at least 16, got {value}")
    return value


def one_of(choices: tuple[str, ...]) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        if text(value) not in choices:
            raise Invalid(f"must be one of {', '.join(choices)}, got '{value}'")
        return value

    return check


def output_mode(value: Any) -> OutputMode:
    return OutputMode(one_of(OUTPUT_MODES)(value))


def base_url(value: Any) -> str:
    if not text(value).startswith(("http://", "https://")):
        raise Invalid(f"must start with http:// or https://, got '{shown_url(value)}'")
    return value


def tools(value: Any) -> tuple[str | dict[str, Any], ...]:
    """Only the outer shape: built-in tool names, or mappings with a `type` or `name` (the tools module does the rest)."""
    if isinstance(value, str):
        raise Invalid(f"must be a list, not text; write one tool as a list: [{value}]")
    if not isinstance(value, list):
        raise Invalid(f"must be a list, not {kind(value)}")
    return tuple(tool(item, index) for index, item in enumerate(value))


def tool(item: Any, index: int) -> str | dict[str, Any]:
    if isinstance(item, str):
        if not item.strip():
            raise Invalid("must not be empty", f"[{index}]")
        return item
    if not isinstance(item, dict):
        raise Invalid(f"must be a tool name or a mapping with a 'type', not {kind(item)}", f"[{index}]")
    if "type" not in item and "name" not in item:
        raise Invalid("must have a 'type' (or a 'name')", f"[{index}]")
    for key in ("type", "name"):
        if key in item and not (isinstance(item[key], str) and item[key].strip()):
            raise Invalid(f"must be non-empty text, not {kind(item[key])}", f"[{index}].{key}")
    return item


def tool_choice(value: Any) -> str | dict[str, Any]:
    if isinstance(value, dict):
        return value
    if not isinstance(value, str):
        raise Invalid(f"must be text or a mapping, not {kind(value)}")
    return name_text(value)


CHECKS: dict[str, Callable[[Any], Any]] = {
    "description": text,
    "model": name_text,
    "instructions": text,
    "temperature": temperature,
    "top_p": top_p,
    "think": boolean,
    "effort": one_of(EFFORTS),
    "max_output_tokens": max_output_tokens,
    "store": boolean,
    "session_cache": boolean,
    "tools": tools,
    "tool_choice": tool_choice,
    "output": output_mode,
    "region": one_of(tuple(REGIONS)),
    "base_url": base_url,
    "prompt": text,
    "extends": name_text,
}


def location(path: Path, line: int | None) -> str:
    return f"{path}:{line}" if line else str(path)


def suggestion(key: str) -> str:
    name = key.lower().replace("-", "_")
    close = [ALIASES[name]] if name in ALIASES else difflib.get_close_matches(name, list(CHECKS), n=1)
    return f"; did you mean '{close[0]}'?" if close else f"; valid keys: {', '.join(CHECKS)}"


def check_entry(where: str, key: Any, value: Any) -> Any:
    """One top-level entry, checked in order: no secret, a known key, then the key's own rule."""
    refuse_secrets(where, key, value)
    if key not in CHECKS:
        raise UsageError(f"{where}: unknown key '{key}'{suggestion(str(key))}")
    if value is None:  # `model:` with nothing after it: not set, as if the line were absent
        return None
    try:
        return CHECKS[key](value)
    except Invalid as exc:
        raise UsageError(f"{where}: '{key}{exc.subkey}' {exc.rule}") from None


# --- the API key never lives in a preset ------------------------------------------------------------------------


def refuse_secrets(where: str, key: Any, value: Any) -> None:
    name = str(key).lower().replace("-", "_")
    if name in SECRET_NAMES or name.endswith(SECRET_SUFFIXES):
        advice = f"a preset can never hold the API key; set {API_KEY_ENV} in the environment instead"
        raise UsageError(f"{where}: '{key}': {advice}")
    if KEY_PATTERN.search(str(key)):  # never echo it: the message names no such key
        raise UsageError(f"{where}: a name in this file looks like an API key (sk-...); a preset can never hold one")
    for path, found in strings_in(value, str(key)):
        if KEY_PATTERN.search(found):
            raise UsageError(f"{where}: '{path}' holds what looks like an API key (sk-...); {secret_advice(str(key))}")


def secret_advice(key: str) -> str:
    if key in ("tools", "tool_choice"):
        return "a preset can never hold one: for an MCP header write the value as env:VAR, read from the environment variable VAR"
    return f"a preset can never hold one: set {API_KEY_ENV} in the environment instead"


def strings_in(value: Any, path: str) -> Iterator[tuple[str, str]]:
    """Every text inside a YAML value, with the path that leads to it; a mapping's own keys come with the
    mapping's path, so a message about a key that is a secret never spells the secret out."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield path, str(key)
            yield from strings_in(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from strings_in(item, f"{path}[{index}]")


# --- one file ----------------------------------------------------------------------------------------------------


def read_preset_file(path: Path) -> tuple[dict[str, Any], dict[str, int]]:
    """One file's own values, each checked (`extends` is not followed here), and the line of each key."""
    raw, lines = load_yaml_mapping(path)
    values: dict[str, Any] = {}
    for key, value in raw.items():
        checked = check_entry(location(path, lines.get(str(key))), key, value)
        if checked is not None:
            values[key] = checked
    if ENDPOINT_KEYS <= values.keys():
        where = location(path, max(lines.get("region", 0), lines.get("base_url", 0)))
        rule = "set 'region' or 'base_url', not both: base_url is a whole endpoint and wins over any region"
        raise UsageError(f"{where}: {rule}")
    return values, lines


# --- where presets live ------------------------------------------------------------------------------------------


def user_presets_dir(env: Mapping[str, str]) -> Path:
    return config_path(env).parent / "presets"


def project_presets_dir(cwd: Path, env: Mapping[str, str], uid: int | None = None) -> Path | None:
    """The nearest `.qwen/presets` from `cwd` upwards, as git finds `.git`, so a project's presets work from
    any of its subdirectories. The walk ends at a repository root (a directory holding `.git`) or at the home
    directory; a directory owned by another user is ignored (git refuses those too since CVE-2022-24765):
    a preset can set base_url, and the key goes wherever base_url points."""
    home = Path(env.get("HOME") or Path.home()).absolute()
    cwd = cwd.absolute()
    for directory in (cwd, *cwd.parents):
        candidate = directory / ".qwen" / "presets"
        if candidate.is_dir():
            return candidate if owned_by_user(candidate, uid) else None
        if directory == home or (directory / ".git").exists():
            return None
    return None


def owned_by_user(path: Path, uid: int | None) -> bool:
    if uid is None and not hasattr(os, "getuid"):
        return True  # Windows: no POSIX owners to compare
    return path.stat().st_uid == (os.getuid() if uid is None else uid)


def presets_dirs(cwd: Path, env: Mapping[str, str]) -> list[Path]:
    """For `qwen presets path`: the project directory in use (or `./.qwen/presets`, where one would go), the user's."""
    return [project_presets_dir(cwd, env) or cwd / ".qwen" / "presets", user_presets_dir(env)]


def search_dirs(cwd: Path, env: Mapping[str, str]) -> list[tuple[str, Path]]:
    project = project_presets_dir(cwd, env)
    return [*([("project", project)] if project else []), ("user", user_presets_dir(env))]


def preset_files(cwd: Path, env: Mapping[str, str]) -> list[tuple[str, Path]]:
    return [
        (scope, path)
        for scope, directory in search_dirs(cwd, env)
        for path in sorted(directory.glob(f"*{SUFFIX}"))
        if path.is_file()
    ]


def preset_names(cwd: Path, env: Mapping[str, str]) -> list[str]:
    """The names `-p` accepts, sorted; reads no file and imports no yaml, so shell completion stays fast."""
    return sorted({path.stem for _, path in preset_files(cwd, env)})


def is_path(ref: str) -> bool:
    separators = [sep for sep in ("/", os.sep, os.altsep) if sep is not None]
    return any(sep in ref for sep in separators) or ref.endswith((".yaml", ".yml"))


def find_preset(ref: str, cwd: Path, env: Mapping[str, str], skip: Path | None = None) -> Path:
    """The file `-p REF` means: a path (relative to `cwd`), or a name looked up in the project, then the user's."""
    if not ref.strip():
        raise UsageError("a preset name cannot be empty")
    if is_path(ref):
        path = cwd / ref
        if not path.is_file():
            raise UsageError(f"no such preset file: {path}")
        return path
    for _, directory in search_dirs(cwd, env):
        path = directory / f"{ref}{SUFFIX}"
        if path.is_file() and not (skip is not None and path.resolve() == skip.resolve()):
            return path
    raise UsageError(missing_message(ref, cwd, env, skip))


def missing_message(ref: str, cwd: Path, env: Mapping[str, str], skip: Path | None) -> str:
    names = preset_names(cwd, env)
    if skip is not None and ref == skip.stem and ref in names:
        return f"no other preset named '{ref}' to extend (a preset cannot extend itself)"
    if not names:
        project, user = presets_dirs(cwd, env)
        file = ref + SUFFIX
        return f"no preset named '{ref}', and there are none yet: create {project / file} or {user / file}"
    close = difflib.get_close_matches(ref, names, n=1)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    return f"no preset named '{ref}'{hint}; available: {', '.join(names)}"


# --- extends -----------------------------------------------------------------------------------------------------


def load_preset(ref: str, cwd: Path, env: Mapping[str, str], check_trust: bool = True) -> Preset:
    """The preset `-p REF` names, with its `extends` chain resolved: REF is a name or a path. A project's preset
    anywhere in the chain must be trusted (UntrustedPreset otherwise) unless `check_trust` is False, which only
    listing and showing a file as written may ask for."""
    path = find_preset(ref, cwd, env)
    return load_preset_file(path, cwd, env, name=path.stem if is_path(ref) else ref, check_trust=check_trust)


def load_preset_file(
    path: Path, cwd: Path, env: Mapping[str, str], name: str | None = None, check_trust: bool = True
) -> Preset:
    chain = read_chain(path, cwd, env, check_trust)
    values, sources = merge_chain(chain)
    warnings = tuple(filter(None, (exposure_warning(link, own) for link, own in chain)))
    links = tuple(link for link, _ in chain)
    return Preset(name=name or path.stem, source=path, chain=links, sources=sources, warnings=warnings, **values)


def read_chain(
    path: Path, cwd: Path, env: Mapping[str, str], check_trust: bool = True
) -> list[tuple[Path, dict[str, Any]]]:
    """The preset's own values, then its parent's, and so on up the `extends` chain; each project preset is
    checked for trust before a byte of it is read."""
    chain: list[tuple[Path, dict[str, Any]]] = []
    while True:
        if check_trust:
            require_trusted(path, env)
        values, lines = read_preset_file(path)
        chain.append((path, values))
        if "extends" not in values:
            return chain
        where = location(path, lines.get("extends"))
        parent = find_parent(values["extends"], path, cwd, env, where)
        check_chain(parent, [link for link, _ in chain], where)
        check_reach(path, parent, values["extends"], env, where)
        path = parent


def find_parent(ref: str, child: Path, cwd: Path, env: Mapping[str, str], where: str) -> Path:
    """A path is relative to the child's file; a name is looked up as `-p` does, skipping the child itself,
    so a project preset can extend the user's preset of the same name."""
    try:
        return find_preset(ref, child.parent, env) if is_path(ref) else find_preset(ref, cwd, env, skip=child)
    except UsageError as exc:
        raise UsageError(f"{where}: 'extends': {exc.message}") from None


def check_reach(child: Path, parent: Path, ref: str, env: Mapping[str, str], where: str) -> None:
    """A project preset may extend by path only another project preset: trusting a project covers its
    .qwen/presets, not the rest of the repository, which can change with any `git pull`."""
    if is_path(ref) and project_of(child, env) is not None and project_of(parent, env) is None:
        raise UsageError(
            f"{where}: 'extends': {parent} is outside .qwen/presets, which a project's preset may not extend by path "
            "(trusting the project covers only its .qwen/presets); move the file there"
        )


def check_chain(parent: Path, chain: list[Path], where: str) -> None:
    seen = [link.resolve() for link in chain]
    if parent.resolve() in seen:
        cycle = " -> ".join(str(link) for link in [*chain, parent])
        raise UsageError(f"{where}: 'extends' makes a cycle: {cycle}")
    if len(chain) >= MAX_CHAIN:
        raise UsageError(f"{where}: 'extends' goes deeper than {MAX_CHAIN} presets, starting at {chain[0]}")


def merge_chain(chain: list[tuple[Path, dict[str, Any]]]) -> tuple[dict[str, Any], dict[str, Path]]:
    """From the farthest ancestor down, each preset's set values win over its parent's."""
    values: dict[str, Any] = {}
    sources: dict[str, Path] = {}
    for path, own in reversed(chain):
        if own.keys() & ENDPOINT_KEYS:  # region and base_url are one setting: a child's region drops a parent's URL
            for key in ENDPOINT_KEYS:
                values.pop(key, None)
                sources.pop(key, None)
        values.update(own)
        sources.update(dict.fromkeys(own, path))
    return values, sources


# --- trust -------------------------------------------------------------------------------------------------------


def project_of(path: Path, env: Mapping[str, str]) -> Path | None:
    """The project whose `.qwen/presets` holds `path` (at any depth), or None for the user's presets and files
    elsewhere. Both the path as given (with `..` taken out) and the file it resolves to count: a symlink cannot
    lead out of trust."""
    user = user_presets_dir(env).resolve()
    for candidate in (Path(os.path.abspath(path)), path.resolve()):
        if candidate.is_relative_to(user):
            continue
        for folder in candidate.parents:
            if folder.name == "presets" and folder.parent.name == ".qwen":
                return folder.parent.parent
    return None


def require_trusted(path: Path, env: Mapping[str, str]) -> None:
    root = project_of(path, env)
    if root is not None:
        found = verdict(root, env)
        if found.state != TRUSTED:
            raise UntrustedPreset(untrusted_message(path, root, found))


def untrusted_message(path: Path, root: Path, found: Verdict) -> str:
    command = f"qwen presets trust {shlex.quote(str(root))}"
    if found.changes:
        shown = ", ".join(found.changes[:3]) + (", ..." if len(found.changes) > 3 else "")
        return (
            f"{path}: the project's presets changed since you trusted them ({shown}); review them, then run: {command}"
        )
    return (
        f"{path} is a project preset you have not trusted (a preset can send your key to any server); "
        f"review {root / '.qwen' / 'presets'}, then run: {command}"
    )


def chain_digest(chain: tuple[Path, ...]) -> str | None:
    """One digest of every file in an `extends` chain, paths and bytes, to tell later whether any changed;
    None when one of them can no longer be read."""
    digest = hashlib.sha256()
    for link in chain:
        try:
            content = link.read_bytes()
        except OSError:
            return None
        digest.update(f"{link.resolve()}\0{len(content)}\0".encode())
        digest.update(content)
    return "sha256:" + digest.hexdigest()


# --- listing -----------------------------------------------------------------------------------------------------


def list_presets(cwd: Path, env: Mapping[str, str]) -> list[PresetInfo]:
    """Every preset file, sorted by name with the project's first; a user preset the project shadows says so,
    and each project preset says whether the project is trusted. Reading a file to describe it sends nothing,
    so untrusted files are described too."""
    files = preset_files(cwd, env)
    project_names = {path.stem for scope, path in files if scope == "project"}
    project = project_presets_dir(cwd, env)
    state = verdict(project.parent.parent, env).state if project is not None and project_names else None
    infos = [
        describe(
            path, scope, scope == "user" and path.stem in project_names, cwd, env, state if scope == "project" else None
        )
        for scope, path in files
    ]
    return sorted(infos, key=lambda info: (info.name, info.scope != "project"))


def describe(
    path: Path, scope: str, shadowed: bool, cwd: Path, env: Mapping[str, str], trust: str | None
) -> PresetInfo:
    try:
        preset = load_preset_file(path, cwd, env, check_trust=False)
    except UsageError as exc:
        return PresetInfo(path.stem, None, path, scope, shadowed, error=exc.message, trust=trust)
    return PresetInfo(path.stem, preset.description, path, scope, shadowed, trust=trust)


# --- what a preset gives the rest of qwen ------------------------------------------------------------------------


def set_values(preset: Preset, keys: tuple[str, ...]) -> dict[str, Any]:
    values = {key: copy.deepcopy(getattr(preset, key)) for key in keys if getattr(preset, key) is not None}
    if "tools" in values:
        values["tools"] = list(values["tools"])
    return values


def preset_settings(preset: Preset) -> dict[str, Any]:
    """The preset layer of `config.resolve_settings`: model, region, base_url, output (only those set)."""
    return set_values(preset, SETTINGS_KEYS)


def preset_request_values(preset: Preset) -> dict[str, Any]:
    """The body options the preset sets, keyed like `RequestOptions` (plus tools, tool_choice), for flag > preset."""
    return set_values(preset, REQUEST_KEYS)


def resolved_view(preset: Preset) -> dict[str, dict[str, Any]]:
    """For `qwen presets show NAME --resolved`: each set value after `extends`, with the file that set it."""
    keys = tuple(key for key in CHECKS if key != "extends")
    values = set_values(preset, keys)
    shown = {**values, "base_url": shown_url(values["base_url"])} if "base_url" in values else values
    return {key: {"value": value, "source": str(preset.sources[key])} for key, value in shown.items()}


def recorded_values(preset: Preset) -> dict[str, Any]:
    """The preset's resolved values as the history keeps them: an MCP header written as a literal value is a
    secret and is replaced (one written env:VAR is only a name, and is kept)."""
    values = set_values(preset, RECORDED_KEYS)
    if "tools" in values:
        values["tools"] = [without_literal_headers(tool) for tool in values["tools"]]
    return values


def without_literal_headers(tool: Any) -> Any:
    headers = tool.get("headers") if isinstance(tool, dict) else None
    if not isinstance(headers, dict):
        return tool
    kept = {name: value if str(value).startswith(ENV_PREFIX) else REDACTED for name, value in headers.items()}
    return {**tool, "headers": kept}


def preset_from_record(name: str, path: str, values: Mapping[str, Any]) -> tuple[Preset, tuple[str, ...]]:
    """A preset rebuilt from what the history recorded, each value checked again (the history is a file too);
    with what had to be left out: a value that no longer checks, an MCP server whose secret was not kept."""
    kept: dict[str, Any] = {}
    dropped: list[str] = []
    for key, value in values.items():
        try:
            kept[key] = CHECKS[key](value) if key in RECORDED_KEYS and value is not None else None
        except Invalid:
            dropped.append(f"its '{key}' (not valid)")
    if kept.get("tools"):
        complete = tuple(tool for tool in kept["tools"] if REDACTED not in str(tool))
        if len(complete) < len(kept["tools"]):
            dropped.append("its MCP servers with secret headers (pass --mcp and --mcp-header again)")
        kept["tools"] = complete or None
    return Preset(
        name=name, source=Path(path), **{key: value for key, value in kept.items() if value is not None}
    ), tuple(dropped)


def apply_template(template: str, user_text: str) -> str:
    """Put the user's words where the template says `{input}` (every occurrence); nothing else in it changes,
    other braces included. `{{input}}` writes a literal `{input}`. A template without `{input}` comes first
    and the user's words follow after a blank line; with no words, the template is the whole prompt."""
    parts = template.split(ESCAPED_PLACEHOLDER)
    if any(PLACEHOLDER in part for part in parts):
        return PLACEHOLDER.join(part.replace(PLACEHOLDER, user_text) for part in parts)
    literal = PLACEHOLDER.join(parts)
    if not user_text:
        return literal
    return f"{literal.rstrip()}\n\n{user_text}" if literal.strip() else user_text
