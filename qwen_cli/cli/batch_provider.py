"""`qwen batch submit|status|fetch|cancel|list`: jobs handed to Model Studio's Batch API; part of the cli layer.

A job is recorded locally when it is created (`batch.jobs`), and followed where it was sent: status, fetch and
cancel use the recorded endpoint unless --base-url or --region says otherwise. Nothing here ever creates a job
again by itself: a second create would be a second paid job.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qwen_cli.cli.batch_setup import prepare
from qwen_cli.cli.flags import ApiFlags, BatchFlags
from qwen_cli.cli.terminal import choose_mode, error_boundary
from qwen_cli.cli.world import World
from qwen_cli.errors import ApiError, ItemsFailed, NotSettled, UsageError
from qwen_cli.modes import OutputMode

if TYPE_CHECKING:
    from qwen_cli.api.client import Client
    from qwen_cli.batch.jobs import Job
    from qwen_cli.batch.remote import BatchView, Target
    from qwen_cli.settings.config import Settings

FIRST_POLL = 2.0  # --wait: seconds before the first look, growing by half each time up to MAX_POLL
MAX_POLL = 60.0  # the provider asks for no more than about one look a minute


# --- submit ---------------------------------------------------------------------------------------------------


def submit(paths: list[str], flags: BatchFlags, world: World, window: str, wait: bool, test: bool) -> None:
    from qwen_cli.batch import jobs, remote
    from qwen_cli.batch.items import STDIN, Items
    from qwen_cli.cli.batch_input_file import write_input_file
    from qwen_cli.settings.config import require_key

    with error_boundary(world, flags.debug, json_errors=False) as boundary:
        remote.check_window(window)
        refuse_local_flags(flags, wait)
        sources = () if flags.each_file else tuple(paths)
        each_file = tuple(paths) if flags.each_file else ()
        with Items(sources, each_file, None if world.stdin_is_terminal else world.stdin) as items:
            setup = prepare(world, flags, items, stdin_taken=STDIN in sources)
            if flags.dry_run:
                raise UsageError("--dry-run does not apply to submit; see each request with qwen batch run --dry-run")
            require_key(setup.settings)
            world = boundary.learn(setup.secrets())
            input_file = write_input_file(setup, items, test)
        with contextlib.closing(input_file):
            world.note_all(input_file.warnings)
            target = remote.Target(setup.settings.base_url, setup.settings.api_key)
            with client_of(setup.settings, world, flags.debug) as client:
                uploaded = remote.upload_batch_file(client, target, input_file.path)
                name = {"ds_name": f"qwen batch: {', '.join(paths)}"[:100]}
                batch = remote.create_batch(client, target, uploaded.id, input_file.endpoint, window, name)
        job = jobs.Job(
            batch_id=batch.id,
            input_file_id=uploaded.id,
            base_url=setup.settings.base_url,
            model=input_file.model,
            window=window,
            created_at=time.time(),
            test=test,
            status=batch.status,
        )
        job = jobs.save(job, input_file.ids, world.env, world.note)
        world.note(
            f"submitted {batch.id}: {job.items} items for {job.model}, {size(input_file.size)}, within {window}; "
            f"see it with qwen batch status {batch.id}"
        )
        if not wait:
            print(batch.id, file=world.stdout, flush=True)
            return
        followed = follow(world, flags, job.batch_id)
        settled = wait_for(world, followed, batch)
        fetch_settled(world, followed, settled, Fetching(out=flags.out, full=flags.full))


def refuse_local_flags(flags: BatchFlags, wait: bool) -> None:
    """The provider paces and orders its own work: the flags that steer this machine's engine do not apply."""
    local = {"--jobs": flags.jobs, "--rpm": flags.rpm, "--tpm": flags.tpm}
    local |= {"--unordered": flags.unordered or None, "--fail-fast": flags.fail_fast or None}
    given = [name for name, value in local.items() if value is not None]
    if given:
        raise UsageError(f"{given[0]} applies to qwen batch run: the provider schedules a batch job itself")
    if flags.out is not None and not wait:
        raise UsageError("-O applies with --wait; without it, write the results later with qwen batch fetch ID -O FILE")


