"""Output modes: pretty (Markdown with rich), text, json and jsonl, behind one renderer interface.

A one-shot answer and a stream go through the same calls (`event`, `delta`, `finish`, `abort`), so every mode
behaves alike for `ask` and `stream`. rich is imported here only, and only when pretty output is chosen.
"""

from __future__ import annotations

import json
import time
from typing import Any, Protocol, TextIO

from qwen_cli.request import redact
from qwen_cli.responses import Usage, incomplete_reason, usage_of
from qwen_cli.stream import Delta

# C0 and C1 control characters except tab and newline: a reply must not be able to drive the user's terminal.
CONTROL_PICTURES = {code: chr(0x2400 + code) for code in range(0x20) if chr(code) not in "\t\n"}
CONTROL_PICTURES[0x7F] = "\u2421"
CONTROL_PICTURES.update({code: "\ufffd" for code in range(0x80, 0xA0)})


class Renderer(Protocol):
    def begin(self, label: str) -> None: ...
    def event(self, event: dict[str, Any]) -> None: ...
    def delta(self, delta: Delta) -> None: ...
    def finish(self, response: dict[str, Any] | None) -> None: ...
    def abort(self) -> None: ...
    def footer(self, line: str) -> None: ...
    def activity(self, line: str) -> None: ...


class PlainFooter:
    """Lines on stderr as plain text: the footer of every mode but pretty; tool activity only with -v."""

    err: TextIO
    verbose: bool = False

    def footer(self, line: str) -> None:
        self.err.write(line + "\n")
        self.err.flush()

    def activity(self, line: str) -> None:
        if self.verbose:
            self.footer(line)


def neutralise_controls(text: str) -> str:
    return text.translate(CONTROL_PICTURES)


def summary_line(response: dict[str, Any] | None, elapsed: float | None, detailed: bool) -> str:
    """`resp_… · qwen-plus · 12 in, 34 out (5 reasoning, 0 cached) tokens · 1.25 s` for stderr."""
    response = response or {}
    parts = [str(response.get("id") or "(no id)")]
    if detailed and response.get("model"):
        parts.append(str(response["model"]))
    usage = usage_of(response)
    if usage is not None:
        parts.append(usage_text(usage))
    if detailed and elapsed is not None:
        parts.append(f"{elapsed:.2f} s")
    return " · ".join(parts)


def usage_text(usage: Usage) -> str:
    return (
        f"{usage.input_tokens} in, {usage.output_tokens} out "
        f"({usage.reasoning_tokens} reasoning, {usage.cached_tokens} cached) tokens"
    )


def incomplete_warning(response: dict[str, Any] | None) -> str | None:
    reason = incomplete_reason(response or {})
    if reason is None:
        return None
    hint = "; raise --max-output-tokens for more" if reason == "max_output_tokens" else ""
    return f"warning: the answer is incomplete ({reason}){hint}"


class TextRenderer(PlainFooter):
    """Exactly the answer and one newline on stdout; reasoning only on request, and then on stderr."""

    def __init__(self, out: TextIO, err: TextIO, show_reasoning: bool, verbose: bool = False) -> None:
        self.out, self.err, self.show_reasoning, self.verbose = out, err, show_reasoning, verbose
        self.wrote_text = self.wrote_reasoning = False

    def begin(self, label: str) -> None:
        pass

    def event(self, event: dict[str, Any]) -> None:
        pass

    def delta(self, delta: Delta) -> None:
        if delta.kind == "text":
            self.out.write(delta.text)
            self.out.flush()
            self.wrote_text = self.wrote_text or bool(delta.text)
        elif self.show_reasoning and delta.text:
            self.err.write(delta.text)
            self.err.flush()
            self.wrote_reasoning = True

    def finish(self, response: dict[str, Any] | None) -> None:
        self.end_lines()

    def abort(self) -> None:
        self.end_lines()

    def end_lines(self) -> None:
        if self.wrote_reasoning:
            self.err.write("\n")
            self.err.flush()
            self.wrote_reasoning = False
        if self.wrote_text:
            self.out.write("\n")
            self.out.flush()
            self.wrote_text = False


class JsonRenderer(PlainFooter):
    """The final Response object as one JSON document (which carries the tool activity itself)."""

    def __init__(self, out: TextIO, err: TextIO) -> None:
        self.out, self.err = out, err

    def begin(self, label: str) -> None:
        pass

    def event(self, event: dict[str, Any]) -> None:
        pass

    def delta(self, delta: Delta) -> None:
        pass

    def finish(self, response: dict[str, Any] | None) -> None:
        if response is not None:
            self.out.write(json.dumps(response, ensure_ascii=False, indent=2) + "\n")
            self.out.flush()

    def abort(self) -> None:
        pass


