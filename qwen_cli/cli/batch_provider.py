"""`qwen batch submit|status|cancel|list`: jobs handed to Model Studio's Batch API (`fetch` is in `batch_fetch`);
part of the cli layer.

A job is recorded locally when it is created (`batch.jobs`), and followed where it was sent: status, fetch and
cancel use the recorded endpoint unless --base-url or --region says otherwise. Nothing here ever creates a job
again by itself: a second create would be a second paid job.
"""

from __future__ import annotations

import contextlib
import os
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from qwen_cli.cli.batch_setup import prepare
from qwen_cli.cli.flags import ApiFlags, BatchFlags
from qwen_cli.cli.terminal import choose_mode, error_boundary
from qwen_cli.cli.world import World
from qwen_cli.errors import ApiError, QwenError, TransientError, UsageError
from qwen_cli.modes import OutputMode

if TYPE_CHECKING:
    from qwen_cli.api.client import Client
    from qwen_cli.batch.jobs import Job
    from qwen_cli.batch.remote import BatchView, Target
    from qwen_cli.settings.config import Settings

FIRST_POLL = 10.0  # --wait: seconds before the first look, growing by half each time up to MAX_POLL
MAX_POLL = 60.0  # the provider asks for no more than about one look a minute
MAX_LIST_PAGES = 20  # `list --remote`: 2,000 jobs at most (the provider keeps 30 days of them)


# --- submit ---------------------------------------------------------------------------------------------------


def submit(paths: list[str], flags: BatchFlags, world: World, window: str, wait: bool, test: bool) -> None:
    from qwen_cli.batch import jobs, remote
    from qwen_cli.batch.items import STDIN, Items
    from qwen_cli.cli.batch_input_file import write_input_file
    from qwen_cli.settings.config import require_key

    with error_boundary(world, flags.debug, json_errors=False) as boundary:
        remote.check_window(window)
        refuse_local_flags(flags, wait)
        if wait:
            from qwen_cli.cli.batch_fetch import writable_destination

            writable_destination(flags.out)  # before the paid job, not hours after it
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
                # The job's name in the console: file names only, never the folders they are in (a user's name).
                name = {"ds_name": f"qwen batch: {', '.join(os.path.basename(path) for path in paths)}"[:100]}
                batch = create_or_clean_up(client, target, uploaded.id, input_file.endpoint, window, name)
        world.note(f"created {batch.id} (input file {uploaded.id})")  # said at once: it is a paid job from now on
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
        try:
            job = jobs.save(job, input_file.ids, world.env, world.note)
        except QwenError as error:
            error.message = f"{batch.id} was created, but not recorded here: {error.message}; follow it with qwen batch status {batch.id}"
            raise
        world.note(
            f"submitted {batch.id}: {job.items} items for {job.model}, {size(input_file.size)}, within {window}; "
            f"see it with qwen batch status {batch.id}"
        )
        if not wait:
            print(batch.id, file=world.stdout, flush=True)
            return
        from qwen_cli.cli.batch_fetch import Fetching, fetch_settled

        # The job just made, where it was sent: nothing to look up again.
        followed = Followed(job, batch.id, setup.settings, target, flags.debug, setup.sources)
        settled = wait_for(world, followed, batch)
        fetch_settled(world, followed, settled, Fetching(out=flags.out, full=flags.full, history=not flags.no_history))


def create_or_clean_up(
    client: Client, target: Target, input_file_id: str, endpoint: str, window: str, metadata: dict[str, str]
) -> BatchView:
    """Create the job; when the provider refused it for certain (a 4xx), the uploaded file is deleted again rather
    than left to count against the account's file quota."""
    from qwen_cli.batch import remote

    try:
        return remote.create_batch(client, target, input_file_id, endpoint, window, metadata)
    except QwenError as error:
        if not remote.reply_may_be_lost(error):
            with contextlib.suppress(QwenError):
                remote.delete_file(client, target, input_file_id)
        raise


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
    batches: list[BatchView] = []
    with client_of(settings, world, flags.debug) as client:
        target, after = remote.Target(settings.base_url, settings.api_key), None
        for _ in range(MAX_LIST_PAGES):
            page = remote.list_batches(client, target, after=after, limit=100)
            batches += page.batches
            if not page.has_more or page.last_id is None:
                break
            after = page.last_id
    if mode is OutputMode.JSON:
        show_json([batch.raw for batch in batches], world)
        return
    for batch in batches:
        world.print_for_screen(status_line(batch, None))


def secrets_of(settings: Settings) -> Any:
    from qwen_cli.redaction import Secrets, url_password

    return Secrets.of(settings.api_key, (url_password(settings.base_url),))


def show_json(value: Any, world: World) -> None:
    from qwen_cli import bounds

    print(bounds.dumps(world.secrets.json(value), indent=2), file=world.stdout)


# --- waiting and fetching ----------------------------------------------------------------------------------------


def published(batch: BatchView) -> bool:
    """A completed job's result files may appear a little after its status says so (reference §4)."""
    return batch.status != "completed" or bool(batch.result_file_ids)


def wait_for(world: World, followed: Followed, batch: BatchView) -> BatchView:
    """Look again, less and less often, until the job settles; a note each time its status or count moves. A look
    that fails for a passing reason (the network, a 5xx) is tried again later: a job runs for hours."""
    pause = FIRST_POLL
    shown = ""
    try:
        with client_of(followed.settings, world, followed.debug) as client:
            while not batch.terminal or not published(batch):
                line = status_line(batch, followed.job)
                if line != shown:
                    world.note(line)
                    shown = line
                world.sleep(pause)
                pause = min(MAX_POLL, pause * 1.5)
                try:
                    batch = refreshed(world, followed, client)
                except TransientError as error:
                    world.note(f"could not ask where the job is ({error.line()}); asking again in {pause:.0f} s")
    except KeyboardInterrupt:
        world.note(f"stopped waiting; the job goes on: qwen batch status {followed.batch_id}")
        raise
    except QwenError as error:
        error.message = f"{error.message}; the job goes on: qwen batch status {followed.batch_id}"
        raise
    return batch
