"""The input file of a provider batch: every item's request as a Chat Completions batch line, checked against the
provider's limits as it is written; part of the cli layer.

Written to a private temporary file as a stream, so a big input is never held whole. Anything an item asks for
that a batch line cannot carry, and any limit a line breaks, is refused here, naming the item: before anything is
uploaded.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO

from qwen_cli.batch.chat_lines import TEST_MODEL, batch_url, chat_line, thinking_mode
from qwen_cli.batch.items import Item, Items
from qwen_cli.batch.limits import FileCheck
from qwen_cli.cli.batch_setup import BatchSetup, request_digest


@dataclass
class InputFile:
    """The written file (rewound, deleted when closed), and what the job record needs."""

    file: IO[bytes]  # a named temporary file: the upload reads it by its path
    model: str
    endpoint: str  # the `url` of every line, and the batch's `endpoint`
    ids: list[tuple[str, str]]  # (item id, request digest), in input order
    size: int
    warnings: tuple[str, ...]

    @property
    def path(self) -> Path:
        return Path(self.file.name)

    def close(self) -> None:
        self.file.close()


def write_input_file(setup: BatchSetup, items: Items, test: bool) -> InputFile:
    """Every item as a batch line; `test` sends them all to the provider's free test model."""
    check = FileCheck()
    ids: list[tuple[str, str]] = []
    model = ""
    file = tempfile.NamedTemporaryFile(prefix="qwen-batch-", suffix=".jsonl")  # noqa: SIM115  (InputFile.close closes it)
    try:
        for item in each_item(items, test):
            request, _ = setup.request_for(item)
            line = chat_line(item.id, request.body or {}, request.headers)
            data = json.dumps(line, ensure_ascii=False, allow_nan=False).encode("utf-8")
            model = str(line["body"]["model"])
            check.add(item.id, item.line, data, model, thinking_mode(line["body"]))
            file.write(data + b"\n")
            ids.append((item.id, request_digest(request)))
        file.flush()
    except BaseException:
        file.close()
        raise
    return InputFile(file, model, batch_url(model), ids, check.bytes, check.warnings())


def each_item(items: Items, test: bool) -> Iterator[Item]:
    for item in items.iterate():
        yield replace(item, model=TEST_MODEL) if test else item
