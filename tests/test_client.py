"""Tests for qwen_cli.api.client through httpx.MockTransport: what is sent, retries, error lines and streams.

No test sleeps: the client's `sleep` is a recorder, and `notify` captures the retry announcements.
"""

from __future__ import annotations

import email.utils
import gzip
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from qwen_cli import __version__
from qwen_cli.api.client import Client
from qwen_cli.api.request import PreparedRequest, RequestOptions, UserInput, build_request
from qwen_cli.errors import ApiError, AuthError, ExitCode, QwenError, StreamCutError, TransientError

FIXTURES = Path(__file__).parent / "fixtures"
BASE = "https://dashscope.test/compatible-mode/v1"
KEY = "sk-test-key-0123456789"

Answer = Callable[[httpx.Request], httpx.Response] | Exception


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


COMPLETED = fixture("nonstream-basic.json")
RATE_LIMITED = fixture("nonstream-failed-rate-limit-http200.json")
RATE_LIMIT_MESSAGE = "Operation model request rate limit exceeded, please try again later."


# --- a scripted server ---------------------------------------------------------------------------------------


class Server:
    """Answers requests in turn (repeating the last answer), and records each request it got."""

    def __init__(self, *answers: Answer) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers[min(len(self.requests), len(self.answers)) - 1]
        if isinstance(answer, Exception):
            raise answer
        return answer(request)

    @property
    def attempts(self) -> int:
        return len(self.requests)


class Recorder:
    """The client's `sleep`, `notify` and `debug`: records instead of waiting or printing."""

    def __init__(self) -> None:
        self.delays: list[float] = []
        self.notes: list[str] = []
        self.debug: list[str] = []


def json_reply(status: int, body: Any, headers: dict[str, str] | None = None) -> Answer:
    return lambda request: httpx.Response(status, json=body, headers=headers)


def raw_reply(status: int, content: bytes, content_type: str, headers: dict[str, str] | None = None) -> Answer:
    return lambda request: httpx.Response(
        status, content=content, headers={"content-type": content_type, **(headers or {})}
    )


class Chunks(httpx.SyncByteStream):
    """A body that arrives in chunks and may then break, the way a network connection does."""

    def __init__(self, chunks: list[bytes], then: Exception | None = None) -> None:
        self.chunks = chunks
        self.then = then

    def __iter__(self) -> Iterator[bytes]:
        yield from self.chunks
        if self.then is not None:
            raise self.then


def sse_reply(*chunks: bytes, then: Exception | None = None) -> Answer:
    headers = {"content-type": "text/event-stream;charset=UTF-8"}
    return lambda request: httpx.Response(200, headers=headers, stream=Chunks(list(chunks), then))


def sse(*events: dict[str, Any]) -> bytes:
    """Events in DashScope's framing: `id:`, `event:`, the `:HTTP_STATUS/200` comment, `data:`, no spaces."""
    blocks = [
        f"id:{n}\nevent:{e['type']}\n:HTTP_STATUS/200\ndata:{json.dumps(e, ensure_ascii=False)}\n\n"
        for n, e in enumerate(events, 1)
    ]
    return "".join(blocks).encode("utf-8")


