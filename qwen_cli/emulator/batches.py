"""The Batches endpoints (create, retrieve, list, cancel) and a batch's life, compressed to seconds.

No thread runs a batch: every read moves it on by the time that has passed (`advance`), one step of
``Faults.batch_step_seconds`` per status, so a test sees each status by polling and never waits on a timer.
Errors are reported with the nested envelope (reference §6); a batch's settling writes its output and error files.
"""

from __future__ import annotations

import copy
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from qwen_cli.emulator.batch_lines import ENDPOINTS, Line, Outcome, cancelled, run_line, validate_lines
from qwen_cli.emulator.files import OUTPUT_PREFIX, add_file, after_cursor, query_limit
from qwen_cli.emulator.wire import ApiFailure, JsonReply, NestedFailure, dump, json_reply, parse_object

if TYPE_CHECKING:
    from qwen_cli.emulator.state import EmulatorState
    from qwen_cli.emulator.wire import Call, Reply


TERMINAL = frozenset({"completed", "failed", "expired", "cancelled"})


STATUSES = ("validating", "in_progress", "finalizing", "completed", "failed", "expired", "cancelling", "cancelled")


CANCELLABLE = frozenset({"validating", "in_progress", "finalizing"})


WINDOW = re.compile(r"([0-9]{1,4})([hd])")


WINDOW_HOURS = (24, 336)


LIST_LIMIT = (1, 100, 20)


MAX_FILE_FILTER = 20


METADATA_LIMITS = {"ds_name": 100, "ds_description": 200}


EXPIRE_DIRECTIVE = "@@expire"


@dataclass
class BatchJob:
    """A batch as the emulator runs it: the public object plus what its life needs. Guarded by the state's lock."""

    batch: dict[str, Any]
    content: bytes  # the input file as it was at create: deleting the file later does not change the job
    step: float
    expire: bool
    phase_started: float
    lines: list[Line] = field(default_factory=list)
    outcomes: list[Outcome] = field(default_factory=list)


def nested(failure: ApiFailure) -> NestedFailure:
    if isinstance(failure, NestedFailure):
        return failure
    return NestedFailure(failure.status, failure.message, code=failure.code or None)


def guarded(route: Callable[..., Reply]) -> Callable[..., Reply]:
    """A Files or Batches route: the batch_http_status fault first, and every refusal in the nested envelope."""

    def answer(state: EmulatorState, call: Call, *ids: str) -> Reply:
        if state.take("batch_http_status"):
            return fault_reply(state)
        try:
            return route(state, call, *ids)
        except ApiFailure as failure:
            raise nested(failure) from None

    answer.__name__ = route.__name__
    return answer


def fault_reply(state: EmulatorState) -> Reply:
    faults = state.faults
    status = faults.batch_http_status
    failure = NestedFailure(status, f"Emulated HTTP {status}.", code="emulated_fault")
    headers = (("Retry-After", faults.retry_after),) if faults.retry_after is not None else ()
    error = {"message": failure.message, "type": failure.kind, "param": None, "code": failure.code_or_null}
    return JsonReply(status, dump({"error": error}), headers=headers)


def create_batch(state: EmulatorState, call: Call) -> Reply:
    body = parse_object(call.raw_body)
    input_file_id = required_string(body, "input_file_id")
    endpoint = required_string(body, "endpoint")
    if endpoint not in ENDPOINTS:
        supported = ", ".join(f"'{value}'" for value in ENDPOINTS)
        raise NestedFailure(
            400, f"Invalid 'endpoint': '{endpoint}'. Supported values are: {supported}.", param="endpoint"
        )
    window = check_window(required_string(body, "completion_window"))
    metadata = check_metadata(body.get("metadata"))
    now = time.time()
    with state.lock:
        record = state.files.get(input_file_id)
        if record is None or record["object"]["purpose"] != "batch":
            message = f"The input file '{input_file_id}' was not found, or is not a batch input file."
            raise NestedFailure(400, message, code="invalid_file", param="input_file_id")
        batch = new_batch(input_file_id, endpoint, window, metadata, int(now))
        expire = state.faults.batch_expire or EXPIRE_DIRECTIVE in str((metadata or {}).get("ds_name", ""))
        state.batches[batch["id"]] = BatchJob(batch, record["content"], state.faults.batch_step_seconds, expire, now)
    if state.take("batch_create_lost"):
        error = {"message": "Emulated lost reply: the batch was created.", "type": "server_error", "param": None}
        return JsonReply(502, dump({"error": {**error, "code": None}}))
    return json_reply(200, batch)


