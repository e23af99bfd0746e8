"""The output modes: the leaf that settings (which names the setting), render (which draws each mode) and cli
(which chooses one, once, at the edge) share. Imports nothing from the package.

`OutputMode` is a `str` Enum, so a mode still compares equal to its text, prints as it, and goes into JSON as it.
"""

from __future__ import annotations

from enum import Enum


class OutputMode(str, Enum):
    AUTO = "auto"  # pretty on a terminal, text anywhere else: settled by `cli.terminal.choose_mode`
    PRETTY = "pretty"
    TEXT = "text"
    JSON = "json"
    JSONL = "jsonl"

    def __str__(self) -> str:
        return self.value  # "json", not "OutputMode.JSON", whatever the Python version's default

    @property
    def is_json(self) -> bool:
        """Whether stdout carries JSON (one document, or one event a line) rather than text for a person."""
        return self in (OutputMode.JSON, OutputMode.JSONL)


OUTPUT_MODES = tuple(mode.value for mode in OutputMode)
