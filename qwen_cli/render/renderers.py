"""Output modes: pretty (Markdown with rich), text, json and jsonl, behind one renderer interface.

A one-shot answer and a stream go through the same calls (`event`, `delta`, `finish`, `abort`), so every mode
behaves alike for `ask` and `stream`. rich is imported here only, and only when pretty output is chosen.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any, Protocol, TextIO

from qwen_cli.api.responses import ResponseView, Usage
from qwen_cli.api.sse import Delta, DeltaKind
from qwen_cli.modes import OutputMode
from qwen_cli.redaction import Secrets, StreamRedactor, neutralise_controls, unfinished_end

FLUSH_SECONDS = 0.005  # the longest streamed text waits for its flush (one system call per burst, not per delta)


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
        self.err.write(neutralise_controls(line) + "\n")
        self.err.flush()

    def activity(self, line: str) -> None:
        if self.verbose:
            self.footer(line)


def summary_line(response: ResponseView, elapsed: float | None, detailed: bool) -> str:
    """`resp_… · qwen-plus · 12 in, 34 out (5 reasoning, 0 cached) tokens · 1.25 s` for stderr."""
    parts = [response.id or "(no id)"]
    if detailed and response.model:
        parts.append(response.model)
    if response.usage is not None:
        parts.append(usage_text(response.usage))
    if detailed and elapsed is not None:
        parts.append(f"{elapsed:.2f} s")
    return " · ".join(parts)


def usage_text(usage: Usage) -> str:
    return (
        f"{usage.input_tokens} in, {usage.output_tokens} out "
        f"({usage.reasoning_tokens} reasoning, {usage.cached_tokens} cached) tokens"
    )


def incomplete_warning(response: ResponseView) -> str | None:
    """What is known of an incomplete answer: the status, and the server's reason or that it gave none."""
    reason = response.incomplete_reason
    if reason is None:
        return None
    if reason == "max_output_tokens":
        return "warning: the answer is incomplete (max_output_tokens); raise --max-output-tokens for more"
    because = f"reason: {reason}" if reason else "the server gave no reason"
    return f"warning: the answer is incomplete (status incomplete, {because})"


class PacedStream:
    """Writes to a stream and flushes it soon after rather than after every write.

    Text after a quiet spell is flushed at once, so the first token is never held back; text that follows within
    `interval` waits for one flush that a helper thread makes when that time is up, so a stream that pauses
    (the network, the model) still shows everything received before the pause. The stream is only touched under
    the lock: TextIOWrapper is not thread-safe.
    """

    def __init__(self, stream: TextIO, interval: float = FLUSH_SECONDS, hold: bool = False) -> None:
        self.stream, self.interval = stream, interval
        # hold: a whole answer (not a stream) waits for close, so it leaves with its last newline in one write:
        # processes sharing one pipe (xargs -P) then never interleave within a line of a short answer.
        self.hold = hold
        self.held: list[str] = []  # with hold: what waits for close (or a flush), kept here, not in a buffer that
        # PYTHONUNBUFFERED (or a write-through stream) would hand to the system at once
        self.lock = threading.Lock()
        self.wake = threading.Event()
        self.flushed_at = float("-inf")
        self.pending = False  # written but not flushed, and the helper thread is due to flush it
        self.flusher: threading.Thread | None = None
        self.closed = False

    def write(self, text: str) -> None:
        with self.lock:
            if self.hold:
                self.held.append(text)
                return
            self.stream.write(text)
            if self.pending:
                return
            if self.closed or time.monotonic() - self.flushed_at >= self.interval:
                self.flush_now()
                return
            self.pending = True
        self.wake_flusher()

    def flush(self) -> None:
        with self.lock:
            self.flush_now()

    def close(self, tail: str = "") -> None:
        """Write the last text, flush everything now, and let the helper thread end."""
        with self.lock:
            self.held.append(tail)
            self.closed = True
            self.flush_now()
        self.wake.set()

    def flush_now(self) -> None:
        if self.held:
            self.stream.write("".join(self.held))  # one write: the whole answer and its last newline
            self.held = []
        self.pending = False
        self.stream.flush()
        self.flushed_at = time.monotonic()

    def wake_flusher(self) -> None:
        if self.flusher is None:
            self.flusher = threading.Thread(target=self.run_flusher, name="qwen-flush", daemon=True)
            self.flusher.start()
        self.wake.set()

    def run_flusher(self) -> None:
        while True:
            self.wake.wait()
            self.wake.clear()
            if self.closed:
                return
            time.sleep(max(0.0, self.flushed_at + self.interval - time.monotonic()))
            with self.lock:
                if self.pending and not self.closed:
                    try:
                        self.flush_now()
                    except (OSError, ValueError):
                        pass  # the reader left: the writing thread meets the same error on its next flush


