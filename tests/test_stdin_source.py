"""Tests for qwen_cli.cli.stdin_source: who holds the write end of a pipe, seen in /proc, and the wait that follows."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from qwen_cli.cli.stdin_source import INHERITED_GRACE, UNKNOWN_GRACE, Writer, grace_period, stdin_writer


@contextmanager
def pipe() -> Iterator[tuple[int, int]]:
    read_end, write_end = os.pipe()
    try:
        yield read_end, write_end
    finally:
        for fd in (read_end, write_end):
            try:
                os.close(fd)
            except OSError:
                pass


def test_a_pipe_only_this_process_holds_is_an_inherited_one() -> None:
    with pipe() as (read_end, _):
        assert stdin_writer(read_end) is Writer.ANCESTORS_ONLY


def test_a_pipe_another_program_writes_to_is_a_pipeline() -> None:
    with pipe() as (read_end, write_end):
        writer = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"], stdout=write_end)
        os.close(write_end)
        try:
            assert stdin_writer(read_end) is Writer.PIPELINE
        finally:
            writer.kill()
            writer.wait(timeout=10)


def test_what_is_not_a_pipe_cannot_be_told() -> None:
    with open(os.devnull, "rb") as devnull:
        assert stdin_writer(devnull.fileno()) is Writer.UNKNOWN


@pytest.mark.parametrize(
    ("writer", "configured", "grace"),
    [
        (Writer.PIPELINE, None, None),
        (Writer.PIPELINE, 0.2, None),  # a sibling is waited for to its end, whatever the grace period
        (Writer.ANCESTORS_ONLY, None, INHERITED_GRACE),
        (Writer.ANCESTORS_ONLY, 3.0, 3.0),
        (Writer.UNKNOWN, None, UNKNOWN_GRACE),
        (Writer.UNKNOWN, 0.0, 0.0),
    ],
)
def test_the_grace_period_follows_the_writer_and_the_setting(
    writer: Writer, configured: float | None, grace: float | None
) -> None:
    assert grace_period(writer, configured) == grace
