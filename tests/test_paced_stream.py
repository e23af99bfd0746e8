"""Streamed text and jsonl are flushed once per burst, not once per delta: the first text at once, the rest of a burst
together, and whatever arrived before a pause during that pause, by the helper thread."""

from __future__ import annotations

import io
import time

import pytest

from qwen_cli.api.sse import Delta
from qwen_cli.render.renderers import JsonlRenderer, PacedStream, TextRenderer

HOUR = 3600.0  # an interval no test waits for: what is flushed then was flushed by something else


class Recorder(io.StringIO):
    """A stream that remembers what had been flushed, and how often."""

    def __init__(self) -> None:
        super().__init__()
        self.flushed, self.flushes = "", 0

    def flush(self) -> None:
        self.flushed, self.flushes = self.getvalue(), self.flushes + 1


def eventually(condition, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.001)
    return condition()


def test_the_first_text_is_flushed_at_once_and_a_burst_waits_for_one_flush() -> None:
    out = Recorder()
    paced = PacedStream(out, interval=HOUR)
    paced.write("first ")
    assert out.flushed == "first "
    for word in ("a ", "b ", "c "):
        paced.write(word)
    assert (out.flushed, out.flushes) == ("first ", 1)
    paced.close("\n")
    assert (out.flushed, out.flushes) == ("first a b c \n", 2)


def test_text_written_before_a_pause_is_flushed_during_the_pause() -> None:
    out = Recorder()
    paced = PacedStream(out, interval=0.05)
    paced.write("w1 ")
    paced.write("w2 ")  # within the interval: left to the helper thread
    assert eventually(lambda: out.flushed == "w1 w2 ")
    paced.close()


def test_text_written_after_close_is_flushed_at_once() -> None:
    out = Recorder()
    paced = PacedStream(out, interval=HOUR)
    paced.close("done")
    paced.write(" late")
    assert out.flushed == "done late"


def test_a_reader_that_left_is_noticed_by_the_writer() -> None:
    class Gone(io.StringIO):
        def flush(self) -> None:
            raise BrokenPipeError

    with pytest.raises(BrokenPipeError):
        PacedStream(Gone(), interval=HOUR).write("hello")


def test_text_mode_keeps_stdout_and_stderr_in_order_on_a_shared_terminal() -> None:
    out, err = Recorder(), Recorder()
    renderer = TextRenderer(out, err, show_reasoning=True)
    renderer.paced.interval = HOUR
    renderer.delta(Delta("text", "a"))
    renderer.delta(Delta("text", "b"))
    renderer.delta(Delta("reasoning", "thinking"))
    assert (out.flushed, err.flushed) == ("ab", "thinking")  # "b" was flushed before the reasoning was shown
    renderer.finish(None)
    assert (out.flushed, err.flushed) == ("ab\n", "thinking\n")


def test_jsonl_lines_of_a_burst_are_all_flushed_by_the_end() -> None:
    out = Recorder()
    renderer = JsonlRenderer(out, io.StringIO())
    renderer.paced.interval = HOUR
    for number in range(3):
        renderer.event({"type": "delta", "n": number})
    assert out.flushes == 1
    renderer.finish(None)
    assert out.flushed.splitlines() == ['{"type":"delta","n":0}', '{"type":"delta","n":1}', '{"type":"delta","n":2}']
