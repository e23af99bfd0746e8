"""Tool definitions: the built-in catalogue, function tools from tools files and presets, MCP servers, the checks
made before sending, `tool_choice`, `--tool-output` items and plain-text descriptions of tool activity.

Pure: no printing, no network, no processes (running a bound program is `tool_runner`'s job); files are read only
through `inputs` and `yamlfile`. Every problem is a UsageError (exit 2) raised before anything is sent.
"""

from __future__ import annotations

import difflib
import json
import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any, TypedDict

from qwen_cli.bounds import NotJSON, loads
from qwen_cli.errors import UsageError
from qwen_cli.redaction import REDACTED
from qwen_cli.settings.exposure import ENV_PREFIX

NAME_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,64}")  # §3.3: letters, digits, `_`, `-`; at most 64
ENTRY_KEYS = ("name", "description", "parameters", "run", "type")
MCP_KEYS = ("type", "server_label", "server_url", "server_protocol", "server_description", "headers")
LOG_LIMIT = 2000  # characters of code-interpreter logs shown; the full logs stay in the response


# ---------------------------------------------------------------------------------------------- wire shapes


class FunctionDefinition(TypedDict):
    type: str  # "function"
    name: str
    description: str
    parameters: dict[str, Any]


class McpDefinition(TypedDict, total=False):
    type: str  # "mcp"
    server_label: str
    server_url: str
    server_protocol: str
    server_description: str
    headers: dict[str, str]


# ---------------------------------------------------------------------------------------------- the catalogue


@dataclass(frozen=True)
class BuiltinTool:
    name: str
    item_type: str
    description: str
    rules: tuple[str, ...] = ()


BUILTINS: dict[str, BuiltinTool] = {
    tool.name: tool
    for tool in (
        BuiltinTool(
            "web_search",
            "web_search_call",
            "Searches the web; the sources it cites are listed after the answer.",
            ("the only built-in tool qwen3.8-omni-flash supports",),
        ),
        BuiltinTool(
            "web_extractor",
            "web_extractor_call",
            "Reads the pages web_search found and extracts what the question needs.",
            (
                "needs web_search in the same request (--web adds both)",
                "qwen3-max and qwen3-max-2026-01-23 need thinking on",
            ),
        ),
        BuiltinTool(
            "code_interpreter",
            "code_interpreter_call",
            "Writes and runs Python code in a sandbox; shows the code and its logs.",
            (
                "needs thinking on for qwen3.8-max, qwen3.8-max-0902, qwen3.8-flash, qwen3-max, qwen3-max-2026-01-23, "
                "qwen3.7-max, qwen3.7-max-2026-05-20 and qwen3.7-max-2026-06-08",
            ),
        ),
        BuiltinTool(
            "web_search_image", "web_search_image_call", "Searches the web for images that match a description."
        ),
        BuiltinTool(
            "image_search",
            "image_search_call",
            "Finds images similar to an image in the input.",
            ("needs an image in the input (--image)",),
        ),
        BuiltinTool(
            "file_search",
            "file_search_call",
            "Searches a Model Studio knowledge base.",
            ("needs exactly one knowledge-base id (--vector-store ID)",),
        ),
    )
}
WEB = ("web_search", "web_extractor")


# ---------------------------------------------------------------------------------------------- in memory


@dataclass(frozen=True)
class FunctionTool:
    """One function tool; `run` is the bound local program, kept here and never sent."""

    name: str
    description: str
    parameters: Mapping[str, Any] | None
    run: tuple[str, ...] | None
    source: str  # "tools.yaml: entry 2", for messages

    def definition(self) -> FunctionDefinition:
        # Without parameters the function takes no arguments; an empty object schema says so to any server.
        parameters = (
            json.loads(json.dumps(self.parameters)) if self.parameters else {"type": "object", "properties": {}}
        )
        return FunctionDefinition(type="function", name=self.name, description=self.description, parameters=parameters)


