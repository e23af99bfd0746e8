"""The local records of jobs submitted to the Batch API: one JSON file per job under `<data dir>/batches/`, and beside
it the job's item ids with their request digests, one per line (`<batch id>.items.jsonl`), in input order.

The folder is its owner's alone (0700), the files 0600, each replaced whole (temporary file, then rename). A record
names the endpoint its key goes to, so one that belongs to another user, or that others could change, is refused;
a damaged one is a one-line error naming the file. Never holds a key or a URL's password. No printing, no HTTP.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qwen_cli.api.request import PATH_SEGMENT
from qwen_cli.batch.lines import bounded_lines
from qwen_cli.errors import UsageError
from qwen_cli.history import tighten
from qwen_cli.redaction import endpoint_of
from qwen_cli.settings.config import data_dir
from qwen_cli.settings.files import replace_private
from qwen_cli.settings.trust import lock

FOLDER = "batches"
RECORD_VERSION = 1
MAX_RECORD_BYTES = 1024 * 1024  # a record is a few hundred bytes; the item ids live apart
MAX_ITEM_LINE_BYTES = 4096  # an id (at most 256 characters) and a digest
READ_CHUNK = 64 * 1024
ID_PREFIX = "batch_"
AMBIGUOUS_SHOWN = 5


@dataclass(frozen=True)
class Job:
    """What qwen knows of a submitted job: enough to follow it, fetch it and match its results to the items."""

    batch_id: str
    input_file_id: str
    base_url: str  # the endpoint, without user or password
    model: str
    window: str  # "24h"
    created_at: float
    test: bool = False  # sent to batch-test-model
    items: int = 0  # how many; their ids are in the sidecar file
    status: str = "validating"  # the last one seen
    counts: dict[str, int] = field(default_factory=dict)  # the provider's request_counts: total, completed, failed
    output_file_id: str | None = None
    error_file_id: str | None = None
    fetched_to: tuple[str, ...] = ()  # where its results were written
    updated_at: float | None = None

    def to_json(self) -> dict[str, Any]:
        document: dict[str, Any] = {"version": RECORD_VERSION}
        document.update({name: getattr(self, name) for name in FIELDS})
        document["fetched_to"] = list(self.fetched_to)
        return document


FIELDS = tuple(Job.__dataclass_fields__)
# The type each field must have in a record; None allowed where the default is None.
TYPES: dict[str, tuple[type, ...]] = {
    "batch_id": (str,),
    "input_file_id": (str,),
    "base_url": (str,),
    "model": (str,),
    "window": (str,),
    "created_at": (int, float),
    "test": (bool,),
    "items": (int,),
    "status": (str,),
    "counts": (dict,),
    "output_file_id": (str, type(None)),
    "error_file_id": (str, type(None)),
    "fetched_to": (list,),
    "updated_at": (int, float, type(None)),
}


class UnknownJob(UsageError):
    """No local record matches: the caller may still ask the provider about a full batch id."""


def jobs_dir(env: Mapping[str, str]) -> Path:
    return data_dir(env) / FOLDER


def record_path(batch_id: str, env: Mapping[str, str]) -> Path:
    if not PATH_SEGMENT.fullmatch(batch_id):
        raise UsageError(
            f"{json.dumps(batch_id[:80])} is not a batch id (like batch_fa05d570-fa04-4935-8b80-2b9c1a4b3ee4)"
        )
    return jobs_dir(env) / f"{batch_id}.json"


def items_path(record: Path) -> Path:
    return record.with_name(record.stem + ".items.jsonl")


# --- writing ------------------------------------------------------------------------------------------------------


def save(
    job: Job, items: Iterable[tuple[str, str | None]], env: Mapping[str, str], warn: Callable[[str], None] | None = None
) -> Job:
    """Record a new job and its items (id, request digest) in input order; the items are written first, so a record
    never points at ids that are not there. Returns the job with its item count."""
    path = record_path(job.batch_id, env)
    lines = [json.dumps({"id": item_id, "digest": digest}, ensure_ascii=False) + "\n" for item_id, digest in items]
    job = dataclasses.replace(job, base_url=endpoint_of(job.base_url), items=len(lines))
    with writing(path, warn):
        replace_private(items_path(path), "".join(lines))
        write_record(path, job)
    return job


def update(batch_id: str, env: Mapping[str, str], **changes: Any) -> Job:
    """Change some fields of a recorded job (status, counts, file ids, fetched_to), under a lock so two qwen
    processes following the same job both count."""
    path = existing(batch_id, env)
    with writing(path, None):
        job = dataclasses.replace(read_record(path), **changes, updated_at=time.time())
        write_record(path, job)
    return job


def record_batch(batch_id: str, batch: Mapping[str, Any], env: Mapping[str, str]) -> Job:
    """Keep what the provider's Batch object says now: its status, request counts and file ids."""
    counts = batch.get("request_counts")
    changes: dict[str, Any] = {"status": str(batch.get("status") or "unknown")}
    if isinstance(counts, Mapping):
        changes["counts"] = {key: value for key, value in counts.items() if isinstance(value, int)}
    for key in ("output_file_id", "error_file_id"):
        if isinstance(batch.get(key), str):
            changes[key] = batch[key]
    return update(batch_id, env, **changes)


