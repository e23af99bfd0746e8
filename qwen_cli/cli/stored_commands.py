"""Commands for what is stored: the local history, and the server's stored responses and conversations.

Short recipes of resolve -> request -> show.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from enum import Enum
from typing import Annotated, Any, Optional

import typer

from qwen_cli.cli.flags import ApiFlags, plain, with_api_flags
from qwen_cli.cli.help_format import CommandGroup
from qwen_cli.cli.terminal import choose_mode, error_boundary
from qwen_cli.cli.world import World
from qwen_cli.errors import QwenError, UsageError
from qwen_cli.modes import OutputMode

history_app = CommandGroup(
    help="""The local history of responses (SQLite, in XDG_DATA_HOME).

    \b
    Examples:
      qwen history list -n 5
      qwen history show last
      qwen history thread resp_4ca7
      qwen history clear --older-than 30d
      qwen history usage --since 7d --by day
    """,
    no_args_is_help=True,
)
response_app = CommandGroup(
    help="""Responses the server stores (7 days, unless sent with --no-store).

    \b
    Examples:
      qwen response get resp_4ca7fa5e-... --json | jq .usage
      qwen response items resp_4ca7fa5e-... --order asc
      qwen response delete resp_4ca7fa5e-...
    """,
    short_help="Responses the server stores (7 days, unless --no-store).",
    no_args_is_help=True,
)
conversation_app = CommandGroup(
    help="""Conversations on the server, joined with --conversation ID.

    Their items carry the context of every turn.

    \b
    Examples:
      conv=$(qwen conversation create --item "My name is Ada.")
      qwen ask --conversation "$conv" "what is my name?"
      qwen conversation items "$conv" --order asc
      qwen conversation delete "$conv"
    """,
    no_args_is_help=True,
)

Json = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]
EntryId = Annotated[
    str,
    typer.Argument(
        metavar="ID",
        help="A response id, an unambiguous prefix of one (resp_ may be left out), or 'last' (the newest).",
        show_default=False,
    ),
]
ServerId = Annotated[str, typer.Argument(metavar="ID", help="The id on the server.", show_default=False)]
ResponseId = Annotated[
    str,
    typer.Argument(
        metavar="ID",
        help="A response id, 'last', or a prefix of an id in the local history (resp_ may be left out).",
        show_default=False,
    ),
]
Limit = Annotated[
    Optional[int],
    typer.Option("--limit", min=1, max=100, metavar="N", help="How many items (1-100; the server's default is 20)."),
]
SortOrder = Enum("SortOrder", {"asc": "asc", "desc": "desc"}, type=str)
Order = Annotated[
    Optional[SortOrder],
    typer.Option("--order", metavar="asc|desc", help="asc or desc (the server's default is desc: newest first)."),
]
After = Annotated[Optional[str], typer.Option("--after", metavar="ITEM_ID", help="List the items after this item id.")]


# --- the local history ---------------------------------------------------------------------------------------


@history_app.command("list")
def history_list(
    limit: Annotated[
        int, typer.Option("-n", "--limit", min=1, metavar="N", help="How many responses, newest first.")
    ] = 20,
    as_json: Json = False,
) -> None:
    """List recorded responses, newest first.

    \b
    Examples:
      qwen history list -n 5
      qwen history list --json | jq -r '.[0].id'
    """
    world = World.of_process()
    with error_boundary(world, debug=False, json_errors=as_json), local_history(world) as history:
        entries = history.latest(limit)
        if as_json:
            print_json([entry.to_json() for entry in entries], world)
        elif not entries:
            world.note(f"the local history is empty ({history.path}); every answered request is recorded there")
        else:
            print_lines(map(entry_line, entries), world)


@history_app.command("show")
def history_show(response: EntryId, as_json: Json = False) -> None:
    """Show one recorded response: its prompt, answer and usage.

    \b
    Examples:
      qwen history show last
      qwen history show resp_4ca7 --json
    """
    world = World.of_process()
    with error_boundary(world, debug=False, json_errors=as_json), local_history(world) as history:
        entry = recorded(history, response)
        print_json(entry.to_json(), world) if as_json else world.print_for_screen(entry_text(entry))


@history_app.command("thread", short_help="Show the chain of turns from the first one to ID.")
def history_thread(response: EntryId, as_json: Json = False) -> None:
    """Show the chain of turns from the first one to ID, as far back as the history knows it.

    \b
    Examples:
      qwen history thread last
    """
    world = World.of_process()
    with error_boundary(world, debug=False, json_errors=as_json), local_history(world) as history:
        chain = history.thread(recorded(history, response).id)
        if as_json:
            print_json([entry.to_json() for entry in chain], world)
        else:
            world.print_for_screen("\n\n".join(map(entry_text, chain)))


@history_app.command("clear", short_help="Delete recorded responses: all, or those older than an age.")
def history_clear(
    older_than: Annotated[
        Optional[str],
        typer.Option("--older-than", metavar="AGE", help="Only responses older than AGE: 30d, 12h, 90m, 2w."),
    ] = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation on a terminal.")] = False,
) -> None:
    """Delete recorded responses: all of them, or those older than an age. On a terminal, asks first.

    \b
    Examples:
      qwen history clear --older-than 30d
      qwen history clear --yes
    """
    from qwen_cli.history import parse_age

    world = World.of_process()
    with error_boundary(world, debug=False, json_errors=False), local_history(world) as history:
        age = parse_age(older_than) if older_than else None
        if not yes and not confirmed(world, history, age, older_than):
            world.note("nothing was removed")
            return
        removed = history.clear(age)
        print(f"removed {removed} {responses(removed)} from the history", file=world.stdout)


Grouping = Enum("Grouping", {"model": "model", "day": "day", "preset": "preset"}, type=str)
ReportMode = Enum(
    "ReportMode", {"auto": "auto", "pretty": "pretty", "text": "text", "json": "json", "jsonl": "jsonl"}, type=str
)


@history_app.command("usage", short_help="Sum the tokens used, by model, day or preset, with an estimated cost.")
def history_usage(
    since: Annotated[
        Optional[str],
        typer.Option(
            "--since", metavar="AGE|DATE", help="Only responses since an age ago (7d, 12h) or a date (2026-05-01)."
        ),
    ] = None,
    by: Annotated[
        Grouping, typer.Option("--by", metavar="model|day|preset", help="One row per model, local day or preset.")
    ] = Grouping.model,
    output: Annotated[
        Optional[ReportMode],
        typer.Option(
            "-o",
            "--output",
            metavar="MODE",
            help="auto (a table on a terminal, else tab-separated text), pretty, text, json or jsonl (one line).",
        ),
    ] = None,
    as_json: Json = False,
) -> None:
    """Sum the tokens the recorded responses used, by model, day or preset, with an estimated cost.

    The cost is estimated from the prices in the config file (prices:, per 1M tokens); results of the
    provider's Batch API are priced at its half price. A model without a price shows its cost as -.
    An empty history is not an error (exit 0).

    \b
    Examples:
      qwen history usage
      qwen history usage --since 7d --by day
      qwen history usage --since 2026-05-01 --by preset
      qwen history usage --json | jq .totals.cost
    """
    import time as clock

    from qwen_cli.cli import usage_report
    from qwen_cli.history import parse_since
    from qwen_cli.settings.config import config_path, configured_prices

    world = World.of_process()
    mode = "json" if as_json else plain(output) or "auto"
    with error_boundary(world, debug=False, json_errors=mode in ("json", "jsonl")), local_history(world) as history:
        start = parse_since(since, clock.time()) if since else None
        prices = configured_prices(world.env)
        report = usage_report.summarise(history.usage_records(start), plain(by), prices, start)
        if mode in ("json", "jsonl"):
            print_json(usage_report.report_json(report), world, compact=mode == "jsonl")
            return
        if report.is_empty():
            world.note(usage_report.empty_line(report, str(history.path)))
            return
        pretty = mode == "pretty" or mode == "auto" and world.stdout_is_terminal()
        world.print_for_screen(usage_report.table_text(report) if pretty else usage_report.plain_text(report))
        world.note_all(usage_report.notes(report, str(config_path(world.env))))


@history_app.command("path")
def history_path_command() -> None:
    """Print where the history is kept.

    \b
    Examples:
      qwen history path
      sqlite3 "$(qwen history path)" 'select id, prompt from responses limit 5'
    """
    from qwen_cli.history import history_path

    world = World.of_process()
    print(history_path(world.env), file=world.stdout)


def confirmed(world: World, history: Any, age: float | None, older_than: str | None) -> bool:
    """A yes to the question when stdin is a terminal (someone can answer); a script is not asked, and nothing to
    delete needs no yes."""
    if not world.stdin_is_terminal or world.stdin is None:
        return True
    count = history.count(age)
    if count == 0:
        return True
    which = (
        f"the {count} {responses(count)} older than {older_than}" if older_than else f"all {count} {responses(count)}"
    )
    print(f"delete {which} in {history.path}? [y/N] ", end="", file=world.stderr, flush=True)
    answer = world.stdin.readline().decode("utf-8", "replace").strip().lower()
    return answer in ("y", "yes")


def responses(count: int) -> str:
    return "response" if count == 1 else "responses"


def local_history(world: World) -> Any:
    from qwen_cli.history import History, history_path

    return History(history_path(world.env), warn=world.note)


def recorded(history: Any, reference: str) -> Any:
    from qwen_cli.history import EmptyHistory, resolve

    try:
        entry = resolve(history, reference)
    except EmptyHistory:
        raise UsageError("the local history is empty: there is nothing to show; ask something first") from None
    if entry is None:
        raise UsageError(f"no response '{reference}' in the local history; 'qwen history list' shows what is there")
    return entry


def entry_line(entry: Any) -> str:
    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(entry.created_at))
    prompt = " ".join(entry.prompt.split())
    prompt = prompt if len(prompt) <= 60 else prompt[:59] + "…"
    return f"{entry.id}  {when}  {entry.model or '-'}  {entry.status or '-'}  {prompt}"


def entry_text(entry: Any) -> str:
    from qwen_cli.api.responses import usage_of
    from qwen_cli.render.renderers import usage_text

    usage = usage_of({"usage": entry.usage}) if entry.usage else None
    lines = [entry_line(entry).split("  ", 1)[0] + f"  ({entry.model or '-'}, {entry.status or '-'})"]
    if entry.parent_id:
        lines.append(f"continues {entry.parent_id}")
    lines += ["", "prompt:", entry.prompt or "(none)", "", "answer:", entry.answer or "(none)"]
    if usage is not None:
        lines += ["", f"usage: {usage_text(usage)}"]
    return "\n".join(lines)


# --- stored responses -----------------------------------------------------------------------------------------


@response_app.command("get")
@with_api_flags
def response_get(response: ResponseId, *, flags: ApiFlags) -> None:
    """Fetch a stored response and print it like `ask` does.

    \b
    Examples:
      qwen response get last
      qwen response get resp_4ca7fa5e-6ff5-9787-bc18-af6ca5eff36c --json | jq .usage
    """
    call_api(flags, "GET", ("responses", response), show=show_response, world=World.of_process(), names_response=True)


@response_app.command("delete")
@with_api_flags
def response_delete(response: ResponseId, *, flags: ApiFlags) -> None:
    """Delete a stored response from the server.

    \b
    Examples:
      qwen response delete resp_4ca7fa5e-6ff5-9787-bc18-af6ca5eff36c
      qwen response delete last
    """
    call_api(
        flags,
        "DELETE",
        ("responses", response),
        show=lambda result, mode, world: world.print_for_screen(f"deleted {result.get('id', response)}"),
        world=World.of_process(),
        names_response=True,
    )


@response_app.command("items")
@with_api_flags
def response_items(
    response: ResponseId, limit: Limit = None, order: Order = None, after: After = None, *, flags: ApiFlags
) -> None:
    """List the input items of a stored response, earlier turns included.

    \b
    Examples:
      qwen response items resp_4ca7fa5e-... --order asc
      qwen response items resp_4ca7fa5e-... --limit 5 --json
    """
    query = {"limit": limit, "order": plain(order), "after": after}
    segments = ("responses", response, "input_items")
    call_api(flags, "GET", segments, query=query, show=show_items, world=World.of_process(), names_response=True)


# --- conversations --------------------------------------------------------------------------------------------


@conversation_app.command("create")
@with_api_flags
def conversation_create(
    items: Annotated[
        Optional[list[str]], typer.Option("--item", metavar="TEXT", help="A first user message (repeatable, up to 20).")
    ] = None,
    *,
    flags: ApiFlags,
) -> None:
    """Create a conversation; later turns join it with --conversation ID.

    \b
    Examples:
      qwen conversation create --item "My name is Ada."
      qwen ask --conversation "$(qwen conversation create)" "what is my name?"
    """
    body = {"items": [{"type": "message", "role": "user", "content": text} for text in items or []]}
    call_api(
        flags,
        "POST",
        ("conversations",),
        body=body,
        show=lambda result, mode, world: world.print_for_screen(str(result.get("id", ""))),
        world=World.of_process(),
    )


@conversation_app.command("items")
@with_api_flags
def conversation_items(
    conversation: ServerId, limit: Limit = None, order: Order = None, after: After = None, *, flags: ApiFlags
) -> None:
    """List the items of a conversation.

    \b
    Examples:
      qwen conversation items conv_123 --order asc
    """
    query = {"limit": limit, "order": plain(order), "after": after}
    call_api(
        flags, "GET", ("conversations", conversation, "items"), query=query, show=show_items, world=World.of_process()
    )


@conversation_app.command("delete")
@with_api_flags
def conversation_delete(conversation: ServerId, *, flags: ApiFlags) -> None:
    """Delete a conversation from the server.

    \b
    Examples:
      qwen conversation delete conv_123
    """
    call_api(
        flags,
        "DELETE",
        ("conversations", conversation),
        show=lambda result, mode, world: world.print_for_screen(f"deleted {result.get('id', conversation)}"),
        world=World.of_process(),
    )


# --- shared recipe ----------------------------------------------------------------------------------------------


def call_api(
    flags: ApiFlags,
    method: str,
    segments: tuple[str, ...],
    show: Callable[[dict[str, Any], OutputMode, World], None],
    query: dict[str, Any] | None = None,
    body: dict[str, Any] | None = None,
    *,
    world: World,
    names_response: bool = False,
) -> None:
    """Check the id, resolve settings, send one request to a companion endpoint, and show the reply in the chosen
    mode. When the request `names_response` (segments[1]), `last` and prefixes are found in the local history."""
    from qwen_cli.api.request import api_path, build_api_request
    from qwen_cli.settings.config import require_key

    with error_boundary(world, flags.debug, json_errors=flags.wants_json()) as boundary:
        path = api_path(*segments)  # first: an id like `..` is refused before anything is resolved or sent
        history = local_history(world) if names_response else None
        if history is not None:
            segments = (segments[0], server_id(history, segments[1], world), *segments[2:])
            path = api_path(*segments)
        settings = flags.settings(world.env)
        boundary.json_errors = settings.output is OutputMode.JSON
        require_key(settings)
        request = build_api_request(settings.base_url, settings.api_key, method, path, query=query, body=body)
        world = boundary.learn(request.secrets)
        from qwen_cli.cli import exchange

        # The server's reply is shown with the key and the base URL's password hidden, whatever it echoes.
        debug = world.note if flags.debug else None
        try:
            reply = exchange.call(settings, request, debug, world.note, world.transport, world.sleep)
        except QwenError as error:
            raise explained(error, settings, request.url, segments[1:2], history) from None
        finally:
            if history is not None:
                history.close()
        result = request.secrets.json(reply)
        mode = choose_mode(settings.output, world)
        if mode.is_json:
            print_json(result, world, compact=mode is OutputMode.JSONL)
        else:
            show(result, mode, world)


def server_id(history: Any, reference: str, world: World) -> str:
    """`last` or a prefix found in the local history; an id it does not know (or a history that cannot be read)
    is sent as it was given."""
    from qwen_cli.history import EmptyHistory, HistoryUnavailable, resolve

    try:
        entry = resolve(history, reference)
    except EmptyHistory:
        raise UsageError("the local history is empty, so 'last' names no response; give the id") from None
    except HistoryUnavailable as error:
        if reference == "last":
            raise
        world.note(f"warning: {error.message}; sending the id as it was given")
        return reference
    return entry.id if entry is not None else reference


def explained(error: QwenError, settings: Any, url: str, ids: tuple[str, ...], history: Any) -> QwenError:
    """An id the server does not know, a base URL that serves no API, a refused key: said in the user's terms.
    `ids` are those the URL names; `history` is there when the first is a response's."""
    from qwen_cli.cli import advice
    from qwen_cli.cli.continuation import endpoint_of

    if history is not None:
        error = advice.unknown_response(error, ids[0], endpoint_of(settings.base_url), history, said=())
    return advice.explained(error, settings, endpoint_of(url), ids=ids)


def show_response(response: dict[str, Any], mode: OutputMode, world: World) -> None:
    from qwen_cli.cli import exchange

    exchange.show(response, exchange.Output(mode, world.stdout, world.stderr, False, False, world.note))


def show_items(listing: dict[str, Any], mode: OutputMode, world: World) -> None:
    from qwen_cli.api.responses import item_text

    for item in listing.get("data") or []:
        if isinstance(item, dict):
            world.print_for_screen(
                f"{item.get('id', '-')}  {item.get('role') or item.get('type', '-')}: {item_text(item)}"
            )
    if listing.get("has_more"):
        world.note(f"more items follow; list them with --after {listing.get('last_id')}")


def print_json(value: Any, world: World, compact: bool = False) -> None:
    text = (
        json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        if compact
        else json.dumps(value, ensure_ascii=False, indent=2)
    )
    print(world.secrets.text(text), file=world.stdout)


def print_lines(lines: Any, world: World) -> None:
    for line in lines:
        world.print_for_screen(line)