@dataclass(frozen=True)
class McpServer:
    label: str
    url: str
    source: str
    protocol: str = "sse"
    description: str | None = None
    headers: tuple[tuple[str, str], ...] = ()  # (name, value as written: a literal or env:VAR)

    def definition(self, header_value: Callable[[str, str], str]) -> McpDefinition:
        tool = McpDefinition(type="mcp", server_label=self.label, server_url=self.url, server_protocol=self.protocol)
        if self.description:
            tool["server_description"] = self.description
        if self.headers:
            tool["headers"] = {name: header_value(name, value) for name, value in self.headers}
        return tool


@dataclass(frozen=True)
class ToolSpec:
    """What the flags and the preset ask for, as given: every string is parsed and checked here."""

    builtins: tuple[str, ...] = ()  # --tool NAME
    web: bool = False  # --web
    vector_stores: tuple[str, ...] = ()  # --vector-store ID
    mcp: tuple[str, ...] = ()  # --mcp LABEL=URL
    mcp_headers: tuple[str, ...] = ()  # --mcp-header LABEL:Name=Value
    tools_files: tuple[str, ...] = ()  # --tools-file PATH
    preset_tools: tuple[Any, ...] = ()  # a preset's `tools:` list: builtin names, function or mcp mappings
    preset_source: str = "preset"  # how messages name the preset, e.g. "preset 'research'"
    preset_dir: str | None = None  # where a preset's relative `run` programs live


@dataclass(frozen=True)
class Collected:
    """Every tool the spec names, parsed, before the cross-tool checks."""

    builtins: tuple[str, ...]
    vector_stores: tuple[str, ...]
    servers: tuple[McpServer, ...]
    functions: tuple[FunctionTool, ...]


@dataclass(frozen=True)
class ToolSet:
    """The tools of one request: their wire definitions in send order, and the function tools behind them."""

    tools: tuple[Mapping[str, Any], ...] = ()
    functions: tuple[FunctionTool, ...] = ()
    secret_variables: tuple[str, ...] = ()  # the environment variables MCP headers read (env:VAR)

    def definitions(self) -> list[dict[str, Any]]:
        return json.loads(json.dumps(list(self.tools)))  # a copy: the caller may put it in a body

    @property
    def bindings(self) -> dict[str, tuple[str, ...]]:
        return function_bindings(self.functions)

    @property
    def secrets(self) -> tuple[str, ...]:
        return secrets_of(self.tools)


# ---------------------------------------------------------------------------------------------- building


def resolve_tools(spec: ToolSpec, env: Mapping[str, str], has_image: bool = False) -> ToolSet:
    """The tools to send, checked; `env` supplies `env:VAR` header values, `has_image` whether the input has one."""
    found = collect(spec)
    check_combination(found, has_image)
    tools: list[Mapping[str, Any]] = [{"type": name} for name in found.builtins if name != "file_search"]
    if found.vector_stores:
        tools.append({"type": "file_search", "vector_store_ids": list(found.vector_stores)})
    tools += [server.definition(env_reader(server.label, env)) for server in found.servers]
    tools += [function.definition() for function in found.functions]
    return ToolSet(tuple(tools), found.functions, variables_read(found.servers))


def variables_read(servers: Iterable[McpServer]) -> tuple[str, ...]:
    """The environment variables whose values MCP headers send (`env:VAR`): tokens, kept from tool programs."""
    written = (value for server in servers for _, value in server.headers)
    return tuple(dict.fromkeys(value[len(ENV_PREFIX) :] for value in written if value.startswith(ENV_PREFIX)))


def env_reader(label: str, env: Mapping[str, str]) -> Callable[[str, str], str]:
    return lambda name, written: header_value(label, name, written, env)


def build_tools(spec: ToolSpec, env: Mapping[str, str], has_image: bool = False) -> list[dict[str, Any]]:
    return resolve_tools(spec, env, has_image).definitions()


def function_bindings(functions: Iterable[FunctionTool]) -> dict[str, tuple[str, ...]]:
    """Function name -> the argv of its bound program, for the functions that have one."""
    return {function.name: function.run for function in functions if function.run}


def secrets_of(tools: Iterable[Mapping[str, Any]]) -> tuple[str, ...]:
    """Every MCP header value: they usually carry tokens, and must be redacted wherever the request is shown."""
    values: list[str] = []
    for tool in tools:
        headers = tool.get("headers") if tool.get("type") == "mcp" else None
        if isinstance(headers, Mapping):
            values += [value for value in headers.values() if isinstance(value, str) and value and value not in values]
    return tuple(values)


