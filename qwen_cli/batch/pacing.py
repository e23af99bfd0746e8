"""How fast this machine's engine sends: at most `jobs` requests in flight, under optional per-minute budgets of
requests (--rpm) and tokens (--tpm), and fewer in flight after a rate limit.

The number allowed in flight follows AIMD, as TCP does: each rate limit halves it (multiplicative decrease) and
pauses every new request until the server's Retry-After (or a backoff) has passed; each success adds 1/limit
(additive increase: about one more per round of `limit` successes), back up to `jobs`. Token use is known only
after a reply, so the token budget admits a request while the last minute's tokens plus the average item's stay
within it. Thread-safe; time and sleep come from outside so tests can drive them.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

WINDOW = 60.0  # DashScope counts its limits per minute
FIRST_PAUSE = 1.0  # after a rate limit with no Retry-After: 1 s, then doubling while limits keep coming
MAX_PAUSE = 30.0
MAX_WAIT_HINT = 0.5  # how long a waiting sender sleeps at most before looking again


class Pacer:
    def __init__(
        self,
        jobs: int,
        rpm: int | None = None,
        tpm: int | None = None,
        clock: Callable[[], float] = time.monotonic,
        warn: Callable[[str], None] = lambda message: None,
    ) -> None:
        self.jobs = jobs
        self.rpm = rpm
        self.tpm = tpm
        self.clock = clock
        self.limit = float(jobs)
        self.in_flight = 0
        self.paused_until = 0.0
        self.pause = FIRST_PAUSE
        self.starts: deque[float] = deque()  # when each request of the last minute started
        self.tokens: deque[tuple[float, int]] = deque()  # (when, tokens) of the last minute's replies
        self.tokens_in_window = 0
        self.replies = 0
        self.total_tokens = 0
        self.warn = warn
        self.warned = False
        self.lock = threading.Lock()

    def try_acquire(self) -> bool:
        """Take a slot for one new request if the limits allow it now."""
        with self.lock:
            now = self.clock()
            self.forget_before(now - WINDOW)
            if self.in_flight >= max(1, int(self.limit)) or now < self.paused_until:
                return False
            if self.rpm is not None and len(self.starts) >= self.rpm:
                return False
            if self.tpm is not None and not self.within_token_budget():
                return False
            self.in_flight += 1
            self.starts.append(now)
            return True

    def wait_hint(self) -> float:
        """Seconds after which `try_acquire` may answer differently (a reply can also free a slot sooner)."""
        with self.lock:
            now = self.clock()
            waits = [self.paused_until - now]
            if self.rpm is not None and len(self.starts) >= self.rpm:
                waits.append(self.starts[0] + WINDOW - now)
            if self.tpm is not None and self.tokens:
                waits.append(self.tokens[0][0] + WINDOW - now)
            return min(MAX_WAIT_HINT, max(0.01, *waits))

    def started_again(self) -> None:
        """A retry of a request that holds its slot: it counts against the request budget like any other."""
        with self.lock:
            self.starts.append(self.clock())

    def succeeded(self, tokens: int) -> None:
        with self.lock:
            self.limit = min(float(self.jobs), self.limit + 1.0 / max(1.0, self.limit))
            self.pause = FIRST_PAUSE
            self.count_tokens(tokens)
            over = self.tpm is not None and not self.warned and self.average_tokens() > self.tpm
            self.warned = self.warned or over
            average = self.average_tokens()
        if over:  # said outside the lock: writing to stderr must not hold up the other senders
            self.warn(
                f"warning: an item uses {average:,} tokens on average, more than --tpm {self.tpm:,}: "
                "items are sent one a minute"
            )

    def rate_limited(self, retry_after: float | None) -> float:
        """Halve what may be in flight and pause new requests; returns how long the caller should wait."""
        with self.lock:
            now = self.clock()
            self.limit = max(1.0, self.limit / 2)
            wait = retry_after if retry_after is not None else self.pause
            self.pause = min(MAX_PAUSE, self.pause * 2)
            self.paused_until = max(self.paused_until, now + wait)
            return max(0.0, self.paused_until - now)

    def release(self) -> None:
        """The request (and its retries) ended, whatever its outcome."""
        with self.lock:
            self.in_flight -= 1

    def count_tokens(self, tokens: int) -> None:
        self.replies += 1
        self.total_tokens += tokens
        if self.tpm is not None and tokens:
            self.tokens.append((self.clock(), tokens))
            self.tokens_in_window += tokens

    def within_token_budget(self) -> bool:
        """Whether one more request fits the minute's token budget: the tokens replies used in the last minute, and
        an average item's for each request in flight and this one. With nothing used or in flight it always fits, so
        an item larger than the whole budget is sent alone rather than never."""
        if self.tokens_in_window == 0 and self.in_flight == 0:
            return True
        if self.replies == 0:  # no reply has said what an item costs yet: one at a time until one does
            return False
        assert self.tpm is not None
        return self.tokens_in_window + (self.in_flight + 1) * self.average_tokens() <= self.tpm

    def average_tokens(self) -> int:
        return self.total_tokens // self.replies if self.replies else 0

    def forget_before(self, horizon: float) -> None:
        while self.starts and self.starts[0] <= horizon:
            self.starts.popleft()
        while self.tokens and self.tokens[0][0] <= horizon:
            self.tokens_in_window -= self.tokens.popleft()[1]
