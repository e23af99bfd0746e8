"""Tests for qwen_cli.tools.catalogue: exact tool definitions, every check's message, tools files, presets, tool_choice,
--tool-output items, the listing and show data, and the descriptions of tool activity."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from qwen_cli.api.request import REDACTED, PreparedRequest
from qwen_cli.errors import ExitCode, UsageError
from qwen_cli.redaction import Secrets
from qwen_cli.tools.catalogue import (
    BUILTINS,
    FunctionTool,
    ToolSpec,
    build_tools,
    check_tools_file,
    choice_after_calls,
    describe_item,
    function_bindings,
    parse_tool_outputs,
    resolve_tools,
    secrets_of,
    sources_of,
    tool_choice,
    tool_definition,
    tool_listing,
)

FIXTURES = Path(__file__).parent / "fixtures"
AMAP = "https://dashscope.aliyuncs.com/api/v1/mcps/amap-maps/sse"
WEATHER_SCHEMA = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
WEATHER_YAML = """\
- name: get_weather
  description: The weather in a city
  parameters:
    type: object
    properties:
      city: {type: string}
    required: [city]
  run: [./weather.py, --units, metric]
- name: get_time
  description: The current time
"""


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def usage_message(action: Callable[[], Any]) -> str:
    with pytest.raises(UsageError) as caught:
        action()
    assert caught.value.exit_code == ExitCode.USAGE
    return caught.value.message


def write(path: Path, text: str) -> str:
    path.write_text(text, encoding="utf-8")
    return str(path)


def build(env: dict[str, str] | None = None, has_image: bool = False, **spec: Any) -> list[dict[str, Any]]:
    return build_tools(ToolSpec(**spec), env or {}, has_image)


# --- built-in tools ------------------------------------------------------------------------------------------


def test_no_tools_asked_for_sends_none() -> None:
    assert build() == []


def test_each_builtin_is_sent_as_its_type_alone() -> None:
    names = ("web_search", "code_interpreter", "web_search_image")
    assert build(builtins=names) == [{"type": "web_search"}, {"type": "code_interpreter"}, {"type": "web_search_image"}]


def test_web_is_web_search_and_web_extractor_as_in_the_reference() -> None:
    assert build(web=True) == [{"type": "web_search"}, {"type": "web_extractor"}]


def test_a_builtin_named_twice_is_sent_once() -> None:
    assert build(web=True, builtins=("web_search", "code_interpreter", "code_interpreter")) == [
        {"type": "web_search"},
        {"type": "web_extractor"},
        {"type": "code_interpreter"},
    ]


def test_file_search_carries_its_one_vector_store() -> None:
    assert build(builtins=("file_search",), vector_stores=("kb-123",)) == [
        {"type": "file_search", "vector_store_ids": ["kb-123"]}
    ]


def test_a_vector_store_alone_means_file_search() -> None:
    assert build(vector_stores=("kb-123",)) == [{"type": "file_search", "vector_store_ids": ["kb-123"]}]


def test_image_search_is_sent_when_the_input_has_an_image() -> None:
    assert build(builtins=("image_search",), has_image=True) == [{"type": "image_search"}]


def test_an_unknown_builtin_suggests_the_closest_and_lists_all() -> None:
    assert usage_message(lambda: build(builtins=("web_serch",))) == (
        "--tool web_serch: unknown tool 'web_serch' (did you mean 'web_search'?); built-in tools: "
        "web_search, web_extractor, code_interpreter, web_search_image, image_search, file_search"
    )


def test_mcp_and_function_are_not_builtins_and_the_message_says_where_they_come_from() -> None:
    assert usage_message(lambda: build(builtins=("mcp",))) == (
        "--tool mcp: 'mcp' is not a built-in tool: add an MCP server with --mcp LABEL=URL"
    )
    assert usage_message(lambda: build(builtins=("function",))) == (
        "--tool function: 'function' is not a built-in tool: function tools come from --tools-file PATH"
    )


def test_web_extractor_needs_web_search() -> None:
    assert usage_message(lambda: build(builtins=("web_extractor",))) == (
        "web_extractor needs web_search in the same request (it reads the pages web_search finds); "
        "add --tool web_search, or use --web for both"
    )


def test_file_search_without_a_vector_store_is_refused() -> None:
    assert usage_message(lambda: build(builtins=("file_search",))) == (
        "file_search needs the id of the knowledge base to search: add --vector-store ID"
    )


def test_file_search_with_two_vector_stores_is_refused() -> None:
    assert usage_message(lambda: build(vector_stores=("kb-1", "kb-2"))) == (
        "file_search takes exactly one knowledge-base id, but 2 were given (kb-1, kb-2): "
        "the API searches one --vector-store per request"
    )


def test_image_search_without_an_image_is_refused() -> None:
    assert usage_message(lambda: build(builtins=("image_search",))) == (
        "image_search looks for images similar to one in the input, and this request has no image: "
        "attach one with --image PATH|URL"
    )


def test_the_catalogue_holds_the_six_builtins_with_descriptions_and_rules() -> None:
    assert list(BUILTINS) == [
        "web_search",
        "web_extractor",
        "code_interpreter",
        "web_search_image",
        "image_search",
        "file_search",
    ]
    assert all(tool.description.endswith(".") for tool in BUILTINS.values())
    assert BUILTINS["web_extractor"].rules[0] == "needs web_search in the same request (--web adds both)"
    assert BUILTINS["file_search"].rules == ("needs exactly one knowledge-base id (--vector-store ID)",)
    assert BUILTINS["image_search"].rules == ("needs an image in the input (--image)",)
    assert BUILTINS["code_interpreter"].item_type == "code_interpreter_call"


# --- MCP servers ---------------------------------------------------------------------------------------------


def test_mcp_is_sent_with_label_url_and_sse() -> None:
    assert build(mcp=(f"amap-maps={AMAP}",)) == [
        {"type": "mcp", "server_label": "amap-maps", "server_url": AMAP, "server_protocol": "sse"}
    ]


def test_mcp_headers_are_added_to_their_server_literal_or_from_the_environment() -> None:
    tools = build(
        env={"AMAP_TOKEN": "Bearer sk-amap-secret"},
        mcp=(f"amap={AMAP}", "other=https://example.com/sse"),
        mcp_headers=("amap:Authorization=env:AMAP_TOKEN", "amap:X-Trace=a=b:c", "other:X-Key=literal-1"),
    )
    assert tools == [
        {
            "type": "mcp",
            "server_label": "amap",
            "server_url": AMAP,
            "server_protocol": "sse",
            "headers": {"Authorization": "Bearer sk-amap-secret", "X-Trace": "a=b:c"},
        },
        {
            "type": "mcp",
            "server_label": "other",
            "server_url": "https://example.com/sse",
            "server_protocol": "sse",
            "headers": {"X-Key": "literal-1"},
        },
    ]


def test_an_env_header_whose_variable_is_missing_or_empty_is_refused() -> None:
    spec = {"mcp": (f"amap={AMAP}",), "mcp_headers": ("amap:Authorization=env:AMAP_TOKEN",)}
    assert usage_message(lambda: build(env={}, **spec)) == (
        "the Authorization header of MCP server 'amap' reads the environment variable AMAP_TOKEN, which is not set"
    )
    assert usage_message(lambda: build(env={"AMAP_TOKEN": ""}, **spec)).endswith("AMAP_TOKEN, which is empty")


@pytest.mark.parametrize("value", ["amap", "=https://x", "amap=", "amap https://x"])
def test_malformed_mcp_is_refused_with_the_syntax(value: str) -> None:
    assert usage_message(lambda: build(mcp=(value,))).startswith("--mcp takes LABEL=URL (e.g. amap=https://")


def test_an_mcp_url_must_be_http_and_a_label_plain() -> None:
    assert usage_message(lambda: build(mcp=("amap=ftp://x",))) == (
        "--mcp amap=ftp://x: the server URL must start with https:// or http://, got 'ftp://x'"
    )
    assert usage_message(lambda: build(mcp=("a b=https://x",))) == (
        "--mcp a b=https://x: the server label must use only letters, digits, '_' and '-' (at most 64), got 'a b'"
    )


def test_two_mcp_servers_with_one_label_are_refused() -> None:
    assert usage_message(lambda: build(mcp=("amap=https://a", "amap=https://b"))) == (
        "MCP server label 'amap' is used twice (--mcp amap and --mcp amap): labels must be unique"
    )


def test_an_mcp_header_for_an_unknown_label_suggests_the_closest_and_hides_the_value() -> None:
    message = usage_message(lambda: build(mcp=(f"amap={AMAP}",), mcp_headers=("amapp:Authorization=sk-hidden",)))
    assert message == (
        "--mcp-header amapp:Authorization: no MCP server is labelled 'amapp' (did you mean 'amap'?); "
        "MCP servers: amap; add one with --mcp amapp=URL"
    )


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("amapAuthorization=sk-hidden", "'amapAuthorization=...'"),
        ("amap:=sk-hidden", "'amap:=...'"),
        ("amap:Bad Name=sk-hidden", "'amap:Bad Name=...'"),
        ("amap:Authorization:sk-hidden", "a value without '='"),
    ],
)
def test_a_malformed_mcp_header_is_refused_without_repeating_the_value(value: str, shown: str) -> None:
    message = usage_message(lambda: build(mcp=(f"amap={AMAP}",), mcp_headers=(value,)))
    assert message == f"--mcp-header takes LABEL:Name=Value (e.g. amap:Authorization=env:AMAP_TOKEN), got {shown}"
    assert "sk-hidden" not in message


def test_secrets_are_every_mcp_header_value_once() -> None:
    tools = build(
        env={"T": "tok-1"},
        mcp=(f"amap={AMAP}", "b=https://b"),
        mcp_headers=("amap:Authorization=env:T", "amap:X-Other=tok-2", "b:Authorization=env:T"),
        builtins=("web_search",),
    )
    assert secrets_of(tools) == ("tok-1", "tok-2")
    assert secrets_of([{"type": "web_search"}, fixture("tool-function-definition.json")[0]]) == ()


def test_the_secrets_are_redacted_in_the_shown_request() -> None:
    toolset = resolve_tools(
        ToolSpec(mcp=(f"amap={AMAP}",), mcp_headers=("amap:Authorization=env:T",)), {"T": "sk-mcp-token"}
    )
    request = PreparedRequest(
        "POST", "https://x/responses", {}, {"tools": toolset.definitions()}, secrets=Secrets.of(None, toolset.secrets)
    )
    assert request.redacted()["body"]["tools"][0]["headers"] == {"Authorization": REDACTED}
    assert "sk-mcp-token" not in json.dumps(request.redacted())


# --- tools files ---------------------------------------------------------------------------------------------


def test_function_tools_are_sent_flat_without_run(tmp_path: Path) -> None:
    path = write(tmp_path / "tools.yaml", WEATHER_YAML)
    assert build(tools_files=(path,)) == [
        {
            "type": "function",
            "name": "get_weather",
            "description": "The weather in a city",
            "parameters": WEATHER_SCHEMA,
        },
        {
            "type": "function",
            "name": "get_time",
            "description": "The current time",
            "parameters": {"type": "object", "properties": {}},
        },
    ]


def test_the_reference_function_definition_in_json_is_sent_unchanged(tmp_path: Path) -> None:
    definition = fixture("tool-function-definition.json")
    path = write(tmp_path / "tools.json", json.dumps(definition, ensure_ascii=False))
    assert build(tools_files=(path,)) == definition


def test_a_tools_list_under_a_tools_key_is_accepted(tmp_path: Path) -> None:
    path = write(tmp_path / "t.yml", "tools:\n  - {name: ping, description: Ping}\n")
    assert [tool["name"] for tool in build(tools_files=(path,))] == ["ping"]


def test_bindings_keep_run_with_a_relative_program_anchored_to_the_tools_file(tmp_path: Path) -> None:
    path = write(tmp_path / "tools.yaml", WEATHER_YAML + "- {name: py, description: Py, run: [python3, ./x.py]}\n")
    toolset = resolve_tools(ToolSpec(tools_files=(path,)), {})
    assert toolset.bindings == {
        "get_weather": (str(tmp_path / "weather.py"), "--units", "metric"),
        "py": ("python3", "./x.py"),
    }
    assert function_bindings(toolset.functions) == toolset.bindings
    assert all("run" not in tool for tool in toolset.definitions())


def test_tool_kinds_are_sent_in_a_fixed_order(tmp_path: Path) -> None:
    path = write(tmp_path / "tools.yaml", WEATHER_YAML)
    tools = build(
        tools_files=(path,), mcp=(f"amap={AMAP}",), vector_stores=("kb",), builtins=("code_interpreter",), web=True
    )
    assert [tool.get("name") or tool["type"] for tool in tools] == [
        "web_search",
        "web_extractor",
        "code_interpreter",
        "file_search",
        "mcp",
        "get_weather",
        "get_time",
    ]


def test_check_returns_the_functions(tmp_path: Path) -> None:
    path = write(tmp_path / "tools.yaml", WEATHER_YAML)
    functions = check_tools_file(path)
    assert [f.name for f in functions] == ["get_weather", "get_time"]
    assert functions[1] == FunctionTool("get_time", "The current time", None, None, f"{path} entry 2")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "- {name: a, description: A}\n- name: get_weather\n  description: W\n  parameters: [city]\n",
            "tools.yaml: entry 2 ('get_weather'): 'parameters' must be a mapping (a JSON Schema object)",
        ),
        (
            "- {name: get_weather, description: W, paramters: {}}\n",
            "tools.yaml: entry 1 ('get_weather'): unknown key 'paramters' (did you mean 'parameters'?); "
            "valid keys: name, description, parameters, run, type",
        ),
        ("- {description: W}\n", "tools.yaml: entry 1: 'name' is missing"),
        (
            "- {name: get weather, description: W}\n",
            "tools.yaml: entry 1 ('get weather'): 'name' must use only letters, digits, '_' and '-' "
            '(at most 64 characters), got "get weather"',
        ),
        (
            f"- {{name: {'x' * 65}, description: W}}\n",
            f"tools.yaml: entry 1 ('{'x' * 65}'): 'name' must use only letters, digits, '_' and '-' "
            f'(at most 64 characters), got "{"x" * 65}"',
        ),
        (
            "- {name: 7, description: W}\n",
            "tools.yaml: entry 1: 'name' must use only letters, digits, '_' and '-' (at most 64 characters), got 7",
        ),
        (
            "- {name: web_search, description: W}\n",
            "tools.yaml: entry 1 ('web_search'): 'name' 'web_search' is the name of a built-in tool; give the function another name",
        ),
        (
            "- {name: f}\n",
            "tools.yaml: entry 1 ('f'): 'description' is missing (the API requires it: tell the model when to call the function)",
        ),
        ("- {name: f, description: '  '}\n", "tools.yaml: entry 1 ('f'): 'description' must be a non-empty string"),
        (
            "- {name: f, description: F, parameters: {type: string}}\n",
            "tools.yaml: entry 1 ('f'): 'parameters.type' must be 'object' (the arguments are one JSON object), got \"string\"",
        ),
        (
            "- {name: f, description: F, parameters: {type: object, properties: [a]}}\n",
            "tools.yaml: entry 1 ('f'): 'parameters.properties' must be a mapping of argument names to their schemas",
        ),
        (
            "- {name: f, description: F, parameters: {type: object, properties: {city: {}}, required: [citi]}}\n",
            "tools.yaml: entry 1 ('f'): 'parameters.required' names 'citi', which is not in 'parameters.properties' "
            "(did you mean 'city'?)",
        ),
        (
            "- {name: f, description: F, parameters: {type: object, properties: {d: {default: 2024-01-01}}}}\n",
            "tools.yaml: entry 1 ('f'): 'parameters' holds a value JSON cannot carry "
            "(Object of type date is not JSON serializable); quote dates and similar values",
        ),
        (
            "- {name: f, description: F, run: ./f.sh --x}\n",
            "tools.yaml: entry 1 ('f'): 'run' must be a list (the program and its arguments, run without a shell), "
            'e.g. run: ["./f.sh --x"] or split into words',
        ),
        *[
            (
                f"- {{name: f, description: F, run: {run}}}\n",
                "tools.yaml: entry 1 ('f'): 'run' must be a non-empty list of strings: the program and its arguments, "
                "run without a shell",
            )
            for run in ("[]", "[./f, 3]", "['']", "{a: b}")
        ],
        (
            "- {type: function, function: {name: f, description: F}}\n",
            "tools.yaml: entry 1: unknown key 'function': that is the Chat Completions shape; "
            "put name, description and parameters at the top level of the entry",
        ),
        (
            "- {type: web_search, name: f, description: F}\n",
            "tools.yaml: entry 1 ('f'): 'type' must be 'function' here (built-in tools are added with --tool, MCP servers with --mcp)",
        ),
        ("- just a name\n", "tools.yaml: entry 1: expected a mapping with name, description and parameters, found str"),
        (
            "name: f\n",
            "tools.yaml: expected a list of function tools (entries with name, description, parameters), found dict",
        ),
        (
            "[]\n",
            "tools.yaml: expected a list of function tools (entries with name, description, parameters), found an empty list",
        ),
        (
            "",
            "tools.yaml: expected a list of function tools (entries with name, description, parameters), found nothing",
        ),
        (
            "- {name: f, description: F}\n- {name: f, description: G}\n",
            "function 'f' is defined twice, in tools.yaml entry 1 and in tools.yaml entry 2: function names must be unique",
        ),
    ],
)
def test_tools_file_errors_name_the_file_the_entry_and_the_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, message: str
) -> None:
    monkeypatch.chdir(tmp_path)  # so the file is named as the user typed it
    write(tmp_path / "tools.yaml", text)
    assert usage_message(lambda: check_tools_file("tools.yaml")) == message


def test_tools_file_syntax_and_reading_errors(tmp_path: Path) -> None:
    assert (
        usage_message(lambda: check_tools_file(str(tmp_path / "none.yaml")))
        == f"no such file: {tmp_path / 'none.yaml'}"
    )
    bad_json = write(tmp_path / "t.json", '[{"name": "f",}]')
    assert usage_message(lambda: check_tools_file(bad_json)).startswith(f"{bad_json}:1: invalid JSON")
    bad_yaml = write(tmp_path / "t.yaml", "- name: [f\n")
    assert usage_message(lambda: check_tools_file(bad_yaml)).startswith(f"{bad_yaml}:")


def test_a_tools_file_given_twice_is_read_once(tmp_path: Path) -> None:
    path = write(tmp_path / "tools.yaml", WEATHER_YAML)
    assert build(tools_files=(path, path)) == build(tools_files=(path,))


def test_function_names_are_unique_across_files(tmp_path: Path) -> None:
    a = write(tmp_path / "a.yaml", "- {name: f, description: F}\n")
    b = write(tmp_path / "b.yaml", "- {name: g, description: G}\n- {name: f, description: F2}\n")
    assert usage_message(lambda: build(tools_files=(a, b))) == (
        f"function 'f' is defined twice, in {a} entry 1 and in {b} entry 2: function names must be unique"
    )


# --- presets -------------------------------------------------------------------------------------------------


def test_preset_entries_are_builtin_names_mcp_file_search_and_functions(tmp_path: Path) -> None:
    preset = (
        "web_search",
        {"type": "file_search", "vector_store_ids": ["kb-9"]},
        {"type": "mcp", "server_label": "amap", "server_url": AMAP, "headers": {"Authorization": "env:AMAP"}},
        {"name": "lookup", "description": "Look up", "run": ["./lookup"]},
    )
    toolset = resolve_tools(
        ToolSpec(preset_tools=preset, preset_dir=str(tmp_path), builtins=("code_interpreter",)), {"AMAP": "k"}
    )
    assert toolset.definitions() == [
        {"type": "web_search"},
        {"type": "code_interpreter"},
        {"type": "file_search", "vector_store_ids": ["kb-9"]},
        {
            "type": "mcp",
            "server_label": "amap",
            "server_url": AMAP,
            "server_protocol": "sse",
            "headers": {"Authorization": "k"},
        },
        {
            "type": "function",
            "name": "lookup",
            "description": "Look up",
            "parameters": {"type": "object", "properties": {}},
        },
    ]
    assert toolset.bindings == {"lookup": (str(tmp_path / "lookup"),)}


def test_flags_add_to_the_preset_tools_and_headers_reach_preset_servers() -> None:
    preset = (
        {
            "type": "mcp",
            "server_label": "amap",
            "server_url": AMAP,
            "server_protocol": "streamable_http",
            "server_description": "Maps",
        },
    )
    tools = build(env={"T": "v"}, preset_tools=preset, mcp_headers=("amap:Authorization=env:T",))
    assert tools == [
        {
            "type": "mcp",
            "server_label": "amap",
            "server_url": AMAP,
            "server_protocol": "streamable_http",
            "server_description": "Maps",
            "headers": {"Authorization": "v"},
        }
    ]


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (
            "web_serch",
            "preset 'r': tools entry 1: unknown tool 'web_serch' (did you mean 'web_search'?); built-in tools: "
            "web_search, web_extractor, code_interpreter, web_search_image, image_search, file_search",
        ),
        ({"type": "mcp", "server_label": "a"}, "preset 'r': tools entry 1: 'server_url' is missing or not a string"),
        (
            {"type": "mcp", "server_label": "a", "server_url": AMAP, "header": {}},
            "preset 'r': tools entry 1: unknown key 'header' (did you mean 'headers'?); valid keys: "
            "type, server_label, server_url, server_protocol, server_description, headers",
        ),
        (
            {"type": "mcp", "server_label": "a", "server_url": AMAP, "headers": {"A": 1}},
            "preset 'r': tools entry 1: 'headers' must be a mapping of header names to string values (a value may be env:VAR)",
        ),
        (
            {"type": "web_search", "vector_store_ids": ["x"]},
            "preset 'r': tools entry 1: unknown key 'vector_store_ids' for web_search; valid keys: type",
        ),
        (
            {"type": "file_search", "vector_store_ids": "kb"},
            "preset 'r': tools entry 1: 'vector_store_ids' must be a list of knowledge-base ids",
        ),
        (
            {"name": "f"},
            "preset 'r': tools entry 1 ('f'): 'description' is missing (the API requires it: tell the model when to call the function)",
        ),
    ],
)
def test_preset_entry_errors_name_the_preset_and_the_entry(entry: Any, message: str) -> None:
    assert usage_message(lambda: build(preset_tools=(entry,), preset_source="preset 'r'")) == message


def test_a_preset_function_and_a_file_function_may_not_share_a_name(tmp_path: Path) -> None:
    path = write(tmp_path / "t.yaml", "- {name: f, description: F}\n")
    assert usage_message(lambda: build(preset_tools=({"name": "f", "description": "P"},), tools_files=(path,))) == (
        f"function 'f' is defined twice, in preset tools entry 1 and in {path} entry 1: function names must be unique"
    )


# --- tool_choice ---------------------------------------------------------------------------------------------


FUNCTIONS = [{"type": "function", "name": "get_weather"}, {"type": "function", "name": "get_time"}]


def test_plain_tool_choices_pass_through_and_unset_stays_unset() -> None:
    assert tool_choice(None, FUNCTIONS) is None
    assert tool_choice("auto", FUNCTIONS) == "auto"
    assert tool_choice("none", []) == "none"
    assert tool_choice("required", [{"type": "web_search"}]) == "required"
    preset_choice = {"type": "allowed_tools", "mode": "auto", "tools": [{"type": "function", "name": "get_time"}]}
    assert tool_choice(preset_choice, FUNCTIONS) == preset_choice


def test_a_function_name_forces_that_function() -> None:
    assert tool_choice("get_time", FUNCTIONS) == {
        "type": "allowed_tools",
        "mode": "required",
        "tools": [{"type": "function", "name": "get_time"}],
    }


def test_required_needs_exactly_one_tool() -> None:
    assert usage_message(lambda: tool_choice("required", [{"type": "web_search"}, *FUNCTIONS])) == (
        "--tool-choice required needs exactly one tool (the API allows it only then), but 3 are sent "
        "(web_search, get_weather, get_time); to force one function, give its name: --tool-choice NAME"
    )
    assert usage_message(lambda: tool_choice("required", [])) == (
        "--tool-choice required needs exactly one tool (the API allows it only then), but no tool is sent"
    )


def test_a_name_that_is_not_a_sent_function_is_refused() -> None:
    assert usage_message(lambda: tool_choice("get_wether", FUNCTIONS)) == (
        "--tool-choice takes auto, none, required or the name of a function tool; 'get_wether' is none of these "
        "(did you mean 'get_weather'?); functions sent: get_weather, get_time"
    )
    assert usage_message(lambda: tool_choice("f", [])) == (
        "--tool-choice takes auto, none, required or the name of a function tool; 'f' is none of these; "
        "no function tool is sent (add one with --tools-file)"
    )
    assert usage_message(lambda: tool_choice("web_search", [{"type": "web_search"}])) == (
        "--tool-choice web_search: only a function tool can be chosen by name, and web_search is a built-in tool; "
        "use auto, none or required"
    )


def test_a_forced_choice_is_relaxed_for_rounds_that_send_outputs_back() -> None:
    assert choice_after_calls(tool_choice("get_time", FUNCTIONS)) == "auto"
    assert choice_after_calls("required") == "auto"
    assert choice_after_calls("none") == "none"
    assert choice_after_calls(None) is None


# --- --tool-output -------------------------------------------------------------------------------------------


def test_tool_outputs_become_function_call_output_items() -> None:
    files = {"out.txt": "from a file\n"}
    outputs = parse_tool_outputs(
        ["call_1=sunny, 21 °C", "call_2=@out.txt", "call_3=@@at-sign", "call_4=", "call_5=a=b"], files.__getitem__
    )
    assert outputs == [
        {"type": "function_call_output", "call_id": "call_1", "output": "sunny, 21 °C"},
        {"type": "function_call_output", "call_id": "call_2", "output": "from a file\n"},
        {"type": "function_call_output", "call_id": "call_3", "output": "@at-sign"},
        {"type": "function_call_output", "call_id": "call_4", "output": ""},
        {"type": "function_call_output", "call_id": "call_5", "output": "a=b"},
    ]


@pytest.mark.parametrize("value", ["call_1", "=text", "call 1=text"])
def test_tool_output_syntax_errors(value: str) -> None:
    assert usage_message(lambda: parse_tool_outputs([value], str)) == (
        f"--tool-output takes CALL_ID=TEXT or CALL_ID=@FILE (the call ids are printed with the calls), got '{value}'"
    )


def test_tool_output_twice_for_one_call_and_an_empty_file_name_are_refused() -> None:
    assert (
        usage_message(lambda: parse_tool_outputs(["c=a", "c=b"], str))
        == "--tool-output c is given twice: send one output per call"
    )
    assert usage_message(lambda: parse_tool_outputs(["c=@"], str)) == (
        "--tool-output c=@ names no file; write CALL_ID=@PATH, or CALL_ID=@@TEXT for a text starting with @"
    )


def test_tool_output_file_errors_come_from_the_reader() -> None:
    def missing(path: str) -> str:
        raise UsageError(f"no such file: {path}")

    assert usage_message(lambda: parse_tool_outputs(["c=@gone.txt"], missing)) == "no such file: gone.txt"


# --- qwen tools list / show ----------------------------------------------------------------------------------


def test_the_listing_has_the_builtins_and_the_functions_and_servers_found(tmp_path: Path) -> None:
    path = write(tmp_path / "tools.yaml", WEATHER_YAML)
    listing = tool_listing(ToolSpec(tools_files=(path,), mcp=(f"amap={AMAP}",)))
    assert [entry["name"] for entry in listing["builtin"]] == list(BUILTINS)
    assert listing["builtin"][1] == {
        "name": "web_extractor",
        "description": "Reads the pages web_search found and extracts what the question needs.",
        "rules": [
            "needs web_search in the same request (--web adds both)",
            "qwen3-max and qwen3-max-2026-01-23 need thinking on",
        ],
    }
    assert listing["functions"] == [
        {
            "name": "get_weather",
            "description": "The weather in a city",
            "source": f"{path} entry 1",
            "run": [str(tmp_path / "weather.py"), "--units", "metric"],
        },
        {"name": "get_time", "description": "The current time", "source": f"{path} entry 2", "run": None},
    ]
    assert listing["mcp"] == [{"label": "amap", "url": AMAP, "source": "--mcp amap"}]
    json.dumps(listing)  # --json prints it as it is


def test_show_gives_the_exact_definition_sent(tmp_path: Path) -> None:
    path = write(tmp_path / "tools.yaml", WEATHER_YAML)
    spec = ToolSpec(tools_files=(path,), mcp=(f"amap={AMAP}",), mcp_headers=("amap:Authorization=env:NOT_NEEDED",))
    assert tool_definition("get_weather", spec) == build(tools_files=(path,))[0]
    assert tool_definition("web_search", spec) == {"type": "web_search"}
    assert tool_definition("amap", spec) == {
        "type": "mcp",
        "server_label": "amap",
        "server_url": AMAP,
        "server_protocol": "sse",
        "headers": {"Authorization": REDACTED},
    }
    assert tool_definition("file_search", ToolSpec(vector_stores=("kb",))) == {
        "type": "file_search",
        "vector_store_ids": ["kb"],
    }


def test_show_of_an_unknown_name_or_a_storeless_file_search_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path / "tools.yaml", WEATHER_YAML)
    assert usage_message(lambda: tool_definition("get_wheather", ToolSpec(tools_files=(path,)))) == (
        "no tool named 'get_wheather' (did you mean 'get_weather'?); known tools: web_search, web_extractor, "
        "code_interpreter, web_search_image, image_search, file_search, get_weather, get_time"
    )
    assert usage_message(lambda: tool_definition("file_search", ToolSpec())) == (
        "file_search needs the id of the knowledge base to search: add --vector-store ID"
    )


# --- tool activity -------------------------------------------------------------------------------------------


def sse_items(name: str) -> list[dict[str, Any]]:
    """The finished items of a raw SSE fixture's output_item.done events."""
    events = [
        json.loads(line[5:])
        for line in (FIXTURES / name).read_text(encoding="utf-8").splitlines()
        if line.startswith("data:")
    ]
    return [event["item"] for event in events if event["type"] == "response.output_item.done"]


