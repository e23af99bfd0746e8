"""The output modes, driven through the one renderer interface as ask and stream drive them."""

from __future__ import annotations

import io
import json
import re

import pytest
from rich.console import Console
from rich.markdown import Markdown

from qwen_cli.api.responses import ResponseView
from qwen_cli.api.sse import Delta
from qwen_cli.modes import OutputMode
from qwen_cli.redaction import neutralise_controls
from qwen_cli.render.markdown_stream import MarkdownStream
from qwen_cli.render.renderers import (
    JsonlRenderer,
    JsonRenderer,
    TextRenderer,
    incomplete_warning,
    make_renderer,
    summary_line,
)

RESPONSE = {
    "id": "resp_1",
    "model": "qwen-plus",
    "status": "completed",
    "usage": {
        "input_tokens": 12,
        "output_tokens": 34,
        "total_tokens": 46,
        "input_tokens_details": {"cached_tokens": 3},
        "output_tokens_details": {"reasoning_tokens": 5},
    },
}
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def test_text_mode_prints_exactly_the_answer_and_one_newline() -> None:
    out, err = io.StringIO(), io.StringIO()
    renderer = TextRenderer(out, err, show_reasoning=False)
    for piece in ("Hello", ", ", "**world**"):
        renderer.delta(Delta("text", piece))
    renderer.delta(Delta("reasoning", "secret thoughts"))
    renderer.finish(RESPONSE)
    assert out.getvalue() == "Hello, **world**\n"
    assert err.getvalue() == ""


@pytest.mark.parametrize(
    "pieces, shown",
    [
        (["a list:\n", "- one\n"], "a list:\n- one\n"),
        (["code:\n```\nx\n```\n", ""], "code:\n```\nx\n```\n"),
        (["ends\n", "not here"], "ends\nnot here\n"),
        (["two blank lines\n\n"], "two blank lines\n\n"),
    ],
    ids=["ends with one", "an empty delta after it", "a newline mid-answer", "ends with two"],
)
def test_text_mode_adds_no_newline_to_an_answer_that_ends_with_one(pieces: list[str], shown: str) -> None:
    for end in ("finish", "abort"):
        out = io.StringIO()
        renderer = TextRenderer(out, io.StringIO(), show_reasoning=False)
        for piece in pieces:
            renderer.delta(Delta("text", piece))
        renderer.finish(RESPONSE) if end == "finish" else renderer.abort()
        assert out.getvalue() == shown, end


def test_text_mode_shows_reasoning_on_stderr_only_when_asked() -> None:
    out, err = io.StringIO(), io.StringIO()
    renderer = TextRenderer(out, err, show_reasoning=True)
    renderer.delta(Delta("reasoning", "step 1"))
    renderer.delta(Delta("text", "answer"))
    renderer.finish(RESPONSE)
    assert (out.getvalue(), err.getvalue()) == ("answer\n", "step 1\n")


def test_text_mode_ends_a_partial_answer_with_a_newline_on_abort() -> None:
    out = io.StringIO()
    renderer = TextRenderer(out, io.StringIO(), show_reasoning=False)
    renderer.delta(Delta("text", "half an ans"))
    renderer.abort()
    assert out.getvalue() == "half an ans\n"


def test_text_mode_passes_control_bytes_through_unchanged() -> None:
    out = io.StringIO()
    renderer = TextRenderer(out, io.StringIO(), show_reasoning=False)
    renderer.delta(Delta("text", "\x1b[31mred\x1b[0m"))
    renderer.finish(RESPONSE)
    assert out.getvalue() == "\x1b[31mred\x1b[0m\n"


def test_json_mode_prints_the_final_response_as_one_document() -> None:
    out = io.StringIO()
    renderer = JsonRenderer(out, io.StringIO())
    renderer.event({"type": "response.created"})
    renderer.delta(Delta("text", "ignored"))
    renderer.finish(RESPONSE)
    assert json.loads(out.getvalue()) == RESPONSE


