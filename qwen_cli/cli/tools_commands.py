"""`qwen tools`: the built-in tools and their rules, the function tools of files and presets, and checks.

Part of the cli layer (with `cli`, `flags` and `terminal`). Offline: no key and no network.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Optional

import typer

from qwen_cli.cli.help_format import CommandGroup
from qwen_cli.cli.terminal import error_boundary
from qwen_cli.cli.world import World

tools_app = CommandGroup(
    help="""Built-in tools, function tools from YAML, and checks of tools files.

    \b
    Examples:
      qwen tools list
      qwen tools show web_search
      qwen tools check tools.yaml
      qwen ask --tools-file tools.yaml --run-tools "weather in Paris?"
    """,
    short_help="Built-in tools, function tools, and checks of tools files.",
    no_args_is_help=True,
)

ToolsFiles = Annotated[
    Optional[list[str]],
    typer.Option("--tools-file", metavar="PATH", help="Function tools from a YAML or JSON file (repeatable)."),
]
Preset = Annotated[
    Optional[str], typer.Option("-p", "--preset", metavar="NAME|PATH", help="Include the tools this preset sends.")
]
Json = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]


@tools_app.command("list", short_help="List the built-in tools with their rules, and function tools.")
def tools_list(tools_file: ToolsFiles = None, preset: Preset = None, as_json: Json = False) -> None:
    """List the built-in tools with their rules, and the function tools of tools files and a preset.

    \b
    Examples:
      qwen tools list
      qwen tools list --tools-file tools.yaml -p research --json
    """
    from qwen_cli.tools.catalogue import tool_listing

    world = World.of_process()
    with error_boundary(world, debug=False, json_errors=as_json):
        listing = tool_listing(spec_of(world, tuple(tools_file or ()), preset))
        if as_json:
            print(json.dumps(listing, ensure_ascii=False, indent=2), file=world.stdout)
        else:
            world.print_for_screen(listing_text(listing))


@tools_app.command("show", short_help="Print the JSON definition qwen would send for a tool.")
def tools_show(
    name: Annotated[
        str,
        typer.Argument(metavar="NAME", help="A built-in tool, a function or an MCP server label.", show_default=False),
    ],
    tools_file: ToolsFiles = None,
    preset: Preset = None,
    vector_store: Annotated[
        Optional[list[str]], typer.Option("--vector-store", metavar="ID", help="For file_search: the knowledge base.")
    ] = None,
) -> None:
    """Print the exact JSON definition qwen would send for a tool (MCP header values redacted).

    \b
    Examples:
      qwen tools show web_search
      qwen tools show get_weather --tools-file tools.yaml
    """
    from qwen_cli.tools.catalogue import tool_definition

    world = World.of_process()
    with error_boundary(world, debug=False, json_errors=False):
        spec = spec_of(world, tuple(tools_file or ()), preset, vector_stores=tuple(vector_store or ()))
        print(json.dumps(tool_definition(name, spec), ensure_ascii=False, indent=2), file=world.stdout)


@tools_app.command("check", short_help="Validate a tools file: errors name the file, entry and key.")
def tools_check(
    path: Annotated[str, typer.Argument(metavar="PATH", help="A tools file (YAML or JSON).", show_default=False)],
) -> None:
    """Validate a tools file: errors name the file, the entry and the key (exit 2 when invalid).

    \b
    Examples:
      qwen tools check tools.yaml
    """
    from qwen_cli.tools.catalogue import check_tools_file

    world = World.of_process()
    with error_boundary(world, debug=False, json_errors=False):
        functions = check_tools_file(path)
        names = ", ".join(function.name for function in functions)
        world.print_for_screen(
            f"{path}: {len(functions)} function tool{'s' if len(functions) != 1 else ''} ({names}), all valid"
        )


def spec_of(
    world: World, tools_files: tuple[str, ...], preset_ref: str | None, vector_stores: tuple[str, ...] = ()
) -> Any:
    from qwen_cli.tools.catalogue import ToolSpec

    if preset_ref is None:
        return ToolSpec(tools_files=tools_files, vector_stores=vector_stores)
    from qwen_cli.settings.presets import load_preset

    preset = load_preset(preset_ref, world.cwd, world.env)
    return ToolSpec(
        tools_files=tools_files,
        vector_stores=vector_stores,
        preset_tools=tuple(preset.tools or ()),
        preset_source=f"preset '{preset.name}'",
        preset_dir=str(preset.source.parent),
    )


def listing_text(listing: Any) -> str:
    lines = ["Built-in tools (--tool NAME):"]
    for tool in listing["builtin"]:
        lines.append(f"  {tool['name']:<18} {tool['description']}")
        lines += [f"  {'':<18}   - {rule}" for rule in tool["rules"]]
    if listing["functions"]:
        lines += ["", "Function tools:"]
        for function in listing["functions"]:
            bound = f" (runs: {' '.join(function['run'])})" if function["run"] else ""
            lines.append(f"  {function['name']:<18} {function['description']}{bound}  [{function['source']}]")
    if listing["mcp"]:
        lines += ["", "MCP servers:"]
        lines += [f"  {server['label']:<18} {server['url']}  [{server['source']}]" for server in listing["mcp"]]
    return "\n".join(lines)
