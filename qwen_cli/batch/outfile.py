"""Where result lines go: a resumable results file (-O FILE), or stdout in input order.

The results file is the run's memory. Each line is written whole, with one write() on a file opened for appending,
as its item completes: a run killed at any moment (SIGKILL included) leaves whole lines, at most a torn last one,
which the next run cuts off. Opening an existing file reads what is settled (completed, incomplete, function calls)
with the request digest it was answered for, and keeps only that: failed lines, torn lines and lines a later line
superseded are dropped (the file is rewritten atomically), so those items run again and no item appears twice.
A normal end sorts the file into input order. An exclusive lock keeps two runs from writing one file.

On stdout there is nothing to resume: lines are held in a bounded reorder window and written in input order (or
as they finish with --unordered), each flushed at once.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, TextIO

from qwen_cli.batch.results import SETTLED, Result
from qwen_cli.bounds import MIB, NotJSON, loads
from qwen_cli.errors import OutputError, UsageError

MAX_RESULT_LINE = 256 * MIB  # a --full line carries the whole response; anything longer is not one of ours


def dumps_line(result: Result) -> bytes:
    return (json.dumps(result, ensure_ascii=False, allow_nan=False) + "\n").encode("utf-8")


@dataclass(frozen=True)
class Settled:
    """An item the file already answers, and the request it answered."""

    digest: str | None
    status: str


class ResultsFile:
    def __init__(self, path: str) -> None:
        self.path = path
        self.fd: int | None = None
        self.settled: dict[str, Settled] = {}
        self.dropped = 0  # lines of an earlier run that were dropped (failed, torn, superseded)
        self.superseded: set[str] = set()  # ids written again in this run over an earlier settled line

    def open(self) -> ResultsFile:
        try:
            self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
        except OSError as exc:
            raise UsageError(f"cannot open the results file {self.path}: {exc.strerror or exc}") from exc
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            self.close()
            raise UsageError(
                f"{self.path} is being written by another qwen batch run; wait for it, or give another -O"
            ) from None
        self.settled, keep, self.dropped = read_settled(self.path)
        if self.dropped:
            self.rewrite(lambda: keep)
        return self

    def __enter__(self) -> ResultsFile:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)  # also releases the lock
            self.fd = None

    def write(self, result: Result) -> None:
        assert self.fd is not None
        data = dumps_line(result)
        try:
            written = os.write(self.fd, data)
        except OSError as exc:
            raise OutputError(f"cannot write the results file {self.path}: {exc.strerror or exc}") from exc
        if written != len(data):  # a full disk mid-line: cut the torn line now rather than leave it
            os.ftruncate(self.fd, os.lseek(self.fd, 0, os.SEEK_END) - written)
            raise OutputError(f"cannot write the results file {self.path}: the disk is full")
        if result["id"] in self.settled:
            self.superseded.add(result["id"])

    def sort(self, position: Callable[[str], int | None]) -> None:
        """Put the lines in input order (ids the input no longer has go last, as they were), one line per id."""
        placed: dict[str, tuple[int, int]] = {}  # id -> (input position, offset of its last line)
        for offset, _, value in lines_of(self.path):
            if value is not None:
                where = position(value["id"])
                placed[value["id"]] = (LAST if where is None else where, offset)
        offsets = [offset for _, offset in sorted(placed.values())]

        def lines() -> Iterator[bytes]:
            with open(self.path, "rb") as source:
                for offset in offsets:
                    source.seek(offset)
                    yield source.readline(MAX_RESULT_LINE + 1)

        self.rewrite(lines)

    def rewrite(self, lines: Callable[[], Iterable[bytes]]) -> None:
        """Replace the file's content atomically (a temporary file beside it, then rename); the lock is kept on the
        new file."""
        directory = os.path.dirname(os.path.abspath(self.path))
        handle, temporary = tempfile.mkstemp(prefix=".qwen-results-", dir=directory)
        try:
            with os.fdopen(handle, "wb") as copy:
                for line in lines():
                    copy.write(line)
                copy.flush()
                os.fsync(copy.fileno())
            os.chmod(temporary, os.stat(self.path).st_mode & 0o777)
            os.replace(temporary, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise
        self.close()
        self.fd = os.open(self.path, os.O_RDWR | os.O_APPEND)
        fcntl.flock(self.fd, fcntl.LOCK_EX)  # the new file: nobody else can hold it, it was just renamed in


LAST = 1 << 62


def lines_of(path: str) -> Iterator[tuple[int, bytes, dict[str, Any] | None]]:
    """(offset, line, the line's result or None when it is not one) for every whole line of the file; a torn last
    line (no newline) is not yielded."""
    offset = 0
    with open(path, "rb") as source:
        while line := source.readline(MAX_RESULT_LINE + 1):
            if not line.endswith(b"\n"):
                return
            yield offset, line, parsed(line)
            offset += len(line)


def parsed(line: bytes) -> dict[str, Any] | None:
    try:
        value = loads(line)
    except (NotJSON, UnicodeDecodeError):
        return None
    if isinstance(value, dict) and isinstance(value.get("id"), str) and isinstance(value.get("status"), str):
        return value
    return None


def read_settled(path: str) -> tuple[dict[str, Settled], list[bytes], int]:
    """What an existing results file already answers: the settled items (the last line of each id wins), those
    lines, and how many lines were dropped."""
    last: dict[str, tuple[bytes, dict[str, Any]]] = {}
    total = 0
    size = 0
    for _, line, value in lines_of(path):
        total += 1
        size += len(line)
        if value is not None:
            last[value["id"]] = (line, value)
    torn = os.path.getsize(path) > size
    keep = [line for line, value in last.values() if value["status"] in SETTLED]
    settled = {
        item_id: Settled(value.get("request_digest"), value["status"])
        for item_id, (_, value) in last.items()
        if value["status"] in SETTLED
    }
    dropped = total - len(keep) + (1 if torn else 0)
    return settled, keep, dropped


class OrderedStdout:
    """Result lines on stdout, in input order within a window of `window` results (or as they finish)."""

    def __init__(self, out: TextIO, window: int, unordered: bool) -> None:
        self.out = out
        self.window = window
        self.unordered = unordered
        self.waiting: dict[int, Result] = {}
        self.next_order = 0

    def may_send(self, order: int) -> bool:
        """Whether the item at `order` may be sent: the window would hold its result."""
        return self.unordered or order - self.next_order < self.window

    def write(self, order: int, result: Result) -> None:
        if self.unordered:
            self.emit(result)
            return
        self.waiting[order] = result
        while self.next_order in self.waiting:
            self.emit(self.waiting.pop(self.next_order))
            self.next_order += 1

    def flush_all(self) -> None:
        """An interrupted run: whatever arrived, in order, gaps and all."""
        for order in sorted(self.waiting):
            self.emit(self.waiting.pop(order))

    def emit(self, result: Result) -> None:
        self.out.write(dumps_line(result).decode("utf-8"))
        self.out.flush()
