"""Model Studio's Batch API over the Client: upload an input file, create, retrieve, list and cancel batches,
download and delete files (reference batch-api.md §2).

Every variant the reference records is accepted: the flat and the nested error envelope (the client reads both),
``"data": null`` for an empty list, keys that are missing or null, ``expires_at`` null or set, error files whose
ids start ``file-batch_error-`` or ``file-batch_output-``. Creating a batch is sent once and never retried: a
retried create can start a second paid job. When its answer is lost, the batch is looked up by its input file.
"""

from __future__ import annotations

import io
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qwen_cli import bounds
from qwen_cli.api.request import PreparedRequest, api_path, build_api_request
from qwen_cli.batch.outfile import atomic_file
from qwen_cli.errors import ApiError, QwenError, TransientError, UsageError

if TYPE_CHECKING:
    from qwen_cli.api.client import Client, Writable

CHAT_ENDPOINT = "/v1/chat/completions"
TERMINAL = frozenset({"completed", "failed", "expired", "cancelled"})
STATUSES = ("validating", "in_progress", "finalizing", "completed", "failed", "expired", "cancelling", "cancelled")
TIMESTAMPS = (
    "created_at",
    "in_progress_at",
    "finalizing_at",
    "completed_at",
    "failed_at",
    "expired_at",
    "cancelling_at",
    "cancelled_at",
    "expires_at",
)
MAX_UPLOAD_BYTES = 500 * bounds.MIB  # reference §2.1: the largest batch input file
WINDOW = re.compile(r"([0-9]{1,4})([hd])")
WINDOW_HOURS = (24, 336)  # reference §2.3: 24h to 14 days
LIST_LIMIT = (1, 100)
MAX_FILE_FILTER = 20  # input_file_ids takes at most 20 ids (reference §2.6)
# How far the server's clock may be behind ours when a lost create is looked for among the batches of its file.
CLOCK_SLACK = 600


@dataclass(frozen=True)
class Target:
    """Where the Batch API is: the compatible-mode base URL and the key (never shown: repr leaves it out)."""

    base_url: str
    api_key: str | None = field(default=None, repr=False)

    def request(
        self, method: str, *segments: str, query: dict[str, Any] | None = None, body: dict[str, Any] | None = None
    ) -> PreparedRequest:
        return build_api_request(self.base_url, self.api_key, method, api_path(*segments), query, body)


@dataclass(frozen=True)
class Counts:
    total: int = 0
    completed: int = 0
    failed: int = 0


@dataclass(frozen=True)
class JobError:
    """One job-level error of a failed batch (``errors.data[]``)."""

    code: str | None
    message: str
    param: str | None = None
    line: int | None = None


@dataclass(frozen=True)
class FileInfo:
    id: str
    bytes: int | None
    filename: str | None
    purpose: str | None
    status: str | None


@dataclass(frozen=True)
class BatchView:
    """A Batch object read leniently: whatever key is missing or null reads as None (or zero counts)."""

    id: str
    status: str
    endpoint: str | None
    input_file_id: str | None
    output_file_id: str | None
    error_file_id: str | None
    counts: Counts
    errors: tuple[JobError, ...]
    timestamps: dict[str, int | None]
    metadata: dict[str, Any]
    raw: dict[str, Any] = field(repr=False)

    @property
    def terminal(self) -> bool:
        """Settled for good: completed, failed, expired or cancelled."""
        return self.status in TERMINAL

    @property
    def result_file_ids(self) -> tuple[str, ...]:
        """The files to download once settled: the output file, then the error file, those that exist."""
        return tuple(file_id for file_id in (self.output_file_id, self.error_file_id) if file_id)

    def at(self, name: str) -> int | None:
        """A timestamp by its key without ``_at`` or with it (``"completed"`` or ``"completed_at"``)."""
        return self.timestamps.get(name if name.endswith("_at") else f"{name}_at")

    @classmethod
    def of(cls, data: Any) -> BatchView:
        if not isinstance(data, dict) or not isinstance(data.get("id"), str) or not isinstance(data.get("status"), str):
            raise ApiError("the server's reply is not a batch (it has no id or status)")
        counts = mapping(data.get("request_counts"))
        metadata = mapping(data.get("metadata"))
        return cls(
            id=data["id"],
            status=data["status"],
            endpoint=text_or_none(data.get("endpoint")),
            input_file_id=text_or_none(data.get("input_file_id")),
            output_file_id=text_or_none(data.get("output_file_id")),
            error_file_id=text_or_none(data.get("error_file_id")),
            counts=Counts(*(int_or_zero(counts.get(key)) for key in ("total", "completed", "failed"))),
            errors=job_errors(data.get("errors")),
            timestamps={key: int_or_none(data.get(key)) for key in TIMESTAMPS},
            metadata=dict(metadata),
            raw=data,
        )


