"""The flags commands share, declared once; part of the cli layer.

`with_request_flags` gives `ask`, `stream` and `continue` every request flag, gathered in one `RequestFlags`;
`with_api_flags` gives the commands that read or delete stored things the connection and output flags.
An option that goes through the precedence rule in `config` (model, temperature, store, output...) defaults to
None, meaning "not set". A switch that is off unless given (--debug, --verbose, --dry-run...) is a plain bool, and
a repeatable option a tuple, empty when not given: `__post_init__` turns what a parser hands over (None for an
option not given, a list for a repeated one) into those.

The declarations themselves need no typer (`OptionSpec` is plain data), so `launch` can build a `RequestFlags`
from a command line it parsed itself; `with_flags` turns them into typer options when the app is built.
Choices arrive from typer as Enum members and are kept as their plain text.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields, replace
from enum import Enum
from typing import Annotated, Any, ClassVar, Optional, get_args, get_origin, get_type_hints

from qwen_cli.api.request import EFFORTS, RequestOptions, parse_extra
from qwen_cli.modes import OUTPUT_MODES, OutputMode
from qwen_cli.settings.config import REGIONS, Settings, SettingSources, read_sources, resolve_settings

MODEL = "Model"
INPUT = "Input"
OUTPUT = "Output"
CONNECTION = "Connection"
TOOLS = "Tools"
BATCH = "Batch"
PANELS = (BATCH, MODEL, INPUT, TOOLS, OUTPUT, CONNECTION)


@dataclass(frozen=True)
class OptionSpec:
    """One option as declared: what typer.Option is given when the app is built (see `with_flags`)."""

    names: tuple[str, ...]
    help: str
    panel: str
    metavar: str | None = None
    choices: tuple[str, ...] | None = None  # the only values allowed (typer offers and checks them)


def option(
    *names: str, help: str, panel: str, metavar: str | None = None, choices: tuple[str, ...] | None = None
) -> OptionSpec:
    return OptionSpec(names, help, panel, metavar, choices)


# The connection and output options, named: `config show` declares the same ones (see settings_commands).
OutputOption = Annotated[
    Optional[str],
    option(
        "-o",
        "--output",
        metavar="MODE",
        choices=OUTPUT_MODES,
        help="auto (pretty on a terminal, else text), pretty, text, json or jsonl.",
        panel=OUTPUT,
    ),
]
RegionOption = Annotated[
    Optional[str],
    option(
        "--region",
        metavar="REGION",
        choices=tuple(REGIONS),
        help="Endpoint region: intl (default), cn or us.",
        panel=CONNECTION,
    ),
]
BaseUrlOption = Annotated[
    Optional[str],
    option("--base-url", metavar="URL", help="API base URL (or QWEN_BASE_URL); overrides --region.", panel=CONNECTION),
]
TimeoutOption = Annotated[
    Optional[float],
    option(
        "--timeout",
        metavar="SECONDS",
        help="Seconds to wait for the reply, or for the next event of a stream (default 300).",
        panel=CONNECTION,
    ),
]
RetriesOption = Annotated[
    Optional[int],
    option("--max-retries", metavar="N", help="Retries of transient failures (default 2).", panel=CONNECTION),
]


@dataclass(frozen=True)
class ApiFlags:
    """What every command that talks to the API takes: where to send, how long to wait, how to show."""

    output: OutputOption = None
    json_output: Annotated[bool, option("--json", help="Short for -o json.", panel=OUTPUT)] = False
    debug: Annotated[
        bool,
        option("--debug", help="Log the HTTP exchange (secrets redacted) and show tracebacks.", panel=OUTPUT),
    ] = False
    region: RegionOption = None
    base_url: BaseUrlOption = None
    timeout: TimeoutOption = None
    max_retries: RetriesOption = None

    SWITCHES: ClassVar[tuple[str, ...]] = ("json_output", "debug")  # off unless given: plain bools
    REPEATABLE: ClassVar[tuple[str, ...]] = ()  # given any number of times: tuples

    def __post_init__(self) -> None:
        # Typer and `fast_argv` hand over None for an option not given, and a list for a repeated one.
        for name in self.SWITCHES:
            object.__setattr__(self, name, bool(getattr(self, name)))
        for name in self.REPEATABLE:
            object.__setattr__(self, name, tuple(getattr(self, name) or ()))

    def wants_json(self) -> bool:
        return self.json_output or self.output == OutputMode.JSON

    def setting_values(self) -> dict[str, Any]:
        return {
            "region": self.region,
            "base_url": self.base_url,
            "timeout": self.timeout,
            "max_retries": self.max_retries,
            "output": OutputMode.JSON if self.json_output else self.output,
        }

    def settings(self, env: Mapping[str, str], preset: Mapping[str, Any] | None = None) -> Settings:
        return resolve_settings(self.setting_values(), env, preset)

    def setting_sources(self, env: Mapping[str, str]) -> SettingSources:
        """The flags, the environment and the config file (read once), for settings resolved once a preset is known."""
        return read_sources(self.setting_values(), env)


@dataclass(frozen=True)
class RequestFlags(ApiFlags):
    """The flags of a request: `ask`, `stream` and `continue` share them all."""

    preset: Annotated[
        Optional[str],
        option(
            "-p",
            "--preset",
            metavar="NAME|PATH",
            help="Ask the way a saved YAML preset says (see qwen presets list).",
            panel=MODEL,
        ),
    ] = None
    model: Annotated[
        Optional[str],
        option("-m", "--model", metavar="MODEL", help="Model id (default qwen-plus, or QWEN_MODEL).", panel=MODEL),
    ] = None
    instructions: Annotated[
        Optional[str],
        option(
            "-s", "--instructions", "--system", metavar="TEXT", help="System instructions for this turn.", panel=MODEL
        ),
    ] = None
    temperature: Annotated[
        Optional[float],
        option("-t", "--temperature", metavar="T", help="Sampling temperature, in [0, 2).", panel=MODEL),
    ] = None
    top_p: Annotated[
        Optional[float], option("--top-p", metavar="P", help="Nucleus sampling, in (0, 1].", panel=MODEL)
    ] = None
    think: Annotated[
        Optional[bool], option("--think/--no-think", help="Turn thinking on or off (enable_thinking).", panel=MODEL)
    ] = None
    effort: Annotated[
        Optional[str],
        option("--effort", metavar="LEVEL", choices=EFFORTS, help="Reasoning effort (reasoning.effort).", panel=MODEL),
    ] = None
    max_output_tokens: Annotated[
        Optional[int],
        option("--max-output-tokens", metavar="N", help="Cap on the answer's tokens (at least 16).", panel=MODEL),
    ] = None
    store: Annotated[
        Optional[bool],
        option(
            "--store/--no-store", help="Let the server keep the response for 7 days (it does by default).", panel=MODEL
        ),
    ] = None
    session_cache: Annotated[
        Optional[bool],
        option(
            "--session-cache/--no-session-cache",
            help="Server-side session cache for multi-turn (header x-dashscope-session-cache).",
            panel=MODEL,
        ),
    ] = None
    conversation: Annotated[
        Optional[str],
        option("--conversation", metavar="ID", help="Add this turn to a conversation (conv_...).", panel=MODEL),
    ] = None
    previous: Annotated[
        Optional[str],
        option("--previous", metavar="ID", help="Continue from this response id (previous_response_id).", panel=MODEL),
    ] = None
    extra: Annotated[
        Optional[str],
        option(
            "--extra",
            metavar="JSON",
            help="A JSON object of raw body fields to merge in, for what is new.",
            panel=MODEL,
        ),
    ] = None
    files: Annotated[
        tuple[str, ...],
        option(
            "-f",
            "--file",
            metavar="PATH",
            help="Attach a text file with its name (repeatable; - is stdin).",
            panel=INPUT,
        ),
    ] = ()
    images: Annotated[
        tuple[str, ...],
        option(
            "--image",
            metavar="PATH|URL",
            help="Attach an image file or URL, or - for an image piped in (repeatable).",
            panel=INPUT,
        ),
    ] = ()
    messages: Annotated[
        Optional[str],
        option("--messages", metavar="PATH", help="A JSON or YAML file holding the complete input array.", panel=INPUT),
    ] = None
    no_stdin: Annotated[bool, option("--no-stdin", help="Do not read piped stdin.", panel=INPUT)] = False
    stdin_wait: Annotated[
        Optional[float],
        option(
            "--stdin-wait",
            metavar="SECONDS",
            help="How long an idle stdin may stay silent when a prompt is given (default: 1 s; 10 s where it cannot be told who writes it; to its end in a pipeline).",
            panel=INPUT,
        ),
    ] = None
    show_reasoning: Annotated[
        bool, option("--show-reasoning", help="In text mode, print the thinking to stderr.", panel=OUTPUT)
    ] = False
    verbose: Annotated[
        bool,
        option("-v", "--verbose", help="Print id, model, token usage and timing to stderr.", panel=OUTPUT),
    ] = False
    dry_run: Annotated[
        bool,
        option("--dry-run", help="Print the request that would be sent (key redacted) and exit.", panel=OUTPUT),
    ] = False
    no_history: Annotated[
        bool, option("--no-history", help="Do not record this response in the local history.", panel=OUTPUT)
    ] = False
    tool: Annotated[
        tuple[str, ...],
        option(
            "--tool",
            metavar="NAME",
            help="A built-in tool: web_search, web_extractor, code_interpreter, web_search_image, image_search, file_search (repeatable).",
            panel=TOOLS,
        ),
    ] = ()
    web: Annotated[bool, option("--web", help="Short for --tool web_search --tool web_extractor.", panel=TOOLS)] = False
    vector_store: Annotated[
        tuple[str, ...],
        option("--vector-store", metavar="ID", help="The knowledge base file_search searches.", panel=TOOLS),
    ] = ()
    mcp: Annotated[
        tuple[str, ...],
        option("--mcp", metavar="LABEL=URL", help="An MCP server (SSE) the model may call (repeatable).", panel=TOOLS),
    ] = ()
    mcp_header: Annotated[
        tuple[str, ...],
        option(
            "--mcp-header",
            metavar="LABEL:NAME=VALUE",
            help="A header for an MCP server; VALUE env:VAR reads the environment (repeatable).",
            panel=TOOLS,
        ),
    ] = ()
    tools_file: Annotated[
        tuple[str, ...],
        option(
            "--tools-file", metavar="PATH", help="Function tools from a YAML or JSON file (repeatable).", panel=TOOLS
        ),
    ] = ()
    tool_choice: Annotated[
        Optional[str],
        option(
            "--tool-choice",
            metavar="auto|none|required|NAME",
            help="Whether and which tool the model must call.",
            panel=TOOLS,
        ),
    ] = None
    run_tools: Annotated[
        bool,
        option(
            "--run-tools",
            help="Run the programs bound to function tools (run:) and send their output back.",
            panel=TOOLS,
        ),
    ] = False
    tool_timeout: Annotated[
        Optional[float],
        option(
            "--tool-timeout", metavar="SECONDS", help="How long one tool program may run (default 60).", panel=TOOLS
        ),
    ] = None
    max_tool_rounds: Annotated[
        Optional[int],
        option(
            "--max-tool-rounds", metavar="N", help="Rounds of running tools before qwen stops (default 8).", panel=TOOLS
        ),
    ] = None

    SWITCHES: ClassVar[tuple[str, ...]] = (
        *ApiFlags.SWITCHES,
        "no_stdin",
        "show_reasoning",
        "verbose",
        "dry_run",
        "no_history",
        "web",
        "run_tools",
    )
    REPEATABLE: ClassVar[tuple[str, ...]] = (
        "files",
        "images",
        "tool",
        "vector_store",
        "mcp",
        "mcp_header",
        "tools_file",
    )

    def setting_values(self) -> dict[str, Any]:
        return {**super().setting_values(), "model": self.model, "stdin_wait": self.stdin_wait}

    def options(self, model: str, preset_values: Mapping[str, Any] | None = None) -> RequestOptions:
        """The body options: a flag wins over the preset's value for the same option."""
        flagged = RequestOptions(
            model=model,
            instructions=self.instructions,
            temperature=self.temperature,
            top_p=self.top_p,
            think=self.think,
            effort=self.effort,
            max_output_tokens=self.max_output_tokens,
            store=self.store,
            session_cache=self.session_cache,
            conversation=self.conversation,
            previous_response_id=self.previous,
            extra=parse_extra(self.extra) if self.extra is not None else None,
        )
        unset = {key: value for key, value in (preset_values or {}).items() if getattr(flagged, key, None) is None}
        return replace(flagged, **unset)