def add_fetched(batch_id: str, destination: str, env: Mapping[str, str]) -> Job:
    """Note that the job's results were written to `destination` (once, however often it is fetched there)."""
    fetched = load(batch_id, env).fetched_to
    return update(batch_id, env, fetched_to=fetched if destination in fetched else (*fetched, destination))


@contextlib.contextmanager
def writing(path: Path, warn: Callable[[str], None] | None) -> Iterator[None]:
    """The folder made private, the records locked, and a failure to write turned into one line naming the file."""
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        problem = tighten(path.parent, 0o700)
        if problem and warn is not None:
            warn(problem)
        with lock(path.parent / ".lock"):
            yield
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from exc


def write_record(path: Path, job: Job) -> None:
    replace_private(path, json.dumps(job.to_json(), indent=2, ensure_ascii=False) + "\n")


# --- reading ------------------------------------------------------------------------------------------------------


def load(batch_id: str, env: Mapping[str, str]) -> Job:
    return read_record(existing(batch_id, env))


def existing(batch_id: str, env: Mapping[str, str]) -> Path:
    path = record_path(batch_id, env)
    if not path.exists():
        raise UnknownJob(f"no local record of the batch job {batch_id}; qwen batch list shows the recorded ones")
    return path


def read_record(path: Path) -> Job:
    data = read_private(path, MAX_RECORD_BYTES)
    try:
        document = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise damaged(path, "not valid JSON") from exc
    if not isinstance(document, dict) or document.get("version") != RECORD_VERSION:
        raise damaged(path, "not a batch job record qwen knows")
    for name, kinds in TYPES.items():
        if name in document and not isinstance(document[name], kinds):
            raise damaged(path, f"'{name}' has the wrong type")
    missing = [
        name
        for name in FIELDS
        if name not in document and Job.__dataclass_fields__[name].default is dataclasses.MISSING
    ]
    if missing:
        raise damaged(path, f"'{missing[0]}' is missing")
    values = {name: document[name] for name in FIELDS if name in document}
    if values.get("batch_id") != path.stem:
        raise damaged(path, "it names another job")
    return Job(**{**values, "fetched_to": tuple(str(place) for place in values.get("fetched_to", ()))})


def items_of(batch_id: str, env: Mapping[str, str]) -> Iterator[tuple[str, str | None]]:
    """The job's items, (id, request digest), in input order, read as a stream."""
    path = items_path(record_path(batch_id, env))
    try:
        check_private(path)
        with open(path, "rb") as file:
            for number, data in bounded_lines(iter(lambda: file.read(READ_CHUNK), b""), MAX_ITEM_LINE_BYTES):
                yield item_of(path, number, data)
    except OSError as exc:
        raise damaged(path, exc.strerror or exc) from exc