def collect(spec: ToolSpec) -> Collected:
    preset = read_preset_tools(spec.preset_tools, spec.preset_source, spec.preset_dir)
    flagged = [check_builtin(name, f"--tool {name}") for name in spec.builtins]
    names = [*preset.builtins, *(WEB if spec.web else ()), *flagged]
    vector_stores = (*preset.vector_stores, *spec.vector_stores)
    if vector_stores:
        names.append("file_search")  # --vector-store means file_search: the id is useless to anything else
    servers = apply_headers((*preset.servers, *(parse_mcp(value) for value in spec.mcp)), spec.mcp_headers)
    paths = dict.fromkeys(spec.tools_files)  # the same file given twice is read once, not a clash with itself
    functions = (*preset.functions, *(tool for path in paths for tool in load_tools_file(path)))
    check_unique_functions(functions)
    return Collected(tuple(dict.fromkeys(names)), vector_stores, servers, functions)


def check_combination(found: Collected, has_image: bool) -> None:
    """The documented rules that tie tools to each other and to the input (§10.1)."""
    if "web_extractor" in found.builtins and "web_search" not in found.builtins:
        raise UsageError(
            "web_extractor needs web_search in the same request (it reads the pages web_search finds); "
            "add --tool web_search, or use --web for both"
        )
    if "file_search" in found.builtins and len(found.vector_stores) != 1:
        raise UsageError(vector_store_message(found.vector_stores))
    if "image_search" in found.builtins and not has_image:
        raise UsageError(
            "image_search looks for images similar to one in the input, and this request has no image: "
            "attach one with --image PATH|URL"
        )


def vector_store_message(ids: tuple[str, ...]) -> str:
    if not ids:
        return "file_search needs the id of the knowledge base to search: add --vector-store ID"
    return (
        f"file_search takes exactly one knowledge-base id, but {len(ids)} were given ({', '.join(ids)}): "
        "the API searches one --vector-store per request"
    )


def check_builtin(name: str, where: str) -> str:
    if name in BUILTINS:
        return name
    if name == "mcp":
        raise UsageError(f"{where}: 'mcp' is not a built-in tool: add an MCP server with --mcp LABEL=URL")
    if name == "function":
        raise UsageError(f"{where}: 'function' is not a built-in tool: function tools come from --tools-file PATH")
    raise UsageError(
        f"{where}: unknown tool '{name}'{suggestion(name, BUILTINS)}; built-in tools: {', '.join(BUILTINS)}"
    )


