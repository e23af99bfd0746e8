"""One request from start to finish: send it through the client, feed the renderer, judge the outcome.

Knows no flags and no exit codes: problems leave as QwenError for `cli` to report. Partial answers are
always ended cleanly on screen before an error leaves.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TextIO

from qwen_cli.client import Client
from qwen_cli.config import Settings
from qwen_cli.errors import ApiError, TransientError
from qwen_cli.render import Renderer, Stopwatch, incomplete_warning, make_renderer, summary_line
from qwen_cli.request import PreparedRequest
from qwen_cli.responses import answer_text, failure_of, is_rate_limited, reasoning_text
from qwen_cli.stream import Delta, StreamAccumulator

Response = dict[str, Any]


@dataclass(frozen=True)
class Output:
    mode: str
    out: TextIO
    err: TextIO
    show_reasoning: bool
    verbose: bool
    note: Callable[[str], None]


def run(settings: Settings, request: PreparedRequest, output: Output, debug: Callable[[str], None] | None = None) -> Response:
    renderer = make_renderer(output.mode, output.out, output.err, output.show_reasoning)
    stopwatch = Stopwatch()
    client = Client(
        connect_timeout=settings.connect_timeout,
        timeout=settings.timeout,
        max_retries=settings.max_retries,
        notify=output.note,
        debug=debug,
    )
    with client:
        receive = stream_answer if request.stream else wait_for_answer
        response = receive(client, request, renderer, output.note)
    judge(response, renderer, output.note)
    report(response, output, stopwatch.elapsed())
    return response


def wait_for_answer(client: Client, request: PreparedRequest, renderer: Renderer, note: Callable[[str], None]) -> Response:
    renderer.begin(f"Waiting for {request.body.get('model') if request.body else 'the server'}…")
    try:
        response = client.send(request)
    except BaseException:
        renderer.abort()
        raise
    for delta in (Delta("reasoning", reasoning_text(response)), Delta("text", answer_text(response))):
        if delta.text:
            renderer.delta(delta)
    return response


def stream_answer(client: Client, request: PreparedRequest, renderer: Renderer, note: Callable[[str], None]) -> Response:
    accumulator = StreamAccumulator()
    renderer.begin(f"Waiting for {request.body.get('model') if request.body else 'the server'}…")
    try:
        for event in client.stream(request):
            renderer.event(event)
            delta = accumulator.add(event)
            if delta is not None:
                renderer.delta(delta)
    except BrokenPipeError:
        raise  # the reader of stdout has gone: nothing more to show anyone
    except BaseException:
        # Ctrl-C or a cut stream: keep what was shown, end it cleanly, and say which response it was.
        renderer.abort()
        if accumulator.response_id:
            note(f"response id {accumulator.response_id} (incomplete)")
        raise
    tail = accumulator.unshown_tail()
    if tail:
        renderer.delta(Delta("text", tail))
    return accumulator.final_response() or {}


def judge(response: Response, renderer: Renderer, note: Callable[[str], None]) -> None:
    """A failed response is an error even when HTTP said 200; an incomplete one is shown with a warning."""
    failure = failure_of(response)
    if failure is not None:
        renderer.abort()
        code, message = failure
        error_type = TransientError if is_rate_limited(code, message) else ApiError
        raise error_type(f"the request failed: {message}", code=code)
    renderer.finish(response)
    warning = incomplete_warning(response)
    if warning:
        note(warning)


def report(response: Response, output: Output, elapsed: float) -> None:
    """The response id and token usage on stderr: always in pretty mode, in every mode with -v."""
    if output.mode != "pretty" and not output.verbose:
        return
    line = summary_line(response, elapsed, detailed=output.verbose)
    dim = output.mode == "pretty" and output.err.isatty() and "NO_COLOR" not in os.environ
    output.err.write(f"\x1b[2m{line}\x1b[0m\n" if dim else f"{line}\n")
    output.err.flush()
