"""qwen_cli.cli.fast_argv against typer itself: every command line it reads, it reads as the Typer app does.

Both parsers run in this process; the request commands are replaced by recorders, so a line is parsed and
nothing is sent. A line the fast parser declines (None) is typer's to parse, refuse or explain: the only
promise is that whatever the fast parser accepts, typer accepts with the same values.
"""

from __future__ import annotations

import inspect
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qwen_cli.cli import app as cli
from qwen_cli.cli import fast_argv, turns
from qwen_cli.cli._completion_table import COMMANDS as TABLE
from qwen_cli.cli.world import World

Call = tuple[str, dict[str, Any]]


class Recorder:
    """Stands in for turns.ask/stream/continue_ and keeps what each was called with, by parameter name."""

    def __init__(self) -> None:
        self.calls: list[Call] = []

    def for_command(self, name: str) -> Any:
        signature = inspect.signature(turns.runner_of(name))

        def record(*args: Any, **kwargs: Any) -> None:
            arguments = dict(signature.bind(*args, **kwargs).arguments)
            arguments.pop("world")  # built at each entry from the same process: compared apart, below
            self.calls.append((name, arguments))

        return record


def recording(patch: pytest.MonkeyPatch) -> Recorder:
    """Both ways in record instead of running: cli's commands call turns.ask etc., launch's go by the table."""
    recorder = Recorder()
    for name, attribute in (("ask", "ask"), ("stream", "stream"), ("continue", "continue_")):
        patch.setattr(turns, attribute, recorder.for_command(name))
    return recorder


@pytest.fixture
def recorder(monkeypatch: pytest.MonkeyPatch) -> Recorder:
    return recording(monkeypatch)


def typer_reading(recorder: Recorder, args: list[str]) -> Call | None:
    """What the Typer app calls for `qwen ARGS`, or None when it refuses the line or only prints help."""
    before = len(recorder.calls)
    try:
        cli.app(args=args, prog_name="qwen", standalone_mode=False)
    except Exception:  # click's usage errors: typer refuses the line
        return None
    return recorder.calls[-1] if len(recorder.calls) > before else None


def fast_reading(recorder: Recorder, args: list[str]) -> Call | None:
    parsed = fast_argv.parse(args)
    if parsed is None:
        return None
    turns.run_command(parsed.command, parsed.values, World.of_process())
    return recorder.calls[-1]


PLAIN_LINES = [
    ["ask", "why", "is", "the", "sky", "blue"],
    ["ask"],
    ["ask", "-o", "text", "hello"],
    ["ask", "--output=json", "hello"],
    ["ask", "hello", "-m", "qwen-max", "world", "--think", "--effort", "high"],
    ["ask", "--no-think", "--no-store", "--no-session-cache", "-c", "and in Go?"],
    ["ask", "-f", "a.py", "--file", "-", "-f", "b.py", "--image", "x.png", "review"],
    ["ask", "-t", "0.5", "--top-p", "1", "--max-output-tokens", "64", "--timeout", "2.5", "--max-retries", "0", "x"],
    ["ask", "--web", "--tool", "code_interpreter", "--vector-store", "kb1", "--mcp", "m=https://m.example/sse", "x"],
    ["ask", "--mcp-header", "m:Authorization=env:T", "--tools-file", "t.yaml", "--tool-choice", "required", "x"],
    ["ask", "--run-tools", "--tool-timeout", "3", "--max-tool-rounds", "2", "--dry-run", "--debug", "-v", "x"],
    ["ask", "--region", "cn", "--base-url", "http://127.0.0.1:1/v1", "--json", "--no-history", "--no-stdin", "x"],
    ["ask", "-s", "be brief", "--system", "be briefer", "--preset", "review", "--extra", '{"a": 1}', "x"],
    ["ask", "--conversation", "conv_1", "--previous", "resp_1", "--messages", "m.json", "--show-reasoning"],
    ["ask", "-m", "--", "--", "-x", "--think"],
    ["ask", "--", "-1", "--help"],
    ["ask", "-", "-o", "jsonl"],
    ["ask", "--model="],
    ["stream", "tell", "me", "a", "story", "-o", "pretty"],
    ["stream", "-c", "go", "on"],
    ["continue", "last", "and", "in", "Go?"],
    ["continue", "resp_4ca7", "--stream", "-m", "qwen3.8-max"],
    ["continue", "last", "--tool-output", "call_1=ok", "--tool-output", "call_2=@out.txt"],
    ["continue", "--tools-file", "t.yaml", "last"],
]


@pytest.mark.parametrize("args", PLAIN_LINES, ids=[" ".join(args) or "(none)" for args in PLAIN_LINES])
def test_a_plain_line_is_read_by_the_fast_parser_exactly_as_typer_reads_it(recorder: Recorder, args: list[str]) -> None:
    fast = fast_reading(recorder, args)
    assert fast is not None, "a plain line must not need the Typer app"
    assert fast == typer_reading(recorder, args)


REFUSED_OR_UNUSUAL = [
    ["ask", "-vc", "x"],  # clustered short flags: typer reads them
    ["ask", "-mqwen-max", "x"],  # a value attached to a short option
    ["ask", "-o", "loud", "x"],  # not a choice
    ["ask", "-t", "warm", "x"],  # not a number
    ["ask", "--max-tool-rounds", "2.5", "x"],  # not an integer
    ["ask", "--think=yes", "x"],  # a flag given a value
    ["ask", "--nope", "x"],  # unknown
    ["ask", "-1"],  # looks like an option
    ["ask", "x", "-m"],  # a value missing
    ["ask", "--help"],
    ["ask", "x", "-h"],
    ["stream", "--stream", "x"],  # continue's option, not stream's
    ["continue"],  # the ID is missing
    ["continue", "-m", "qwen-max"],
]


@pytest.mark.parametrize("args", REFUSED_OR_UNUSUAL, ids=[" ".join(args) for args in REFUSED_OR_UNUSUAL])
def test_anything_unusual_is_left_to_typer(recorder: Recorder, args: list[str]) -> None:
    assert fast_argv.parse(args) is None


def spellings(command: str) -> list[str]:
    options = TABLE[(command,)]["options"]
    return [name for option in options for name in (*option["names"], *option["negations"])]


VALUES = [
    "text",
    "json",
    "pretty",
    "high",
    "cn",
    "0",
    "1",
    "2.5",
    "-3",
    "nan",
    "x",
    "",
    "-",
    "--",
    "-v",
    "a=b",
    "resp_1",
    "héllo wörld",
]
COMMAND_LINES = st.sampled_from(fast_argv.COMMANDS).flatmap(
    lambda command: st.lists(
        st.sampled_from([*spellings(command), *VALUES, "--model=qwen-max", "-o=text", "-vc"]), max_size=8
    ).map(lambda tokens: [command, *tokens])
)


@settings(max_examples=300, deadline=None)
@given(args=COMMAND_LINES)
def test_whatever_the_fast_parser_accepts_typer_accepts_with_the_same_values(args: list[str]) -> None:
    with pytest.MonkeyPatch.context() as patch:  # hypothesis runs many examples in one test: no function fixture
        recorder = recording(patch)
        fast = fast_reading(recorder, args)
        if fast is not None:  # compared as text: a float('nan') read by both is equal only that way
            assert repr(fast) == repr(typer_reading(recorder, args)), args