def size(count: int) -> str:
    return f"{count / 1_000_000:.1f} MB" if count >= 1_000_000 else f"{count:,} bytes"


# --- following a job ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Followed:
    """A job as recorded here (None when only the provider knows it), and where to reach it."""

    job: Job | None
    batch_id: str
    settings: Settings
    target: Target
    debug: bool = False
    settings_sources: Any = None  # the flags, environment and config file the settings came from


def follow(world: World, flags: ApiFlags, reference: str) -> Followed:
    """The job `reference` names (an id, a prefix, `last`), reached where it was sent; a full batch id that was
    never recorded here is still asked of the provider, at the configured endpoint."""
    from qwen_cli.batch import jobs, remote
    from qwen_cli.cli.turns import preset_layer
    from qwen_cli.settings.config import require_key

    try:
        job: Job | None = jobs.resolve(reference, world.env, world.note)
    except jobs.UnknownJob:
        if not reference.startswith(jobs.ID_PREFIX):
            raise
        job = None
    batch_id = job.batch_id if job is not None else reference
    chosen = flags.region is not None or flags.base_url is not None
    layer = preset_layer(None, job.base_url if job is not None and not chosen else None)
    sources = flags.setting_sources(world.env)
    settings = sources.resolve(layer)
    require_key(settings)
    target = remote.Target(settings.base_url, settings.api_key)
    return Followed(job, batch_id, settings, target, flags.debug, sources)


def client_of(settings: Settings, world: World, debug: bool) -> Client:
    from qwen_cli.cli.exchange import client_for

    return client_for(settings, world.note, world.note if debug else None, world.transport, world.sleep)


def refreshed(world: World, followed: Followed, client: Client) -> BatchView:
    """The provider's view of the job now, kept in its local record."""
    from qwen_cli.batch import jobs, remote

    batch = remote.get_batch(client, followed.target, followed.batch_id)
    if followed.job is not None:
        jobs.record_batch(followed.batch_id, batch.raw, world.env)
    return batch


def status(reference: str, flags: ApiFlags, world: World) -> None:
    with error_boundary(world, flags.debug, json_errors=flags.wants_json()) as boundary:
        followed = follow(world, flags, reference)
        world = boundary.learn(secrets_of(followed.settings))
        with client_of(followed.settings, world, followed.debug) as client:
            batch = refreshed(world, followed, client)
        if choose_mode(followed.settings.output, world) is OutputMode.JSON:
            show_json({"batch": batch.raw, "job": followed.job.to_json() if followed.job else None}, world)
            return
        world.print_for_screen(status_line(batch, followed.job))
        for error in batch.errors[:5]:
            where = f" (line {error.line})" if error.line is not None else ""
            world.print_for_screen(f"  error {error.code or '-'}{where}: {error.message}")
        world.print_for_screen(f"  {next_step(batch)}")


def status_line(batch: BatchView, job: Job | None) -> str:
    counts = batch.counts
    done = f"{counts.completed + counts.failed}/{counts.total or (job.items if job else 0)} done"
    failed = f", {counts.failed} failed" if counts.failed else ""
    model = f"  model {job.model}" if job is not None else ""
    created = batch.at("created") or (int(job.created_at) if job else None)
    when = f"  created {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime(created))}" if created else ""
    return f"{batch.id}  {batch.status}  {done}{failed}{model}{when}"


def next_step(batch: BatchView) -> str:
    if batch.status == "failed":
        return "the job failed before any request ran (nothing is billed); fix the input and submit again"
    if batch.terminal:
        return f"settled: qwen batch fetch {batch.id} -O results.jsonl"
    return f"not settled yet (jobs take minutes to hours); cancel with qwen batch cancel {batch.id}"


