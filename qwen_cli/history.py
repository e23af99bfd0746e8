"""The local history of responses, in an embedded SQLite file: record, look up, list, thread and clear.

Stores what a user needs to continue and review a conversation (ids, prompt, answer, usage, request options,
and where a turn was sent with which preset) and never a key, a header value or a URL's password. Safe with
several qwen processes writing at once (WAL, busy timeout); older files gain the newer columns when opened.
"""

from __future__ import annotations

import json
import math
import os
import shlex
import sqlite3
import stat
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import quote

from qwen_cli.errors import UsageError
from qwen_cli.settings.config import data_dir

SCHEMA = """
CREATE TABLE IF NOT EXISTS responses (
    id TEXT PRIMARY KEY,
    parent_id TEXT,
    created_at REAL NOT NULL,
    model TEXT,
    preset TEXT,
    prompt TEXT NOT NULL DEFAULT '',
    answer TEXT NOT NULL DEFAULT '',
    reasoning TEXT NOT NULL DEFAULT '',
    status TEXT,
    usage TEXT,
    options TEXT
);
CREATE INDEX IF NOT EXISTS responses_by_time ON responses (created_at);
"""
# Columns added since the first version, by ALTER TABLE when a file without them is opened for writing. A file
# opened read-only is read without them; older versions of qwen, which name their columns, ignore them.
ADDED_COLUMNS = {
    "endpoint": "TEXT",  # the base URL the turn was sent to, without user or password
    "preset_path": "TEXT",  # the preset file, resolved, and the digest of its whole extends chain
    "preset_digest": "TEXT",
    "preset_settings": "TEXT",  # JSON {"chain": [files], "values": {...}}: the preset as resolved, no secrets
    "billing": "TEXT",  # NULL: a realtime request; "batch": a result of the provider's Batch API (half price)
}
BATCH = "batch"  # the billing of a result fetched from the provider's Batch API
BUSY_TIMEOUT_MS = 10_000
SETUP_ATTEMPTS = 20  # setting up a new file while others do: tried again after 0.02 s, 0.04 s, ... (~4 s in all)
SETUP_PAUSE = 0.02
SQLITE_BUSY, SQLITE_LOCKED = 5, 6  # SQLite's result codes; the sqlite3 module names them from Python 3.11 only
# The statuses the server can continue from: a failed response is no place to go on from.
CONTINUABLE = ("completed", "incomplete", "interrupted", "cut")
ID_PREFIX = "resp_"
PREFIX_MATCHES = 10  # how many responses a prefix is looked up against; an ambiguous one shows a few of them
AMBIGUOUS_SHOWN = 5


class HistoryUnavailable(UsageError):
    """The history file cannot be opened or read (damaged, unreadable): reading commands stop with this."""

    def __init__(self, path: Path, doing: str, reason: object) -> None:
        super().__init__(f"the history at {path} cannot be {doing} ({reason}); move it away to start anew")
        self.reason = reason


class EmptyHistory(UsageError):
    """`last` was asked of a history with nothing in it."""


def history_path(env: Mapping[str, str]) -> Path:
    return data_dir(env) / "history.db"


@dataclass(frozen=True)
class Entry:
    """One recorded response."""

    id: str
    parent_id: str | None = None
    created_at: float = field(default_factory=time.time)
    model: str | None = None
    preset: str | None = None
    prompt: str = ""
    answer: str = ""
    reasoning: str = ""
    status: str | None = None
    usage: dict[str, Any] | None = None
    options: dict[str, Any] | None = None
    endpoint: str | None = None
    preset_path: str | None = None
    preset_digest: str | None = None
    preset_settings: dict[str, Any] | None = None
    billing: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


class UsageRecord(NamedTuple):
    """The part of an entry that `qwen history usage` sums."""

    created_at: float
    model: str | None
    preset: str | None
    usage: dict[str, Any] | None
    billing: str | None


COLUMNS = tuple(Entry.__dataclass_fields__)
JSON_COLUMNS = ("usage", "options", "preset_settings")


