"""`qwen batch fetch`: the results of a settled provider job, written as the same result lines `qwen batch run`
writes, every item once and in input order; part of the cli layer.

The job's output and error files are downloaded into a private temporary folder, read line by line into results
(`batch.provider`), written to a scratch results file beside the destination, put in input order, then renamed into
place: a failure at any step leaves no half-written file. Each answer is recorded in the local history billed as
batch, so `qwen history usage` prices it at the batch discount.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qwen_cli.cli.batch_provider import Followed, client_of, follow, refreshed, secrets_of
from qwen_cli.cli.batch_tally import Tally, summary
from qwen_cli.cli.flags import ApiFlags
from qwen_cli.cli.terminal import error_boundary
from qwen_cli.cli.world import World
from qwen_cli.errors import ItemsFailed, NotSettled, OutputError, UsageError
from qwen_cli.settings.config import prices_of

if TYPE_CHECKING:
    from qwen_cli.api.client import Client
    from qwen_cli.batch.jobs import Job
    from qwen_cli.batch.remote import BatchView, Target
    from qwen_cli.settings.prices import Prices

# Why an item has no result line, by how its job ended: none of these requests ran, and none is billed.
NOT_RUN = {
    "cancelled": "not run: the job was cancelled before it (not billed)",
    "expired": "not run: the job's window ended before it (not billed)",
}


@dataclass(frozen=True)
class Fetching:
    out: str | None
    full: bool = False
    raw: bool = False
    delete: bool = False
    history: bool = True


def fetch(reference: str, flags: ApiFlags, world: World, fetching: Fetching) -> None:
    with error_boundary(world, flags.debug, json_errors=False) as boundary:
        if flags.output is not None or flags.json_output:
            raise UsageError("fetch writes JSON lines, on stdout or in -O FILE: -o and --json do not apply")
        writable_destination(fetching.out)
        followed = follow(world, flags, reference)
        world = boundary.learn(secrets_of(followed.settings))
        if followed.job is None and not fetching.raw:
            raise UsageError(
                f"{followed.batch_id} was not submitted from here, so its items are unknown; "
                "qwen batch fetch --raw writes the provider's own lines"
            )
        with client_of(followed.settings, world, followed.debug) as client:
            batch = refreshed(world, followed, client)
        fetch_settled(world, followed, batch, fetching)


def writable_destination(out: str | None) -> None:
    """-O is checked before anything is downloaded: a results file that cannot be written is found out at once."""
    if out is None:
        return
    folder = os.path.dirname(os.path.abspath(out))
    if os.path.isdir(out):
        raise UsageError(f"cannot write {out}: it is a folder; give a file name")
    if not os.path.isdir(folder):
        raise UsageError(f"cannot write {out}: the folder {folder} does not exist")
    if not os.access(folder, os.W_OK):
        raise UsageError(f"cannot write {out}: the folder {folder} is not writable")


def fetch_settled(world: World, followed: Followed, batch: BatchView, fetching: Fetching) -> None:
    """Write the results of a settled job (with --raw, the provider's lines as they are)."""
    from qwen_cli.batch import jobs

    job = followed.job
    check_settled(batch, job)
    with client_of(followed.settings, world, followed.debug) as client:
        with downloaded(client, followed.target, batch) as files:
            tally = None
            if fetching.raw or job is None:
                write_raw(files, fetching.out, world)
            else:
                sources = followed.settings_sources
                wanted = fetching.history and bool(sources.value("history"))
                tally = write_results(world, job, batch, files, fetching, wanted, prices_of(sources.config_file))
        if job is not None and fetching.out:
            jobs.add_fetched(job.batch_id, os.path.abspath(fetching.out), world.env)
        if fetching.delete:
            delete_files(world, client, followed, batch)
    if tally is not None and job is not None:
        conclude(world, job, batch, tally, fetching.out)


def check_settled(batch: BatchView, job: Job | None) -> None:
    """Exit 9 until the job has settled, and while a completed job's files are not published yet."""
    counts = batch.counts
    if not batch.terminal:
        total = counts.total or (job.items if job else 0)
        raise NotSettled(
            f"{batch.id} is {batch.status} ({counts.completed + counts.failed} of {total} done); "
            f"fetch it once it has settled: qwen batch status {batch.id}"
        )
    if batch.status == "completed" and not batch.result_file_ids:
        raise NotSettled(f"{batch.id} has completed but its result files are not published yet; try again in a minute")


def delete_files(world: World, client: Client, followed: Followed, batch: BatchView) -> None:
    """--delete: the job's files on the server, once its results are written (the input file too, when known)."""
    from qwen_cli.batch import remote

    input_file = (followed.job.input_file_id,) if followed.job is not None else ()
    for file_id in (*batch.result_file_ids, *input_file):
        remote.delete_file(client, followed.target, file_id)
    world.note(f"deleted the job's {len(batch.result_file_ids) + len(input_file)} files on the server")


@contextlib.contextmanager
def downloaded(client: Client, target: Target, batch: BatchView) -> Iterator[list[Path]]:
    """The job's output and error files, downloaded into a private temporary folder (deleted afterwards)."""
    from qwen_cli.batch import remote

    with tempfile.TemporaryDirectory(prefix="qwen-batch-") as folder:
        paths = []
        for index, file_id in enumerate(batch.result_file_ids):
            path = Path(folder) / f"{index}.jsonl"
            remote.download_to(client, target, file_id, path)
            paths.append(path)
        yield paths


def write_raw(files: list[Path], out: str | None, world: World) -> None:
    """--raw: the provider's lines as they are (output file first, then the error file), but for an echoed secret,
    hidden as everywhere else, and, on a terminal, control characters shown as symbols. Bytes that are not UTF-8
    pass through unchanged."""
    from qwen_cli.batch.lines import bounded_lines
    from qwen_cli.batch.provider import MAX_LINE_BYTES

    to_screen = out is None
    with destination(out, world) as sink:
        for path in files:
            with path.open("rb") as source:
                for number, data in bounded_lines(iter(lambda: source.read(1 << 20), b""), MAX_LINE_BYTES):
                    if data is None:
                        world.note(
                            f"warning: {path.name}, line {number}: longer than {MAX_LINE_BYTES:,} bytes; skipped"
                        )
                        continue
                    text = data.decode("utf-8", "surrogateescape")
                    text = world.for_screen(text) if to_screen else world.secrets.text(text)
                    sink.write(text.encode("utf-8", "surrogateescape") + b"\n")


@contextlib.contextmanager
def destination(out: str | None, world: World) -> Iterator[Any]:
    """Where lines of bytes go: -O FILE, whole or not at all (a file beside it renamed into place, with the mode a
    new file gets under the umask), or stdout."""
    if out is None:
        world.stdout.flush()
        yield world.stdout.buffer
        world.stdout.flush()
        return
    from qwen_cli.batch.outfile import atomic_file, new_file_mode

    try:
        with atomic_file(Path(os.path.abspath(out)), new_file_mode()) as sink:
            yield sink
    except OSError as exc:  # a full disk, a folder that went away: the file as it was stays in place
        raise OutputError(f"cannot write {out}: {exc.strerror or exc}") from exc


def copied(source: Any, sink: Any) -> None:
    """Copy in bounded chunks: a line may be of any length."""
    while chunk := source.read(1 << 20):
        sink.write(chunk)


def write_results(
    world: World,
    job: Job,
    batch: BatchView,
    files: list[Path],
    fetching: Fetching,
    history_wanted: bool,
    prices: Prices,
) -> Tally:
    """Result lines, the same as `run` writes: every item once, in input order, failures included."""
    from qwen_cli.batch import jobs
    from qwen_cli.batch.outfile import ResultsFile
    from qwen_cli.batch.provider import ProviderResults, Unreadable

    digests = jobs.digests_of(job.batch_id, world.env)
    order = {item_id: place for place, item_id in enumerate(digests)}
    reader = ProviderResults(digests, full=fetching.full)
    tally = Tally(prices=prices, batch=True)
    recorder = BatchRecorder(world, job, history_wanted)
    with tempfile.TemporaryDirectory(prefix="qwen-batch-") as folder:
        scratch = str(Path(folder) / "results.jsonl")
        with ResultsFile(scratch).open() as results:
            for path in files:
                with path.open("rb") as source:
                    for outcome in reader.read(iter(lambda: source.read(1 << 20), b""), path.name):
                        if isinstance(outcome, Unreadable):
                            world.note(f"warning: {outcome.message()}")
                            continue
                        outcome = world.secrets.json(outcome)
                        results.write(outcome)
                        tally.add(outcome, job.model)
                        recorder.add(outcome)
            for missing in reader.missing(list(digests)):
                missing["error"] = why_missing(batch, missing["error"])
                results.write(missing)
                tally.add(missing)
            results.sort(order.get)
        recorder.flush()
        with open(scratch, "rb") as source, destination(fetching.out, world) as sink:
            copied(source, sink)
    return tally


def why_missing(batch: BatchView, error: dict[str, Any]) -> dict[str, Any]:
    """An item with no result line: the job's own error when it failed, else why it did not run, by how it ended."""
    if batch.status == "failed" and batch.errors:
        first = batch.errors[0]
        return {"type": "batch_failed", "message": first.message, "code": first.code}
    if batch.status in NOT_RUN:
        return {"type": "not_run", "message": NOT_RUN[batch.status], "code": batch.status}
    return error


class BatchRecorder:
    """Each answer of a fetched job in the local history, billed as batch (so `qwen history usage` prices it at the
    batch discount), a few at a time; fetching the same job again replaces its entries, never adds to them."""

    EVERY = 256

    def __init__(self, world: World, job: Job, wanted: bool) -> None:
        self.world, self.job, self.wanted = world, job, wanted
        self.entries: list[Any] = []

    def add(self, result: dict[str, Any]) -> None:
        from qwen_cli.history import BATCH, Entry

        if not self.wanted or not result.get("response_id") or result["status"] == "failed":
            return
        self.entries.append(
            Entry(
                id=str(result["response_id"]),
                model=self.job.model,
                prompt=f"(item {result['id']} of {self.job.batch_id})",
                answer=str(result.get("text") or ""),
                status=result["status"],
                usage=result.get("usage"),
                endpoint=self.job.base_url,
                billing=BATCH,
            )
        )
        if len(self.entries) >= self.EVERY:
            self.flush()

    def flush(self) -> None:
        if not self.entries:
            return
        from qwen_cli.history import History, history_path

        with History(history_path(self.world.env), warn=self.world.note) as history:
            problem = history.record_or_explain(*self.entries)
        if problem:
            self.world.note(f"warning: {problem}")
        self.entries = []


def conclude(world: World, job: Job, batch: BatchView, tally: Tally, out: str | None) -> None:
    world.note(summary(tally, job.items, None, out).replace("batch:", f"{batch.id} ({batch.status}):", 1))
    failed = tally.counts.get("failed", 0)
    if failed:
        raise ItemsFailed(
            f"{failed} of {job.items} items failed ({tally.failure_example()}); a job is never resubmitted "
            "by itself: submit the failed items again, or run them here with qwen batch run"
        )