def basic_stream_events() -> list[dict[str, Any]]:
    lines = (FIXTURES / "stream-basic-events.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.startswith("{")]


CREATED = {
    "type": "response.created",
    "sequence_number": 0,
    "response": {"id": "resp_1", "status": "queued", "output": []},
}
DELTA = {
    "type": "response.output_text.delta",
    "sequence_number": 1,
    "item_id": "msg_1",
    "output_index": 0,
    "delta": "Hel",
}
DONE = {
    "type": "response.completed",
    "sequence_number": 2,
    "response": {"id": "resp_1", "status": "completed", "output": []},
}


def make_request(stream: bool = False, **options: Any) -> PreparedRequest:
    options.setdefault("model", "qwen-plus")
    return build_request(BASE, KEY, RequestOptions(**options), UserInput(prompt="hi"), stream)


def make_client(server: Server, recorder: Recorder, **settings: Any) -> Client:
    return Client(
        transport=httpx.MockTransport(server),
        sleep=recorder.delays.append,
        notify=recorder.notes.append,
        debug=recorder.debug.append,
        **settings,
    )


def send(
    server: Server, recorder: Recorder | None = None, request: PreparedRequest | None = None, **settings: Any
) -> dict[str, Any]:
    with make_client(server, recorder or Recorder(), **settings) as client:
        return client.send(request or make_request())


def send_error(server: Server, recorder: Recorder | None = None, **settings: Any) -> QwenError:
    with pytest.raises(QwenError) as caught:
        send(server, recorder, **settings)
    return caught.value


def stream(
    server: Server, recorder: Recorder | None = None, into: list[dict[str, Any]] | None = None, **settings: Any
) -> list[dict[str, Any]]:
    """Consume a stream; events go into `into` as they arrive, so they are kept when the stream then fails."""
    received = into if into is not None else []
    with make_client(server, recorder or Recorder(), **settings) as client:
        for event in client.stream(make_request(stream=True)):
            received.append(event)
    return received


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


# --- what is sent --------------------------------------------------------------------------------------------


def test_the_prepared_request_is_sent_as_it_was_built() -> None:
    server = Server(json_reply(200, COMPLETED))
    request = make_request(temperature=0.5, session_cache=True)

    assert send(server, request=request) == COMPLETED
    sent = server.requests[0]
    assert (sent.method, str(sent.url)) == ("POST", f"{BASE}/responses")
    assert json.loads(sent.content) == {"model": "qwen-plus", "input": "hi", "temperature": 0.5}
    assert {name: sent.headers[name] for name in ("authorization", "content-type", "accept", "user-agent")} == {
        "authorization": f"Bearer {KEY}",
        "content-type": "application/json",
        "accept": "application/json",
        "user-agent": f"qwen-cli/{__version__}",
    }
    assert sent.headers["x-dashscope-session-cache"] == "enable"


@pytest.mark.parametrize("stream_it", [False, True])
def test_a_password_in_the_base_url_never_replaces_the_keys_bearer_header(stream_it: bool) -> None:
    server = Server(sse_reply(sse(CREATED, DONE)) if stream_it else json_reply(200, COMPLETED))
    request = build_request(
        "https://user:pa55word@gateway.test/v1",
        KEY,
        RequestOptions(model="qwen-plus"),
        UserInput(prompt="hi"),
        stream_it,
    )
    with make_client(server, Recorder()) as client:
        list(client.stream(request)) if stream_it else client.send(request)
    assert server.requests[0].headers["authorization"] == f"Bearer {KEY}"
    assert "pa55word" in request.secrets and "pa55word" not in json.dumps(request.redacted())


def test_non_ascii_input_is_sent_as_utf8_json() -> None:
    server = Server(json_reply(200, COMPLETED))
    request = build_request(BASE, KEY, RequestOptions(model="qwen-plus"), UserInput(prompt="你好 ✓"), False)

    send(server, request=request)
    assert "你好 ✓".encode() in server.requests[0].content


def test_the_default_timeouts_are_10_s_to_connect_and_300_s_to_read() -> None:
    server = Server(json_reply(200, COMPLETED))
    send(server)

    assert server.requests[0].extensions["timeout"] == {"connect": 10.0, "read": 300.0, "write": 300.0, "pool": 10.0}


def test_the_timeouts_given_are_used() -> None:
    server = Server(json_reply(200, COMPLETED))
    send(server, connect_timeout=2.0, timeout=45.0)

    assert server.requests[0].extensions["timeout"] == {"connect": 2.0, "read": 45.0, "write": 45.0, "pool": 2.0}


def test_the_debug_log_shows_the_exchange_without_the_key(recorder: Recorder) -> None:
    server = Server(json_reply(200, COMPLETED, headers={"x-request-id": "req-42"}))
    send(server, recorder)

    assert len(recorder.debug) == 2
    assert recorder.debug[0].startswith("request ") and "Bearer [redacted]" in recorder.debug[0]
    assert recorder.debug[1] == "reply HTTP 200 application/json request id req-42"
    assert all(KEY not in line for line in recorder.debug)


# --- error envelopes and the one line a user sees ----------------------------------------------------------------


def test_the_flat_error_envelope_becomes_one_line_with_code_and_request_id(recorder: Recorder) -> None:
    server = Server(json_reply(400, fixture("error-400-missing-model.json")))
    error = send_error(server, recorder)

    assert type(error) is ApiError and error.exit_code == ExitCode.API_ERROR
    assert error.line() == (
        "[400] missing_required_parameter: Missing required parameter: 'model'. "
        "(HTTP 400, code InvalidParameter, request id 0bf11b24-0c67-95da-bb15-f85dabcfdb7f)"
    )
    assert (server.attempts, recorder.delays, recorder.notes) == (1, [], [])  # a 400 is not retried


def test_the_nested_error_envelope_becomes_the_same_kind_of_line() -> None:
    server = Server(
        json_reply(404, fixture("error-not-found-nested.json"), headers={"x-request-id": "req-from-header"})
    )
    error = send_error(server)

    assert type(error) is ApiError
    assert (
        error.line()
        == "Response with id 'resp_xxx' not found. (HTTP 404, code InvalidParameter, request id req-from-header)"
    )


def test_the_request_id_in_the_body_wins_over_the_header() -> None:
    server = Server(json_reply(404, fixture("error-not-found-flat.json"), headers={"x-request-id": "req-from-header"}))

    assert send_error(server).request_id == "339b771548c7fbb15717316b49627681"


def test_the_openai_nested_envelope_with_a_code_is_read() -> None:
    body = {
        "error": {
            "message": "Unknown parameter: 'foo'.",
            "type": "invalid_request_error",
            "param": "foo",
            "code": "unknown_parameter",
        }
    }
    error = send_error(Server(json_reply(400, body)))

    assert error.line() == "Unknown parameter: 'foo'. (HTTP 400, code unknown_parameter)"


def test_an_error_without_a_message_falls_back_to_the_reason_phrase() -> None:
    error = send_error(Server(json_reply(405, {"code": "Method Not Allowed"})))

    assert error.line() == "Method Not Allowed (HTTP 405, code Method Not Allowed)"


def test_an_html_page_from_a_proxy_becomes_one_line_with_its_title(recorder: Recorder) -> None:
    page = (
        b"<html>\n<head><title>502 Bad Gateway</title></head>\n"
        b"<body><center><h1>502 Bad Gateway</h1></center>\n<hr><center>nginx</center></body></html>"
    )
    server = Server(raw_reply(502, page, "text/html"))
    error = send_error(server, recorder)

    assert type(error) is TransientError and error.exit_code == ExitCode.TRANSIENT
    assert error.line() == "the server (or a proxy) sent an HTML page: 502 Bad Gateway (HTTP 502)"
    assert "\n" not in error.line()
    assert server.attempts == 3  # a 502 is retried


def test_a_plain_text_error_body_is_quoted_on_one_line() -> None:
    error = send_error(Server(raw_reply(400, b"bad\nrequest  body\n", "text/plain")))

    assert type(error) is ApiError
    assert error.line() == "the server (or a proxy) sent a non-JSON reply: bad request body (HTTP 400)"


def test_an_empty_error_body_says_so() -> None:
    error = send_error(Server(raw_reply(500, b"", "text/plain")), max_retries=0)

    assert error.line() == "the server (or a proxy) sent a non-JSON reply: (empty body) (HTTP 500)"


def test_401_is_an_auth_error_that_points_at_the_key(recorder: Recorder) -> None:
    server = Server(json_reply(401, fixture("error-401-invalid-api-key.json")))
    error = send_error(server, recorder)

    assert type(error) is AuthError and error.exit_code == ExitCode.AUTH
    assert error.line() == (
        "the API key was refused: Invalid API-key provided. Check DASHSCOPE_API_KEY "
        "(HTTP 401, code InvalidApiKey, request id 5dc15bba-5586-9f64-980f-c36b679d9a65)"
    )
    assert (server.attempts, recorder.notes) == (1, [])


def test_403_is_an_auth_error_that_points_at_the_model_activation() -> None:
    message = "Access to model denied. Please make sure you are eligible for using the model."
    body = {"request_id": "r-403", "code": "Model.AccessDenied", "message": message}
    server = Server(json_reply(403, body))
    error = send_error(server)

    assert type(error) is AuthError and error.exit_code == ExitCode.AUTH
    assert error.line() == (
        "permission denied: Access to model denied. Please make sure you are eligible for using the model. "
        "Check that the model is activated for your account (HTTP 403, code Model.AccessDenied, request id r-403)"
    )
    assert server.attempts == 1


def test_a_401_html_page_still_reads_as_sentences() -> None:
    page = b"<html><head><title>401 Authorization Required</title></head><body>nope</body></html>"
    error = send_error(Server(raw_reply(401, page, "text/html")))

    assert error.message == (
        "the API key was refused: the server (or a proxy) sent an HTML page: 401 Authorization Required. "
        "Check DASHSCOPE_API_KEY"
    )


@pytest.mark.parametrize("status", [400, 404, 405, 409, 413, 422])
def test_other_4xx_are_api_errors_and_not_retried(status: int) -> None:
    server = Server(json_reply(status, {"code": "X", "message": "no."}))
    error = send_error(server)

    assert type(error) is ApiError and error.status == status
    assert server.attempts == 1


# --- retries -----------------------------------------------------------------------------------------------------


def test_429_with_retry_after_waits_that_long_then_succeeds(recorder: Recorder) -> None:
    throttled = {"request_id": "r-429", "code": "Throttling", "message": "Requests throttling triggered."}
    server = Server(json_reply(429, throttled, headers={"Retry-After": "7"}), json_reply(200, COMPLETED))

    assert send(server, recorder) == COMPLETED
    assert server.attempts == 2
    assert recorder.delays == [7.0]
    assert recorder.notes == [
        "Requests throttling triggered. (HTTP 429, code Throttling, request id r-429); retrying in 7.0 s (retry 1 of 2)"
    ]


def test_retry_after_as_an_http_date_is_honoured(recorder: Recorder) -> None:
    when = email.utils.formatdate(time.time() + 20, usegmt=True)
    server = Server(
        json_reply(503, {"code": "Busy", "message": "busy"}, headers={"Retry-After": when}), json_reply(200, COMPLETED)
    )

    send(server, recorder)
    assert len(recorder.delays) == 1 and 17 <= recorder.delays[0] <= 20


def test_an_absurd_retry_after_is_capped_at_a_minute(recorder: Recorder) -> None:
    server = Server(
        json_reply(429, {"message": "slow down"}, headers={"Retry-After": "86400"}), json_reply(200, COMPLETED)
    )

    send(server, recorder)
    assert recorder.delays == [60.0]


def test_without_retry_after_the_backoff_grows_exponentially_with_jitter(recorder: Recorder) -> None:
    server = Server(json_reply(503, {"message": "busy"}))
    send_error(server, recorder, max_retries=4)

    # 0.5 s doubling, each multiplied by a jitter factor in [0.5, 1.5]
    bounds = [(0.25, 0.75), (0.5, 1.5), (1.0, 3.0), (2.0, 6.0)]
    assert len(recorder.delays) == 4
    assert all(low <= delay <= high for delay, (low, high) in zip(recorder.delays, bounds))


@pytest.mark.parametrize(
    "throttled",
    [json_reply(429, {"code": "Throttling", "message": "slow down"}), json_reply(200, RATE_LIMITED)],
    ids=["429", "HTTP-200 rate limit"],
)
def test_a_rate_limit_without_retry_after_waits_about_1_2_4_s_and_never_much_past_30(
    recorder: Recorder, throttled: Answer
) -> None:
    send_error(Server(throttled), recorder, max_retries=7)

    # DashScope limits per minute: 1 s doubling, each within a quarter either way, capped at 30 s.
    bounds = [(0.75, 1.25), (1.5, 2.5), (3.0, 5.0), (6.0, 10.0), (12.0, 20.0), (24.0, 30.0), (30.0, 30.0)]
    assert len(recorder.delays) == 7
    assert all(low <= delay <= high for delay, (low, high) in zip(recorder.delays, bounds)), recorder.delays
    assert [note.rsplit("retrying in ", 1)[1] for note in recorder.notes] == [
        f"{delay:.1f} s (retry {n} of 7)" for n, delay in enumerate(recorder.delays, 1)
    ]


@pytest.mark.parametrize("factor, delays", [(0.75, [0.75, 1.5, 3.0, 6.0]), (1.25, [1.25, 2.5, 5.0, 10.0])])
def test_the_rate_limit_schedule_at_the_edges_of_its_jitter(recorder: Recorder, factor: float, delays: list) -> None:
    server = Server(json_reply(429, {"message": "slow down"}))
    with pytest.raises(TransientError):
        with make_client(server, recorder, max_retries=4, jitter=lambda low, high: factor) as client:
            client.send(make_request())
    assert recorder.delays == delays


def test_a_rate_limit_with_retry_after_waits_what_it_says(recorder: Recorder) -> None:
    server = Server(json_reply(429, {"message": "slow down"}, headers={"Retry-After": "0"}), json_reply(200, COMPLETED))

    assert send(server, recorder) == COMPLETED
    assert recorder.delays == [0.0]


def test_the_jitter_really_varies_the_delays() -> None:
    delays = set()
    for _ in range(5):
        recorder = Recorder()
        send_error(Server(json_reply(503, {"message": "busy"})), recorder, max_retries=1)
        delays.add(recorder.delays[0])
    assert len(delays) > 1


def test_when_the_retries_run_out_the_last_error_is_raised_after_every_attempt(recorder: Recorder) -> None:
    server = Server(json_reply(503, {"request_id": "r-503", "code": "ServiceUnavailable", "message": "Service busy."}))
    error = send_error(server, recorder, max_retries=3)

    assert type(error) is TransientError and error.exit_code == ExitCode.TRANSIENT
    assert error.line() == "Service busy. (HTTP 503, code ServiceUnavailable, request id r-503)"
    assert server.attempts == 4
    assert len(recorder.delays) == 3
    assert [note.rsplit("(", 1)[1] for note in recorder.notes] == ["retry 1 of 3)", "retry 2 of 3)", "retry 3 of 3)"]


def test_no_retries_means_one_attempt(recorder: Recorder) -> None:
    server = Server(json_reply(503, {"message": "busy"}))
    send_error(server, recorder, max_retries=0)

    assert (server.attempts, recorder.delays, recorder.notes) == (1, [], [])


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_each_transient_status_is_retried(status: int) -> None:
    server = Server(json_reply(status, {"message": "later"}), json_reply(200, COMPLETED))

    assert send(server) == COMPLETED
    assert server.attempts == 2


def test_a_5xx_outside_the_retry_list_is_transient_but_not_retried() -> None:
    server = Server(json_reply(501, {"message": "Not Implemented"}))
    error = send_error(server)

    assert type(error) is TransientError and server.attempts == 1


def test_an_http_200_rate_limit_failure_is_retried_like_a_429(recorder: Recorder) -> None:
    server = Server(json_reply(200, RATE_LIMITED), json_reply(200, COMPLETED))

    assert send(server, recorder) == COMPLETED
    assert server.attempts == 2
    assert len(recorder.notes) == 1
    assert recorder.notes[0].startswith(f"rate limited: {RATE_LIMIT_MESSAGE} (code server_error); retrying in ")


def test_an_http_200_rate_limit_that_persists_is_a_transient_error() -> None:
    server = Server(json_reply(200, RATE_LIMITED))
    error = send_error(server)

    assert type(error) is TransientError
    assert error.line() == f"rate limited: {RATE_LIMIT_MESSAGE} (code server_error)"
    assert server.attempts == 3


@pytest.mark.parametrize(
    "error",
    [
        {"code": "InvalidParameter", "message": "Unsupported model: '__nope__'"},
        {
            "code": "insufficient_quota",
            "message": "You exceeded your current quota, please check your plan and billing details.",
        },
    ],
)
def test_a_failed_response_that_is_not_a_passing_rate_limit_is_returned_as_it_is(error: dict[str, str]) -> None:
    failed = {"id": "resp_2", "object": "response", "status": "failed", "error": error, "output": []}
    server = Server(json_reply(200, failed))

    assert send(server) == failed
    assert server.attempts == 1


def test_a_reply_that_is_not_json_is_a_transient_error() -> None:
    server = Server(raw_reply(200, b'{"id": "resp_1", "outp', "application/json"))
    error = send_error(server)

    assert type(error) is TransientError
    assert error.line() == "the server's reply is not valid JSON (cut short or garbled); try again (HTTP 200)"


def test_a_json_reply_that_is_not_an_object_is_a_transient_error() -> None:
    error = send_error(Server(json_reply(200, ["not", "a", "response"])))

    assert type(error) is TransientError
    assert error.message == "the server's reply is not a JSON object; try again"


# --- network failures ------------------------------------------------------------------------------------------


def test_a_refused_connection_is_retried_then_succeeds(recorder: Recorder) -> None:
    server = Server(httpx.ConnectError("[Errno 111] Connection refused"), json_reply(200, COMPLETED))

    assert send(server, recorder) == COMPLETED
    assert server.attempts == 2
    assert len(recorder.delays) == 1
    assert recorder.notes[0].startswith(
        "connection to dashscope.test refused; is the server running and --base-url right?; retrying in "
    )


@pytest.mark.parametrize(
    ("exc", "line"),
    [
        (
            httpx.ConnectError("[Errno 111] Connection refused"),
            "connection to dashscope.test refused; is the server running and --base-url right?",
        ),
        (
            httpx.ConnectError("[Errno -2] Name or service not known"),
            "cannot resolve the host dashscope.test (DNS); check the network and --base-url",
        ),
        (
            httpx.ConnectError("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed"),
            "TLS handshake with dashscope.test failed: [SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed",
        ),
        (httpx.ConnectTimeout("timed out"), "no connection to dashscope.test in time (connect timeout)"),
        (
            httpx.RemoteProtocolError("Server disconnected without sending a response."),
            "dashscope.test closed the connection without a reply",
        ),
        (
            httpx.ReadError("[Errno 104] Connection reset by peer"),
            "the connection to dashscope.test was lost: [Errno 104] Connection reset by peer",
        ),
    ],
)
def test_connection_errors_are_retried_then_reported_in_one_line(recorder: Recorder, exc: Exception, line: str) -> None:
    server = Server(exc)
    error = send_error(server, recorder)

    assert type(error) is TransientError and error.exit_code == ExitCode.TRANSIENT
    assert error.line() == line
    assert server.attempts == 3 and len(recorder.delays) == 2


def test_a_read_timeout_is_not_retried(recorder: Recorder) -> None:
    server = Server(httpx.ReadTimeout("timed out"), json_reply(200, COMPLETED))
    error = send_error(server, recorder, timeout=120.0)

    assert type(error) is TransientError
    assert error.line() == "dashscope.test sent nothing for 120 s (read timeout); raise it with --timeout"
    assert (server.attempts, recorder.delays, recorder.notes) == (1, [], [])


# --- streams -----------------------------------------------------------------------------------------------------


def test_a_stream_request_asks_for_server_sent_events() -> None:
    server = Server(sse_reply(sse(CREATED, DONE)))
    stream(server)

    sent = server.requests[0]
    assert sent.headers["accept"] == "text/event-stream"
    assert json.loads(sent.content) == {"model": "qwen-plus", "input": "hi", "stream": True}


def test_an_sse_body_is_parsed_into_its_events_in_order() -> None:
    events = basic_stream_events()
    assert events[-1]["type"] == "response.completed" and len(events) > 10
    body = sse(*events)
    # split at awkward places, even inside a multi-byte character, as a network may deliver it
    chunks = [body[i : i + 7] for i in range(0, len(body), 7)]

    assert stream(Server(sse_reply(*chunks))) == events


def test_openai_style_framing_with_spaces_and_done_is_read_too() -> None:
    body = (
        "".join(f"event: {e['type']}\ndata: {json.dumps(e)}\n\n" for e in (CREATED, DELTA, DONE)) + "data: [DONE]\n\n"
    )

    assert stream(Server(sse_reply(body.encode()))) == [CREATED, DELTA, DONE]


def test_a_gzip_compressed_stream_is_decoded() -> None:
    # httpx advertises gzip; a proxy that compresses the event stream must not turn it into garbage.
    compressed = gzip.compress(sse(CREATED, DELTA, DONE))
    answer = lambda request: httpx.Response(  # noqa: E731
        200, headers={"content-type": "text/event-stream", "content-encoding": "gzip"}, stream=Chunks([compressed])
    )

    assert stream(Server(answer)) == [CREATED, DELTA, DONE]


def test_nothing_after_the_terminal_event_is_yielded() -> None:
    late = {"type": "response.output_text.delta", "delta": "late"}

    assert stream(Server(sse_reply(sse(CREATED, DONE, late)))) == [CREATED, DONE]


def test_a_malformed_event_is_skipped_and_reported(recorder: Recorder) -> None:
    body = sse(CREATED) + b"event:response.output_text.delta\ndata:{not json\n\n" + sse(DONE)

    assert stream(Server(sse_reply(body)), recorder) == [CREATED, DONE]
    assert len(recorder.notes) == 1
    assert recorder.notes[0].startswith("skipped a malformed event in the stream (invalid JSON")


def test_a_stream_without_a_terminal_event_raises_after_yielding_what_came(recorder: Recorder) -> None:
    server = Server(sse_reply(sse(CREATED, DELTA)))
    received: list[dict[str, Any]] = []

    with pytest.raises(StreamCutError) as caught:
        stream(server, recorder, into=received)
    assert received == [CREATED, DELTA]
    assert caught.value.exit_code == ExitCode.TRANSIENT
    assert caught.value.line() == "the stream ended before the response was complete; the text so far is kept"
    assert (server.attempts, recorder.notes) == (1, [])  # something was shown: a retry would repeat it


def test_a_connection_lost_mid_stream_is_a_stream_cut_and_not_retried(recorder: Recorder) -> None:
    server = Server(
        sse_reply(sse(CREATED, DELTA), then=httpx.ReadError("connection reset")), sse_reply(sse(CREATED, DONE))
    )
    received: list[dict[str, Any]] = []

    with pytest.raises(StreamCutError) as caught:
        stream(server, recorder, into=received)
    assert received == [CREATED, DELTA]
    assert caught.value.message == "the stream was cut before the response was complete; the text so far is kept"
    assert server.attempts == 1


def test_a_stalled_stream_says_how_long_it_waited() -> None:
    server = Server(sse_reply(sse(CREATED), then=httpx.ReadTimeout("timed out")))

    with pytest.raises(StreamCutError) as caught:
        stream(server, timeout=30.0)
    assert caught.value.message == "the stream stalled: nothing arrived for 30 s; the text so far is kept"


def test_a_stream_is_retried_when_the_connection_fails_before_the_first_event(recorder: Recorder) -> None:
    server = Server(httpx.ConnectError("[Errno 111] Connection refused"), sse_reply(sse(CREATED, DELTA, DONE)))

    assert stream(server, recorder) == [CREATED, DELTA, DONE]
    assert server.attempts == 2 and len(recorder.delays) == 1


def test_a_stream_cut_before_its_first_event_is_retried(recorder: Recorder) -> None:
    server = Server(
        sse_reply(b"id:1\nevent:response.cre", then=httpx.ReadError("reset")), sse_reply(sse(CREATED, DONE))
    )

    assert stream(server, recorder) == [CREATED, DONE]
    assert server.attempts == 2


def test_an_empty_stream_is_retried_since_nothing_was_shown(recorder: Recorder) -> None:
    server = Server(sse_reply(b":HTTP_STATUS/200\n\n"), sse_reply(sse(CREATED, DONE)))

    assert stream(server, recorder) == [CREATED, DONE]
    assert recorder.notes[0].startswith("the stream ended before its first event; retrying in ")


def test_a_stream_that_stays_empty_is_a_stream_cut_after_the_retries() -> None:
    server = Server(sse_reply(b""))

    with pytest.raises(StreamCutError):
        stream(server)
    assert server.attempts == 3


def test_a_stream_answered_with_429_and_retry_after_is_retried(recorder: Recorder) -> None:
    throttled = json_reply(429, {"code": "Throttling", "message": "slow down"}, headers={"Retry-After": "3"})
    server = Server(throttled, sse_reply(sse(CREATED, DONE)))

    assert stream(server, recorder) == [CREATED, DONE]
    assert recorder.delays == [3.0]


def test_a_stream_answered_with_401_is_an_auth_error() -> None:
    server = Server(json_reply(401, fixture("error-401-invalid-api-key.json")))

    with pytest.raises(AuthError) as caught:
        stream(server)
    assert caught.value.code == "InvalidApiKey" and caught.value.request_id == "5dc15bba-5586-9f64-980f-c36b679d9a65"
    assert server.attempts == 1


def test_a_rate_limited_first_event_is_retried(recorder: Recorder) -> None:
    failed = {"type": "response.failed", "sequence_number": 0, "response": RATE_LIMITED}
    server = Server(sse_reply(sse(failed)), sse_reply(sse(CREATED, DELTA, DONE)))

    assert stream(server, recorder) == [CREATED, DELTA, DONE]
    assert server.attempts == 2
    assert recorder.notes[0].startswith(f"rate limited: {RATE_LIMIT_MESSAGE} (code server_error); retrying in ")


def test_a_failed_first_event_that_is_not_a_rate_limit_is_yielded_not_retried() -> None:
    error = {"message": "Unsupported model: '__nope__'", "code": "InvalidParameter"}
    response = {"id": "resp_x", "status": "failed", "model": "", "output": [], "error": error}
    failed = {"type": "response.failed", "sequence_number": 0, "response": response}
    server = Server(sse_reply(sse(failed)))

    assert stream(server) == [failed]
    assert server.attempts == 1


def test_a_rate_limit_after_the_first_event_is_not_retried() -> None:
    failed = {"type": "response.failed", "sequence_number": 1, "response": RATE_LIMITED}
    server = Server(sse_reply(sse(CREATED, failed)))

    assert stream(server) == [CREATED, failed]
    assert server.attempts == 1


@pytest.mark.parametrize(
    ("status", "event_type"),
    [("completed", "response.completed"), ("incomplete", "response.incomplete"), ("failed", "response.failed")],
)
def test_a_json_reply_to_a_stream_request_is_one_terminal_event(status: str, event_type: str) -> None:
    response = {**COMPLETED, "status": status}
    if status == "failed":
        response["error"] = {"code": "InvalidParameter", "message": "bad"}

    assert stream(Server(json_reply(200, response))) == [{"type": event_type, "response": response}]


def test_a_json_rate_limit_reply_to_a_stream_request_is_retried() -> None:
    server = Server(json_reply(200, RATE_LIMITED), sse_reply(sse(CREATED, DONE)))

    assert stream(server) == [CREATED, DONE]
    assert server.attempts == 2