@dataclass(frozen=True)
class BatchFlags(RequestFlags):
    """The flags of `qwen batch run` and `qwen batch submit`: every request flag, applied to every item, and how
    the items are read and their results written."""

    each_file: Annotated[
        bool,
        option(
            "--each-file", help="The PATHs are files: one item per file, attached, its path as the id.", panel=BATCH
        ),
    ] = False
    prompt: Annotated[
        Optional[str],
        option(
            "--prompt",
            metavar="TEXT",
            help="The prompt of every item; {input} takes the item's own prompt (as a preset's prompt does).",
            panel=BATCH,
        ),
    ] = None
    out: Annotated[
        Optional[str],
        option(
            "-O", "--out", metavar="FILE", help="Write the results to FILE (resumable) instead of stdout.", panel=BATCH
        ),
    ] = None
    full: Annotated[bool, option("--full", help="Add the whole response to each result line.", panel=BATCH)] = False
    jobs: Annotated[
        Optional[int], option("-j", "--jobs", metavar="N", help="Requests in flight at most (default 8).", panel=BATCH)
    ] = None
    rpm: Annotated[Optional[int], option("--rpm", metavar="N", help="Requests per minute at most.", panel=BATCH)] = None
    tpm: Annotated[
        Optional[int], option("--tpm", metavar="N", help="Tokens per minute at most (paced from replies).", panel=BATCH)
    ] = None
    unordered: Annotated[
        bool, option("--unordered", help="Write results as they finish, not in input order.", panel=BATCH)
    ] = False
    fail_fast: Annotated[
        bool, option("--fail-fast", help="Stop sending at the first item that fails.", panel=BATCH)
    ] = False

    SWITCHES: ClassVar[tuple[str, ...]] = (*RequestFlags.SWITCHES, "each_file", "full", "unordered", "fail_fast")


