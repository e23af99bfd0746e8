"""RequestFlags and ApiFlags normalise what a parser hands over into typed values (issue 12, item 4)."""

from __future__ import annotations

from dataclasses import fields
from typing import get_args, get_type_hints

import pytest

from qwen_cli.cli.flags import ApiFlags, RequestFlags


def declared(kind: type) -> dict[str, object]:
    """Each field's declared value type, without its option metadata."""
    hints = get_type_hints(kind, include_extras=True)
    return {field.name: get_args(hints[field.name])[0] for field in fields(kind)}


@pytest.mark.parametrize("kind", [ApiFlags, RequestFlags])
def test_switches_and_repeatables_are_exactly_the_fields_declared_so(kind: type) -> None:
    types = declared(kind)
    assert set(kind.SWITCHES) == {name for name, value in types.items() if value is bool}
    assert set(kind.REPEATABLE) == {name for name, value in types.items() if value == tuple[str, ...]}


def test_what_a_parser_hands_over_for_options_not_given_becomes_off_and_empty() -> None:
    flags = RequestFlags(**{field.name: None for field in fields(RequestFlags)})
    for name in RequestFlags.SWITCHES:
        assert getattr(flags, name) is False, name
    for name in RequestFlags.REPEATABLE:
        assert getattr(flags, name) == (), name


def test_repeated_options_become_tuples_and_given_switches_true() -> None:
    flags = RequestFlags(files=["a.txt", "b.txt"], tool=["web_search"], verbose=True, debug=True)  # type: ignore[arg-type]  # as typer hands them over
    assert flags.files == ("a.txt", "b.txt") and flags.tool == ("web_search",)
    assert flags.verbose is True and flags.debug is True and flags.dry_run is False


def test_options_under_the_precedence_rule_keep_none_for_not_set() -> None:
    flags = RequestFlags()
    assert (flags.model, flags.temperature, flags.store, flags.think, flags.output) == (None, None, None, None, None)
    assert RequestFlags(store=False).store is False  # --no-store is a choice, not the absence of one


def test_api_flags_normalise_their_own_switches() -> None:
    flags = ApiFlags(debug=None, json_output=None)  # type: ignore[arg-type]  # as typer hands them over
    assert flags.debug is False and flags.json_output is False and not flags.wants_json()
    assert ApiFlags(json_output=True).wants_json()