class History:
    def __init__(self, path: Path, warn: Callable[[str], None] | None = None) -> None:
        self.path = path
        self.warn = warn  # where a history that others can read, and that qwen may not fix, is reported
        self._connection: sqlite3.Connection | None = None
        self._columns: tuple[str, ...] = COLUMNS  # those the file has: fewer when an old file is opened read-only
        self.unavailable = False  # set once opening or reading failed: the user has been told already

    def connection(self) -> sqlite3.Connection:
        if self._connection is None:
            for problem in keep_private(self.path):
                if self.warn is not None:
                    self.warn(problem)
            try:
                self._connection = open_database(self.path)
                self._columns = tuple(name for name in COLUMNS if name in columns_of(self._connection))
            except (sqlite3.Error, OSError) as exc:
                self.unavailable = True
                raise HistoryUnavailable(self.path, "opened", exc) from exc
        return self._connection

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    # Closing is explicit: only the close of the last connection folds the write-ahead log back into the file
    # (so a cleared prompt is gone from it), and at exit nothing else is guaranteed to close it.
    def __enter__(self) -> History:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def record(self, *entries: Entry) -> None:
        """Record entries in one transaction (`qwen batch run` records many at a time: one commit, one sync)."""
        rows = [
            [dumps(getattr(entry, name)) if name in JSON_COLUMNS else getattr(entry, name) for name in COLUMNS]
            for entry in entries
        ]
        with self.connection() as db:
            db.executemany(
                f"INSERT OR REPLACE INTO responses ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})",
                rows,
            )

    def record_or_explain(self, *entries: Entry) -> str | None:
        """Record, or say why not (once): a history that cannot be written must never fail a request."""
        if self.unavailable:
            return None
        try:
            self.record(*entries)
        except HistoryUnavailable as exc:
            reason: object = exc.reason
        except (sqlite3.Error, OSError) as exc:
            reason = exc
        else:
            return None
        return f"the history at {self.path} could not be written ({reason}); the answer is not affected"

    def get(self, response_id: str) -> Entry | None:
        rows = self.select("WHERE id = ?", (response_id,))
        return rows[0] if rows else None

    def latest(self, limit: int) -> list[Entry]:
        return self.select("ORDER BY created_at DESC, rowid DESC LIMIT ?", (limit,))

    def last_continuable(self) -> Entry | None:
        """The newest response the server can continue: finished or cut, and stored (not sent with --no-store)."""
        if self._connection is None and not self.path.exists():
            return None  # reading must not create the file
        marks = ", ".join("?" * len(CONTINUABLE))
        stored = "NOT (json_valid(options) AND json_extract(options, '$.store') IS 0)"  # JSON false reads as 0
        # An old file opened read-only has no billing column, and no batch results either.
        realtime = f" AND billing IS NOT '{BATCH}'" if "billing" in self._columns_after_opening() else ""
        clause = f"WHERE status IN ({marks}) AND {stored}{realtime} ORDER BY created_at DESC, rowid DESC LIMIT 1"
        rows = self.select(clause, CONTINUABLE)
        return rows[0] if rows else None

    def usage_records(self, since: float | None = None) -> Iterator[UsageRecord]:
        """What each response used, oldest first, from `since` (a time stamp) on: read a row at a time, without
        prompts and answers, so summing a large history takes little memory."""
        if self._connection is None and not self.path.exists():
            return
        billing = "billing" if "billing" in self._columns_after_opening() else "NULL"
        query = f"SELECT created_at, model, preset, usage, {billing} FROM responses WHERE created_at >= ?"
        start = float("-inf") if since is None else since
        try:
            for created_at, model, preset, usage, kind in self.connection().execute(
                f"{query} ORDER BY created_at", (start,)
            ):
                yield UsageRecord(created_at, model, preset, loads(usage), kind)
        except sqlite3.Error as exc:
            self.unavailable = True
            raise HistoryUnavailable(self.path, "read", exc) from exc

    def _columns_after_opening(self) -> tuple[str, ...]:
        self.connection()
        return self._columns

    def with_prefix(self, prefix: str) -> list[Entry]:
        escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        return self.select(
            "WHERE id LIKE ? ESCAPE '\\' ORDER BY created_at DESC LIMIT ?", (escaped + "%", PREFIX_MATCHES)
        )

    def thread(self, response_id: str) -> list[Entry]:
        """The chain of turns from the first to `response_id`, as far back as this history knows it."""
        chain: list[Entry] = []
        seen: set[str] = set()
        entry = self.get(response_id)
        while entry is not None and entry.id not in seen:
            chain.append(entry)
            seen.add(entry.id)
            entry = self.get(entry.parent_id) if entry.parent_id else None
        return chain[::-1]

    def count(self, older_than: float | None = None) -> int:
        """How many responses `clear(older_than)` would delete."""
        cutoff = time.time() - older_than if older_than is not None else float("inf")
        if self._connection is None and not self.path.exists():
            return 0
        try:
            row = self.connection().execute("SELECT count(*) FROM responses WHERE created_at < ?", (cutoff,)).fetchone()
        except sqlite3.Error as exc:
            raise HistoryUnavailable(self.path, "read", exc) from exc
        return int(row[0])

    def clear(self, older_than: float | None = None) -> int:
        cutoff = time.time() - older_than if older_than is not None else None
        db = self.connection()
        db.execute("PRAGMA secure_delete = ON")  # cleared prompts are overwritten, not left in free pages
        with db:
            if cutoff is None:
                return db.execute("DELETE FROM responses").rowcount
            return db.execute("DELETE FROM responses WHERE created_at < ?", (cutoff,)).rowcount

    def select(self, clause: str, parameters: tuple[Any, ...]) -> list[Entry]:
        if self._connection is None and not self.path.exists():
            return []  # reading must not create the file
        try:
            connection = self.connection()
            rows = connection.execute(
                f"SELECT {', '.join(self._columns)} FROM responses {clause}", parameters
            ).fetchall()
        except sqlite3.Error as exc:
            self.unavailable = True
            raise HistoryUnavailable(self.path, "read", exc) from exc
        return [entry_of(self._columns, row) for row in rows]


