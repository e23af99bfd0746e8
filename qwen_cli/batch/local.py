"""This machine's engine: many prepared requests sent concurrently over one connection pool, paced, each retried
on its own, each ending as one result line.

The calling thread feeds the work and receives every result (so the results file and the history have a single
writer); `jobs` worker threads only send. One item's failure never stops the others. A KeyboardInterrupt (Ctrl-C)
stops the feeding at once: results already received are delivered, requests in flight are abandoned (the worker
threads are daemons, and their replies are never written), and the interrupt goes on to the caller.
"""

from __future__ import annotations

import queue
import random
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from qwen_cli.api.request import PreparedRequest
from qwen_cli.batch import results
from qwen_cli.batch.pacing import Pacer
from qwen_cli.errors import AuthError, QwenError, TransientError

RATE_LIMIT_ATTEMPTS = 10  # rate limits are expected under load: they get their own budget, apart from --max-retries


@dataclass(frozen=True)
class Work:
    """One item ready to send; `order` is its place among the items sent in this run."""

    order: int
    item_id: str
    request: PreparedRequest
    digest: str
    context: Any = None  # what the receiver needs to record it (the item's input, for the history)


@dataclass(frozen=True)
class Finished:
    work: Work
    result: results.Result
    response: dict[str, Any] | None  # the Response, when one came back


@dataclass
class Engine:
    send: Callable[[PreparedRequest], dict[str, Any]]  # one attempt: the client, with its own retries turned off
    pacer: Pacer
    jobs: int
    max_retries: int
    full: bool = False
    fail_fast: bool = False
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    jitter: Callable[[float, float], float] = random.uniform
    failed: bool = field(default=False, init=False)  # an item has failed: what --fail-fast watches
    fatal: QwenError | None = field(default=None, init=False)  # a refused key: every other item would fail alike

    def run(
        self,
        works: Iterable[Work],
        receive: Callable[[Finished], None],
        may_send: Callable[[Work], bool] = lambda work: True,
    ) -> bool:
        """Send every work, handing each result to `receive` (in the calling thread) as it arrives; a work waits
        while `may_send` says no (a reorder window that is full). Returns False when it stopped early: --fail-fast
        after a failure, or a refused key (`fatal`); requests in flight then still finish."""
        tasks: queue.SimpleQueue[Work | None] = queue.SimpleQueue()
        done: queue.SimpleQueue[Finished] = queue.SimpleQueue()
        for _ in range(self.jobs):
            threading.Thread(target=self.worker, args=(tasks, done), daemon=True, name="qwen-batch").start()
        in_flight = 0
        stopped = False
        try:
            for work in works:
                while not may_send(work):
                    in_flight -= self.receive_one(done, receive, MAX_IDLE)
                while not self.pacer.try_acquire():
                    in_flight -= self.receive_one(done, receive, self.pacer.wait_hint())
                if self.stopping():  # a result that arrived while this work waited says to stop: it is not sent
                    self.pacer.release()
                    stopped = True
                    break
                in_flight += 1
                tasks.put(work)
                while (arrived := self.receive_one(done, receive, None)) > 0:
                    in_flight -= arrived
            while in_flight > 0:
                in_flight -= self.receive_one(done, receive, MAX_IDLE)
        finally:
            for _ in range(self.jobs):
                tasks.put(None)  # the workers end after their current request; daemons, so Ctrl-C need not wait
        return not stopped

    def stopping(self) -> bool:
        return self.fatal is not None or (self.fail_fast and self.failed)

    def receive_one(
        self, done: queue.SimpleQueue[Finished], receive: Callable[[Finished], None], timeout: float | None
    ) -> int:
        """Hand over one finished result, waiting up to `timeout` (None: only if one is there); 1 if one came."""
        try:
            finished = done.get(block=timeout is not None, timeout=timeout)
        except queue.Empty:
            return 0
        if finished.result["status"] == results.FAILED:
            self.failed = True
        receive(finished)
        return 1

    def worker(self, tasks: queue.SimpleQueue[Work | None], done: queue.SimpleQueue[Finished]) -> None:
        """Send works until told to stop. Every work taken ends as exactly one Finished, whatever happens: the feeder
        counts them, and one that never came would leave it waiting for ever."""
        while (work := tasks.get()) is not None:
            try:
                finished = self.attempt(work)
            except Exception as exc:  # noqa: BLE001  a surprise (a bug) fails this item alone, never the run
                surprise = TransientError(f"{type(exc).__name__}: {exc}")
                finished = Finished(work, results.of_error(work.item_id, surprise, work.digest, None), None)
            finally:
                self.pacer.release()
            done.put(finished)

    def attempt(self, work: Work) -> Finished:
        """Send one item until it has an answer, a failure retrying cannot fix, or no retries left."""
        started = self.clock()
        retries = rate_limits = 0
        while True:
            try:
                response = self.send(work.request)
            except QwenError as error:
                if isinstance(error, AuthError):
                    self.fatal = error
                if error.rate_limited and rate_limits < RATE_LIMIT_ATTEMPTS:
                    rate_limits += 1
                    self.sleep(self.pacer.rate_limited(error.retry_after))
                    self.pacer.started_again()
                    continue
                if error.retryable and retries < self.max_retries:
                    retries += 1
                    self.sleep(error.retry_after if error.retry_after is not None else self.backoff(retries))
                    self.pacer.started_again()
                    continue
                result = results.of_error(work.item_id, error, work.digest, self.clock() - started)
                return Finished(work, result, None)
            result = results.of_response(work.item_id, response, work.digest, self.clock() - started, self.full)
            usage = result.get("usage") or {}
            self.pacer.succeeded(int(usage.get("total_tokens") or 0))
            return Finished(work, result, response)

    def backoff(self, retry: int) -> float:
        return min(30.0, 0.5 * 2 ** (retry - 1)) * self.jitter(0.5, 1.5)


MAX_IDLE = 0.5  # how long the feeder waits for a result before looking again (Ctrl-C is seen between waits)