def suggestion(word: str, choices: Iterable[Any]) -> str:
    close = difflib.get_close_matches(word, [str(choice) for choice in choices], n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def check_unique_functions(functions: Iterable[FunctionTool]) -> None:
    seen: dict[str, FunctionTool] = {}
    for function in functions:
        if function.name in seen:
            raise UsageError(
                f"function '{function.name}' is defined twice, in {seen[function.name].source} and in {function.source}: "
                "function names must be unique"
            )
        seen[function.name] = function


# ---------------------------------------------------------------------------------------------- MCP servers


def parse_mcp(value: str) -> McpServer:
    """`--mcp LABEL=URL`."""
    label, equals, url = value.partition("=")
    if not equals or not label or not url:
        raise UsageError(
            f"--mcp takes LABEL=URL (e.g. amap=https://dashscope.aliyuncs.com/api/v1/mcps/amap-maps/sse), got '{value}'"
        )
    where = f"--mcp {value}"
    return McpServer(label=check_label(label, where), url=check_url(url, where), source=f"--mcp {label}")


def check_label(label: str, where: str) -> str:
    if not NAME_PATTERN.fullmatch(label):
        raise UsageError(
            f"{where}: the server label must use only letters, digits, '_' and '-' (at most 64), got '{label}'"
        )
    return label


def check_url(url: str, where: str) -> str:
    if not url.startswith(("https://", "http://")):
        raise UsageError(f"{where}: the server URL must start with https:// or http://, got '{url}'")
    return url


def apply_headers(servers: tuple[McpServer, ...], values: tuple[str, ...]) -> tuple[McpServer, ...]:
    """`--mcp-header LABEL:Name=Value` adds a header to the server with that label."""
    by_label: dict[str, McpServer] = {}
    for server in servers:
        if server.label in by_label:
            first = by_label[server.label].source
            raise UsageError(
                f"MCP server label '{server.label}' is used twice ({first} and {server.source}): labels must be unique"
            )
        by_label[server.label] = server
    for value in values:
        label, name, written = parse_header(value)
        if label not in by_label:
            known = f"; MCP servers: {', '.join(by_label)}" if by_label else ""
            raise UsageError(
                f"--mcp-header {label}:{name}: no MCP server is labelled '{label}'{suggestion(label, by_label)}{known}; "
                f"add one with --mcp {label}=URL"
            )
        server = by_label[label]
        by_label[label] = replace(server, headers=(*server.headers, (name, written)))
    return tuple(by_label.values())


def parse_header(value: str) -> tuple[str, str, str]:
    # Messages never repeat what follows the `=`: it is usually a token.
    label, colon, rest = value.partition(":")
    name, equals, written = rest.partition("=")
    if not (colon and equals and label and name) or any(c.isspace() for c in name):
        shown = f"'{value.partition('=')[0]}=...'" if "=" in value else "a value without '='"
        raise UsageError(f"--mcp-header takes LABEL:Name=Value (e.g. amap:Authorization=env:AMAP_TOKEN), got {shown}")
    return label, name, written


def header_value(label: str, name: str, written: str, env: Mapping[str, str]) -> str:
    """A header value as sent: `env:VAR` reads VAR, so a token never has to appear on the command line."""
    if not written.startswith(ENV_PREFIX):
        return written
    variable = written[len(ENV_PREFIX) :]
    value = env.get(variable)
    if not value:
        state = "is not set" if value is None else "is empty"
        raise UsageError(
            f"the {name} header of MCP server '{label}' reads the environment variable {variable}, which {state}"
        )
    return value


# ---------------------------------------------------------------------------------------------- tools files


def load_tools_file(path: str) -> list[FunctionTool]:
    """A YAML or JSON file holding a list of function tools, every entry checked."""
    from qwen_cli.settings.files import parse_json_or_yaml, read_text

    document = parse_json_or_yaml(read_text(path), path)
    if isinstance(document, dict) and list(document) == ["tools"]:
        document = document["tools"]  # `tools: [...]`, as in a preset, is accepted too
    if not isinstance(document, list) or not document:
        found = (
            "an empty list" if isinstance(document, list) else type(document).__name__.replace("NoneType", "nothing")
        )
        raise UsageError(
            f"{path}: expected a list of function tools (entries with name, description, parameters), found {found}"
        )
    base = os.path.dirname(path)
    functions = [read_function(entry, path, f"entry {index}", base) for index, entry in enumerate(document, start=1)]
    check_unique_functions(functions)
    return functions


def check_tools_file(path: str) -> list[FunctionTool]:
    """`qwen tools check PATH`: the file's function tools, or a UsageError naming the file, the entry and the key."""
    return load_tools_file(path)


def read_function(entry: Any, source: str, entry_label: str, base: str | None) -> FunctionTool:
    """One function entry; `source: entry_label` (`tools.yaml: entry 2`) starts every message about it."""
    if not isinstance(entry, Mapping):
        raise UsageError(
            f"{source}: {entry_label}: expected a mapping with name, description and parameters, "
            f"found {type(entry).__name__}"
        )
    name = entry.get("name")
    where = f"{source}: {entry_label}" + (f" ('{name}')" if isinstance(name, str) and name else "")
    check_entry_keys(entry, where)
    return FunctionTool(
        name=function_name(name, where),
        description=required_text(entry, "description", where),
        parameters=check_parameters(entry.get("parameters"), where),
        run=check_run(entry.get("run"), where, base),
        source=f"{source} {entry_label}",
    )


def check_entry_keys(entry: Mapping[str, Any], where: str) -> None:
    if "function" in entry:
        raise UsageError(
            f"{where}: unknown key 'function': that is the Chat Completions shape; "
            "put name, description and parameters at the top level of the entry"
        )
    check_keys(entry, ENTRY_KEYS, where)
    if entry.get("type", "function") != "function":
        raise UsageError(
            f"{where}: 'type' must be 'function' here (built-in tools are added with --tool, MCP servers with --mcp)"
        )


def check_keys(entry: Mapping[str, Any], allowed: tuple[str, ...], where: str, kind: str = "") -> None:
    for key in entry:
        if key not in allowed:
            hint = suggestion(str(key), allowed)
            raise UsageError(f"{where}: unknown key '{key}'{kind}{hint}; valid keys: {', '.join(allowed)}")


def function_name(name: Any, where: str) -> str:
    if name is None:
        raise UsageError(f"{where}: 'name' is missing")
    if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name):
        raise UsageError(
            f"{where}: 'name' must use only letters, digits, '_' and '-' (at most 64 characters), "
            f"got {json.dumps(name, ensure_ascii=False)}"
        )
    if name in BUILTINS:
        raise UsageError(f"{where}: 'name' '{name}' is the name of a built-in tool; give the function another name")
    return name


