"""The only importer of yaml: parses YAML text safely and boundedly, keeps key line numbers, and turns every
problem into a UsageError that names the file.

Every YAML qwen reads (config, presets, tools files, --messages) comes through here. A document is composed
into nodes first and checked before any value is built: aliases may add at most ALIAS_BUDGET nodes once
expanded (a "billion laughs" bomb of nine levels fits in under 1 KB), nesting stays within MAX_DEPTH, and
no number is NaN or infinite (whatever qwen reads from YAML may end up in a JSON request body).
Imported lazily by its users so that start-up never pays for yaml.
"""

from __future__ import annotations

import math
from typing import Any

import yaml

from qwen_cli.bounds import MAX_JSON_DEPTH
from qwen_cli.errors import UsageError

ALIAS_BUDGET = 10_000  # nodes that aliases may add to a document, once each alias is expanded in place
MAX_DEPTH = MAX_JSON_DEPTH
FLOAT_TAG = "tag:yaml.org,2002:float"


def parse(text: str, source: str) -> Any:
    return load(text, source)[0]


def parse_mapping(text: str, source: str) -> tuple[dict[str, Any], dict[str, int]]:
    """A YAML document that must be a mapping, with the 1-based line of each top-level key."""
    values, node = load(text, source)
    if values is None:
        return {}, {}
    if not isinstance(values, dict) or not isinstance(node, yaml.MappingNode):
        raise UsageError(f"{source}: expected a mapping (key: value), found {type(values).__name__}")
    lines = {str(key.value): key.start_mark.line + 1 for key, _ in node.value}
    return values, lines


def load(text: str, source: str) -> tuple[Any, yaml.Node | None]:
    """The document's value and its root node (None, None for an empty document), checked before it is built."""
    try:
        loader = yaml.SafeLoader(text)  # its reader already refuses control characters
        try:
            node = loader.get_single_node()
            if node is None:
                return None, None
            check_nodes(node, source, loader)
            return loader.construct_document(node), node
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        raise syntax_error(exc, source) from exc
    except RecursionError as exc:  # composing recurses once per level: deeper than MAX_DEPTH by far
        raise UsageError(f"{source}: nested deeper than {MAX_DEPTH} levels") from exc


def children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def check_nodes(root: yaml.Node, source: str, loader: yaml.SafeLoader) -> None:
    """Walk the node graph once, without recursion: an alias is the very node its anchor names, so a node's
    expanded size is counted once and reused. Refuses a cycle, a depth past MAX_DEPTH, a non-finite number,
    and aliases that would add more than ALIAS_BUDGET nodes to the value."""
    sizes: dict[int, int] = {}  # node -> nodes in its expanded value
    open_nodes: set[int] = set()  # the chain from the root to the node being walked
    stack: list[tuple[yaml.Node, int, bool]] = [(root, 1, False)]
    while stack:
        node, depth, finished = stack.pop()
        if finished:
            open_nodes.discard(id(node))
            sizes[id(node)] = 1 + sum(sizes[id(child)] for child in children(node))
            continue
        if id(node) in sizes:
            continue  # a second alias of a node already counted
        if id(node) in open_nodes:
            raise UsageError(
                f"{where(source, node)}: a YAML alias refers to a node that contains it (an endless value)"
            )
        if depth > MAX_DEPTH:
            raise UsageError(f"{where(source, node)}: nested deeper than {MAX_DEPTH} levels")
        check_scalar(node, source, loader)
        open_nodes.add(id(node))
        stack.append((node, depth, True))
        stack.extend((child, depth + 1, False) for child in children(node))
    added = sizes[id(root)] - len(sizes)
    if added > ALIAS_BUDGET:
        raise UsageError(
            f"{source}: YAML aliases expand to {added:,} more nodes than the file holds, past the limit of "
            f"{ALIAS_BUDGET:,} (a 'billion laughs' bomb?); write the values out instead"
        )


def check_scalar(node: yaml.Node, source: str, loader: yaml.SafeLoader) -> None:
    if (
        isinstance(node, yaml.ScalarNode)
        and node.tag == FLOAT_TAG
        and not math.isfinite(loader.construct_yaml_float(node))
    ):
        raise UsageError(f"{where(source, node)}: {node.value} is not a finite number, and JSON has no NaN or infinity")


def where(source: str, node: yaml.Node) -> str:
    return f"{source}:{node.start_mark.line + 1}"


def syntax_error(exc: yaml.YAMLError, source: str) -> UsageError:
    mark = getattr(exc, "problem_mark", None)
    where = f"{source}:{mark.line + 1}" if mark else source
    message = f"{where}: invalid YAML: {getattr(exc, 'problem', None) or exc}"
    # The problem is often found a line after the mistake (an unclosed bracket): say where the construct began.
    context, started = getattr(exc, "context", None), getattr(exc, "context_mark", None)
    if context and started and (mark is None or started.line != mark.line):
        message += f" ({context} that starts at line {started.line + 1})"
    return UsageError(message)
