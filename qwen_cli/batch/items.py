"""The items of a batch: JSONL lines (from files or stdin) or one item per file, checked before anything is sent.

A line is a JSON string (the prompt) or an object:
`{"id", "prompt", "instructions", "model", "files", "images", "input", "values"}`, every key optional but at least
one of prompt, files, images, input. Ids are unique; a line without one gets its line number (`"7"`, or `"a.jsonl:7"`
when items come from several sources), so a rerun of the same input finds the same ids.

`Items.check()` reads everything once, keeping only the ids, and reports the first bad line with its number; then
`Items.iterate()` reads it again as a stream. Stdin or a pipe can be read only once, so the first pass keeps a copy
of it in a temporary file (deleted on close). Nothing here reads the files an item names: that is done when it is sent.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any, BinaryIO

from qwen_cli.batch.lines import bounded_lines
from qwen_cli.bounds import MIB, NotJSON, loads
from qwen_cli.errors import UsageError

MAX_LINE_BYTES = 32 * MIB  # one item: the prompt and its input array; files are named, not inlined
MAX_ID_CHARS = 256  # the provider's limit on custom_id, kept for both engines so an input works with either
KEYS = ("id", "prompt", "instructions", "model", "files", "images", "input", "values")
STDIN = "-"


@dataclass(frozen=True)
class Item:
    id: str
    line: int  # 1-based, in its source; 0 for an item made from a file (--each-file)
    source: str  # the JSONL file, "stdin", or the file itself for --each-file
    prompt: str = ""
    instructions: str | None = None
    model: str | None = None
    files: tuple[str, ...] = ()
    images: tuple[str, ...] = ()
    input: tuple[dict[str, Any], ...] | None = None
    values: dict[str, str] = field(default_factory=dict)

    @property
    def where(self) -> str:
        """Where the item was written, for messages: `items.jsonl line 7`, or the file of --each-file."""
        return f"{self.source} line {self.line}" if self.line else self.source


class Items:
    """The items of one run, from JSONL sources (paths, `-` for stdin) and --each-file paths, in that order."""

    def __init__(self, sources: tuple[str, ...], each_file: tuple[str, ...], stdin: BinaryIO | None) -> None:
        if not sources and not each_file:
            raise UsageError(
                "no items: give a JSONL file of prompts, - to read them from stdin, or --each-file PATH..."
            )
        named = [os.path.realpath(source) if source != STDIN else STDIN for source in sources]
        twice = next((source for source, path in zip(sources, named) if named.count(path) > 1), None)
        if twice is not None:
            raise UsageError(f"{'stdin (-)' if twice == STDIN else twice} is named twice: each source is read once")
        if STDIN in sources and stdin is None:
            raise UsageError(
                "- reads the items from stdin, but stdin is a terminal; pipe JSONL into qwen or name a file"
            )
        self.sources = sources
        self.each_file = each_file
        self.stdin = stdin
        self.spooled: dict[str, IO[bytes]] = {}  # the copy of each source that can be read only once
        self.positions: dict[str, int] = {}  # id -> place in the input: ids only, never the items

    def __enter__(self) -> Items:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        for copy in self.spooled.values():
            copy.close()
        self.spooled = {}

    def check(self, each: Callable[[Item], None] | None = None) -> int:
        """Read every item once and refuse the first bad one, naming its line (`each` may refuse one too); returns
        how many there are, and keeps each id's place in the input (`position`)."""
        for item in self.iterate(first_pass=True):
            if item.id in self.positions:
                raise UsageError(f"{item.where}: the id {item.id!r} is used twice; ids must be unique")
            if each is not None:
                each(item)
            self.positions[item.id] = len(self.positions)
        if not self.positions:
            raise UsageError("no items: the input holds no prompts (blank lines are skipped)")
        return len(self.positions)

    def position(self, item_id: str) -> int | None:
        return self.positions.get(item_id)

    def iterate(self, first_pass: bool = False) -> Iterator[Item]:
        """The items in input order, read as a stream."""
        several = len(self.sources) + (1 if self.each_file else 0) > 1
        for source in self.sources:
            name = "stdin" if source == STDIN else source
            with self.opened(source, first_pass) as stream:
                for number, raw in bounded_lines(iter(lambda: stream.read(MIB), b""), MAX_LINE_BYTES):
                    item = parse_line(raw, name, number, several)
                    if item is not None:
                        yield item
        for path in self.each_file:
            yield file_item(path)

    @contextlib.contextmanager
    def opened(self, source: str, first_pass: bool) -> Iterator[Any]:
        """A source to read: a regular file is opened again for each pass; stdin, a pipe (`<(...)`) or any other
        stream can be read only once, so the first pass keeps a copy of it for the second."""
        if not first_pass and source in self.spooled:
            copy = self.spooled[source]
            copy.seek(0)
            yield copy
            return
        if source == STDIN:
            assert self.stdin is not None  # checked in __init__
            yield self.spooling(source, self.stdin)
            return
        try:
            opened = open(source, "rb")  # noqa: SIM115  (closed by the with below)
        except OSError as exc:
            raise UsageError(f"cannot read the items file {source}: {exc.strerror or exc}") from exc
        with opened:
            yield opened if stat.S_ISREG(os.fstat(opened.fileno()).st_mode) else self.spooling(source, opened)

    def spooling(self, source: str, stream: BinaryIO) -> Spooling:
        copy = tempfile.TemporaryFile(prefix="qwen-batch-")  # noqa: SIM115  (closed by close())
        self.spooled[source] = copy
        return Spooling(stream, copy)