def required_text(entry: Mapping[str, Any], key: str, where: str) -> str:
    value = entry.get(key)
    if value is None:
        raise UsageError(f"{where}: '{key}' is missing (the API requires it: tell the model when to call the function)")
    if not isinstance(value, str) or not value.strip():
        raise UsageError(f"{where}: '{key}' must be a non-empty string")
    return value


def check_parameters(parameters: Any, where: str) -> Mapping[str, Any] | None:
    if parameters is None:
        return None
    if not isinstance(parameters, Mapping):
        raise UsageError(f"{where}: 'parameters' must be a mapping (a JSON Schema object)")
    if parameters.get("type") != "object":
        raise UsageError(
            f"{where}: 'parameters.type' must be 'object' (the arguments are one JSON object), "
            f"got {json.dumps(parameters.get('type'))}"
        )
    properties = parameters.get("properties", {})
    if not isinstance(properties, Mapping):
        raise UsageError(f"{where}: 'parameters.properties' must be a mapping of argument names to their schemas")
    required = parameters.get("required", [])
    if not isinstance(required, list) or not all(isinstance(item, str) for item in required):
        raise UsageError(f"{where}: 'parameters.required' must be a list of argument names")
    for item in required:
        if item not in properties:
            raise UsageError(
                f"{where}: 'parameters.required' names '{item}', which is not in 'parameters.properties'"
                f"{suggestion(item, properties)}"
            )
    try:
        json.dumps(parameters)
    except (TypeError, ValueError) as exc:
        raise UsageError(
            f"{where}: 'parameters' holds a value JSON cannot carry ({exc}); quote dates and similar values"
        ) from exc
    return parameters


def check_run(run: Any, where: str, base: str | None) -> tuple[str, ...] | None:
    """`run: [program, args...]`; a relative program path (`./weather.py`) is relative to the tools file."""
    if run is None:
        return None
    if isinstance(run, str):
        raise UsageError(
            f"{where}: 'run' must be a list (the program and its arguments, run without a shell), "
            f"e.g. run: [{json.dumps(run)}] or split into words"
        )
    if not isinstance(run, list) or not run or not all(isinstance(word, str) for word in run) or not run[0]:
        raise UsageError(
            f"{where}: 'run' must be a non-empty list of strings: the program and its arguments, run without a shell"
        )
    program = run[0]
    # Only a path with a separator is anchored to the file; a bare name is looked up on PATH as usual.
    if base and os.sep in program and not os.path.isabs(program):
        program = os.path.normpath(os.path.join(base, program))
    return (program, *run[1:])


# ---------------------------------------------------------------------------------------------- presets


@dataclass(frozen=True)
class PresetTools:
    builtins: tuple[str, ...] = ()
    vector_stores: tuple[str, ...] = ()
    servers: tuple[McpServer, ...] = ()
    functions: tuple[FunctionTool, ...] = ()