def cancel(reference: str, flags: ApiFlags, world: World) -> None:
    from qwen_cli.batch import jobs, remote

    with error_boundary(world, flags.debug, json_errors=flags.wants_json()) as boundary:
        followed = follow(world, flags, reference)
        world = boundary.learn(secrets_of(followed.settings))
        with client_of(followed.settings, world, followed.debug) as client:
            try:
                batch = remote.cancel_batch(client, followed.target, followed.batch_id)
            except ApiError as error:
                if error.status != 400:
                    raise
                settled = refreshed(world, followed, client)  # the usual refusal: the job has settled already
                if not settled.terminal:
                    raise
                raise ApiError(
                    f"{settled.id} has settled already ({settled.status}): there is nothing to cancel; {next_step(settled)}"
                ) from None
        if followed.job is not None:
            jobs.record_batch(followed.batch_id, batch.raw, world.env)
        if choose_mode(followed.settings.output, world) is OutputMode.JSON:
            show_json({"batch": batch.raw}, world)
        else:
            world.print_for_screen(f"{batch.id}  {batch.status}")
        world.note(
            "requests that had already completed are still billed; once the job is cancelled their results can be "
            f"fetched: qwen batch fetch {batch.id} -O results.jsonl"
        )


def list_jobs(flags: ApiFlags, world: World, on_server: bool) -> None:
    from qwen_cli.batch import jobs

    with error_boundary(world, flags.debug, json_errors=flags.wants_json()) as boundary:
        mode = choose_mode(flags.setting_sources(world.env).resolve().output, world)
        if on_server:
            list_on_server(flags, world, boundary, mode)
            return
        recorded = jobs.list_jobs(world.env, world.note)
        if mode is OutputMode.JSON:
            show_json([job.to_json() for job in recorded], world)
            return
        if not recorded:
            world.note("no batch jobs submitted from here yet; qwen batch submit FILE hands one to the provider")
        for job in recorded:
            created = time.strftime("%Y-%m-%d %H:%M", time.gmtime(job.created_at))
            fetched = f"  fetched to {', '.join(job.fetched_to)}" if job.fetched_to else ""
            world.print_for_screen(f"{job.batch_id}  {job.status}  {job.items} items  {job.model}  {created}{fetched}")


def list_on_server(flags: ApiFlags, world: World, boundary: Any, mode: OutputMode) -> None:
    from qwen_cli.batch import remote
    from qwen_cli.settings.config import require_key

    settings = flags.setting_sources(world.env).resolve()
    require_key(settings)
    world = boundary.learn(secrets_of(settings))
    with client_of(settings, world, flags.debug) as client:
        page = remote.list_batches(client, remote.Target(settings.base_url, settings.api_key), limit=100)
    if mode is OutputMode.JSON:
        show_json([batch.raw for batch in page.batches], world)
        return
    for batch in page.batches:
        world.print_for_screen(status_line(batch, None))


def secrets_of(settings: Settings) -> Any:
    from qwen_cli.redaction import Secrets, url_password

    return Secrets.of(settings.api_key, (url_password(settings.base_url),))


def show_json(value: Any, world: World) -> None:
    from qwen_cli import bounds

    print(bounds.dumps(world.secrets.json(value), indent=2), file=world.stdout)


# --- waiting and fetching ----------------------------------------------------------------------------------------


def wait_for(world: World, followed: Followed, batch: BatchView) -> BatchView:
    """Look again, less and less often, until the job settles; a note each time its status or count moves."""
    pause = FIRST_POLL
    shown = ""
    try:
        with client_of(followed.settings, world, followed.debug) as client:
            while not batch.terminal:
                line = status_line(batch, followed.job)
                if line != shown:
                    world.note(line)
                    shown = line
                world.sleep(pause)
                pause = min(MAX_POLL, pause * 1.5)
                batch = refreshed(world, followed, client)
    except KeyboardInterrupt:
        world.note(f"stopped waiting; the job goes on: qwen batch status {followed.batch_id}")
        raise
    return batch


@dataclass(frozen=True)
class Fetching:
    out: str | None
    full: bool = False
    raw: bool = False
    delete: bool = False


def fetch(reference: str, flags: ApiFlags, world: World, fetching: Fetching) -> None:
    with error_boundary(world, flags.debug, json_errors=False) as boundary:
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