def test_the_reference_items_are_described() -> None:
    output = fixture("nonstream-builtin-tools.json")["output"]
    assert [describe_item(item) for item in output] == [
        None,
        "web search: 阿里云官网 (2 sources)",
        None,
        "web extractor: https://cn.aliyun.com/; goal: 提取阿里云官网首页的关键信息",
        None,
    ]


def test_the_streamed_reference_items_are_described() -> None:
    reasoning, search, extractor = sse_items("stream-web-extractor.sse")
    assert describe_item(reasoning) is None
    assert describe_item(search) == "web search: Web search (2 sources)"
    assert describe_item(extractor).startswith(
        "web extractor: https://cn.aliyun.com/; goal: 提取阿里云官网首页的关键信息，包括"
    )


def test_code_interpreter_shows_the_code_and_its_logs() -> None:
    item = {
        "type": "code_interpreter_call",
        "status": "completed",
        "code": "print(6 * 7)\n",
        "outputs": [{"type": "logs", "logs": "42\n"}],
        "container_id": "c",
    }
    assert describe_item(item) == "code interpreter:\nprint(6 * 7)\nlogs:\n42"


def test_long_logs_are_clipped_in_the_description() -> None:
    item = {"type": "code_interpreter_call", "code": "x", "outputs": [{"type": "logs", "logs": "y" * 2500}]}
    assert describe_item(item) == "code interpreter:\nx\nlogs:\n" + "y" * 2000 + "… (500 more characters)"