def read_preset_tools(entries: Iterable[Any], source: str, base: str | None) -> PresetTools:
    """A preset's `tools:` list: built-in tool names, `{type: mcp, ...}`, `{type: file_search, ...}`, functions."""
    builtins: list[str] = []
    vector_stores: list[str] = []
    servers: list[McpServer] = []
    functions: list[FunctionTool] = []
    for index, entry in enumerate(entries, start=1):
        where = f"{source}: tools entry {index}"
        kind = entry.get("type") if isinstance(entry, Mapping) else None
        if isinstance(entry, str):
            builtins.append(check_builtin(entry, where))
        elif kind == "mcp":
            servers.append(read_preset_mcp(entry, where))
        elif kind in BUILTINS:
            builtins.append(kind)
            vector_stores += read_preset_builtin(entry, where)
        else:
            functions.append(read_function(entry, source, f"tools entry {index}", base))
    return PresetTools(tuple(builtins), tuple(vector_stores), tuple(servers), tuple(functions))


def read_preset_builtin(entry: Mapping[str, Any], where: str) -> list[str]:
    allowed = ("type", "vector_store_ids") if entry["type"] == "file_search" else ("type",)
    check_keys(entry, allowed, where, kind=f" for {entry['type']}")
    ids = entry.get("vector_store_ids", [])
    if not isinstance(ids, list) or not all(isinstance(item, str) and item for item in ids):
        raise UsageError(f"{where}: 'vector_store_ids' must be a list of knowledge-base ids")
    return ids


def read_preset_mcp(entry: Mapping[str, Any], where: str) -> McpServer:
    check_keys(entry, MCP_KEYS, where)
    for key in ("server_label", "server_url"):
        if not isinstance(entry.get(key), str) or not entry[key]:
            raise UsageError(f"{where}: '{key}' is missing or not a string")
    headers = entry.get("headers", {})
    if not isinstance(headers, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in headers.items()
    ):
        raise UsageError(
            f"{where}: 'headers' must be a mapping of header names to string values (a value may be env:VAR)"
        )
    optional = {key: entry[key] for key in ("server_protocol", "server_description") if isinstance(entry.get(key), str)}
    return McpServer(
        label=check_label(entry["server_label"], where),
        url=check_url(entry["server_url"], where),
        source=where,
        protocol=optional.get("server_protocol", "sse"),
        description=optional.get("server_description"),
        headers=tuple(headers.items()),
    )


# ---------------------------------------------------------------------------------------------- tool_choice


TOOL_CHOICES = ("auto", "none", "required")


def tool_choice(
    value: str | Mapping[str, Any] | None, tools: Iterable[Mapping[str, Any]]
) -> str | dict[str, Any] | None:
    """`--tool-choice auto|none|required|NAME`; None (not set) lets the server decide; a preset's mapping is sent as written.

    NAME sends `allowed_tools` with mode `required`: the model may call only that function, and must call it.
    Mode `auto` would merely allow it, which `auto` with the function sent already does; forcing it is what
    naming a function means in every OpenAI-style API. A loop must not force it again on later rounds
    (see `choice_after_calls`).
    """
    if isinstance(value, Mapping):
        return dict(value)
    if value is None or value in ("auto", "none"):
        return value
    tools = list(tools)
    if value == "required":
        if len(tools) != 1:
            raise UsageError(required_message(tools))
        return value
    functions = [str(tool.get("name")) for tool in tools if tool.get("type") == "function"]
    if value not in functions:
        raise UsageError(unknown_choice_message(value, functions))
    return {"type": "allowed_tools", "mode": "required", "tools": [{"type": "function", "name": value}]}


def required_message(tools: list[Mapping[str, Any]]) -> str:
    names = [str(tool.get("name") or tool.get("server_label") or tool.get("type")) for tool in tools]
    sent = f"{len(tools)} are sent ({', '.join(names)})" if tools else "no tool is sent"
    has_function = any(tool.get("type") == "function" for tool in tools)
    hint = "; to force one function, give its name: --tool-choice NAME" if has_function else ""
    return f"--tool-choice required needs exactly one tool (the API allows it only then), but {sent}{hint}"