def fetch_settled(world: World, followed: Followed, batch: BatchView, fetching: Fetching) -> None:
    """Write the results of a settled job: its provider files read into result lines, in input order (or, with
    --raw, the provider's lines as they are)."""
    from qwen_cli.batch import jobs

    job = followed.job
    if not batch.terminal:
        counts = batch.counts
        total = counts.total or (job.items if job else 0)
        raise NotSettled(
            f"{batch.id} is {batch.status} ({counts.completed + counts.failed} of {total} done); "
            f"fetch it once it has settled: qwen batch status {batch.id}"
        )
    with client_of(followed.settings, world, followed.debug) as client:
        with downloaded(client, followed.target, batch) as files:
            tally = None
            if fetching.raw or job is None:
                write_raw(files, fetching.out, world)
            else:
                history_wanted = bool(followed.settings_sources.value("history"))
                tally = write_results(world, job, batch, files, fetching, history_wanted)
        if job is not None and fetching.out:
            jobs.add_fetched(job.batch_id, os.path.abspath(fetching.out), world.env)
        if fetching.delete:
            delete_files(world, client, followed, batch)
    if tally is not None and job is not None:
        conclude(world, job, batch, tally, fetching.out)


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


def write_raw(files: list[Path], out: str | None, world: World) -> str | None:
    """--raw: the provider's lines as they are, output file first, then the error file."""
    with output_stream(out, world) as sink:
        for path in files:
            with path.open("rb") as source:
                for line in source:
                    sink.write(line if line.endswith(b"\n") else line + b"\n")
    return out


@contextlib.contextmanager
def output_stream(out: str | None, world: World) -> Iterator[Any]:
    if out is None:
        world.stdout.flush()
        yield world.stdout.buffer if hasattr(world.stdout, "buffer") else BytesToText(world.stdout)
        world.stdout.flush()
        return
    from qwen_cli.batch.remote import atomic_file

    with atomic_file(Path(out)) as handle:
        yield handle


class BytesToText:
    def __init__(self, stream: Any) -> None:
        self.stream = stream

    def write(self, data: bytes) -> None:
        self.stream.write(data.decode("utf-8", "replace"))


def write_results(
    world: World, job: Job, batch: BatchView, files: list[Path], fetching: Fetching, history_wanted: bool
) -> Any:
    """Result lines, the same as `run` writes: every item once, in input order, failures included."""
    from qwen_cli.batch import jobs
    from qwen_cli.batch.outfile import ResultsFile
    from qwen_cli.batch.provider import ProviderResults, Unreadable
    from qwen_cli.cli.batch_run import Tally
    from qwen_cli.settings.config import configured_prices

    digests = jobs.digests_of(job.batch_id, world.env)
    order = {item_id: place for place, item_id in enumerate(digests)}
    reader = ProviderResults(digests, full=fetching.full)
    tally = Tally(prices=configured_prices(world.env), batch=True)
    recorder = BatchRecorder(world, job, history_wanted)
    destination = Path(fetching.out) if fetching.out else None
    folder = destination.parent if destination else Path(tempfile.gettempdir())
    scratch = Path(tempfile.mkstemp(prefix=".qwen-results-", suffix=".jsonl", dir=folder)[1])
    try:
        with ResultsFile(str(scratch)).open() as results:
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
                if batch.errors:
                    first = batch.errors[0]
                    missing["error"] = {"type": "batch_failed", "message": first.message, "code": first.code}
                results.write(missing)
                tally.add(missing)
            results.sort(order.get)
        recorder.flush()
        if destination is not None:
            os.replace(scratch, destination)
        else:
            with scratch.open("rb") as source, output_stream(None, world) as sink:
                for line in source:
                    sink.write(line)
    finally:
        with contextlib.suppress(OSError):
            scratch.unlink()
    return tally


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


def conclude(world: World, job: Job, batch: BatchView, tally: Any, out: str | None) -> None:
    from qwen_cli.cli.batch_run import summary

    world.note(summary(tally, job.items, None, out).replace("batch:", f"{batch.id} ({batch.status}):", 1))
    failed = tally.counts.get("failed", 0)
    if failed:
        raise ItemsFailed(
            f"{failed} of {job.items} items failed ({tally.failure_example()}); a job is never resubmitted "
            "by itself: submit the failed items again, or run them here with qwen batch run"
        )
