"""What continuing a response means: finding the parent in the local history, what it passes on to the next
turn (its endpoint, its preset as it was then), what a turn leaves in the history, and explaining an id the
server no longer knows.

No printing and no HTTP; the history is handed in.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qwen_cli.api.request import REDACTED, PreparedRequest, RequestOptions, UserInput, redact
from qwen_cli.errors import QwenError, UsageError
from qwen_cli.history import (
    BATCH,
    EmptyHistory,
    Entry,
    History,
    HistoryUnavailable,
    described,
    resolve,
    why_not_continuable,
)
from qwen_cli.redaction import endpoint_of as endpoint_of  # re-exported: cli modules and tests use it from here

if TYPE_CHECKING:
    from qwen_cli.settings.presets import Preset


@dataclass(frozen=True)
class Origin:
    """Where a turn was sent and with which preset, as the history keeps it so `continue` can reuse exactly
    that: the endpoint without user or password, the preset's file, the digest of its extends chain and its
    resolved values (no secret among them)."""

    endpoint: str | None = None
    preset_path: str | None = None
    preset_digest: str | None = None
    preset_settings: dict[str, Any] | None = None


def origin_of(base_url: str, preset: Preset | None) -> Origin:
    """The origin of a turn asked with a preset loaded from its file (or with none)."""
    if preset is None:
        return Origin(endpoint_of(base_url))
    from qwen_cli.settings.presets import chain_digest, recorded_values

    chain = [str(link.resolve()) for link in preset.chain]
    settings = {"chain": chain, "values": recorded_values(preset)}
    return Origin(endpoint_of(base_url), str(preset.source.resolve()), chain_digest(preset.chain), settings)


def parent_endpoint(parent: Parent | None) -> str | None:
    return parent.entry.endpoint if parent is not None and parent.entry is not None else None


def recorded_preset(parent: Parent, warn: Callable[[str], None]) -> tuple[Preset, Origin] | None:
    """The parent's preset as the history recorded it (None for a turn recorded before qwen kept it), with a
    note when its files changed or are gone since: the recorded settings are used either way."""
    entry = parent.entry
    settings = entry.preset_settings if entry is not None else None
    if entry is None or not entry.preset or not entry.preset_path or not isinstance(settings, dict):
        return None
    from qwen_cli.settings.presets import chain_digest, preset_from_record

    values = settings.get("values")
    if not isinstance(values, dict):
        values = {}
    preset, dropped = preset_from_record(entry.preset, entry.preset_path, values)
    chain = tuple(Path(str(link)) for link in settings.get("chain") or [entry.preset_path])
    current = chain_digest(chain)
    if current != entry.preset_digest:
        state = "is gone" if current is None else "has changed"
        warn(
            f"note: preset '{entry.preset}' ({entry.preset_path}) {state} since response {entry.id}; using the settings recorded then"
        )
    if dropped:
        warn(f"warning: the recorded preset '{entry.preset}' could not give {', '.join(dropped)}")
    return preset, Origin(entry.endpoint, entry.preset_path, entry.preset_digest, settings)


@dataclass(frozen=True)
class Parent:
    """The response a turn continues: its id, and what the history remembers of it (None: nothing)."""

    response_id: str
    entry: Entry | None


def find_parent(history: History | None, reference: str, warn: Callable[[str], None]) -> Parent:
    """`last`, an id or an unambiguous prefix of one; an id the history does not know is sent as it is."""
    if history is None:
        if reference == "last":
            raise UsageError("'last' needs the local history, which is turned off (--no-history or history: false)")
        return Parent(reference, None)
    try:
        entry = resolve(history, reference)
    except EmptyHistory:
        raise UsageError("there is no earlier response in the local history to continue; ask something first") from None
    except HistoryUnavailable as error:
        if reference == "last":
            raise
        warn(f"warning: {error.message}; sending the id as it was given")
        return Parent(reference, None)
    if reference == "last" and entry is not None:
        check_continuable(history, entry)
    elif entry is not None and entry.billing == BATCH:
        raise UsageError(f"response {described(entry)} {why_not_continuable(entry)}; start anew with qwen ask")
    return Parent(entry.id if entry else reference, entry)


def check_continuable(history: History, newest: Entry) -> None:
    """`last` is the newest response: one the server cannot continue is said so, naming the newest that it can,
    rather than going on silently from an older, unrelated thread."""
    why = why_not_continuable(newest)
    if why is None:
        return
    other = history.last_continuable()
    instead = (
        f"the newest that can be is {described(other)}: qwen continue {other.id}"
        if other is not None
        else "no response in the history can be continued; ask something first"
    )
    raise UsageError(f"the newest response, {described(newest)}, {why} and cannot be continued; {instead}")


def check_exclusive(previous: str | None, conversation: str | None) -> None:
    """Continuing names the turn to continue; --previous and --conversation would name another."""
    if previous:
        raise UsageError("--previous and continuing (-c or qwen continue) both name the turn to continue; give one")
    if conversation:
        raise UsageError(
            "--conversation cannot be combined with -c or qwen continue: a turn continues one or the other"
        )


def inherit(options: RequestOptions, parent: Parent, model_from_flag: bool) -> RequestOptions:
    """The parent's model is kept unless a flag names another; its instructions are sent again, since the
    server does not carry instructions from one turn to the next."""
    recorded = (parent.entry.options or {}) if parent.entry else {}
    model = options.model if model_from_flag or not (parent.entry and parent.entry.model) else parent.entry.model
    instructions = options.instructions if options.instructions is not None else recorded.get("instructions")
    return replace(options, model=model, instructions=instructions, previous_response_id=parent.response_id)


def parent_tools(parent: Parent | None, warn: Callable[[str], None]) -> tuple[dict[str, Any], ...] | None:
    """The tools the continued turn sent, to send again (the server does not keep tools across turns).

    A tool whose secrets the history did not keep (an MCP server's headers) cannot be rebuilt from it.
    """
    recorded = ((parent.entry.options or {}) if parent and parent.entry else {}).get("tools")
    if not isinstance(recorded, list) or not recorded:
        return None
    kept = tuple(tool for tool in recorded if isinstance(tool, dict) and REDACTED not in json.dumps(tool))
    if len(kept) < len(recorded):
        warn(
            "warning: the earlier turn's MCP servers had secret headers the history does not keep; pass --mcp and --mcp-header again"
        )
    return kept or None


def explain_unknown_parent(error: QwenError, parent_id: str | None, asked: str, history: History | None) -> QwenError:
    """The server's `Not found previous_response_id` becomes a line that says why, which endpoint was asked,
    and when and where the history says the response was made."""
    from qwen_cli.cli.advice import unknown_response

    return unknown_response(error, parent_id, asked, history, said=("previous_response_id",))


def entry_for(
    outcome: Any,
    request: PreparedRequest,
    user_input: UserInput,
    preset: str | None = None,
    origin: Origin | None = None,
) -> Entry:
    """The history entry of one turn: what was asked, what came back, the options sent (never a header), and
    where it went with which preset."""
    origin = origin or Origin()
    body = request.body or {}
    options = {key: value for key, value in body.items() if key not in ("model", "input", "stream")}
    options = redact(options, request.secrets)  # MCP header values stay out of the history like the key
    if user_input.attachments:
        options["attachments"] = [attachment.name for attachment in user_input.attachments]
    if user_input.images:
        options["images"] = len(user_input.images)
    return Entry(
        id=outcome.response_id,
        parent_id=body.get("previous_response_id"),
        model=outcome.model or body.get("model"),
        preset=preset,
        prompt=user_input.prompt,
        answer=outcome.answer,
        reasoning=outcome.reasoning,
        status=outcome.status,
        usage=outcome.usage,
        options=options,
        endpoint=origin.endpoint,
        preset_path=origin.preset_path,
        preset_digest=origin.preset_digest,
        preset_settings=origin.preset_settings,
    )
