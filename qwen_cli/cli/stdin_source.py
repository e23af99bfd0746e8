"""How long to wait for a silent stdin, decided by who writes to it: a program beside qwen in a shell pipeline,
or only the programs that started it.

`pytest | qwen ask ...` may stay silent for minutes before its output comes, and qwen must wait for it; an agent or
CI runner that spawns qwen with an inherited pipe it never writes must not hang qwen. On Linux the holders of a
pipe's write end are visible in /proc: a writer that is not an ancestor of qwen (a sibling in a pipeline) means
the data is coming, so qwen waits for the end of it. A pipe held only by ancestors (or by nobody visible) gets a
short grace period; where this cannot be known (no /proc, not a pipe), a longer one. Reads /proc only; never raises.
"""

from __future__ import annotations

import enum
import os
import stat
from collections.abc import Iterator
from pathlib import Path

WRITE_MODES = (os.O_WRONLY, os.O_RDWR)
INHERITED_GRACE = 1.0  # seconds: a pipe only qwen's ancestors hold is most likely one nobody will ever write
UNKNOWN_GRACE = 10.0  # seconds: where the writer cannot be seen, slow producers must still get their chance


class Writer(enum.Enum):
    PIPELINE = "a program beside qwen writes to its stdin"  # wait for end of input
    ANCESTORS_ONLY = "only the programs that started qwen hold the pipe"  # inherited: a short grace period
    UNKNOWN = "cannot tell who writes to stdin"  # not Linux, no /proc, not a pipe: a longer grace period


def stdin_writer(fd: int = 0, proc: Path = Path("/proc")) -> Writer:
    """Who holds the write end of the pipe on `fd`, as far as /proc shows it."""
    try:
        pipe = pipe_of(fd)
        if pipe is None or not (proc / "self").is_dir():
            return Writer.UNKNOWN
        me = os.getpid()
        ancestors = set(ancestry(me, proc))
        for pid in session_members(os.getsid(0), proc):
            if pid != me and pid not in ancestors and writes_to(pid, pipe, proc):
                return Writer.PIPELINE
        return Writer.ANCESTORS_ONLY
    except OSError:
        return Writer.UNKNOWN


def pipe_of(fd: int) -> str | None:
    """The pipe (or socket) on `fd` as /proc names it (`pipe:[12345]`), or None when `fd` is neither."""
    status = os.fstat(fd)
    if stat.S_ISFIFO(status.st_mode):
        return f"pipe:[{status.st_ino}]"
    if stat.S_ISSOCK(status.st_mode):
        # Node's (libuv's) children get a socket pair where a shell gives a pipe. The peer is another inode, so
        # no writer is found and the spawner's idle socket gets the short grace period of an inherited pipe.
        return f"socket:[{status.st_ino}]"
    return None


def stat_fields(pid: int, proc: Path) -> list[str] | None:
    """The fields of /proc/PID/stat after the command name (which may hold spaces and parentheses)."""
    try:
        text = (proc / str(pid) / "stat").read_text()
    except OSError:
        return None  # the process ended, or is not ours to read
    return text[text.rfind(")") + 2 :].split()


def ancestry(pid: int, proc: Path) -> Iterator[int]:
    """`pid`'s parent, its parent's parent, ... up to the first process."""
    seen = {pid}
    while True:
        fields = stat_fields(pid, proc)
        if fields is None:
            return
        pid = int(fields[1])  # ppid
        if pid <= 0 or pid in seen:
            return
        seen.add(pid)
        yield pid


def session_members(session: int, proc: Path) -> Iterator[int]:
    """Processes in qwen's session: a shell pipeline's programs always share their shell's session."""
    for entry in os.scandir(proc):
        if entry.name.isdigit():
            fields = stat_fields(int(entry.name), proc)
            if fields is not None and int(fields[3]) == session:
                yield int(entry.name)


def writes_to(pid: int, pipe: str, proc: Path) -> bool:
    """Whether process `pid` holds `pipe` open for writing."""
    fd_dir = proc / str(pid) / "fd"
    try:
        descriptors = os.listdir(fd_dir)
    except OSError:
        return False
    for descriptor in descriptors:
        try:
            if os.readlink(fd_dir / descriptor) == pipe and opened_for_writing(proc / str(pid) / "fdinfo" / descriptor):
                return True
        except OSError:
            continue  # closed meanwhile
    return False


def opened_for_writing(fdinfo: Path) -> bool:
    for line in fdinfo.read_text().splitlines():
        if line.startswith("flags:"):
            return int(line.split()[1], 8) & os.O_ACCMODE in WRITE_MODES
    return False


def grace_period(writer: Writer, configured: float | None) -> float | None:
    """How long a silent stdin is waited for when a prompt is given; None: to its end (a pipeline's writer).
    `configured` (--stdin-wait, the config file's stdin_wait) replaces the grace period, never a pipeline's wait."""
    if writer is Writer.PIPELINE:
        return None
    if configured is not None:
        return configured
    return INHERITED_GRACE if writer is Writer.ANCESTORS_ONLY else UNKNOWN_GRACE


def stdin_grace(stdin: object, configured: float | None) -> float | None:
    """The grace period for the stream `stdin` (a pipe, a file, a test's stream)."""
    try:
        fd = stdin.fileno()  # type: ignore[attr-defined]
    except (AttributeError, OSError, ValueError):
        return configured if configured is not None else UNKNOWN_GRACE
    return grace_period(stdin_writer(fd), configured)
