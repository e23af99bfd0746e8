"""Lines of bytes, each bounded: the one splitter for everything `qwen batch` reads line by line (items, the
provider's result files, job records), so a line without end cannot fill the memory."""

from __future__ import annotations

from collections.abc import Iterable, Iterator


def bounded_lines(chunks: Iterable[bytes], limit: int) -> Iterator[tuple[int, bytes | None]]:
    """Each non-blank line with its number (from 1; blank lines count); None stands for a line over `limit` bytes,
    whose bytes are passed over, not held. The last line may end without a newline."""
    number, pending, skipping = 0, bytearray(), False
    for chunk in chunks:
        start = 0
        while (end := chunk.find(b"\n", start)) >= 0:
            number += 1
            if not skipping:
                pending += chunk[start:end]
            if skipping or len(pending) > limit:
                yield number, None
            elif pending.strip():
                yield number, bytes(pending)
            pending.clear()
            skipping, start = False, end + 1
        if not skipping:
            pending += chunk[start:]
            if len(pending) > limit:
                skipping = True
                pending.clear()
    if skipping or pending.strip():
        yield number + 1, None if skipping else bytes(pending)