def item_of(path: Path, number: int, data: bytes | None) -> tuple[str, str | None]:
    try:
        entry = json.loads(data) if data is not None else None
    except (json.JSONDecodeError, UnicodeDecodeError):
        entry = None
    if not isinstance(entry, dict) or not isinstance(entry.get("id"), str):
        raise damaged(path, f"line {number} is not an item")
    digest = entry.get("digest")
    return entry["id"], digest if isinstance(digest, str) else None


def digests_of(batch_id: str, env: Mapping[str, str]) -> dict[str, str | None]:
    """Every item id of the job with its request digest, for matching the provider's lines."""
    return dict(items_of(batch_id, env))


def list_jobs(env: Mapping[str, str], warn: Callable[[str], None] | None = None) -> list[Job]:
    """Every recorded job, newest first. A record that cannot be used is reported through `warn` and left out
    (without `warn`, its error is raised)."""
    folder = jobs_dir(env)
    try:
        paths = sorted(path for path in folder.iterdir() if path.name.endswith(".json"))
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise UsageError(f"cannot read {folder}: {exc.strerror or exc}") from exc
    jobs = []
    for path in paths:
        try:
            jobs.append(read_record(path))
        except UsageError as exc:
            if warn is None:
                raise
            warn(f"warning: {exc.message}")
    return sorted(jobs, key=lambda job: (-job.created_at, job.batch_id))


def resolve(reference: str, env: Mapping[str, str], warn: Callable[[str], None] | None = None) -> Job:
    """`last` (the newest job), a full batch id, or an unambiguous prefix of one (`batch_` may be left out)."""
    if reference == "last":
        jobs = list_jobs(env, warn)
        if not jobs:
            raise UnknownJob("no batch job is recorded here; submit one with qwen batch submit")
        return jobs[0]
    spellings = (reference,) if reference.startswith(ID_PREFIX) else (reference, ID_PREFIX + reference)
    for candidate in spellings:
        if PATH_SEGMENT.fullmatch(candidate) and record_path(candidate, env).exists():
            return load(candidate, env)
    try:
        names = [path.name[: -len(".json")] for path in jobs_dir(env).iterdir() if path.name.endswith(".json")]
    except OSError:
        names = []
    matches = sorted({name for name in names for candidate in spellings if name.startswith(candidate)})
    if len(matches) > 1:
        shown = [f"  {name}" for name in matches[:AMBIGUOUS_SHOWN]] + (
            ["  ..."] if len(matches) > AMBIGUOUS_SHOWN else []
        )
        raise UsageError("\n".join([f"'{reference}' matches {len(matches)} batch jobs; give more of the id:", *shown]))
    if matches:
        return load(matches[0], env)
    raise UnknownJob(f"no recorded batch job matches '{reference}'; qwen batch list shows the recorded ones")


# --- privacy ------------------------------------------------------------------------------------------------------


def read_private(path: Path, limit: int) -> bytes:
    try:
        check_private(path)
        with open(path, "rb") as file:
            data = file.read(limit + 1)
    except OSError as exc:
        raise damaged(path, exc.strerror or exc) from exc
    if len(data) > limit:
        raise damaged(path, f"larger than {limit:,} bytes")
    return data


def check_private(path: Path) -> None:
    """A record says where the key is sent (its endpoint): one another user owns, or could change, is not used.
    One merely readable by others is made private (as the history is)."""
    status = path.stat()
    if not hasattr(os, "getuid"):
        return  # Windows: no POSIX owners or modes to compare
    if status.st_uid != os.geteuid():
        raise UsageError(f"the batch job record {path} belongs to another user, so it is not used; move it away")
    if status.st_mode & 0o022:
        raise UsageError(
            f"the batch job record {path} can be changed by other users, so it is not used; "
            f"make it yours alone (chmod 600 {path}) if its contents are yours, or move it away"
        )
    tighten(path, 0o600)


def damaged(path: Path, reason: object) -> UsageError:
    return UsageError(
        f"the batch job record {path} cannot be read ({reason}); move it away (the job itself is still at the "
        "provider, with its results)"
    )