def test_mcp_call_shows_server_name_and_arguments() -> None:
    item = {
        "type": "mcp_call",
        "status": "completed",
        "name": "amap-maps-maps_geo",
        "server_label": "amap-maps",
        "arguments": '{"address": "杭州"}',
        "output": "{}",
    }
    assert describe_item(item) == 'MCP amap-maps: maps_geo {"address": "杭州"}'


def test_file_search_shows_queries_and_the_result_count() -> None:
    item = {
        "type": "file_search_call",
        "status": "completed",
        "queries": ["refund policy", "returns"],
        "results": [{"file_id": "f", "filename": "a.txt", "score": 0.9, "text": "t"}],
    }
    assert describe_item(item) == "knowledge base search: refund policy; returns (1 result)"
    assert describe_item({"type": "file_search_call", "queries": ["q"]}) == "knowledge base search: q"


def test_image_searches_show_their_arguments_and_result_counts() -> None:
    by_text = {
        "type": "web_search_image_call",
        "name": "web_search_image",
        "arguments": '{"queries": ["cats"]}',
        "output": '[{"title": "a", "url": "u", "index": 1}, {"title": "b", "url": "v", "index": 2}]',
    }
    by_image = {
        "type": "image_search_call",
        "name": "image_search",
        "arguments": '{"img_idx":0,"bbox":[0,0,1000,1000]}',
    }
    assert describe_item(by_text) == 'image search by text: {"queries": ["cats"]} (2 results)'
    assert describe_item(by_image) == 'image search by image: {"img_idx":0,"bbox":[0,0,1000,1000]}'