class Spooling:
    """Stdin read once: every chunk read is also kept in `copy`, for the second pass."""

    def __init__(self, stream: BinaryIO, copy: IO[bytes]) -> None:
        self.stream, self.copy = stream, copy

    def read(self, size: int = -1) -> bytes:
        data = self.stream.read(size)
        self.copy.write(data)
        return data


def parse_line(raw: bytes | None, source: str, number: int, several: bool) -> Item | None:
    """The item of one non-blank line; `raw` is None for a line longer than MAX_LINE_BYTES."""
    if raw is None:
        raise UsageError(
            f'{source} line {number} is longer than {MAX_LINE_BYTES // MIB} MiB; name big inputs in "files"'
        )
    where = f"{source} line {number}"
    try:
        value = loads(raw, finite=True)
    except NotJSON as exc:
        raise UsageError(f"{where} is not valid JSON ({exc.reason}); each line is a JSON string or object") from None
    except UnicodeDecodeError:
        raise UsageError(f"{where} is not UTF-8 text") from None
    default_id = f"{source}:{number}" if several else str(number)
    if isinstance(value, str):
        return checked(Item(id=default_id, line=number, source=source, prompt=value), where)
    if not isinstance(value, dict):
        raise UsageError(
            f'{where} is a JSON {type(value).__name__}; a line is a prompt string or an object with "prompt"'
        )
    return item_of(value, where, default_id, source, number)


def item_of(value: dict[str, Any], where: str, default_id: str, source: str, number: int) -> Item:
    unknown = [key for key in value if key not in KEYS]
    if unknown:
        raise UsageError(f"{where}: unknown key {unknown[0]!r}; an item may have {', '.join(KEYS)}")
    item_id = value.get("id")
    if item_id is None:  # absent or null (as `jq '{id, prompt}'` writes for a record without one)
        item_id = default_id
    if isinstance(item_id, int) and not isinstance(item_id, bool):
        item_id = str(item_id)
    item = Item(
        id=text_of(item_id, "id", where),
        line=number,
        source=source,
        prompt=text_of(value.get("prompt", ""), "prompt", where),
        instructions=optional_text(value.get("instructions"), "instructions", where),
        model=optional_text(value.get("model"), "model", where),
        files=texts_of(value.get("files"), "files", where),
        images=texts_of(value.get("images"), "images", where),
        input=input_of(value.get("input"), where),
        values=values_of(value.get("values"), where),
    )
    return checked(item, where)


def checked(item: Item, where: str) -> Item:
    if not item.id.strip() or len(item.id) > MAX_ID_CHARS or any(ord(ch) < 32 for ch in item.id):
        raise UsageError(f"{where}: an id is 1 to {MAX_ID_CHARS} printable characters, got {item.id[:40]!r}")
    if not (item.prompt.strip() or item.files or item.images or item.input):
        raise UsageError(f'{where}: nothing to send; give a "prompt" (or "files", "images" or "input")')
    for path in item.files:
        if not os.path.isfile(path):
            raise UsageError(f"{where}: the file {path} does not exist or is not a regular file")
    for image in item.images:
        if not image.startswith(("http://", "https://", "data:")) and not os.path.isfile(image):
            raise UsageError(f"{where}: the image {image} is neither a URL nor a file")
    return item


def text_of(value: Any, key: str, where: str) -> str:
    if not isinstance(value, str):
        raise UsageError(f'{where}: "{key}" must be a string')
    return value


def optional_text(value: Any, key: str, where: str) -> str | None:
    return None if value is None else text_of(value, key, where)


def texts_of(value: Any, key: str, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, list) or not all(isinstance(entry, str) for entry in value):
        raise UsageError(f'{where}: "{key}" must be a path or a list of paths')
    return tuple(value)


def input_of(value: Any, where: str) -> tuple[dict[str, Any], ...] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not value:
        raise UsageError(f'{where}: "input" must be a non-empty list of input items (like {{"role": "user", ...}})')
    for index, entry in enumerate(value):
        if not isinstance(entry, dict) or not ("role" in entry or "type" in entry):
            raise UsageError(
                f"{where}: \"input\" item {index + 1} is not an input item (it needs a 'role' or a 'type')"
            )
    return tuple(value)


def values_of(value: Any, where: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(
        isinstance(key, str)
        and key.isidentifier()
        and isinstance(text, str | int | float)
        and not isinstance(text, bool)
        for key, text in value.items()
    ):
        raise UsageError(f'{where}: "values" must map names to strings, like {{"language": "Go"}}')
    if "input" in value:
        raise UsageError(f"{where}: \"values\" cannot set 'input': {{input}} is the item's prompt")
    return {key: str(text) for key, text in value.items()}


def file_item(path: str) -> Item:
    """--each-file: the file attached as material, its path as the id."""
    if not os.path.isfile(path):
        raise UsageError(f"--each-file {path}: not a regular file")
    return checked(Item(id=path, line=0, source=path, files=(path,)), f"--each-file {path}")