class TextRenderer(PlainFooter):
    """Exactly the answer on stdout, ended by a newline unless it ends with one already; reasoning only on request,
    and then on stderr."""

    def __init__(
        self, out: TextIO, err: TextIO, show_reasoning: bool, verbose: bool = False, whole: bool = False
    ) -> None:
        self.out, self.err, self.show_reasoning, self.verbose = out, err, show_reasoning, verbose
        self.paced = PacedStream(out, hold=whole)
        self.wrote_text = self.wrote_reasoning = False
        self.line_ended = False  # the answer so far ends with a newline of its own

    def begin(self, label: str) -> None:
        pass

    def event(self, event: dict[str, Any]) -> None:
        pass

    def delta(self, delta: Delta) -> None:
        if delta.kind == "text":
            self.paced.write(delta.text)
            if delta.text:
                self.wrote_text, self.line_ended = True, delta.text.endswith("\n")
        elif self.show_reasoning and delta.text:
            self.paced.flush()  # stdout and stderr may share a terminal: keep their order
            self.err.write(neutralise_controls(delta.text))  # only the answer on stdout passes through unchanged
            self.err.flush()
            self.wrote_reasoning = True

    def footer(self, line: str) -> None:
        self.paced.flush()
        super().footer(line)

    def finish(self, response: dict[str, Any] | None) -> None:
        self.end_lines()

    def abort(self) -> None:
        self.end_lines()

    def end_lines(self) -> None:
        if self.wrote_reasoning:
            self.paced.flush()
            self.err.write("\n")
            self.err.flush()
            self.wrote_reasoning = False
        self.paced.close("\n" if self.wrote_text and not self.line_ended else "")
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
    """Every server event as one compact line, flushed as it arrives (a burst in one flush); a one-shot answer is one line."""

    def __init__(self, out: TextIO, err: TextIO) -> None:
        super().__init__(out, err)
        self.paced = PacedStream(out)
        self.saw_events = False

    def event(self, event: dict[str, Any]) -> None:
        self.saw_events = True
        self.paced.write(json.dumps(event, ensure_ascii=False, separators=(",", ":")) + "\n")

    def footer(self, line: str) -> None:
        self.paced.flush()
        super().footer(line)

    def finish(self, response: dict[str, Any] | None) -> None:
        if not self.saw_events and response is not None:
            self.event(response)
        self.paced.close()

    def abort(self) -> None:
        self.paced.close()


class PrettyRenderer:
    """Markdown on stdout through rich; thinking dimmed on stderr; a spinner while waiting on a terminal."""

    def __init__(self, out: TextIO, err: TextIO) -> None:
        from rich.console import Console

        from qwen_cli.render.markdown_stream import MarkdownStream

        self.console = Console(file=out, highlight=False)
        self.err_console = Console(file=err, highlight=False)
        self.markdown = MarkdownStream(self.console, notes_share_the_terminal=err.isatty())
        self.spinner: Any = None
        self.thinking = False

    def begin(self, label: str) -> None:
        if self.err_console.is_terminal:
            from rich.text import Text

            # The label names the model, which a continued response's parent chose: plain text, no markup.
            self.spinner = self.err_console.status(Text(neutralise_controls(label)), spinner="dots")
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
        # The id and the model come from the server.
        self.err_console.print(neutralise_controls(line), style="dim", markup=False, highlight=False, soft_wrap=True)

    def activity(self, line: str) -> None:
        """A tool call, as it happens, apart from the answer on stderr."""
        self.stop_spinner()
        self.end_thinking()
        self.err_console.print(
            neutralise_controls(f"▸ {line}"), style="cyan", markup=False, highlight=False, soft_wrap=True
        )

    def stop_spinner(self) -> None:
        if self.spinner is not None:
            self.spinner.stop()
            self.spinner = None


