"""Tests for qwen_cli.batch.limits: each limit of a batch input file at its edge, with small limits standing in for
the provider's (the defaults are checked apart), and the 1 MB warning."""

from __future__ import annotations

import pytest

from qwen_cli.batch.chat_lines import thinking_mode
from qwen_cli.batch.limits import LIMITS, MB, FileCheck, Limits
from qwen_cli.errors import ExitCode, UsageError

SMALL = Limits(
    lines=3, file_bytes=40, line_bytes=12, warn_line_bytes=8, custom_id_chars=5, test_lines=2, test_file_bytes=15
)
OFF = "enable_thinking false"


def fill(check: FileCheck, sizes: list[int], model: str = "qwen-plus", thinking: str = OFF) -> None:
    for index, count in enumerate(sizes):
        check.add(f"i{index}", index + 1, b"x" * count, model, thinking)


def refusal(
    check: FileCheck, item_id: str, line: int, count: int, model: str = "qwen-plus", thinking: str = OFF
) -> str:
    with pytest.raises(UsageError) as caught:
        check.add(item_id, line, b"x" * count, model, thinking)
    assert caught.value.exit_code == ExitCode.USAGE
    return caught.value.message


def test_the_defaults_are_the_providers() -> None:
    assert (LIMITS.lines, LIMITS.file_bytes, LIMITS.line_bytes, LIMITS.custom_id_chars) == (
        50_000,
        500 * MB,
        6 * MB,
        256,
    )
    assert (LIMITS.warn_line_bytes, LIMITS.test_lines, LIMITS.test_file_bytes) == (1 * MB, 100, 1 * MB)


def test_as_many_lines_as_allowed_pass_and_one_more_is_refused_naming_it() -> None:
    check = FileCheck(SMALL)
    fill(check, [1, 1, 1])
    assert (check.lines, check.bytes) == (3, 6)

    message = refusal(check, "late", 9, 1)
    assert (
        message
        == 'item "late" (input line 9) is request 4; a batch file takes at most 3: split the input into several jobs'
    )


def test_a_file_may_reach_its_limit_but_not_pass_it() -> None:
    check = FileCheck(SMALL)
    fill(check, [9, 9])  # 20 bytes with newlines
    check.add("edge", 3, b"x" * 9, "qwen-plus", OFF)  # 30
    assert check.bytes == 30

    edge = FileCheck(Limits(**{**SMALL.__dict__, "lines": 10}))
    fill(edge, [9, 9, 9, 9])  # exactly 40
    assert 'the batch file passes 40 bytes at item "big" (input line 5)' in refusal(edge, "big", 5, 0)


def test_a_line_at_the_limit_passes_and_one_byte_more_is_refused() -> None:
    check = FileCheck(SMALL)
    check.add("ok", 1, b"x" * 12, "qwen-plus", OFF)

    message = refusal(check, "huge", 2, 13)
    assert message.startswith(
        'item "huge" (input line 2) makes a batch line of 13 bytes; the Batch API takes lines up to 12 bytes'
    )
    assert "6.0 MB (6,000,000 bytes)" in refusal(FileCheck(), "huge", 1, 6 * MB + 1)


def test_lines_over_1_mb_are_warned_about_once_with_the_first_named_and_the_rest_counted() -> None:
    check = FileCheck(SMALL)
    fill(check, [8, 9])
    check.add("third", 3, b"x" * 10, "qwen-plus", OFF)

    (warning,) = check.warnings()
    assert warning.startswith(
        'warning: item "i1" (input line 2) and 1 more make batch lines over 8 bytes (the first: 9 bytes)'
    )
    quiet = FileCheck(SMALL)
    fill(quiet, [8, 8])
    assert quiet.warnings() == ()


def test_an_id_of_256_characters_passes_and_257_is_refused() -> None:
    check = FileCheck()
    check.add("a" * 256, 1, b"{}", "qwen-plus", OFF)

    with pytest.raises(
        UsageError, match=r"\(input line 2\) is 257 characters; the Batch API takes ids \(custom_id\) up to 256"
    ):
        check.add("b" * 257, 2, b"{}", "qwen-plus", OFF)


def test_a_second_model_is_refused_naming_both_items() -> None:
    check = FileCheck(SMALL)
    check.add("one", 1, b"{}", "qwen-plus", OFF)

    message = refusal(check, "two", 4, 2, model="qwen-max")
    assert message == (
        'item "two" (input line 4) uses model qwen-max but item "one" (input line 1) uses qwen-plus; '
        "a batch file holds one model: split the input by model"
    )


def test_a_second_thinking_configuration_is_refused() -> None:
    check = FileCheck(SMALL)
    check.add("one", 1, b"{}", "qwen3.8-max", thinking_mode({"enable_thinking": True}))
    check.add("two", 2, b"{}", "qwen3.8-max", thinking_mode({"enable_thinking": True}))

    budget = thinking_mode({"enable_thinking": True, "thinking_budget": 50})
    message = refusal(check, "three", 3, 2, model="qwen3.8-max", thinking=budget)
    assert message.startswith(
        'item "three" (input line 3) has enable_thinking true, thinking_budget 50 but item "one" (input line 1) '
        "has enable_thinking true; a batch file holds one thinking configuration"
    )
    assert thinking_mode({}) == "the model's default thinking"


def test_the_test_model_has_its_own_smaller_limits() -> None:
    lines = FileCheck(SMALL)
    fill(lines, [1, 1], model="batch-test-model")
    assert "the test model batch-test-model takes at most 2" in refusal(lines, "x", 3, 1, model="batch-test-model")

    size = FileCheck(SMALL)
    fill(size, [7], model="batch-test-model")  # 8 bytes with its newline
    assert "the batch file passes 15 bytes" in refusal(size, "x", 2, 7, model="batch-test-model")
    other = FileCheck(SMALL)
    fill(other, [7, 7, 7])  # other models may have more
    assert other.lines == 3
