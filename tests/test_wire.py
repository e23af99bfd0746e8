"""wire: Content-Encoding undone in bounded steps, the body caps, and a stream's progress bounds."""

from __future__ import annotations

import gzip
import zlib

import pytest

from qwen_cli.api import wire

TEXT = b"".join(b"line %d of a reply\n" % n for n in range(20_000))


def pieces(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


@pytest.mark.parametrize(
    ("encoding", "compressed"),
    [
        ("gzip", gzip.compress(TEXT)),
        ("x-gzip", gzip.compress(TEXT)),
        ("deflate", zlib.compress(TEXT)),
        ("deflate", zlib.compress(TEXT)[2:-4]),  # raw deflate, as some servers send it
        ("identity", TEXT),
        (None, TEXT),
    ],
)
@pytest.mark.parametrize("size", [1, 7, 65536])
def test_a_body_is_decoded_whatever_its_chunks(encoding: str | None, compressed: bytes, size: int) -> None:
    assert b"".join(wire.decoded(pieces(compressed, size), encoding)) == TEXT


def test_a_bomb_is_inflated_one_bounded_step_at_a_time() -> None:
    bomb = zlib.compress(bytes(64 * 1024 * 1024), 9)  # 64 MiB of zeros in ~64 KB
    steps = wire.decoded([bomb], "gzip")
    sizes = [len(next(steps)) for _ in range(3)]
    assert sizes == [wire.INFLATE_STEP] * 3  # no single step holds more than its share


def test_a_capped_read_stops_as_soon_as_the_cap_is_passed() -> None:
    read = []

    def chunks():
        for n in range(100):
            read.append(n)
            yield b"x" * 10

    assert wire.read_capped(iter([b"x" * 10] * 10), 100) == b"x" * 100
    with pytest.raises(wire.BodyTooLarge):
        wire.read_capped(chunks(), 100)
    assert len(read) == 11


def test_a_prefix_read_takes_only_what_it_needs() -> None:
    assert wire.read_prefix(iter([b"abc", b"def", b"ghi"]), 5) == b"abcde"


@pytest.mark.parametrize("encoding", ["br", "zstd", "gzip, br", "compress"])
def test_an_encoding_qwen_did_not_ask_for_is_undecodable(encoding: str) -> None:
    with pytest.raises(wire.Undecodable, match="which qwen does not read"):
        list(wire.decoded([b"x"], encoding))


def test_broken_gzip_is_undecodable() -> None:
    with pytest.raises(wire.Undecodable, match="gzip data is broken"):
        list(wire.decoded([b"this is not gzip"], "gzip"))


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_keep_alives_past_the_timeout_are_no_progress() -> None:
    clock = Clock()
    progress = wire.Progress(1.0, 1000, clock)
    chunks = progress.chunks(iter([b": ping\n\n"] * 10))
    next(chunks)
    clock.now = 0.9
    next(chunks)  # within the second: fine
    clock.now = 1.1
    with pytest.raises(wire.NoProgress) as raised:
        next(chunks)
    assert (raised.value.seconds, raised.value.size) == (1.0, None)


def test_an_event_is_progress_and_the_consumers_time_is_not_the_servers() -> None:
    clock = Clock()
    progress = wire.Progress(1.0, 1000, clock)
    chunks = progress.chunks(iter([b"a", b"b", b"c"]))
    events = progress.events(iter(["event"]))
    next(chunks)
    clock.now = 0.5
    assert next(events) == "event"
    clock.now = 5.0  # the consumer took its time with the event (a slow reader of stdout)
    assert list(events) == []  # back for the next: the deadline moves from now
    clock.now = 5.9
    assert next(chunks) == b"b"
    assert next(chunks) == b"c"


def test_bytes_past_the_event_cap_are_no_progress() -> None:
    progress = wire.Progress(10.0, 25, Clock())
    chunks = progress.chunks(iter([b"x" * 10] * 5))
    assert next(chunks) and next(chunks)
    with pytest.raises(wire.NoProgress) as raised:
        next(chunks)
    assert raised.value.size == 25
