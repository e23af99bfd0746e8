"""The documented limits on what comes from outside (reply and event sizes, JSON nesting, input sizes) and the
strict JSON reader that keeps to them.

Pure: standard library only; no I/O. A value this reader accepts can be walked, copied and printed by the rest
of qwen without meeting Python's recursion limit, and a body it passes can be sent as JSON.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

MIB = 1024 * 1024
MAX_BODY_BYTES = 64 * MIB  # a non-streamed reply, once decoded (gzip): the largest answer is far smaller
MAX_EVENT_BYTES = (
    64 * MIB
)  # what a stream may send without completing an event: the last one carries the whole response
MAX_ERROR_BODY_BYTES = 1 * MIB  # of an error reply, only this much is read: its message is all qwen needs
# A batch's output or error file, written to disk as it arrives: the input may hold 500 MB and every answer is longer
# than its request would be in a file of short prompts, yet a file past this is a mistake or a hostile server.
MAX_DOWNLOAD_BYTES = 1024 * MIB
MAX_TEXT_BYTES = 32 * MIB  # one attached file, stdin, a messages, tools, preset or config file
MAX_JSON_DEPTH = 256  # nested arrays and objects; real replies and inputs stay below 30

# A JSON string (escapes included) or one bracket: brackets inside strings are skipped with the string.
_STRING_OR_BRACKET = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]', re.DOTALL)
_OPENING = frozenset({b"[", b"{"})
_CLOSING = frozenset({b"]", b"}"})


class NotJSON(ValueError):
    """Text that qwen will not read as JSON: invalid, nested too deeply, or holding a number JSON cannot carry.

    A syntax error knows its line: `reason` and `line` let a caller name the place in its own words.
    """

    def __init__(self, reason: str, line: int | None = None, column: int | None = None) -> None:
        super().__init__(reason if line is None else f"{reason} at line {line} column {column}")
        self.reason, self.line, self.column = reason, line, column


class TooDeep(NotJSON):
    """JSON nested deeper than MAX_JSON_DEPTH."""


def _bracket_count(data: str | bytes) -> int:
    """How many arrays and objects the text opens at most (brackets inside strings count too)."""
    if isinstance(data, str):
        return data.count("[") + data.count("{")
    return data.count(b"[") + data.count(b"{")


def nesting_exceeds(data: str | bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether the JSON text nests arrays and objects deeper than `limit`; decided without parsing it."""
    if _bracket_count(data) <= limit:
        return False  # the common case, at the cost of two counts
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    depth = 0
    for match in _STRING_OR_BRACKET.finditer(raw):
        token = match.group()
        if token in _OPENING:
            depth += 1
            if depth > limit:
                return True
        elif token in _CLOSING:
            depth -= 1
    return False


def refuse_constant(name: str) -> Any:
    raise NotJSON(f"{name} is not a JSON number")


def finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise NotJSON(f"{text} is too large for a JSON number")
    return value


# Built once: json.loads with options would build a decoder per call, a cost every stream event would pay.
_STRICT = json.JSONDecoder(parse_constant=refuse_constant)
_FINITE = json.JSONDecoder(parse_constant=refuse_constant, parse_float=finite_float)


def loads(data: str | bytes, finite: bool = False) -> Any:
    """Strict JSON: NaN and Infinity are refused, and with `finite` so is a number too large for a float (1e999).

    Raises NotJSON with the reason; never RecursionError, however deep the text nests.
    """
    if nesting_exceeds(data):
        raise TooDeep(f"nested deeper than {MAX_JSON_DEPTH} levels")
    try:
        text = data.decode("utf-8-sig") if isinstance(data, bytes) else data
        return (_FINITE if finite else _STRICT).decode(text)
    except json.JSONDecodeError as exc:
        raise NotJSON(exc.msg, exc.lineno, exc.colno) from exc
    except UnicodeDecodeError as exc:
        raise NotJSON("not UTF-8 text") from exc
    except RecursionError as exc:  # only if the stack was already deep: the nesting was checked above
        raise TooDeep(f"nested deeper than {MAX_JSON_DEPTH} levels") from exc


def non_finite_at(value: Any, path: str = "") -> str | None:
    """Where in a JSON-like value a number JSON cannot carry (NaN, an infinity) sits, as `a.b[2]`; None if nowhere."""
    pending: list[tuple[Any, str]] = [(value, path)]
    while pending:
        item, where = pending.pop()
        if isinstance(item, float) and not math.isfinite(item):
            return where or "the top level"
        if isinstance(item, dict):
            children = [(child, f"{where}.{key}" if where else str(key)) for key, child in item.items()]
        elif isinstance(item, (list, tuple)):
            children = [(child, f"{where}[{index}]") for index, child in enumerate(item)]
        else:
            continue
        pending.extend(reversed(children))  # popped in document order, so the first one found is named
    return None


def dumps(body: Any, **options: Any) -> str:
    """A request body as JSON text: never NaN or Infinity, which no JSON reader accepts."""
    return json.dumps(body, ensure_ascii=False, allow_nan=False, **options)