def test_jsonl_mode_prints_every_event_as_one_compact_line() -> None:
    out = io.StringIO()
    renderer = JsonlRenderer(out, io.StringIO())
    events = [
        {"type": "response.created", "sequence_number": 0},
        {"type": "response.output_text.delta", "delta": "你好"},
    ]
    for event in events:
        renderer.event(event)
    renderer.finish(RESPONSE)
    lines = out.getvalue().splitlines()
    assert [json.loads(line) for line in lines] == events
    assert lines[1] == '{"type":"response.output_text.delta","delta":"你好"}'


def test_jsonl_mode_prints_a_one_shot_response_as_one_line() -> None:
    out = io.StringIO()
    JsonlRenderer(out, io.StringIO()).finish(RESPONSE)
    assert out.getvalue().count("\n") == 1 and json.loads(out.getvalue()) == RESPONSE


def test_pretty_mode_renders_markdown_without_the_markup() -> None:
    out, err = io.StringIO(), io.StringIO()
    renderer = make_renderer(OutputMode.PRETTY, out, err, show_reasoning=False)
    renderer.delta(Delta("reasoning", "hmm"))
    renderer.delta(Delta("text", "# Title\n\nSome **bold** text.\n\n- one\n- two\n"))
    renderer.finish(RESPONSE)
    shown = out.getvalue()
    assert "Title" in shown and "Some bold text." in shown and "• one" in shown
    assert "**" not in shown and "hmm" not in shown
    assert "hmm" in err.getvalue()


def test_pretty_mode_neutralises_terminal_control_sequences() -> None:
    out = io.StringIO()
    renderer = make_renderer(OutputMode.PRETTY, out, io.StringIO(), show_reasoning=False)
    renderer.delta(Delta("text", "\x1b[2Jcleared\x07 \x1b]8;;http://evil\x1b\\link"))
    renderer.finish(RESPONSE)
    assert "\x1b" not in out.getvalue() and "\x07" not in out.getvalue()
    assert "cleared" in out.getvalue()


@pytest.mark.parametrize("mode", [OutputMode.PRETTY, OutputMode.TEXT, OutputMode.JSON, OutputMode.JSONL])
def test_the_footer_cannot_drive_the_terminal_with_what_the_server_named(mode: OutputMode) -> None:
    err = io.StringIO()
    renderer = make_renderer(mode, io.StringIO(), err, show_reasoning=False)
    named = ResponseView.of({"id": "resp_\x1b]0;owned\x07", "model": "m\x1b[2J"})
    renderer.footer(summary_line(named, 1.0, detailed=True))
    assert "\x1b" not in err.getvalue() and "\x07" not in err.getvalue()
    assert "resp_\u241b]0;owned\u2407" in err.getvalue()


@pytest.mark.parametrize(
    "details, warning",
    [
        (None, "warning: the answer is incomplete (status incomplete, the server gave no reason)"),
        ({"reason": "content_filter"}, "warning: the answer is incomplete (status incomplete, reason: content_filter)"),
    ],
)
def test_an_incomplete_answer_says_what_is_known_of_it(details: dict | None, warning: str) -> None:
    response = ResponseView.of({**RESPONSE, "status": "incomplete", "incomplete_details": details})
    assert incomplete_warning(response) == warning


def test_neutralise_controls_keeps_newlines_and_tabs() -> None:
    assert neutralise_controls("a\tb\nc\x1b[0m\r\x9b") == "a\tb\nc\u241b[0m\u240d\ufffd"


def test_summary_line_names_id_usage_and_in_detail_model_and_time() -> None:
    view = ResponseView.of(RESPONSE)
    assert summary_line(view, 1.234, detailed=False) == "resp_1 · 12 in, 34 out (5 reasoning, 3 cached) tokens"
    assert summary_line(view, 1.234, detailed=True) == (
        "resp_1 · qwen-plus · 12 in, 34 out (5 reasoning, 3 cached) tokens · 1.23 s"
    )
    assert summary_line(ResponseView.of({}), None, detailed=True) == "(no id)"