@dataclass(frozen=True)
class BatchPage:
    batches: tuple[BatchView, ...]
    has_more: bool
    last_id: str | None


def mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def text_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def int_or_none(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def int_or_zero(value: Any) -> int:
    return int_or_none(value) or 0


def job_errors(value: Any) -> tuple[JobError, ...]:
    """``{"object": "list", "data": [...]}``, or a bare list; entries without a message are kept with a stand-in."""
    entries = value.get("data") if isinstance(value, dict) else value
    found = []
    for entry in entries if isinstance(entries, list) else []:
        if isinstance(entry, dict):
            message = text_or_none(entry.get("message")) or "no message"
            code, param = text_or_none(entry.get("code")), text_or_none(entry.get("param"))
            found.append(JobError(code, message, param, int_or_none(entry.get("line"))))
    return tuple(found)


def file_info(data: Any) -> FileInfo:
    if not isinstance(data, dict) or not isinstance(data.get("id"), str) or not data["id"]:
        raise ApiError("the server's reply is not a file (it has no id)")
    return FileInfo(
        id=data["id"],
        bytes=int_or_none(data.get("bytes")),
        filename=text_or_none(data.get("filename")),
        purpose=text_or_none(data.get("purpose")),
        status=text_or_none(data.get("status")),
    )


def upload_batch_file(client: Client, target: Target, source: Path | bytes, filename: str | None = None) -> FileInfo:
    """Upload a JSONL input file (a path, or bytes already built) with ``purpose=batch``; retried like any send."""
    if isinstance(source, bytes):
        name = filename or "batch.jsonl"
        check_upload_size(len(source), name)
        return file_info(client.upload(target.request("POST", "files"), io.BytesIO(source), name, {"purpose": "batch"}))
    name = filename or source.name
    try:
        with source.open("rb") as handle:
            check_upload_size(os.fstat(handle.fileno()).st_size, str(source))
            reply = client.upload(target.request("POST", "files"), handle, name, {"purpose": "batch"})
    except OSError as exc:
        raise UsageError(f"cannot read {source}: {exc.strerror or exc}") from exc
    return file_info(reply)


def check_upload_size(size: int, name: str) -> None:
    if size > MAX_UPLOAD_BYTES:
        raise UsageError(f"{name} holds {size} bytes; a batch input file may hold at most 500 MB: split the batch")
    if size == 0:
        raise UsageError(f"{name} is empty: a batch needs at least one request")


def check_window(window: str) -> str:
    """``Nh`` or ``Nd`` from 24 hours to 14 days, checked here so that a typo costs no request."""
    match = WINDOW.fullmatch(window)
    hours = int(match.group(1)) * (24 if match.group(2) == "d" else 1) if match else 0
    if not WINDOW_HOURS[0] <= hours <= WINDOW_HOURS[1]:
        raise UsageError(f"completion window {window!r}: give hours or days from 24h to 336h, such as 24h, 48h or 7d")
    return window


def create_batch(
    client: Client,
    target: Target,
    input_file_id: str,
    endpoint: str = CHAT_ENDPOINT,
    window: str = "24h",
    metadata: dict[str, str] | None = None,
) -> BatchView:
    """Create a batch, sent exactly once. When its answer may have been lost (a 5xx, a 408, the network), the
    batches of ``input_file_id`` are listed and the one created since is returned; without one, the error is raised
    (the job may still exist: its file id is in the message, to look for it later)."""
    body: dict[str, Any] = {
        "input_file_id": input_file_id,
        "endpoint": endpoint,
        "completion_window": check_window(window),
    }
    if metadata:
        body["metadata"] = metadata
    api_path(input_file_id)  # an id that is not one fails here, before the create, not in the lookup after it
    request = target.request("POST", "batches", body=body)
    sent_at = int(time.time())
    try:
        return BatchView.of(client.send(request, retry=False))
    except QwenError as exc:
        if not reply_may_be_lost(exc):
            raise
        found = find_created(client, target, input_file_id, sent_at - CLOCK_SLACK)
        if found is not None:
            return found
        exc.message = f"{exc.message}; the batch may still have been created: look for input file {input_file_id} in the batch list"
        raise


def reply_may_be_lost(error: QwenError) -> bool:
    """qwen-code's rule (reference §6): a 4xx other than 408 is a definite refusal; the rest may hide a new job."""
    if isinstance(error, TransientError):
        return error.status != 429  # a rate limit refused the request before it ran
    return isinstance(error, ApiError) and error.status == 408


def find_created(client: Client, target: Target, input_file_id: str, since: int) -> BatchView | None:
    """The newest batch of this input file created at or after ``since``; None when there is none or the lookup fails."""
    try:
        page = list_batches(client, target, input_file_ids=(input_file_id,), limit=LIST_LIMIT[1])
    except QwenError:
        return None
    fresh = [
        batch for batch in page.batches if batch.input_file_id == input_file_id and (batch.at("created") or 0) >= since
    ]
    return max(fresh, key=lambda batch: batch.at("created") or 0, default=None)


def get_batch(client: Client, target: Target, batch_id: str) -> BatchView:
    return BatchView.of(client.send(target.request("GET", "batches", batch_id)))


def list_batches(
    client: Client,
    target: Target,
    *,
    after: str | None = None,
    limit: int | None = None,
    statuses: tuple[str, ...] = (),
    input_file_ids: tuple[str, ...] = (),
    name: str | None = None,
) -> BatchPage:
    """One page, newest first. ``name`` is DashScope's fuzzy ``ds_name`` filter; an empty page may come as null."""
    if limit is not None and not LIST_LIMIT[0] <= limit <= LIST_LIMIT[1]:
        raise UsageError(f"a batch list page holds {LIST_LIMIT[0]} to {LIST_LIMIT[1]} batches, not {limit}")
    unknown = [status for status in statuses if status not in STATUSES]
    if unknown:
        raise UsageError(f"unknown batch status {unknown[0]!r}: one of {', '.join(STATUSES)}")
    if len(input_file_ids) > MAX_FILE_FILTER:
        raise UsageError(f"the batch list filters by at most {MAX_FILE_FILTER} input files at once")
    for file_id in input_file_ids:
        api_path(file_id)
    query = {
        "after": after,
        "limit": limit,
        "status": ",".join(statuses) or None,
        "input_file_ids": ",".join(input_file_ids) or None,
        "ds_name": name,
    }
    reply = client.send(target.request("GET", "batches", query=query))
    entries = reply.get("data")
    batches = tuple(BatchView.of(entry) for entry in (entries if isinstance(entries, list) else []))
    last_id = text_or_none(reply.get("last_id")) or (batches[-1].id if batches else None)
    return BatchPage(batches, reply.get("has_more") is True, last_id)


def cancel_batch(client: Client, target: Target, batch_id: str) -> BatchView:
    """Ask to cancel: the answer is usually ``cancelling``; a settled batch is refused with an ApiError (HTTP 400)."""
    return BatchView.of(client.send(target.request("POST", "batches", batch_id, "cancel", body={})))


def download_file(
    client: Client, target: Target, file_id: str, sink: Writable, limit: int = bounds.MAX_DOWNLOAD_BYTES
) -> int:
    """Write a result file's bytes to ``sink`` as they arrive; return how many."""
    return client.download(target.request("GET", "files", file_id, "content"), sink, limit)


def download_to(
    client: Client, target: Target, file_id: str, path: Path, limit: int = bounds.MAX_DOWNLOAD_BYTES
) -> int:
    """Download into ``path`` whole or not at all: a temporary file beside it is renamed over it once complete."""
    try:
        with atomic_file(path) as handle:
            return download_file(client, target, file_id, handle, limit)
    except OSError as exc:  # the directory is missing, the disk is full: the user's side, said in one line
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from exc


def delete_file(client: Client, target: Target, file_id: str) -> bool:
    """Delete a file; False when the server no longer knows it (already deleted: the aim is met all the same)."""
    try:
        client.send(target.request("DELETE", "files", file_id))
    except ApiError as exc:
        if exc.status == 404:
            return False
        raise
    return True
