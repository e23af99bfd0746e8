"""The only importer of yaml: parses YAML text safely, keeps key line numbers, and turns syntax errors into UsageError.

Imported lazily by its users so that start-up never pays for yaml.
"""

from __future__ import annotations

from typing import Any

import yaml

from qwen_cli.errors import UsageError


def parse(text: str, source: str) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise syntax_error(exc, source) from exc
    except RecursionError as exc:
        raise UsageError(f"{source}: nested too deeply to read") from exc


def parse_mapping(text: str, source: str) -> tuple[dict[str, Any], dict[str, int]]:
    """A YAML document that must be a mapping, with the 1-based line of each top-level key."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        values = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise syntax_error(exc, source) from exc
    except RecursionError as exc:
        raise UsageError(f"{source}: nested too deeply to read") from exc
    if values is None:
        return {}, {}
    if not isinstance(values, dict):
        raise UsageError(f"{source}: expected a mapping (key: value), found {type(values).__name__}")
    lines = {str(key.value): key.start_mark.line + 1 for key, _ in node.value}
    return values, lines


def syntax_error(exc: yaml.YAMLError, source: str) -> UsageError:
    mark = getattr(exc, "problem_mark", None)
    where = f"{source}:{mark.line + 1}" if mark else source
    message = f"{where}: invalid YAML: {getattr(exc, 'problem', None) or exc}"
    # The problem is often found a line after the mistake (an unclosed bracket): say where the construct began.
    context, started = getattr(exc, "context", None), getattr(exc, "context_mark", None)
    if context and started and (mark is None or started.line != mark.line):
        message += f" ({context} that starts at line {started.line + 1})"
    return UsageError(message)
