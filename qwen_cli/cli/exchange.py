"""One request from start to finish: send it through the client, feed the renderer, judge the outcome.

Knows no flags and no exit codes: problems leave as QwenError for `cli` to report. Partial answers are
always ended cleanly on screen before an error leaves, and every response that got an id is handed to the
recorder (the local history), finished or not.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TextIO

from qwen_cli.api.client import Client
from qwen_cli.api.request import PreparedRequest
from qwen_cli.api.responses import ResponseView
from qwen_cli.api.sse import Delta, StreamAccumulator
from qwen_cli.errors import ApiError, OutputError, QwenError, StreamCutError, TransientError
from qwen_cli.modes import OutputMode
from qwen_cli.redaction import Secrets
from qwen_cli.render.renderers import (
    RedactingRenderer,
    Renderer,
    Stopwatch,
    incomplete_warning,
    make_renderer,
    summary_line,
)
from qwen_cli.settings.config import Settings
from qwen_cli.tools.catalogue import describe_item, sources_of

Response = dict[str, Any]


@dataclass(frozen=True)
class Output:
    mode: OutputMode  # chosen: never auto
    out: TextIO
    err: TextIO
    show_reasoning: bool
    verbose: bool
    note: Callable[[str], None]
    # The key and the values the server may echo back (MCP header values in `tools`): never shown, in any mode.
    secrets: Secrets = Secrets()


@dataclass(frozen=True)
class Outcome:
    """What became of one response, for the history: finished, failed, interrupted or cut off."""

    response_id: str
    status: str
    answer: str
    reasoning: str
    model: str | None = None
    usage: dict[str, Any] | None = None


Recorder = Callable[[Outcome], None]


def run(
    settings: Settings,
    request: PreparedRequest,
    output: Output,
    debug: Callable[[str], None] | None = None,
    record: Recorder | None = None,
    continues: Callable[[Response], bool] | None = None,
    transport: Any = None,
    sleep: Callable[[float], None] = time.sleep,
) -> Response:
    """Send, show and judge one request. When `continues(response)` says another round follows (tool calls
    qwen will answer), this response is not shown as the final one: json mode prints only the last."""
    renderer = renderer_for(output, whole=not request.stream)
    stopwatch = Stopwatch()
    response = ResponseView.of({})
    try:
        with client_for(settings, output.note, debug, transport, sleep) as client:
            if request.stream:
                response = stream_answer(client, request, renderer, output.note, record or ignore)
            else:
                response = wait_for_answer(client, request, renderer, record or ignore)
        if continues is not None and continues(response.raw):
            renderer.abort()
        else:
            judge(response, renderer, output.note)
        report(response, renderer, output, stopwatch.elapsed())
    except OutputError as error:
        raise naming_response(error, error.response_id or response.id, kept=record is not None) from None
    except StreamCutError as error:
        if output.mode is OutputMode.JSON:
            error.in_document()
        raise
    return response.raw


def naming_response(error: OutputError, response_id: Any, kept: bool) -> OutputError:
    """A failure to write the answer names the response, and says where the answer is kept."""
    if not response_id:
        return error
    where = "; the history keeps the answer" if kept else ""
    return OutputError(f"{error.message} (response {response_id}{where})")


def renderer_for(output: Output, whole: bool = False) -> Renderer:
    renderer = make_renderer(output.mode, output.out, output.err, output.show_reasoning, output.verbose, whole)
    return RedactingRenderer(renderer, output.secrets) if output.secrets else renderer


def ignore(outcome: Outcome) -> None:
    pass


def wait_for_answer(client: Client, request: PreparedRequest, renderer: Renderer, record: Recorder) -> ResponseView:
    renderer.begin(waiting_label(request))
    try:
        response = ResponseView.of(client.send(request))
    except BaseException:
        renderer.abort()
        raise
    record_response(record, response)
    try:
        render_whole(renderer, response)
    except OutputError as error:
        error.response_id = response.id
        raise
    return response


def render_whole(renderer: Renderer, response: ResponseView) -> None:
    """A one-shot answer goes through the same renderer calls as a stream: thinking, tools, then the answer."""
    if response.reasoning:
        renderer.delta(Delta("reasoning", response.reasoning))
    for item in response.raw.get("output") or []:
        show_activity(renderer, item)
    if response.answer:
        renderer.delta(Delta("text", response.answer))


def show_activity(renderer: Renderer, item: Any) -> None:
    if not isinstance(item, dict) or item.get("type") == "function_call":
        return  # function calls are reported by the tool loop, which runs them or says they were not run
    line = describe_item(item)
    if line:
        renderer.activity(line)


def show(response: Response, output: Output) -> None:
    """Show a response fetched from the server (`qwen response get`) exactly as `ask` shows its answer."""
    renderer = renderer_for(output, whole=True)
    view = ResponseView.of(response)
    render_whole(renderer, view)
    judge(view, renderer, output.note)
    report(view, renderer, output, None)


def call(
    settings: Settings,
    request: PreparedRequest,
    debug: Callable[[str], None] | None,
    notify: Callable[[str], None],
    transport: Any = None,
    sleep: Callable[[float], None] = time.sleep,
) -> Response:
    """Send one request to a companion endpoint (stored responses, conversations) and return its JSON."""
    with client_for(settings, notify, debug, transport, sleep) as client:
        return client.send(request)


def client_for(
    settings: Settings,
    notify: Callable[[str], None],
    debug: Callable[[str], None] | None,
    transport: Any = None,
    sleep: Callable[[float], None] = time.sleep,
) -> Client:
    """The one HTTP client of a command; `transport` is the world's (a test's MockTransport), None for the network,
    and `sleep` how it waits between retries (a test's records the waits instead)."""
    return Client(
        connect_timeout=settings.connect_timeout,
        timeout=settings.timeout,
        max_retries=settings.max_retries,
        notify=notify,
        debug=debug,
        transport=transport,
        sleep=sleep,
    )


def stream_answer(
    client: Client, request: PreparedRequest, renderer: Renderer, note: Callable[[str], None], record: Recorder
) -> ResponseView:
    accumulator = StreamAccumulator()
    renderer.begin(waiting_label(request))
    events = client.stream(request)
    try:
        for event in events:
            renderer.event(event)
            delta = accumulator.add(event)
            if delta is not None:
                renderer.delta(delta)
            elif event.get("type") == "response.output_item.done":
                show_activity(renderer, event.get("item"))
    except OutputError as error:
        # stdout failed (a full disk), not the stream: read the answer to its end so the history keeps all of it.
        keep_unshown(events, accumulator, record)
        error.response_id = accumulator.response_id
        raise
    except BrokenPipeError:
        record_partial(record, accumulator, "interrupted")
        raise  # the reader of stdout has gone: nothing more to show anyone
    except BaseException as exc:
        # Ctrl-C or a cut stream: keep what was shown, end it cleanly, and say which response it was.
        renderer.abort()
        status = "interrupted" if isinstance(exc, KeyboardInterrupt) else "cut"
        record_partial(record, accumulator, status)
        if accumulator.response_id:
            note(f"response id {accumulator.response_id} ({status})")
        if isinstance(exc, StreamCutError):
            exc.response_id, exc.partial_text = accumulator.response_id, accumulator.text
        raise
    final = ResponseView.of(accumulator.final_response() or {})
    record_response(record, final)
    tail = accumulator.unshown_tail()
    if tail:
        renderer.delta(Delta("text", tail))
    return final


def keep_unshown(events: Iterator[dict[str, Any]], accumulator: StreamAccumulator, record: Recorder) -> None:
    """The rest of a stream that can no longer be shown, read only to be recorded; a failure there records it as cut."""
    try:
        for event in events:
            accumulator.add(event)
    except QwenError:
        record_partial(record, accumulator, "cut")
        return
    final = accumulator.final_response()
    if final:
        record_response(record, ResponseView.of(final))
    else:
        record_partial(record, accumulator, "cut")


def waiting_label(request: PreparedRequest) -> str:
    return f"Waiting for {request.body.get('model') if request.body else 'the server'}…"


def record_response(record: Recorder, response: ResponseView) -> None:
    if response.id:
        outcome = Outcome(
            response_id=response.id,
            status=response.status or "completed",
            answer=response.answer,
            reasoning=response.reasoning,
            model=response.model,
            usage=response.usage_object,
        )
        record(outcome)


def record_partial(record: Recorder, accumulator: StreamAccumulator, status: str) -> None:
    if accumulator.response_id:
        record(Outcome(accumulator.response_id, status, accumulator.text, accumulator.reasoning))


def judge(response: ResponseView, renderer: Renderer, note: Callable[[str], None]) -> None:
    """A failed response is an error even when HTTP said 200; an incomplete one is shown with a warning."""
    failure = response.failure
    if failure is not None:
        renderer.abort()
        error_type = TransientError if failure.rate_limited else ApiError
        named = f" (response {response.id})" if response.id else ""
        raise error_type(f"the request failed: {failure.message}{named}", code=failure.code)
    renderer.finish(response.raw)
    sources = sources_of(response.raw)
    if sources:
        renderer.activity("sources: " + " ".join(sources))
    warning = incomplete_warning(response)
    if warning:
        note(warning)


def report(response: ResponseView, renderer: Renderer, output: Output, elapsed: float | None) -> None:
    """The response id and token usage on stderr: always in pretty mode, in every mode with -v."""
    if output.mode is OutputMode.PRETTY or output.verbose:
        renderer.footer(summary_line(response, elapsed, detailed=output.verbose))
