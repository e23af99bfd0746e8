"""Markdown that grows while it streams, drawn in linear time (a helper of `renderers`, the other rich user).

Finished blocks (ended by a blank line outside a code fence) are printed once, above a live region that
redraws only the unfinished tail, cut to the screen's height so the terminal never shows an ellipsis.
Re-rendering the whole answer on every delta (rich's Live(Markdown(all))) grows with the square of its length.
"""

from __future__ import annotations

import re
from typing import Any

FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
# rich starts lists, tables and quotes with a blank line of their own; other blocks need one printed before them.
OWN_BLANK_LINE = re.compile(r"^\s*([-*+]\s|\d+[.)]\s|\||>)")
REFRESH_SECONDS = 1 / 12


class MarkdownStream:
    def __init__(self, console: Any, notes_share_the_terminal: bool = False) -> None:
        self.console = console
        # Asked once: rich's answer costs an isatty call and environment lookups, and a stream has thousands of deltas.
        self.on_terminal = console.is_terminal
        # rich prints stderr's notes above the live tail through stdout: only right when both are one terminal.
        self.notes_share_the_terminal = notes_share_the_terminal
        self.lines: list[str] = []  # complete lines of the unfinished block
        self.partial: list[str] = []  # pieces of the line being written (joined only when it ends)
        self.fence: str | None = None  # the opening fence while inside a code block
        self.fence_line = ""
        self.blocks_printed = 0
        self.live: Any = None

    def feed(self, text: str) -> None:
        first, *rest = text.split("\n")
        self.partial.append(first)
        if rest:
            lines = ["".join(self.partial), *rest[:-1]]
            self.partial = [rest[-1]]
            for line in lines:
                self.take_line(line)
        self.redraw()

    def take_line(self, line: str) -> None:
        match = FENCE.match(line)
        if match and (
            self.fence is None or match.group(1)[0] == self.fence[0] and len(match.group(1)) >= len(self.fence)
        ):
            self.fence, self.fence_line = (match.group(1), line) if self.fence is None else (None, "")
        if not line.strip() and self.fence is None:
            self.print_block()
        else:
            self.lines.append(line)

    def print_block(self) -> None:
        if not self.lines:
            return
        self.print_markdown("\n".join(self.lines))
        self.lines = []

    def print_markdown(self, text: str) -> None:
        from rich.markdown import Markdown

        if self.blocks_printed and not OWN_BLANK_LINE.match(text):
            self.console.print()
        self.console.print(Markdown(text))
        self.blocks_printed += 1

    def redraw(self) -> None:
        if not self.on_terminal:
            return  # a file or pipe gets finished blocks only
        if self.live is None:
            from rich.live import Live

            # rich redraws the tail on its own clock, so the screen catches up even while the stream pauses.
            self.live = Live(
                console=self.console,
                get_renderable=self.tail_view,
                refresh_per_second=1 / REFRESH_SECONDS,
                transient=True,
                vertical_overflow="crop",
                redirect_stderr=self.notes_share_the_terminal,
            )
            self.live.start(refresh=True)

    def tail_view(self) -> Any:
        """The last screenful of the unfinished block, rendered as Markdown (inside its code fence if open).

        Called from rich's refresh thread while `feed` goes on: a frame caught mid-change is redrawn on the next tick.
        """
        from rich.markdown import Markdown

        room = max(1, self.console.size.height - 2)
        # A paragraph with no line breaks can grow without end: a screenful of its characters is enough.
        partial = last_characters(self.partial, room * self.console.size.width)
        lines = self.lines[-room:] + ([partial] if partial else [])
        if self.fence is not None and self.fence_line not in lines[:1]:
            lines = [self.fence_line, *lines]
        return LastRows(Markdown("\n".join(lines)), room)

    def close(self) -> None:
        if self.live is not None:
            self.live.stop()
            self.live = None
        if "".join(self.partial):
            self.lines.append("".join(self.partial))
        self.partial = []
        self.print_block()


class LastRows:
    """The last rows of a rendering: a tall tail shows its newest lines, and the live region never outgrows
    the screen (rich cannot erase what scrolled above it, so that would be printed twice)."""

    def __init__(self, renderable: Any, rows: int) -> None:
        self.renderable, self.rows = renderable, rows

    def __rich_console__(self, console: Any, options: Any) -> Any:
        from rich.segment import Segment

        lines = console.render_lines(self.renderable, options, pad=False)[-self.rows :]
        for index, line in enumerate(lines):
            if index:
                yield Segment.line()
            yield from without_trailing_blanks(line)


def without_trailing_blanks(line: list[Any]) -> list[Any]:
    """A row less its padding: a full-width row makes the terminal wrap the echo of ^C, and rich then erases
    the wrong row, leaving the partial answer on screen twice."""
    from rich.segment import Segment

    segments = list(line)
    while segments and not segments[-1].text.strip() and not segments[-1].control:
        segments.pop()
    if segments and not segments[-1].control:
        last = segments[-1]
        segments[-1] = Segment(last.text.rstrip(" "), last.style, last.control)
    return segments


def last_characters(pieces: list[str], limit: int) -> str:
    """The last `limit` characters of the joined pieces, joining only as many pieces as that takes."""
    taken: list[str] = []
    size = 0
    for piece in reversed(pieces):
        taken.append(piece)
        size += len(piece)
        if size >= limit:
            break
    return "".join(reversed(taken))[-limit:]