def unknown_choice_message(value: str, functions: list[str]) -> str:
    if value in BUILTINS:
        return (
            f"--tool-choice {value}: only a function tool can be chosen by name, and {value} is a built-in tool; "
            "use auto, none or required"
        )
    known = (
        f"; functions sent: {', '.join(functions)}"
        if functions
        else "; no function tool is sent (add one with --tools-file)"
    )
    return (
        f"--tool-choice takes auto, none, required or the name of a function tool; '{value}' is none of these"
        f"{suggestion(value, functions)}{known}"
    )


def choice_after_calls(choice: str | dict[str, Any] | None) -> str | dict[str, Any] | None:
    """The tool_choice for a round that sends function outputs back: a forced choice would force another call."""
    return "auto" if choice == "required" or isinstance(choice, Mapping) else choice


# ---------------------------------------------------------------------------------------------- --tool-output


def parse_tool_outputs(values: Iterable[str], read_file: Callable[[str], str]) -> list[dict[str, Any]]:
    """`--tool-output CALL_ID=TEXT`, `CALL_ID=@FILE` (the file's text) or `CALL_ID=@@TEXT` (a text starting with @)."""
    outputs: list[dict[str, Any]] = []
    for value in values:
        call_id, equals, text = value.partition("=")
        if not equals or not call_id or any(c.isspace() for c in call_id):
            raise UsageError(
                f"--tool-output takes CALL_ID=TEXT or CALL_ID=@FILE (the call ids are printed with the calls), got '{value}'"
            )
        if any(output["call_id"] == call_id for output in outputs):
            raise UsageError(f"--tool-output {call_id} is given twice: send one output per call")
        if text.startswith("@@"):
            text = text[1:]
        elif text.startswith("@"):
            if not text[1:]:
                raise UsageError(
                    f"--tool-output {call_id}=@ names no file; write CALL_ID=@PATH, or CALL_ID=@@TEXT for a text starting with @"
                )
            text = read_file(text[1:])
        outputs.append({"type": "function_call_output", "call_id": call_id, "output": text})
    return outputs


# ---------------------------------------------------------------------------------------------- qwen tools list / show


class BuiltinInfo(TypedDict):
    name: str
    description: str
    rules: list[str]


class FunctionInfo(TypedDict):
    name: str
    description: str
    source: str
    run: list[str] | None


class McpInfo(TypedDict):
    label: str
    url: str
    source: str


class ToolListing(TypedDict):
    builtin: list[BuiltinInfo]
    functions: list[FunctionInfo]
    mcp: list[McpInfo]


def tool_listing(spec: ToolSpec) -> ToolListing:
    """`qwen tools list`: the catalogue, and the functions and MCP servers the files and preset define."""
    found = collect(spec)
    return ToolListing(
        builtin=[BuiltinInfo(name=t.name, description=t.description, rules=list(t.rules)) for t in BUILTINS.values()],
        functions=[
            FunctionInfo(name=f.name, description=f.description, source=f.source, run=list(f.run) if f.run else None)
            for f in found.functions
        ],
        mcp=[McpInfo(label=s.label, url=s.url, source=s.source) for s in found.servers],
    )


def tool_definition(name: str, spec: ToolSpec) -> dict[str, Any]:
    """`qwen tools show NAME`: the JSON sent for that tool; MCP header values appear as REDACTED."""
    found = collect(spec)
    for function in found.functions:
        if function.name == name:
            return dict(function.definition())
    for server in found.servers:
        if server.label == name:
            return dict(server.definition(lambda header, value: REDACTED))
    if name == "file_search":
        if len(found.vector_stores) != 1:
            raise UsageError(vector_store_message(found.vector_stores))
        return {"type": "file_search", "vector_store_ids": list(found.vector_stores)}
    if name in BUILTINS:
        return {"type": name}
    names = [*BUILTINS, *(f.name for f in found.functions), *(s.label for s in found.servers)]
    raise UsageError(f"no tool named '{name}'{suggestion(name, names)}; known tools: {', '.join(names)}")


# ---------------------------------------------------------------------------------------------- tool activity


def describe_item(item: Mapping[str, Any]) -> str | None:
    """One short description of a tool call item for display (several lines for code); None for other items."""
    describe = DESCRIBERS.get(str(item.get("type")))
    if describe is None:
        return None
    text = describe(item)
    return f"{text} [{item['status']}]" if item.get("status") in ("failed", "incomplete") else text


