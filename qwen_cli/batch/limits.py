"""The Batch API's limits on an input file, checked line by line as the file is made, before anything is uploaded.

Constant memory: the checker keeps counts and the first line's model and thinking, never the lines. Pure: no I/O.

Sizes are in decimal megabytes (1 MB = 1,000,000 bytes), the stricter reading of the provider's "MB". A line is
refused above 6 MB, the limit four editions of the docs give; the newest page also says 1 MB in one bullet (its own
script still says 6 MB), so a line above 1 MB is allowed but warned about: if the provider does hold to 1 MB, the
job fails at validation, which costs nothing, and the warning says why.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from qwen_cli.batch.chat_lines import TEST_MODEL
from qwen_cli.errors import UsageError

MB = 1_000_000
SPLIT = "split the input into several jobs"


@dataclass(frozen=True)
class Limits:
    lines: int = 50_000
    file_bytes: int = 500 * MB
    line_bytes: int = 6 * MB
    warn_line_bytes: int = 1 * MB  # the newest docs' other figure: warned about, not refused
    custom_id_chars: int = 256
    test_lines: int = 100  # batch-test-model
    test_file_bytes: int = 1 * MB


LIMITS = Limits()


def where(item_id: str, line: int) -> str:
    return f"item {json.dumps(item_id, ensure_ascii=False)} (input line {line})"


def size(count: int) -> str:
    return f"{count / MB:,.1f} MB ({count:,} bytes)" if count >= MB else f"{count:,} bytes"


class FileCheck:
    """Fed each batch line in file order (`add`); raises UsageError at the first line that breaks a limit."""

    def __init__(self, limits: Limits = LIMITS) -> None:
        self.limits = limits
        self.lines = 0
        self.bytes = 0  # the file so far, a newline after each line
        self.first: tuple[str, int, str, str] | None = None  # item id, input line, model, thinking
        self.large = 0  # lines above warn_line_bytes
        self.first_large: tuple[str, int, int] | None = None

    def add(self, item_id: str, line: int, data: bytes, model: str, thinking: str) -> None:
        """One serialized line (without its newline), for the item at `line` of the input."""
        self.check_id(item_id, line)
        self.check_one_kind(item_id, line, model, thinking)
        self.check_line_size(item_id, line, len(data))
        self.lines += 1
        self.bytes += len(data) + 1
        self.check_totals(item_id, line)

    def check_id(self, item_id: str, line: int) -> None:
        if len(item_id) > self.limits.custom_id_chars:
            shown = json.dumps(item_id[:40] + "…", ensure_ascii=False)
            raise UsageError(
                f"the item id {shown} (input line {line}) is {len(item_id):,} characters; the Batch API takes "
                f"ids (custom_id) up to {self.limits.custom_id_chars}: give the item a shorter id"
            )

    def check_one_kind(self, item_id: str, line: int, model: str, thinking: str) -> None:
        if self.first is None:
            self.first = (item_id, line, model, thinking)
            return
        first_id, first_line, first_model, first_thinking = self.first
        if model != first_model:
            raise UsageError(
                f"{where(item_id, line)} uses model {model} but {where(first_id, first_line)} uses {first_model}; "
                "a batch file holds one model: split the input by model"
            )
        if thinking != first_thinking:
            raise UsageError(
                f"{where(item_id, line)} has {thinking} but {where(first_id, first_line)} has {first_thinking}; "
                "a batch file holds one thinking configuration: set --think or --no-think for all, or split the input"
            )

    def check_line_size(self, item_id: str, line: int, count: int) -> None:
        if count > self.limits.line_bytes:
            raise UsageError(
                f"{where(item_id, line)} makes a batch line of {size(count)}; the Batch API takes lines up to "
                f"{size(self.limits.line_bytes)}: attach less to it, or use qwen batch run"
            )
        if count > self.limits.warn_line_bytes:
            self.large += 1
            if self.first_large is None:
                self.first_large = (item_id, line, count)

    def check_totals(self, item_id: str, line: int) -> None:
        limits = self.limits
        test = self.first is not None and self.first[2] == TEST_MODEL
        most_lines, most_bytes = (
            (limits.test_lines, limits.test_file_bytes) if test else (limits.lines, limits.file_bytes)
        )
        whose = f"the test model {TEST_MODEL} takes" if test else "a batch file takes"
        if self.lines > most_lines:
            raise UsageError(
                f"{where(item_id, line)} is request {self.lines:,}; {whose} at most {most_lines:,}: {SPLIT}"
            )
        if self.bytes > most_bytes:
            raise UsageError(
                f"the batch file passes {size(most_bytes)} at {where(item_id, line)}; {whose} at most that: {SPLIT}"
            )

    def warnings(self) -> tuple[str, ...]:
        """What to tell the user before uploading: lines the newest docs' 1 MB figure would refuse."""
        if self.first_large is None:
            return ()
        item_id, line, count = self.first_large
        others = f" and {self.large - 1:,} more" if self.large > 1 else ""
        return (
            f"warning: {where(item_id, line)}{others} make batch lines over {size(self.limits.warn_line_bytes)} "
            f"(the first: {size(count)}); the newest docs give 1 MB as the line limit, older ones 6 MB. If the job "
            "fails validation, send those items with qwen batch run",
        )