class RedactingRenderer:
    """Wraps a renderer so that no secret the server echoed back (the key, MCP header values) reaches the output.

    Text is redacted as it streams, so a secret split across deltas is hidden too; jsonl events keep the
    server's bytes except where a secret was (see `HeldEvents`).
    """

    def __init__(self, inner: Renderer, secrets: Secrets) -> None:
        self.inner, self.secrets = inner, secrets
        self.texts: dict[DeltaKind, StreamRedactor] = {}
        self.events = HeldEvents(secrets)

    def begin(self, label: str) -> None:
        self.inner.begin(self.secrets.text(label))

    def event(self, event: dict[str, Any]) -> None:
        for shown in self.events.add(event):
            self.inner.event(shown)

    def delta(self, delta: Delta) -> None:
        redactor = self.texts.setdefault(delta.kind, StreamRedactor(self.secrets))
        text = redactor.feed(delta.text)
        if text:
            self.inner.delta(Delta(delta.kind, text))

    def finish(self, response: dict[str, Any] | None) -> None:
        self.flush()
        self.inner.finish(self.secrets.json(response))

    def abort(self) -> None:
        self.flush()
        self.inner.abort()

    def flush(self) -> None:
        """What was held back in case a secret followed: the stream ended, so it goes out now."""
        for kind, redactor in self.texts.items():
            rest = redactor.flush()
            if rest:
                self.inner.delta(Delta(kind, rest))
        for shown in self.events.flush():
            self.inner.event(shown)

    def footer(self, line: str) -> None:
        self.inner.footer(self.secrets.text(line))

    def activity(self, line: str) -> None:
        self.inner.activity(self.secrets.text(line))


class HeldEvents:
    """Server events with every secret hidden, in order, each unchanged unless it held part of a secret.

    A delta event whose text (with the earlier held deltas of the same part) ends with the start of a secret is
    held, with every event after it, until the part's next delta settles it: when the secret is completed, the
    first held delta carries the redacted text and the others an empty delta.
    """

    def __init__(self, secrets: Secrets) -> None:
        self.secrets = secrets
        self.queue: list[dict[str, Any]] = []
        self.open: dict[tuple[Any, ...], tuple[list[dict[str, Any]], str]] = {}  # part -> its held deltas, their text

    def add(self, event: dict[str, Any]) -> list[dict[str, Any]]:
        event = self.secrets.json(event)
        part = delta_part(event)
        if part is not None:
            self.settle(part, event)
        self.queue.append(event)
        return self.release()

    def settle(self, part: tuple[Any, ...], event: dict[str, Any]) -> None:
        held, text = self.open.pop(part, ([], ""))
        text += event["delta"]
        group = [*held, event]
        redacted = self.secrets.text(text)
        if redacted != text:
            for index, member in enumerate(group):
                member["delta"] = redacted if index == 0 else ""
        settled = len(redacted) - unfinished_end(redacted, self.secrets)
        while group and len(group[0]["delta"]) <= settled:  # deltas wholly before the unfinished end may go
            settled -= len(group[0]["delta"])
            group.pop(0)
        if group:
            self.open[part] = (group, "".join(member["delta"] for member in group))

    def release(self) -> list[dict[str, Any]]:
        if not self.open:  # the usual case: nothing waits, everything goes
            released, self.queue = self.queue, []
            return released
        held = {id(event) for group, _ in self.open.values() for event in group}
        first_held = next((index for index, event in enumerate(self.queue) if id(event) in held), len(self.queue))
        released, self.queue = self.queue[:first_held], self.queue[first_held:]
        return released

    def flush(self) -> list[dict[str, Any]]:
        self.open.clear()
        return self.release()


def delta_part(event: dict[str, Any]) -> tuple[Any, ...] | None:
    """Which streamed part a delta event extends (an answer's text, a call's arguments); None for other events."""
    if not str(event.get("type", "")).endswith(".delta") or not isinstance(event.get("delta"), str):
        return None
    return tuple(event.get(key) for key in ("type", "item_id", "output_index", "content_index", "summary_index"))


def make_renderer(
    mode: OutputMode, out: TextIO, err: TextIO, show_reasoning: bool, verbose: bool = False, whole: bool = False
) -> Renderer:
    """The renderer of a chosen mode (`auto` is settled before: see `cli.terminal.choose_mode`); `whole`: the answer
    arrives whole, not as a stream."""
    if mode is OutputMode.PRETTY:
        return PrettyRenderer(out, err)
    if mode is OutputMode.JSON:
        return JsonRenderer(out, err)
    if mode is OutputMode.JSONL:
        return JsonlRenderer(out, err)
    return TextRenderer(out, err, show_reasoning, verbose, whole)


class Stopwatch:
    def __init__(self) -> None:
        self.started = time.monotonic()

    def elapsed(self) -> float:
        return time.monotonic() - self.started