class JsonlRenderer(JsonRenderer):
    """Every server event as one compact line, flushed as it arrives; a one-shot answer is one line."""

    def __init__(self, out: TextIO, err: TextIO) -> None:
        super().__init__(out, err)
        self.saw_events = False

    def event(self, event: dict[str, Any]) -> None:
        self.saw_events = True
        self.out.write(json.dumps(event, ensure_ascii=False, separators=(",", ":")) + "\n")
        self.out.flush()

    def finish(self, response: dict[str, Any] | None) -> None:
        if not self.saw_events and response is not None:
            self.event(response)


class PrettyRenderer:
    """Markdown on stdout through rich; thinking dimmed on stderr; a spinner while waiting on a terminal."""

    def __init__(self, out: TextIO, err: TextIO) -> None:
        from rich.console import Console

        from qwen_cli.markdown_stream import MarkdownStream

        self.console = Console(file=out, highlight=False)
        self.err_console = Console(file=err, highlight=False)
        self.markdown = MarkdownStream(self.console, notes_share_the_terminal=err.isatty())
        self.spinner: Any = None
        self.thinking = False

    def begin(self, label: str) -> None:
        if self.err_console.is_terminal:
            self.spinner = self.err_console.status(label, spinner="dots")
            self.spinner.start()

    def event(self, event: dict[str, Any]) -> None:
        pass

    def delta(self, delta: Delta) -> None:
        self.stop_spinner()
        text = neutralise_controls(delta.text)
        if delta.kind == "reasoning":
            self.show_thinking(text)
            return
        self.end_thinking()
        self.markdown.feed(text)

    def show_thinking(self, text: str) -> None:
        if not self.thinking:
            self.err_console.print("Thinking", style="dim italic")
            self.thinking = True
        self.err_console.print(text, style="dim", end="", markup=False, highlight=False)

    def end_thinking(self) -> None:
        if self.thinking:
            self.err_console.print()
            self.err_console.rule(style="dim")
            self.thinking = False

    def finish(self, response: dict[str, Any] | None) -> None:
        self.abort()

    def abort(self) -> None:
        self.stop_spinner()
        self.end_thinking()
        self.markdown.close()

    def footer(self, line: str) -> None:
        self.err_console.print(line, style="dim", markup=False, highlight=False, soft_wrap=True)

    def activity(self, line: str) -> None:
        """A tool call, as it happens, apart from the answer on stderr."""
        self.stop_spinner()
        self.end_thinking()
        self.err_console.print(neutralise_controls(f"▸ {line}"), style="cyan", markup=False, highlight=False, soft_wrap=True)

    def stop_spinner(self) -> None:
        if self.spinner is not None:
            self.spinner.stop()
            self.spinner = None


class RedactingRenderer:
    """Wraps a renderer so that no secret the server echoed back (MCP header values) reaches the output."""

    def __init__(self, inner: Renderer, secrets: tuple[str, ...]) -> None:
        self.inner, self.secrets = inner, secrets

    def begin(self, label: str) -> None:
        self.inner.begin(label)

    def event(self, event: dict[str, Any]) -> None:
        self.inner.event(redact(event, self.secrets))

    def delta(self, delta: Delta) -> None:
        self.inner.delta(Delta(delta.kind, redact(delta.text, self.secrets)))

    def finish(self, response: dict[str, Any] | None) -> None:
        self.inner.finish(redact(response, self.secrets))

    def abort(self) -> None:
        self.inner.abort()

    def footer(self, line: str) -> None:
        self.inner.footer(line)

    def activity(self, line: str) -> None:
        self.inner.activity(redact(line, self.secrets))


def make_renderer(mode: str, out: TextIO, err: TextIO, show_reasoning: bool, verbose: bool = False) -> Renderer:
    if mode == "pretty":
        return PrettyRenderer(out, err)
    if mode == "json":
        return JsonRenderer(out, err)
    if mode == "jsonl":
        return JsonlRenderer(out, err)
    return TextRenderer(out, err, show_reasoning, verbose)


class Stopwatch:
    def __init__(self) -> None:
        self.started = time.monotonic()

    def elapsed(self) -> float:
        return time.monotonic() - self.started
