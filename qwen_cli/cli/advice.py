"""What a failure from the server means for the user, said in terms of their settings: a 404 from a base URL
that serves no API, a key refused by a region it does not belong to, an id the server asked does not know.

Rewrites errors only (no printing, no HTTP); the settings and the history are handed in.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from qwen_cli.errors import ApiError, AuthError, QwenError

if TYPE_CHECKING:
    from qwen_cli.history import Entry, History
    from qwen_cli.settings.config import Settings

SERVER_KEEPS_DAYS = 7
FORGETS = (
    f"it keeps responses {SERVER_KEEPS_DAYS} days, never those sent with --no-store or deleted, "
    "and the id may be mistyped"
)


def explained(error: QwenError, settings: Settings, url: str, ids: tuple[str, ...] = ()) -> QwenError:
    """The error as the user should read it: a refused key names the region, a 404 about none of `ids` (the
    ids the request named) is a path that does not exist."""
    if isinstance(error, AuthError) and error.status in (401, 403):
        return AuthError(
            f"{error.message}; {region_advice(settings)}",
            code=error.code,
            request_id=error.request_id,
            status=error.status,
        )
    if isinstance(error, ApiError) and error.status == 404 and not names_a_thing(error, ids):
        return ApiError(
            f"nothing answers at {url} ({error.message}); check --base-url or QWEN_BASE_URL "
            "(DashScope's base URLs end in /compatible-mode/v1)",
            code=error.code,
            request_id=error.request_id,
            status=error.status,
        )
    return error


# The codes a gateway gives for a path it does not serve; an API error about a thing carries a code of its own.
PATH_NOT_FOUND_CODES = (None, "", "Not Found", "Not support", "NotFound")


def names_a_thing(error: QwenError, ids: tuple[str, ...]) -> bool:
    """Whether a 404 is about something the request named (an id, the model, a conversation, a file) rather than
    a path that is not there."""
    said = f"{error.message} {error.code or ''}".lower()
    if error.code not in PATH_NOT_FOUND_CODES:
        return True
    return "model" in said or any(name.lower() in said for name in ids)


def region_advice(settings: Settings) -> str:
    """Which region or base URL the request went to, and the others to try: a key works in one region only."""
    from qwen_cli.redaction import shown_url
    from qwen_cli.settings.config import REGIONS

    region = next((name for name, url in REGIONS.items() if url == settings.base_url.rstrip("/")), None)
    source = settings.sources.get("base_url") or "default"
    if region is None:
        return (
            f"the request went to the base URL {shown_url(settings.base_url)} ({source}); a key belongs to one "
            f"region ({', '.join(REGIONS)}): check the key, and --base-url or try --region"
        )
    others = " or ".join(f"--region {name}" for name in REGIONS if name != region)
    return f"the request went to region {region} ({source}); a key belongs to one region: try {others}"


def unknown_response(
    error: QwenError, response_id: str | None, asked: str, history: History | None, said: tuple[str, ...]
) -> QwenError:
    """An id the server does not know (its error says one of `said`, or names the id) becomes a line that says
    why, which endpoint was asked and, when the history has the response, when and where it was made."""
    if response_id is None or not isinstance(error, ApiError):
        return error
    if not any(phrase in error.message for phrase in (*said, response_id)):
        return error
    if error.status not in (400, 404):
        return error
    message = f"the server at {asked} does not know response {response_id}: {FORGETS}"
    known = recorded(history, response_id)
    if known is not None:
        message += f"; your history has it from {made_when(known)}"
        if known.endpoint:
            message += f", made at {known.endpoint}"
            if known.endpoint.rstrip("/") != asked.rstrip("/"):
                message += f" (try --base-url {known.endpoint})"
    return ApiError(message, code=error.code, request_id=error.request_id, status=error.status)


def recorded(history: History | None, response_id: str) -> Entry | None:
    from qwen_cli.history import HistoryUnavailable

    try:
        return history.get(response_id) if history is not None else None
    except HistoryUnavailable:
        return None


def made_when(entry: Entry) -> str:
    stamp = time.strftime("%Y-%m-%d %H:%M", time.localtime(entry.created_at))
    return f"{stamp} ({age_text(time.time() - entry.created_at)} ago)"


def age_text(seconds: float) -> str:
    for unit, size in (("days", 86400), ("hours", 3600), ("minutes", 60)):
        if seconds >= size:
            return f"{seconds / size:.0f} {unit}"
    return f"{seconds:.0f} seconds"
