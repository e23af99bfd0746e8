"""Run one command as a child and report its wall time and peak RSS, from a process too small to inflate them.

    python -S bench/spawn_child.py REPORT_FD PROGRAM [ARG ...]

Writes "<seconds> <peak RSS KiB> <CPU seconds, user + system>" to REPORT_FD and exits with the child's exit code; the child inherits this
process's stdin, stdout, stderr and environment. Why a middleman: Linux keeps the memory high-water mark a
child had before exec (fork or vfork shares the parent's), so a child spawned by the ~17 MiB harness reports at
least 17 MiB of peak RSS. Started with -S and importing only os, sys and time, this process is ~8.5 MiB, the
floor of every reading (`python -c pass` peaks at about that).
"""

import _signal  # the C module, loaded at start-up anyway: `signal` would import enum and grow this process
import os
import sys
import time

CHILD: list[int] = []


def forward(signal_number: int, frame: object) -> None:
    """Pass a stop request on to the child, and stay to reap it."""
    for pid in CHILD:
        os.kill(pid, signal_number)


def main() -> None:
    report, argv = int(sys.argv[1]), sys.argv[2:]
    os.set_inheritable(report, False)
    for signal_number in (_signal.SIGINT, _signal.SIGTERM, _signal.SIGHUP):
        _signal.signal(signal_number, forward)
    started = time.perf_counter()
    pid = os.posix_spawn(argv[0], argv, os.environ)
    CHILD.append(pid)
    _, status, usage = os.wait4(pid, 0)
    seconds = time.perf_counter() - started
    cpu = usage.ru_utime + usage.ru_stime
    os.write(report, b"%.9f %d %.6f\n" % (seconds, usage.ru_maxrss, cpu))
    sys.exit(os.waitstatus_to_exitcode(status))


main()
