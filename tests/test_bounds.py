"""bounds: the strict JSON reader (nesting, NaN and infinities) and the check for numbers JSON cannot carry."""

from __future__ import annotations

import json
import math

import pytest

from qwen_cli import bounds
from qwen_cli.bounds import MAX_JSON_DEPTH


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def test_nesting_up_to_the_limit_is_read_and_one_more_level_is_refused() -> None:
    assert bounds.loads(nested(MAX_JSON_DEPTH)) is not None
    with pytest.raises(bounds.TooDeep, match="nested deeper than 256 levels"):
        bounds.loads(nested(MAX_JSON_DEPTH + 1))


@pytest.mark.parametrize("depth", [1_000, 200_000])
def test_absurd_nesting_is_refused_without_recursion(depth: int) -> None:
    with pytest.raises(bounds.NotJSON):
        bounds.loads(nested(depth).encode())


def test_brackets_inside_strings_do_not_count() -> None:
    text = json.dumps({"text": "[" * 5000 + '\\"{' * 500, "list": [[1]]})
    assert bounds.loads(text)["list"] == [[1]]
    assert not bounds.nesting_exceeds(text)


@pytest.mark.parametrize("text", ["NaN", "[Infinity]", '{"x": -Infinity}'])
def test_nan_and_infinity_are_not_json(text: str) -> None:
    with pytest.raises(bounds.NotJSON, match="is not a JSON number"):
        bounds.loads(text)


def test_a_number_too_large_for_a_float_is_refused_when_finite_numbers_are_asked_for() -> None:
    assert math.isinf(bounds.loads('{"x": 1e999}')["x"])  # valid JSON text: a reply may carry it
    with pytest.raises(bounds.NotJSON, match="1e999 is too large"):
        bounds.loads('{"x": 1e999}', finite=True)


def test_invalid_json_says_where() -> None:
    with pytest.raises(bounds.NotJSON, match="line 1 column 7"):
        bounds.loads('{"x": }')


def test_non_finite_numbers_are_found_with_their_path() -> None:
    body = {"model": "m", "input": [{"role": "user", "x": [1, float("nan")]}], "y": float("inf")}
    assert bounds.non_finite_at(body) == "input[0].x[1]"
    assert bounds.non_finite_at({"a": [1.5, {"b": "inf"}]}) is None
    assert bounds.non_finite_at(float("-inf")) == "the top level"


def test_a_body_is_never_serialised_with_nan() -> None:
    assert bounds.dumps({"x": 1.5}) == '{"x": 1.5}'
    with pytest.raises(ValueError):
        bounds.dumps({"x": float("nan")})