def describe_web_search(item: Mapping[str, Any]) -> str:
    action = _mapping(item.get("action"))
    queries = [action["query"]] if isinstance(action.get("query"), str) else _strings(action.get("queries"))
    text = "web search: " + "; ".join(queries) if queries else "web search"
    sources = _mappings(action.get("sources"))
    return f"{text} ({_count(len(sources), 'source')})" if sources else text


def describe_web_extractor(item: Mapping[str, Any]) -> str:
    text = "web extractor: " + (", ".join(_strings(item.get("urls"))) or "(no URL)")
    return f"{text}; goal: {item['goal']}" if isinstance(item.get("goal"), str) and item["goal"] else text


def describe_code(item: Mapping[str, Any]) -> str:
    lines = ["code interpreter:"]
    if isinstance(item.get("code"), str) and item["code"]:
        lines.append(item["code"].rstrip("\n"))
    logs = "".join(str(out.get("logs", "")) for out in _mappings(item.get("outputs")) if out.get("type") == "logs")
    if logs:
        lines += ["logs:", _clip(logs.rstrip("\n"), LOG_LIMIT)]
    return "\n".join(lines)


def describe_mcp(item: Mapping[str, Any]) -> str:
    """`MCP <label>: <tool> <arguments>`; the server names its tools `<label>-<tool>`, and the label is said once."""
    server, name = str(item.get("server_label") or "?"), str(item.get("name") or "?")
    tool = name.removeprefix(f"{server}-") or name
    return f"MCP {server}: {tool} {_arguments(item)}".rstrip()


def describe_file_search(item: Mapping[str, Any]) -> str:
    queries = _strings(item.get("queries"))
    text = "knowledge base search: " + "; ".join(queries) if queries else "knowledge base search"
    results = item.get("results")
    return f"{text} ({_count(len(results), 'result')})" if isinstance(results, list) else text


def describe_image_search(item: Mapping[str, Any]) -> str:
    label = "image search by text" if item.get("type") == "web_search_image_call" else "image search by image"
    text = f"{label}: {_arguments(item)}".rstrip(": ")
    found = _json_list(item.get("output"))
    return f"{text} ({_count(len(found), 'result')})" if found is not None else text


def describe_function_call(item: Mapping[str, Any]) -> str:
    name, call_id = item.get("name") or "?", item.get("call_id") or "no call_id"
    return f"function call {name} ({call_id}): {_arguments(item)}".rstrip(": ")


DESCRIBERS: dict[str, Callable[[Mapping[str, Any]], str]] = {
    "web_search_call": describe_web_search,
    "web_extractor_call": describe_web_extractor,
    "code_interpreter_call": describe_code,
    "mcp_call": describe_mcp,
    "file_search_call": describe_file_search,
    "web_search_image_call": describe_image_search,
    "image_search_call": describe_image_search,
    "function_call": describe_function_call,
}


def sources_of(response: Mapping[str, Any]) -> list[str]:
    """The URLs web search cited, first appearance first, each once."""
    urls: dict[str, None] = {}
    for item in _mappings(_mapping(response).get("output")):
        if item.get("type") == "web_search_call":
            for source in _mappings(_mapping(item.get("action")).get("sources")):
                if isinstance(source.get("url"), str) and source["url"]:
                    urls.setdefault(source["url"], None)
    return list(urls)


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _mappings(value: Any) -> list[Mapping[str, Any]]:
    return [item for item in value if isinstance(item, Mapping)] if isinstance(value, list) else []


def _strings(value: Any) -> list[str]:
    return [item for item in value if isinstance(item, str) and item] if isinstance(value, list) else []


def _count(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


def _arguments(item: Mapping[str, Any]) -> str:
    arguments = item.get("arguments")
    if isinstance(arguments, str):
        return arguments
    return json.dumps(arguments, ensure_ascii=False) if arguments is not None else ""


def _json_list(value: Any) -> list[Any] | None:
    try:
        parsed = loads(value) if isinstance(value, str) else value  # the server's text: bounded like any reply
    except NotJSON:
        return None
    return parsed if isinstance(parsed, list) else None


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text) - limit} more characters)"
