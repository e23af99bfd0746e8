"""Bodies as they come off the wire: Content-Encoding undone step by step under the documented size caps, and the
time and bytes a stream may go without an event.

Pure: standard library only; no network of its own. `client` hands in the raw chunks and maps what is raised here
(BodyTooLarge, Undecodable, NoProgress) to the one-line errors users see. Every limit is checked while decoding,
one bounded step at a time, so a compression bomb never gets further than its cap.
"""

from __future__ import annotations

import itertools
import time
import zlib
from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

ACCEPT_ENCODING = "gzip, deflate"  # what `decoded` can undo: qwen asks for nothing else
INFLATE_STEP = 1024 * 1024  # the most one decompression step may produce: 64 KiB of a bomb holds 64 MiB
_GZIP_OR_ZLIB, _ZLIB, _RAW_DEFLATE = zlib.MAX_WBITS | 32, zlib.MAX_WBITS, -zlib.MAX_WBITS
Item = TypeVar("Item")


class BodyTooLarge(Exception):
    """The decoded body went past its cap."""


class Undecodable(Exception):
    """The body's Content-Encoding is one qwen cannot undo, or its compressed data is broken."""


class NoProgress(Exception):
    """A stream kept sending (keep-alive comments, a giant line) but completed no event within its bounds."""

    def __init__(self, seconds: float | None = None, size: int | None = None) -> None:
        super().__init__("no event")
        self.seconds, self.size = seconds, size


def decoded(raw: Iterable[bytes], content_encoding: str | None) -> Iterator[bytes]:
    """The body's bytes with its Content-Encoding (gzip or deflate) undone; never more than INFLATE_STEP at once."""
    codings = [token.strip().lower() for token in (content_encoding or "").split(",")]
    codings = [token for token in codings if token and token != "identity"]
    if not codings:
        return (chunk for chunk in raw if chunk)
    if codings in (["gzip"], ["x-gzip"]):
        return inflated(raw, _GZIP_OR_ZLIB, codings[0])
    if codings == ["deflate"]:
        return inflated(raw, _ZLIB, codings[0])
    raise Undecodable(
        f"the server sent its reply encoded as '{content_encoding}', which qwen does not read (it asks for {ACCEPT_ENCODING})"
    )


def inflated(raw: Iterable[bytes], wbits: int, coding: str) -> Iterator[bytes]:
    decompressor = zlib.decompressobj(wbits)
    chunks = iter(raw)
    try:
        if wbits == _ZLIB:
            start = first_bytes(chunks, 2)
            if not zlib_header(start):
                # `deflate` should be zlib-wrapped, yet some servers send raw deflate: read it as that.
                decompressor = zlib.decompressobj(_RAW_DEFLATE)
            chunks = itertools.chain([start], chunks)
        for chunk in chunks:
            yield from inflate_chunk(decompressor, chunk)
            if decompressor.eof:
                return  # anything after the end of the compressed data is ignored, as httpx does
        tail = decompressor.flush()
    except zlib.error as exc:
        raise Undecodable(f"the server's {coding} data is broken ({exc})") from exc
    if tail:
        yield tail


def first_bytes(chunks: Iterator[bytes], count: int) -> bytes:
    """At least `count` bytes from the start of the body (fewer only if it is shorter)."""
    start = b""
    for chunk in chunks:
        start += chunk
        if len(start) >= count:
            break
    return start


def zlib_header(chunk: bytes) -> bool:
    """RFC 1950: deflate method, and the two header bytes a multiple of 31."""
    return len(chunk) >= 2 and chunk[0] & 0x0F == 8 and (chunk[0] << 8 | chunk[1]) % 31 == 0


def inflate_chunk(decompressor: zlib._Decompress, data: bytes) -> Iterator[bytes]:
    """What one compressed chunk holds, at most INFLATE_STEP bytes at a time."""
    while True:
        out = decompressor.decompress(data, INFLATE_STEP)
        if out:
            yield out
        data = decompressor.unconsumed_tail
        if decompressor.eof or (not data and len(out) < INFLATE_STEP):
            return


def read_capped(chunks: Iterable[bytes], limit: int) -> bytes:
    """The whole body; BodyTooLarge as soon as it passes `limit` bytes."""
    parts, size = [], 0
    for chunk in chunks:
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(limit)
        parts.append(chunk)
    return b"".join(parts)


def read_prefix(chunks: Iterable[bytes], limit: int) -> bytes:
    """The first `limit` bytes of the body; the rest is not read."""
    parts, size = [], 0
    for chunk in chunks:
        parts.append(chunk[: limit - size])
        size += len(chunk)
        if size >= limit:
            break
    return b"".join(parts)


class Progress:
    """A stream's progress is an event: between two, at most `seconds` may pass and `size` bytes arrive.

    httpx's read timeout bounds only the time between two reads, which keep-alive comments reset forever.
    """

    def __init__(self, seconds: float, size: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds, self.size, self.clock = seconds, size, clock
        self.made()

    def made(self) -> None:
        self.deadline = self.clock() + self.seconds
        self.received = 0

    def chunks(self, chunks: Iterable[bytes]) -> Iterator[bytes]:
        for chunk in chunks:
            self.received += len(chunk)
            if self.received > self.size:
                raise NoProgress(size=self.size)
            yield chunk
            # Back here once this chunk is decoded: had it completed an event, `made` would have moved the deadline.
            if self.clock() > self.deadline:
                raise NoProgress(seconds=self.seconds)

    def events(self, events: Iterable[Item]) -> Iterator[Item]:
        for event in events:
            yield event
            self.made()  # after the consumer is done with it: a slow reader of stdout is not a stalled server