def test_an_image_search_output_nested_absurdly_deep_is_shown_without_a_count() -> None:
    item = {
        "type": "web_search_image_call",
        "arguments": '{"queries": ["cats"]}',
        "output": "[" * 200_000 + "]" * 200_000,
    }
    assert describe_item(item) == 'image search by text: {"queries": ["cats"]}'


def test_function_call_shows_name_call_id_and_arguments() -> None:
    item = {"type": "function_call", "name": "get_weather", "call_id": "call_abc", "arguments": '{"city": "Paris"}'}
    assert describe_item(item) == 'function call get_weather (call_abc): {"city": "Paris"}'


def test_a_failed_call_says_so_and_odd_items_do_not_break_it() -> None:
    assert (
        describe_item({"type": "web_search_call", "status": "failed", "action": {"query": "q"}})
        == "web search: q [failed]"
    )
    assert describe_item({"type": "web_search_call", "action": None}) == "web search"
    assert describe_item({"type": "mcp_call"}) == "MCP ?: ?"
    assert describe_item({"type": "message"}) is None
    assert describe_item({}) is None


def test_sources_are_the_cited_urls_in_order_each_once() -> None:
    assert sources_of(fixture("nonstream-builtin-tools.json")) == [
        "https://cn.aliyun.com/",
        "https://www.alibabacloud.com/zh",
    ]
    second = {
        "type": "web_search_call",
        "action": {
            "sources": [
                {"type": "url", "url": "https://cn.aliyun.com/"},
                {"type": "url", "url": "https://b.example/"},
                {"type": "url"},
            ]
        },
    }
    response = {"output": [*fixture("nonstream-builtin-tools.json")["output"], second]}
    assert sources_of(response) == ["https://cn.aliyun.com/", "https://www.alibabacloud.com/zh", "https://b.example/"]
    assert sources_of({}) == [] and sources_of({"output": None}) == []