def resolve(history: History, reference: str) -> Entry | None:
    """`last` (the newest response), a full id or an unambiguous prefix of one, with or without `resp_`: the
    recorded entry, or None when the history has none."""
    if reference == "last":
        newest = history.latest(1)
        if not newest:
            raise EmptyHistory("the local history is empty; ask something first")
        return newest[0]
    for candidate in spellings(reference):
        exact = history.get(candidate)
        if exact is not None:
            return exact
    matches = {entry.id: entry for candidate in spellings(reference) for entry in history.with_prefix(candidate)}
    if len(matches) > 1:
        raise UsageError(ambiguity(reference, sorted(matches.values(), key=lambda entry: -entry.created_at)))
    return next(iter(matches.values()), None)


def spellings(reference: str) -> tuple[str, ...]:
    """An id as given, and with the `resp_` that a user may leave out (`qwen continue d237`)."""
    return (reference,) if reference.startswith(ID_PREFIX) else (reference, ID_PREFIX + reference)


def ambiguity(reference: str, matches: list[Entry]) -> str:
    """The candidates for an ambiguous prefix, newest first, a few of them, each with its time and prompt."""
    shown = [f"  {candidate_line(entry)}" for entry in matches[:AMBIGUOUS_SHOWN]]
    if len(matches) > AMBIGUOUS_SHOWN:
        shown.append("  ...")
    count = f"{len(matches)}+" if len(matches) >= PREFIX_MATCHES else str(len(matches))
    return "\n".join([f"'{reference}' matches {count} responses in the history; give more of the id:", *shown])


def candidate_line(entry: Entry) -> str:
    """An entry in one line: its id, when it was made and the start of its prompt."""
    return f"{entry.id}  {made_at(entry)}  {prompt_start(entry)}"


def described(entry: Entry) -> str:
    """An entry within a sentence: `resp_… (2026-12-06 09:30, "the start of its prompt")`."""
    return f'{entry.id} ({made_at(entry)}, "{prompt_start(entry)}")'


def made_at(entry: Entry) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(entry.created_at))


def prompt_start(entry: Entry) -> str:
    prompt = " ".join(entry.prompt.split())
    return (prompt if len(prompt) <= 50 else prompt[:49] + "…") or "(no prompt)"


def why_not_continuable(entry: Entry) -> str | None:
    """Why the server cannot continue this response (None: it can): it failed, it was never stored, or it came
    from the Batch API, whose chat.completion ids the Responses API does not know."""
    if entry.billing == BATCH:
        return "is a Batch API result (the Responses API cannot continue a chat.completion id)"
    if entry.status not in CONTINUABLE:
        return "failed" if entry.status == "failed" else f"ended {entry.status or 'without a status'}"
    if (entry.options or {}).get("store") is False:
        return "was sent with --no-store"
    return None


def open_database(path: Path) -> sqlite3.Connection:
    """The history for reading and writing, set up (WAL, schema) if it is new; read-only when it cannot be written.

    Processes that start together race to set up a new file: switching to WAL can answer "database is locked"
    at once, busy timeout or not. That is tried again; only a history that cannot be written is opened read-only
    (falling back on a lock once opened an empty file read-only, and the turn's record was lost).
    """
    create_private(path)
    for attempt in range(SETUP_ATTEMPTS):
        connection = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        try:
            connection.execute("PRAGMA journal_mode = WAL")
            connection.executescript(SCHEMA)
            add_missing_columns(connection)
        except sqlite3.OperationalError as exc:
            connection.close()
            if not is_busy(exc):
                return open_read_only(path)
            if attempt == SETUP_ATTEMPTS - 1:
                raise
            time.sleep(SETUP_PAUSE * (attempt + 1))
            continue
        connection.isolation_level = "DEFERRED"  # back to implicit transactions (BEGIN), committed by `with connection`
        return connection
    raise AssertionError("the last attempt returns or raises")