def required_string(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value:
        raise NestedFailure(
            400, f"Missing required parameter: '{name}'.", code="missing_required_parameter", param=name
        )
    return value


def check_window(value: str) -> str:
    """``Nh`` or ``Nd``, from 24 hours to 14 days (reference §2.3)."""
    match = WINDOW.fullmatch(value)
    hours = int(match.group(1)) * (24 if match.group(2) == "d" else 1) if match else 0
    if not WINDOW_HOURS[0] <= hours <= WINDOW_HOURS[1]:
        message = f"Invalid 'completion_window': '{value}'. Expected 24h to 336h, as hours ('48h') or days ('7d')."
        raise NestedFailure(400, message, param="completion_window")
    return value


def check_metadata(value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, dict) or not all(isinstance(item, str) for item in value.values()):
        raise NestedFailure(400, "Invalid 'metadata': must be an object of strings.", param="metadata")
    for key, limit in METADATA_LIMITS.items():
        if len(value.get(key, "")) > limit:
            raise NestedFailure(400, f"Invalid 'metadata.{key}': at most {limit} characters.", param=f"metadata.{key}")
    return dict(value)


def new_batch(
    input_file_id: str, endpoint: str, window: str, metadata: dict[str, Any] | None, now: int
) -> dict[str, Any]:
    """Every key of the live object, in its order, with explicit nulls (reference §2.4)."""
    return {
        "id": f"batch_{uuid.uuid4()}",
        "object": "batch",
        "endpoint": endpoint,
        "errors": None,
        "input_file_id": input_file_id,
        "completion_window": window,
        "status": "validating",
        "output_file_id": None,
        "error_file_id": None,
        "created_at": now,
        "in_progress_at": None,
        "expires_at": None,  # null in every live capture (reference §10.4)
        "finalizing_at": None,
        "completed_at": None,
        "failed_at": None,
        "expired_at": None,
        "cancelling_at": None,
        "cancelled_at": None,
        "request_counts": {"total": 0, "completed": 0, "failed": 0},
        "metadata": metadata,
    }


def advance(state: EmulatorState, job: BatchJob, now: float) -> None:
    """Move the batch on by the time that has passed; the caller holds the lock."""
    while job.batch["status"] not in TERMINAL:
        due = job.phase_started + job.step
        status = job.batch["status"]
        if status == "in_progress":
            run_due_lines(job, now)
        if now < due:
            return
        if status == "validating":
            validate(job, due)
        elif status == "in_progress":
            if job.expire:
                settle(state, job, "expired", due)
            else:
                enter(job, "finalizing", due)
        elif status == "finalizing":
            settle(state, job, "completed", due)
        else:  # cancelling: what had not run is written to the error file as cancelled
            job.outcomes.extend(cancelled(line) for line in job.lines[len(job.outcomes) :])
            count_outcomes(job)
            job.batch["cancelling_at"] = int(due)  # live: null in the cancel reply, then equal to cancelled_at
            settle(state, job, "cancelled", due)


def enter(job: BatchJob, status: str, moment: float) -> None:
    job.batch["status"] = status
    job.batch[f"{status}_at"] = int(moment)
    job.phase_started = moment


def validate(job: BatchJob, moment: float) -> None:
    lines, errors = validate_lines(job.content, job.batch["endpoint"])
    if errors:
        job.batch["errors"] = {"object": "list", "data": errors}
        enter(job, "failed", moment)
        return
    job.lines = lines
    job.batch["request_counts"]["total"] = len(lines)
    enter(job, "in_progress", moment)


def run_due_lines(job: BatchJob, now: float) -> None:
    """Lines finish one by one across the in_progress step; an expiring batch gets through half of them."""
    reachable = len(job.lines) // 2 if job.expire else len(job.lines)
    progress = 1.0 if job.step <= 0 else min(1.0, max(0.0, (now - job.phase_started) / job.step))
    due = int(reachable * progress)
    job.outcomes.extend(run_line(line) for line in job.lines[len(job.outcomes) : due])
    count_outcomes(job)


def count_outcomes(job: BatchJob) -> None:
    counts = job.batch["request_counts"]
    counts["completed"] = sum(outcome.counted == "completed" for outcome in job.outcomes)
    counts["failed"] = sum(outcome.counted == "failed" for outcome in job.outcomes)


def settle(state: EmulatorState, job: BatchJob, status: str, moment: float) -> None:
    """Write the output and error files (lines in reverse order: clients must match by custom_id), then end."""
    finished = list(reversed(job.outcomes))
    output = [outcome.record for outcome in finished if not outcome.in_error_file]
    errors = [outcome.record for outcome in finished if outcome.in_error_file]
    name = job.batch["id"]
    if output:
        job.batch["output_file_id"] = add_file(
            state, OUTPUT_PREFIX, f"{name}_output.jsonl", "batch_output", jsonl(output)
        )["id"]
    if errors:
        job.batch["error_file_id"] = add_file(
            state, OUTPUT_PREFIX, f"{name}_error.jsonl", "batch_output", jsonl(errors)
        )["id"]
    enter(job, status, moment)


def jsonl(records: list[dict[str, Any]]) -> bytes:
    return b"".join(dump(record) + b"\n" for record in records)


def find_job(state: EmulatorState, batch_id: str) -> BatchJob:
    """The job, moved on to now; callers hold the lock."""
    job = state.batches.get(batch_id)
    if job is None:
        raise NestedFailure(404, f"Batch '{batch_id}' not found.", code="batch_not_found", param="batch_id")
    advance(state, job, time.time())
    return job


def retrieve_batch(state: EmulatorState, call: Call, batch_id: str) -> Reply:
    with state.lock:
        return json_reply(200, find_job(state, batch_id).batch)


def cancel_batch(state: EmulatorState, call: Call, batch_id: str) -> Reply:
    """Cancelling answers ``cancelling`` (with ``cancelling_at`` still null, as seen live); a step later, cancelled."""
    with state.lock:
        job = find_job(state, batch_id)
        status = job.batch["status"]
        if status in TERMINAL:
            raise NestedFailure(400, "batch status does not allow cancel", param="batch_id")
        if status in CANCELLABLE:
            job.batch["status"] = "cancelling"
            job.phase_started = time.time()
        return json_reply(200, job.batch)


def list_batches(state: EmulatorState, call: Call) -> Reply:
    """Newest first; ``after``, ``limit``, and DashScope's ``status``, ``input_file_ids`` and ``ds_name`` filters."""
    query = call.query
    limit = query_limit(query, *LIST_LIMIT)
    statuses = split_list(query.get("status"))
    unknown = [status for status in statuses if status not in STATUSES]
    if unknown:
        raise NestedFailure(400, f"Invalid 'status': '{unknown[0]}'.", param="status")
    file_ids = split_list(query.get("input_file_ids"))
    if len(file_ids) > MAX_FILE_FILTER:
        raise NestedFailure(400, f"'input_file_ids' takes at most {MAX_FILE_FILTER} ids.", param="input_file_ids")
    now = time.time()
    with state.lock:
        for job in state.batches.values():
            advance(state, job, now)
        found = [copy.deepcopy(job.batch) for job in reversed(state.batches.values())]
    found = [batch for batch in found if matches(batch, statuses, file_ids, query.get("ds_name"))]
    found = after_cursor(found, query.get("after"))
    page = found[:limit]
    listing = {
        "object": "list",
        "data": page or None,  # live: an empty result is null, not []
        "first_id": page[0]["id"] if page else None,
        "last_id": page[-1]["id"] if page else None,
        "has_more": len(found) > limit,
    }
    return json_reply(200, listing)


def split_list(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


def matches(batch: dict[str, Any], statuses: list[str], file_ids: list[str], name: str | None) -> bool:
    if statuses and batch["status"] not in statuses:
        return False
    if file_ids and batch["input_file_id"] not in file_ids:
        return False
    return not name or name in str((batch["metadata"] or {}).get("ds_name", ""))
