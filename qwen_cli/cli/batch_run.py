"""`qwen batch run`: the items through this machine's engine, results written as they finish; part of the cli layer.

Reads and checks every item, skips those the results file already answers (for the same request), sends the rest
with `batch.local.Engine`, writes each result line at once, records each response in the history (a few at a time,
one transaction each), draws the progress on a terminal and ends with one summary line on stderr.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from qwen_cli.cli.batch_setup import DEFAULT_JOBS, BatchSetup, dry_run, prepare, request_digest
from qwen_cli.cli.batch_tally import Tally, summary
from qwen_cli.cli.flags import BatchFlags
from qwen_cli.cli.terminal import error_boundary
from qwen_cli.cli.world import World
from qwen_cli.errors import ItemsFailed, QwenError
from qwen_cli.settings.config import prices_of

if TYPE_CHECKING:
    from collections.abc import Iterator

    from qwen_cli.batch.items import Items
    from qwen_cli.batch.local import Finished, Work
    from qwen_cli.batch.outfile import OrderedStdout, ResultsFile
    from qwen_cli.history import Entry, History
    from qwen_cli.render.progress import Progress

HISTORY_EVERY = 64  # responses recorded per transaction; the rest at the end
SHOWN_NOTES = 5  # per-item notes (an item changed since its result) before they are only counted


def run(paths: list[str], flags: BatchFlags, world: World) -> None:
    from qwen_cli.batch.items import STDIN, Items

    with error_boundary(world, flags.debug, json_errors=False) as boundary:
        sources = tuple(paths) if not flags.each_file else ()
        each_file = tuple(paths) if flags.each_file else ()
        with Items(sources, each_file, None if world.stdin_is_terminal else world.stdin) as items:
            setup = prepare(world, flags, items, stdin_taken=STDIN in sources)
            if flags.dry_run:
                dry_run(setup, items)
                return
            from qwen_cli.settings.config import require_key

            require_key(setup.settings)
            # From here on no line shows the key, an MCP header value or a URL's password.
            setup = replace(setup, world=boundary.learn(setup.secrets()))
            Run(setup, flags, items).go()


class Run:
    """One `batch run`: where results go (-O FILE or stdout), the engine, the history, the progress and the tally."""

    def __init__(self, setup: BatchSetup, flags: BatchFlags, items: Items) -> None:
        self.setup = setup
        self.flags = flags
        self.items = items
        self.world = setup.world
        self.tally = Tally(prices=prices_of(setup.sources.config_file))
        self.entries: list[Entry] = []
        self.history: History | None = None
        self.file: ResultsFile | None = None
        self.stdout: OrderedStdout | None = None
        self.progress: Progress | None = None
        self.started = time.monotonic()
        self.stopped_by: QwenError | str | None = None  # what stopped the run early: a refused key, or --fail-fast

    def go(self) -> None:
        from qwen_cli.batch.outfile import OrderedStdout, ResultsFile

        jobs = self.flags.jobs or DEFAULT_JOBS
        settled: dict[str, str | None] = {}
        if self.flags.out is not None:
            self.file = ResultsFile(self.flags.out).open()
            settled = self.file.settled
        else:
            self.stdout = OrderedStdout(self.world.stdout, max(64, 4 * jobs), self.flags.unordered)
        try:
            with turns_history(self.world, self.flags, self.setup) as history:
                self.history = history
                self.send_all(jobs, settled)
        finally:
            if self.file is not None:
                self.file.close()
        self.conclude()

    def send_all(self, jobs: int, settled: dict[str, str | None]) -> None:
        from qwen_cli.batch.local import Engine
        from qwen_cli.batch.pacing import Pacer
        from qwen_cli.render.progress import progress_for

        total = len(self.items.positions)
        already = sum(1 for item_id in settled if item_id in self.items.positions)
        # A bar redrawn on the terminal where the result lines are printed would tear them: there the lines show
        # the progress themselves.
        lines_on_screen = self.file is None and self.world.stdout_is_terminal()
        bar = self.world.stderr_is_terminal() and not lines_on_screen
        self.progress = progress_for(self.world.stderr, total, already, bar)
        with self.client(jobs) as client:
            engine = Engine(
                send=client.send,
                pacer=Pacer(jobs, self.flags.rpm, self.flags.tpm, warn=self.world.note),
                jobs=jobs,
                max_retries=self.setup.settings.max_retries,
                full=self.flags.full,
                fail_fast=self.flags.fail_fast,
                sleep=self.world.sleep,
            )
            finished = False
            try:
                completed = engine.run(self.works(settled), self.receive, self.may_send)
                finished = True
            except KeyboardInterrupt:
                self.world.note(
                    f"interrupted: {self.tally.done} items written, {self.not_sent()} not; rerun the same command to go on"
                )
                raise
            finally:
                self.progress.close()
                self.flush_history()
                if not finished and self.stdout is not None:
                    self.stdout.flush_all()
        if self.file is not None:
            # In input order, or with --unordered as they finished: either way one line per item.
            self.file.sort(self.items.position if not self.flags.unordered else lambda item_id: None)
        self.stopped_by = None if completed else (engine.fatal or "--fail-fast")

    def client(self, jobs: int) -> Any:
        from qwen_cli.api.client import Client

        settings = self.setup.settings
        return Client(
            connect_timeout=settings.connect_timeout,
            timeout=settings.timeout,
            max_retries=0,  # the engine retries each item itself, paced with the others
            notify=self.world.note,
            debug=self.world.note if self.flags.debug else None,
            transport=self.world.transport,
            sleep=self.world.sleep,
            connections=jobs,
        )

    def works(self, settled: dict[str, str | None]) -> Iterator[Work]:
        """Each item to send, with its request; those the results file answers for the same request are skipped."""
        from qwen_cli.batch import results
        from qwen_cli.batch.local import Work

        order = 0
        for item in self.items.iterate():
            try:
                request, user_input = self.setup.request_for(item)
            except QwenError as error:  # a file that went away since the check: this item fails, the run goes on
                self.write(order, results.of_error(item.id, error, None, None))
                order += 1
                continue
            digest = request_digest(request)
            if item.id in settled and settled[item.id] == digest:
                self.tally.skipped += 1
                continue
            if item.id in settled:
                self.tally.changed += 1
                if self.tally.changed <= SHOWN_NOTES:
                    self.world.note(f"{item.where}: the item changed since its result was written; sending it again")
            yield Work(order, item.id, request, digest, user_input)
            order += 1

    def may_send(self, work: Work) -> bool:
        return self.stdout is None or self.stdout.may_send(work.order)

    def receive(self, finished: Finished) -> None:
        result = finished.work.request.secrets.json(finished.result)  # an echoed key never reaches a file
        self.write(finished.work.order, result, (finished.work.request.body or {}).get("model"))
        if finished.response is not None and self.history is not None:
            self.remember(finished, result)

    def write(self, order: int, result: dict[str, Any], model: str | None = None) -> None:
        if self.file is not None:
            self.file.write(result)
        else:
            assert self.stdout is not None
            self.stdout.write(order, result)
        self.tally.add(result, model)
        usage = result.get("usage") or {}
        assert self.progress is not None
        self.progress.advance(result["status"] == "failed", int(usage.get("total_tokens") or 0))

    def remember(self, finished: Finished, result: dict[str, Any]) -> None:
        from qwen_cli.api.responses import ResponseView
        from qwen_cli.cli.continuation import entry_for
        from qwen_cli.cli.exchange import Outcome
        from qwen_cli.redaction import redacted_fields

        view = ResponseView.of(finished.response)
        if not view.id:
            return
        outcome = Outcome(
            view.id, view.status or "completed", view.answer, view.reasoning, view.model, view.usage_object
        )
        request, user_input = finished.work.request, finished.work.context
        entry = entry_for(outcome, request, user_input, self.setup.preset_ref, self.setup.origin)
        self.entries.append(redacted_fields(entry, request.secrets))
        if len(self.entries) >= HISTORY_EVERY:
            self.flush_history()

    def flush_history(self) -> None:
        if self.history is not None and self.entries:
            problem = self.history.record_or_explain(*self.entries)
            if problem:
                self.world.note(f"warning: {problem}")
            self.entries = []

    def not_sent(self) -> int:
        return len(self.items.positions) - self.tally.done - self.tally.skipped

    def conclude(self) -> None:
        """The summary line, always; then exit 3 for a refused key (the run stopped: every item would fail alike),
        8 when some items failed."""
        total = len(self.items.positions)
        self.world.note(summary(self.tally, total, time.monotonic() - self.started, self.flags.out))
        if isinstance(self.stopped_by, QwenError):
            error = self.stopped_by
            error.message = f"{error.message} (the run stopped: {self.not_sent()} items not sent)"
            raise error
        if self.stopped_by is not None:
            raise ItemsFailed(
                f"stopped at the first failure (--fail-fast): {self.tally.first_failure}; "
                f"{self.not_sent()} items not sent; rerun the same command to go on"
            )
        if self.tally.done + self.tally.skipped < total:  # never a silent success with items left unsent
            raise ItemsFailed(f"{total - self.tally.done - self.tally.skipped} of {total} items were not sent")
        failed = self.tally.counts.get("failed", 0)
        if failed:
            again = (
                "rerun the same command to retry only those"
                if self.flags.out
                else "with -O FILE a rerun retries only those"
            )
            raise ItemsFailed(f"{failed} of {total} items failed ({self.tally.failure_example()}); {again}")


def turns_history(world: World, flags: BatchFlags, setup: BatchSetup) -> Any:
    from qwen_cli.cli.turns import history_for

    return history_for(world, flags, setup.sources)