def add_missing_columns(connection: sqlite3.Connection) -> None:
    """Bring an older file up to date. Two processes may both find a column missing: the second one's ALTER
    then fails as a duplicate, which is the outcome it wanted."""
    for name, kind in ADDED_COLUMNS.items():
        if name in columns_of(connection):
            continue
        try:
            connection.execute(f"ALTER TABLE responses ADD COLUMN {name} {kind}")
        except sqlite3.OperationalError as exc:
            if "duplicate column" not in str(exc):
                raise


def columns_of(connection: sqlite3.Connection) -> set[str]:
    return {row[1] for row in connection.execute("PRAGMA table_info(responses)")}


def is_busy(exc: sqlite3.OperationalError) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)  # Python 3.11+; the message otherwise
    return code in (SQLITE_BUSY, SQLITE_LOCKED) if code is not None else "locked" in str(exc)


def open_read_only(path: Path) -> sqlite3.Connection:
    """A history on a read-only disk or folder can still be read, so `continue last` works; writing then
    fails and only warns. WAL mode needs a writable -shm file, which `immutable` does without."""
    connection = sqlite3.connect(f"file:{quote(str(path))}?immutable=1", uri=True)
    connection.execute("SELECT count(*) FROM responses")
    return connection


def create_private(path: Path) -> None:
    """The folder and the file are created readable by their owner only: prompts and answers are private."""
    if path.exists():
        return
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))


def keep_private(path: Path) -> list[str]:
    """A history folder or file whose mode was loosened (a 0777 folder, a 0644 file) is made private again when
    it is the user's; one that belongs to someone else is left as it is, with a warning. Runs before SQLite
    opens the file, so the -wal and -shm files it creates take the file's private mode."""
    problems = []
    for item, private in (
        (path.parent, 0o700),
        *((path.with_name(path.name + suffix), 0o600) for suffix in ("", "-wal", "-shm")),
    ):
        problem = tighten(item, private)
        if problem:
            problems.append(problem)
    return problems


def tighten(item: Path, private: int) -> str | None:
    """Take away the group's and others' access to `item`; the owner's own bits (read-only, say) stay as they are."""
    try:
        status = item.stat()
    except OSError:
        return None  # absent, or unreadable: opening it reports that
    mode = stat.S_IMODE(status.st_mode)
    if not mode & 0o077:
        return None
    fix = f"make it private: chmod {private:o} {shlex.quote(str(item))}"
    if status.st_uid != os.geteuid():
        return f"warning: {item} belongs to another user and others can read it; {fix}"
    try:
        os.chmod(item, mode & 0o700)
    except OSError as exc:
        return f"warning: other users can read {item} and its mode cannot be changed ({exc.strerror or exc}); {fix}"
    return None


def entry_of(columns: tuple[str, ...], row: tuple[Any, ...]) -> Entry:
    values = dict(zip(columns, row))
    for name in JSON_COLUMNS:
        if name in values:
            values[name] = loads(values[name])
    return Entry(**values)


def dumps(value: dict[str, Any] | None) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False)


def loads(text: str | None) -> dict[str, Any] | None:
    try:
        value = json.loads(text) if text else None
    except json.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None


AGE_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_age(text: str) -> float:
    """`30d`, `12h`, `90m`, `2w` or `45s` as seconds, for `history clear --older-than`."""
    age = age_seconds(text)
    if age is None:
        raise UsageError(f"--older-than takes a number and a unit (s, m, h, d or w), like 30d; got '{text}'")
    return age


def age_seconds(text: str) -> float | None:
    number, unit = text[:-1], text[-1:].lower()
    try:
        value = float(number)
    except ValueError:
        return None
    if unit not in AGE_UNITS or not (math.isfinite(value) and value >= 0):
        return None
    return value * AGE_UNITS[unit]


def parse_since(text: str, now: float) -> float:
    """`--since`: an age back from `now` (7d, 12h) or a local date or time (2026-05-01, 2026-05-01T09:30), as
    the time stamp from which on responses count."""
    age = age_seconds(text)
    if age is not None:
        return now - age
    try:
        # A date without a time zone is local time, as `history list` shows times; year 1 in local time can be
        # before the epoch's range, which is as wrong as a date that does not exist.
        return datetime.fromisoformat(text.strip()).timestamp()
    except (ValueError, OverflowError, OSError):
        raise UsageError(
            f"--since takes an age (a number and s, m, h, d or w, like 7d) or a date (2026-05-01, 2026-05-01T09:30);"
            f" got '{text}'"
        ) from None