def test_incomplete_warning_names_the_reason_and_the_fix() -> None:
    incomplete = {"status": "incomplete", "incomplete_details": {"reason": "max_output_tokens"}}
    assert incomplete_warning(ResponseView.of(incomplete)) == (
        "warning: the answer is incomplete (max_output_tokens); raise --max-output-tokens for more"
    )
    assert incomplete_warning(ResponseView.of(RESPONSE)) is None


def stream_markdown(text: str, pieces: int, terminal: bool) -> str:
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=terminal, width=60, height=20, color_system=None)
    markdown = MarkdownStream(console)
    size = max(1, len(text) // pieces)
    for start in range(0, len(text), size):
        markdown.feed(text[start : start + size])
    markdown.close()
    return ANSI.sub("", buffer.getvalue())


DOCUMENT = "# Plan\n\nFirst paragraph here.\n\n```python\nx = 1\n\ny = 2\n```\n\nLast words."


def test_streamed_markdown_matches_rich_rendering_the_whole_answer_at_once() -> None:
    whole = io.StringIO()
    Console(file=whole, width=60, color_system=None).print(Markdown(DOCUMENT))
    streamed = stream_markdown(DOCUMENT, pieces=len(DOCUMENT), terminal=False)
    assert streamed == whole.getvalue()
    assert "x = 1" in streamed and "y = 2" in streamed and "Last words." in streamed


def test_streamed_markdown_keeps_a_code_block_with_blank_lines_in_one_piece() -> None:
    shown = stream_markdown(DOCUMENT, pieces=len(DOCUMENT), terminal=False)
    assert "```" not in shown  # the fence was rendered as a code block, not split into paragraphs


def test_finished_blocks_are_printed_once_on_a_terminal() -> None:
    text = "".join(f"Paragraph number {n}.\n\n" for n in range(30))
    shown = stream_markdown(text, pieces=len(text) // 3, terminal=True)
    for n in range(30):
        assert shown.count(f"Paragraph number {n}.") == 1


def test_streamed_blocks_are_spaced_like_the_whole_document() -> None:
    text = "# H\n\npara\n\n- a\n- b\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n> quote\n\n1. one\n\nend"
    whole = io.StringIO()
    Console(file=whole, width=60, color_system=None).print(Markdown(text))
    assert stream_markdown(text, pieces=len(text), terminal=False) == whole.getvalue()


@pytest.mark.parametrize(
    ("mode", "kind"),
    [
        (OutputMode.PRETTY, "PrettyRenderer"),
        (OutputMode.TEXT, "TextRenderer"),
        (OutputMode.JSON, "JsonRenderer"),
        (OutputMode.JSONL, "JsonlRenderer"),
    ],
)
def test_each_chosen_mode_has_its_renderer(mode: OutputMode, kind: str) -> None:
    assert type(make_renderer(mode, io.StringIO(), io.StringIO(), show_reasoning=False)).__name__ == kind


def test_an_output_mode_is_its_text_wherever_it_is_shown() -> None:
    # Settings and presets hold OutputMode; config show, JSON documents and the history still see the plain text.
    assert OutputMode("jsonl") is OutputMode.JSONL and OutputMode.JSON == "json"
    assert str(OutputMode.PRETTY) == "pretty" and f"{OutputMode.TEXT}" == "text"
    assert json.dumps({"output": OutputMode.AUTO}) == '{"output": "auto"}'
    assert [mode.is_json for mode in OutputMode] == [False, False, False, True, True]


class RecordedWrites(io.StringIO):
    def __init__(self) -> None:
        super().__init__()
        self.writes: list[str] = []

    def write(self, text: str) -> int:
        self.writes.append(text)
        return super().write(text)


def test_a_whole_answer_leaves_with_its_newline_in_one_write() -> None:
    """Processes that share one pipe (xargs -P 32 qwen ask) must not interleave inside a short answer's line, even
    with PYTHONUNBUFFERED set: the text renderer of a whole answer writes it once."""
    out = RecordedWrites()
    renderer = TextRenderer(out, io.StringIO(), show_reasoning=False, whole=True)
    renderer.delta(Delta("text", "You said: "))
    renderer.delta(Delta("text", "hi"))
    renderer.finish(None)
    assert [text for text in out.writes if text] == ["You said: hi\n"]