def with_flags(kind: type[Any]) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Give a command every flag of `kind`; it receives them as one keyword argument `flags`."""

    def decorate(command: Callable[..., None]) -> Callable[..., None]:
        # Reading the declarations is left to here, when the app is built: a request that `launch` runs pays nothing.
        hints = get_type_hints(kind, include_extras=True)
        names = sorted(
            (field.name for field in fields(kind)), key=lambda name: PANELS.index(spec_of(hints[name]).panel)
        )
        own = [p for p in inspect.signature(command, eval_str=True).parameters.values() if p.name != "flags"]
        shared = [
            inspect.Parameter(
                name, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=typer_annotation(name, hints[name])
            )
            for name in names
        ]

        @functools.wraps(command)
        def wrapper(**kwargs: Any) -> None:
            values = {name: plain(kwargs[name]) for name in names}
            command(**kwargs_without(kwargs, names), flags=kind(**values))

        wrapper.__signature__ = inspect.Signature(own + shared)  # type: ignore[attr-defined]  # what inspect (and typer) read
        return wrapper

    return decorate


def typer_annotation(name: str, annotation: Any) -> Any:
    """The declared option as typer wants it: typer.Option metadata, and an Enum for a choice."""
    import typer

    spec = spec_of(annotation)
    value_type = parsed_type(get_args(annotation)[0])
    if spec.choices is not None:
        choice_type = Enum(name.title().replace("_", ""), {choice: choice for choice in spec.choices}, type=str)  # type: ignore[misc]  # a functional Enum, which mypy cannot follow
        value_type = Optional[choice_type]
    return Annotated[
        value_type,
        typer.Option(*spec.names, help=spec.help, rich_help_panel=spec.panel, show_default=False, metavar=spec.metavar),
    ]


def parsed_type(declared: Any) -> Any:
    """What typer parses an option into: None when it is not given, a list when it is repeatable (a tuple here)."""
    if get_origin(declared) is tuple:
        return Optional[list[get_args(declared)[0]]]  # type: ignore[misc]  # a type built at run time, for typer
    return Optional[declared]


def plain(value: Any) -> Any:
    """A choice as its text: the flags hold what the user typed, whoever parsed it."""
    return value.value if isinstance(value, Enum) else value


def kwargs_without(kwargs: dict[str, Any], names: list[str]) -> dict[str, Any]:
    return {key: value for key, value in kwargs.items() if key not in names}


def spec_of(annotation: Any) -> OptionSpec:
    return next(info for info in annotation.__metadata__ if isinstance(info, OptionSpec))


with_request_flags = with_flags(RequestFlags)
with_batch_flags = with_flags(BatchFlags)
with_api_flags = with_flags(ApiFlags)
