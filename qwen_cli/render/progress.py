"""The progress of a batch on stderr: a live bar on a terminal (rich), nothing elsewhere; the summary line that
ends every run is the caller's. rich is imported only when a bar is drawn.
"""

from __future__ import annotations

from typing import Any, Protocol, TextIO


class Progress(Protocol):
    def advance(self, failed: bool, tokens: int) -> None: ...
    def close(self) -> None: ...


class NoProgress:
    def advance(self, failed: bool, tokens: int) -> None:
        pass

    def close(self) -> None:
        pass


class ProgressBar:
    """done/total, failed, rate, tokens and the time left, redrawn a few times a second."""

    def __init__(self, err: TextIO, total: int, done: int = 0) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn, TimeRemainingColumn
        from rich.progress import Progress as RichProgress

        self.failed = 0
        self.tokens = 0
        self.bar = RichProgress(
            TextColumn("batch"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[failed]} failed"),
            TextColumn("{task.fields[rate]}"),
            TextColumn("{task.fields[tokens]} tokens"),
            TimeElapsedColumn(),
            TextColumn("left"),
            TimeRemainingColumn(),
            console=Console(file=err, highlight=False),
            transient=True,  # the summary line takes its place
        )
        self.task = self.bar.add_task("batch", total=total, completed=done, **self.fields(None))
        self.bar.start()

    def fields(self, speed: float | None) -> dict[str, Any]:
        rate = f"{speed:.1f}/s" if speed else "-/s"
        return {"failed": self.failed, "tokens": f"{self.tokens:,}", "rate": rate}

    def advance(self, failed: bool, tokens: int) -> None:
        self.failed += failed
        self.tokens += tokens
        speed = self.bar.tasks[0].speed
        self.bar.update(self.task, advance=1, **self.fields(speed))

    def close(self) -> None:
        self.bar.stop()


def progress_for(err: TextIO, total: int, done: int, on_terminal: bool) -> Progress:
    return ProgressBar(err, total, done) if on_terminal else NoProgress()
