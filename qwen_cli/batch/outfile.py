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
import re
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, TextIO

from qwen_cli.batch.results import SETTLED, Result
from qwen_cli.bounds import MIB, NotJSON, loads
from qwen_cli.errors import OutputError, UsageError

MAX_RESULT_LINE = 256 * MIB  # a --full line carries the whole response; anything longer is not one of ours


# Characters json.dumps leaves as they are with ensure_ascii=False that a terminal may act on (C1 controls such as
# CSI) or that end a line in some readers (U+2028, U+2029): written as \\u escapes, so the data stays the same.
UNSAFE_IN_JSON = re.compile("[\u0080-\u009f\u2028\u2029]")


def dumps_line(result: Result) -> bytes:
    text = json.dumps(result, ensure_ascii=False, allow_nan=False)
    return (UNSAFE_IN_JSON.sub(lambda match: f"\\u{ord(match.group()):04x}", text) + "\n").encode("utf-8")


def new_file_mode() -> int:
    """The mode a new file gets under the process's umask, as a shell's `>` would give it."""
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


@contextlib.contextmanager
def atomic_file(path: Path, mode: int | None = None) -> Iterator[IO[bytes]]:
    """A file written whole or not at all: a temporary file beside `path`, renamed over it once complete; `mode`
    (default: private, 0600) is set before anything is written."""
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        if mode is not None:
            os.fchmod(descriptor, mode)
        with os.fdopen(descriptor, "wb") as handle:
            yield handle
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


@dataclass(frozen=True)
class Kept:
    """An item's last line in an existing results file: where it is, and the request it answered."""

    offset: int
    digest: str | None
    settled: bool


class ResultsFile:
    def __init__(self, path: str) -> None:
        self.path = path
        self.fd: int | None = None
        self.settled: dict[str, str | None] = {}  # id -> the request digest its settled line answered

    def open(self) -> ResultsFile:
        for _ in range(LOCK_ATTEMPTS):
            self.fd = self.locked()
            # Another run may have renamed a rewritten file over the path between our open and our lock: then the
            # lock is on a file nobody will read again, and the path is opened anew.
            if os.fstat(self.fd).st_ino == os.stat(self.path).st_ino:
                break
            self.close()
        else:
            raise UsageError(f"{self.path} keeps being replaced by another qwen batch run; give another -O")
        kept, lines, size = read_kept(self.path)
        self.settled = {item_id: line.digest for item_id, line in kept.items() if line.settled}
        if len(self.settled) < lines or os.path.getsize(self.path) > size:
            offsets = sorted(line.offset for line in kept.values() if line.settled)
            self.rewrite(offsets)
        return self

    def locked(self) -> int:
        """The file opened for appending (made if missing) and locked, or a UsageError saying who holds it."""
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o666)
        except OSError as exc:
            raise UsageError(f"cannot open the results file {self.path}: {exc.strerror or exc}") from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise UsageError(
                f"{self.path} is being written by another qwen batch run; wait for it, or give another -O"
            ) from None
        return fd

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

    def sort(self, position: Callable[[str], int | None]) -> None:
        """Put the lines in input order (ids the input no longer has go last, as they were), one line per id: the
        last one written for it. With `position` always None, the file keeps its order (only duplicates go)."""
        kept, _, _ = read_kept(self.path)
        places = []
        for item_id, line in kept.items():
            where = position(item_id)
            places.append((LAST if where is None else where, line.offset))
        self.rewrite([offset for _, offset in sorted(places)])

    def rewrite(self, offsets: list[int]) -> None:
        """Replace the file's content with its lines at `offsets`, in that order, atomically: a temporary file beside
        it, locked before it is renamed into place, so no other run can take the new file in between."""
        directory = os.path.dirname(os.path.abspath(self.path))
        try:
            handle, temporary = tempfile.mkstemp(prefix=".qwen-results-", dir=directory)
        except OSError as exc:
            raise OutputError(f"cannot rewrite the results file {self.path}: {exc.strerror or exc}") from exc
        try:
            fcntl.flock(handle, fcntl.LOCK_EX)  # nobody else knows this file yet: at once
            with open(self.path, "rb") as source, os.fdopen(handle, "wb", closefd=False) as copy:
                for offset in offsets:
                    source.seek(offset)
                    copy.write(source.readline(MAX_RESULT_LINE + 1))  # a buffered write: whole, or an error
            os.fsync(handle)
            os.fchmod(handle, os.stat(self.path).st_mode & 0o777)
            os.replace(temporary, self.path)
        except BaseException as exc:
            os.close(handle)
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            if isinstance(exc, OSError):  # a full disk: the file as it was stays in place, whole
                raise OutputError(f"cannot rewrite the results file {self.path}: {exc.strerror or exc}") from exc
            raise
        self.close()
        os.lseek(handle, 0, os.SEEK_END)
        self.fd = handle  # appends go to the end: only this run writes it, and it holds the lock


LAST = 1 << 62
LOCK_ATTEMPTS = 5


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


def read_kept(path: str) -> tuple[dict[str, Kept], int, int]:
    """Where each item's last line is in a results file (a later line for the same id wins), how many whole lines the
    file has, and their size: a torn end is what lies past it. Only offsets and digests are kept, never the lines."""
    kept: dict[str, Kept] = {}
    lines = size = 0
    for offset, line, value in lines_of(path):
        lines += 1
        size += len(line)
        if value is not None:
            kept[value["id"]] = Kept(offset, value.get("request_digest"), value["status"] in SETTLED)
    return kept, lines, size


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
