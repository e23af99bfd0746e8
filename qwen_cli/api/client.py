"""The only module that speaks HTTP (httpx): sends prepared requests, retries what is transient, maps failures.

Every failure leaves here as a QwenError with one clear line. Knows nothing of flags or output; it reports
retries and debug lines through callbacks. A test can hand in an httpx transport instead of the network.
"""

from __future__ import annotations

import contextlib
import functools
import random
import re
import ssl
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO, Protocol, TypeVar
from urllib.parse import urlsplit

from qwen_cli import bounds
from qwen_cli.api import wire
from qwen_cli.api.request import PreparedRequest
from qwen_cli.api.responses import failure_of, is_rate_limited
from qwen_cli.api.sse import TERMINAL_EVENTS, iter_events, iter_sse
from qwen_cli.errors import ApiError, AuthError, QwenError, StreamCutError, TransientError

# httpx imports its own command-line program (click, rich, pygments: ~40 ms) whenever click is installed beside
# it, as llm and many other tools bring it. qwen never runs that program: a None entry in sys.modules makes that
# one optional import fail at once, exactly as it does where click is absent (httpx then defines a stub `main`).
sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]  # typeshed allows modules only; None is how Python blocks an import

import httpx  # noqa: E402  (after the line above, on purpose)

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_RETRY_AFTER = 60.0  # a server asking for longer than this is better answered by a failure the user sees
# Send the headers as built: httpx would otherwise turn a base URL's user:password into Basic auth that
# replaces the API key's Bearer header (curl, too, lets an explicit Authorization header win).
AS_BUILT = httpx.Auth()
Notify = Callable[[str], None]
Value = TypeVar("Value")


class Writable(Protocol):
    """Where a download goes: an open binary file, a BytesIO, a hashing writer."""

    def write(self, data: bytes, /) -> object: ...


@dataclass(frozen=True)
class Failure:
    """One failed attempt: the error to raise if it is the last, and whether another attempt may help."""

    error: QwenError
    retryable: bool = False
    retry_after: float | None = None
    rate_limited: bool = False  # DashScope counts per minute: such a failure waits longer before the next attempt


class DeferredTLS(ssl.SSLContext):
    """httpx's own verifying TLS context, built when a connection first needs TLS: loading its CA certificates costs
    ~20 ms that a plain http:// base URL (the emulator, a gateway on localhost) never needs.

    httpcore reaches a context only through the methods below. Anything that bypassed them would meet this bare
    context, which holds no CA certificates yet still requires them: it fails closed, never open.
    """

    def __new__(cls) -> DeferredTLS:
        return super().__new__(cls, ssl.PROTOCOL_TLS_CLIENT)

    @functools.cached_property
    def verifying(self) -> ssl.SSLContext:
        return httpx.create_ssl_context()  # certifi, or SSL_CERT_FILE / SSL_CERT_DIR, as httpx.Client() would load

    def set_alpn_protocols(self, protocols: Any) -> None:
        self.verifying.set_alpn_protocols(protocols)

    def wrap_socket(self, *args: Any, **kwargs: Any) -> Any:
        return self.verifying.wrap_socket(*args, **kwargs)

    def wrap_bio(self, *args: Any, **kwargs: Any) -> Any:
        return self.verifying.wrap_bio(*args, **kwargs)


class Client:
    def __init__(
        self,
        *,
        connect_timeout: float = 10.0,
        timeout: float = 300.0,
        max_retries: int = 2,
        transport: httpx.BaseTransport | None = None,
        notify: Notify | None = None,
        debug: Notify | None = None,
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[float, float], float] = random.uniform,
        connections: int = 20,
    ) -> None:
        self.timeout = timeout
        self.max_retries = max_retries
        self.notify = notify or (lambda message: None)
        self.debug = debug
        self.sleep = sleep
        self.jitter = jitter
        limits = httpx.Timeout(connect=connect_timeout, read=timeout, write=timeout, pool=connect_timeout)
        # Only the encodings `wire` undoes under its caps: httpx would inflate whatever it has a decoder for, unbounded.
        headers = {"Accept-Encoding": wire.ACCEPT_ENCODING}
        # `connections` stay open for reuse: a batch with -j 32 keeps 32, where one more TCP (and TLS) handshake per
        # request would cost more than the request itself.
        pool = httpx.Limits(max_connections=max(100, connections), max_keepalive_connections=connections)
        self.http = httpx.Client(
            timeout=limits, limits=pool, transport=transport, verify=DeferredTLS(), headers=headers
        )

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.http.close()

    def send(self, request: PreparedRequest, *, retry: bool = True) -> dict[str, Any]:
        """Send a JSON request and return the JSON reply, retrying transient failures unless `retry` is False (for a
        request that must never run twice, such as creating a batch: a lost reply is then the caller's to resolve)."""
        return self.exchange(request, lambda: self.build(request), read_json, retry=retry)

    def upload(self, request: PreparedRequest, file: BinaryIO, filename: str, fields: dict[str, str]) -> dict[str, Any]:
        """POST `file` (read from its current position) as the multipart part `file` named `filename`, beside the
        form `fields`, and return the JSON reply; retried as `send` is, each attempt from the same position."""
        start = file.tell()

        def build() -> httpx.Request:
            self.log_request(request)
            file.seek(start)
            headers = {name: value for name, value in request.headers.items() if name.lower() != "content-type"}
            parts = {"file": (filename, file, "application/jsonl")}
            return self.http.build_request("POST", request.url, headers=headers, files=parts, data=fields)

        return self.exchange(request, build, read_json)

    def download(self, request: PreparedRequest, sink: Writable, limit: int = bounds.MAX_DOWNLOAD_BYTES) -> int:
        """Write the reply's body (decoded) to `sink` as it arrives and return its size; refused past `limit` bytes.

        Retried as `send` is while nothing was written; once bytes are in `sink`, a cut connection is an error
        (the caller discards what `sink` holds and can run it again)."""
        written = 0

        def read(reply: httpx.Response) -> tuple[int, Failure | None]:
            nonlocal written
            try:
                for chunk in body_chunks(reply):
                    written += len(chunk)
                    if written > limit:
                        raise TransientError(
                            f"the file is larger than {limit // bounds.MIB} MiB, the limit for one download; qwen stopped reading it",
                            request_id=reply.headers.get("x-request-id"),
                        )
                    sink.write(chunk)
            except httpx.TransportError as exc:
                if written:
                    raise TransientError(f"the download was cut after {written} bytes; run it again") from exc
                raise
            return written, None

        return self.exchange(request, lambda: self.build(request), read)

    def exchange(
        self,
        request: PreparedRequest,
        build: Callable[[], httpx.Request],
        read: Callable[[httpx.Response], tuple[Value, Failure | None]],
        *,
        retry: bool = True,
    ) -> Value:
        """One request with the retry rules: `read` turns a reply without an HTTP error into its value, or a Failure."""
        retries = self.max_retries if retry else 0
        for attempt in range(retries + 1):
            failure = None
            try:
                with contextlib.closing(self.http.send(build(), stream=True, auth=AS_BUILT)) as reply:
                    self.log_reply(reply)
                    failure = http_failure(reply)
                    if failure is None:
                        value, failure = read(reply)
                        if failure is None:
                            return value
            except httpx.TransportError as exc:
                failure = transport_failure(exc, request, self.timeout)
            self.retry_or_raise(failure, attempt, retries)
        raise AssertionError("retry_or_raise raises on the last attempt")

    def stream(self, request: PreparedRequest) -> Iterator[dict[str, Any]]:
        """Yield the server's events up to the terminal one; retried only while nothing was received."""
        for attempt in range(self.max_retries + 1):
            received = False
            try:
                with contextlib.closing(self.http.send(self.build(request), stream=True, auth=AS_BUILT)) as reply:
                    self.log_reply(reply)
                    failure = http_failure(reply)
                    if failure is None:
                        events = self.events_of(reply)
                        first = next(events, None)
                        if first is None:
                            failure = empty_stream_failure()
                        else:
                            failure = rate_limit_failure(first.get("response"))
                            if failure is None:
                                received = True
                                yield from until_terminal(first, events, self.timeout)
                                return
            except httpx.TransportError as exc:
                if received:
                    raise mid_stream_error(exc, self.timeout) from exc
                failure = transport_failure(exc, request, self.timeout)
            except wire.NoProgress as exc:
                raise no_progress_error(exc, request, received) from None
            self.retry_or_raise(failure, attempt)

    def events_of(self, reply: httpx.Response) -> Iterator[dict[str, Any]]:
        if "json" in reply.headers.get("content-type", ""):
            # Some gateways answer a stream request with one JSON Response: treat it as a one-event stream.
            return iter([terminal_event_for(json_body(reply))])
        if "html" in reply.headers.get("content-type", ""):
            # A proxy's page, not a stream: say what it is
            raise TransientError(
                non_json_message(error_body(reply)),
                status=reply.status_code,
                request_id=reply.headers.get("x-request-id"),
            )
        progress = wire.Progress(self.timeout, bounds.MAX_EVENT_BYTES)
        messages = iter_sse(progress.chunks(body_chunks(reply)))
        return progress.events(iter_events(messages, on_malformed=self.skip_malformed))

    def skip_malformed(self, reason: str) -> None:
        self.notify(f"skipped a malformed event in the stream ({reason})")

    def build(self, request: PreparedRequest) -> httpx.Request:
        self.log_request(request)
        content = None if request.body is None else bounds.dumps(request.body).encode("utf-8")
        return self.http.build_request(request.method, request.url, headers=request.headers, content=content)

    def log_request(self, request: PreparedRequest) -> None:
        if self.debug:
            self.debug("request " + bounds.dumps(request.redacted()))

    def log_reply(self, reply: httpx.Response) -> None:
        if self.debug:
            request_id = reply.headers.get("x-request-id", "-")
            self.debug(
                f"reply HTTP {reply.status_code} {reply.headers.get('content-type', '')} request id {request_id}"
            )

    def retry_or_raise(self, failure: Failure, attempt: int, retries: int | None = None) -> None:
        retries = self.max_retries if retries is None else retries
        if not failure.retryable or attempt >= retries:
            error = failure.error
            error.retryable, error.rate_limited, error.retry_after = (
                failure.retryable,
                failure.rate_limited,
                failure.retry_after,
            )
            raise error
        delay = failure.retry_after
        if delay is None:
            delay = rate_limit_backoff(attempt, self.jitter) if failure.rate_limited else backoff(attempt, self.jitter)
        self.notify(f"{failure.error.line()}; retrying in {delay:.1f} s (retry {attempt + 1} of {retries})")
        self.sleep(delay)


def backoff(attempt: int, jitter: Callable[[float, float], float] = random.uniform) -> float:
    """Exponential backoff with jitter, so many clients failing together do not retry in lockstep."""
    return min(30.0, 0.5 * 2**attempt) * jitter(0.5, 1.5)


RATE_LIMIT_FIRST_WAIT = 1.0
RATE_LIMIT_MAX_WAIT = 30.0


def rate_limit_backoff(attempt: int, jitter: Callable[[float, float], float] = random.uniform) -> float:
    """A rate limit counted per minute is not over in a fraction of a second: about 1 s, 2 s, 4 s, ... up to about
    30 s, each within a quarter either way so that clients throttled together come back apart."""
    return min(RATE_LIMIT_MAX_WAIT, RATE_LIMIT_FIRST_WAIT * 2**attempt * jitter(0.75, 1.25))


def until_terminal(first: dict[str, Any], events: Iterator[dict[str, Any]], timeout: float) -> Iterator[dict[str, Any]]:
    event: dict[str, Any] | None = first
    while event is not None:
        yield event
        if event.get("type") in TERMINAL_EVENTS or event.get("type") == "error":
            return
        event = next(events, None)
    raise StreamCutError("the stream ended before the response was complete", kept=True)


def empty_stream_failure() -> Failure:
    """Before anything was shown, an empty stream (like a rate-limited one) can still be retried."""
    return Failure(StreamCutError("the stream ended before its first event"), retryable=True)


def terminal_event_for(response: dict[str, Any]) -> dict[str, Any]:
    status = response.get("status")
    kind = {"failed": "response.failed", "incomplete": "response.incomplete"}.get(str(status), "response.completed")
    return {"type": kind, "response": response}


def body_chunks(reply: httpx.Response) -> Iterator[bytes]:
    """The reply's body as it is decoded, one bounded step at a time (see `wire`)."""
    if reply.is_stream_consumed:  # a reply built in memory (a test's MockTransport): httpx has decoded it already
        yield reply.content
        return
    try:
        yield from wire.decoded(reply.iter_raw(), reply.headers.get("content-encoding"))
    except wire.Undecodable as exc:
        raise TransientError(str(exc), status=reply.status_code, request_id=reply.headers.get("x-request-id")) from None


def whole_body(reply: httpx.Response) -> bytes:
    """A non-streamed reply's body, refused as soon as it decodes past MAX_BODY_BYTES."""
    try:
        return wire.read_capped(body_chunks(reply), bounds.MAX_BODY_BYTES)
    except wire.BodyTooLarge:
        limit = f"{bounds.MAX_BODY_BYTES // bounds.MIB} MiB"
        raise TransientError(
            f"the server's reply is larger than {limit} once decoded, the limit for one reply; qwen stopped reading it",
            status=reply.status_code,
            request_id=reply.headers.get("x-request-id"),
        ) from None


def error_body(reply: httpx.Response) -> bytes:
    """The start of an error reply: its message is all qwen needs, so a huge one is not read to the end."""
    return wire.read_prefix(body_chunks(reply), bounds.MAX_ERROR_BODY_BYTES)


def json_body(reply: httpx.Response) -> dict[str, Any]:
    try:
        payload = bounds.loads(whole_body(reply))
    except bounds.NotJSON as exc:
        why = f"{exc}, the limit" if isinstance(exc, bounds.TooDeep) else "cut short or garbled"
        raise TransientError(
            f"the server's reply is not valid JSON ({why}); try again", status=reply.status_code
        ) from exc
    if not isinstance(payload, dict):
        raise TransientError("the server's reply is not a JSON object; try again", status=reply.status_code)
    return payload


def read_json(reply: httpx.Response) -> tuple[dict[str, Any], Failure | None]:
    payload = json_body(reply)
    return payload, rate_limit_failure(payload)


def rate_limit_failure(response: dict[str, Any] | None) -> Failure | None:
    """The Responses API reports rate limiting as HTTP 200 with `status: failed`: retry that like a 429."""
    failure = failure_of(response) if isinstance(response, dict) else None
    if failure is None or not is_rate_limited(*failure):
        return None
    code, message = failure
    return Failure(TransientError(f"rate limited: {message}", code=code), retryable=True, rate_limited=True)


def http_failure(reply: httpx.Response) -> Failure | None:
    if reply.status_code < 400:
        return None
    code, message, request_id = error_details(reply, error_body(reply))
    status = reply.status_code
    if status in (401, 403):
        return Failure(AuthError(auth_message(status, message), code=code, request_id=request_id, status=status))
    if status in RETRY_STATUSES or status >= 500:
        error = TransientError(message, code=code, request_id=request_id, status=status)
        retryable, limited = status in RETRY_STATUSES, status == 429
        return Failure(error, retryable=retryable, retry_after=retry_after(reply), rate_limited=limited)
    return Failure(ApiError(message, code=code, request_id=request_id, status=status))


def auth_message(status: int, message: str) -> str:
    # The advice follows as a second sentence, so the server's text (or a proxy page's title) must end as one.
    message = message if message.endswith((".", "!", "?")) else f"{message}."
    if status == 401:
        return f"the API key was refused: {message} Check DASHSCOPE_API_KEY"
    return f"permission denied: {message} Check that the model is activated for your account"


def error_details(reply: httpx.Response, content: bytes) -> tuple[str | None, str, str | None]:
    """(code, message, request id) from the flat or the nested error envelope, or from a non-JSON page."""
    request_id = reply.headers.get("x-request-id")
    try:
        body = bounds.loads(content)
    except bounds.NotJSON:
        return None, non_json_message(content), request_id
    if isinstance(body, dict):
        nested = body.get("error") if isinstance(body.get("error"), dict) else None
        source = nested or body
        code = source.get("code") or source.get("type")
        message = source.get("message") or reply.reason_phrase or "no message"
        return (str(code) if code else None), str(message), body.get("request_id") or request_id
    return None, non_json_message(content), request_id


def non_json_message(content: bytes) -> str:
    text = content.decode("utf-8", "replace")
    title = re.search(r"<title[^>]*>(.*?)</title>", text, re.IGNORECASE | re.DOTALL)
    snippet = title.group(1) if title else text
    snippet = " ".join(snippet.split())[:160] or "(empty body)"
    if "\x00" in text:
        return "the server (or a proxy) sent binary data, not JSON"
    if "<html" in text.lower():
        kind = "an HTML page"
    else:  # JSON cut short, garbled or nested absurdly deep is still meant as JSON: say it is not valid
        kind = "a reply that is not valid JSON" if text.lstrip()[:1] in ("{", "[") else "a non-JSON reply"
    return f"the server (or a proxy) sent {kind}: {snippet}"


def retry_after(reply: httpx.Response) -> float | None:
    value = reply.headers.get("retry-after")
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        import email.utils  # only for the rare date form: every request pays for an import at the top

        try:
            seconds = email.utils.parsedate_to_datetime(value).timestamp() - time.time()
        except (TypeError, ValueError):
            return None
    return max(0.0, min(seconds, MAX_RETRY_AFTER))


def transport_failure(exc: httpx.TransportError, request: PreparedRequest, timeout: float) -> Failure:
    host = urlsplit(request.url).netloc.rpartition("@")[2]  # never the user:password of a base URL
    if isinstance(exc, httpx.ConnectTimeout | httpx.PoolTimeout):
        return Failure(TransientError(f"no connection to {host} in time (connect timeout)"), retryable=True)
    if isinstance(exc, httpx.TimeoutException):
        return Failure(TransientError(f"{host} sent nothing for {timeout:g} s (read timeout); raise it with --timeout"))
    if isinstance(exc, httpx.ConnectError):
        return Failure(TransientError(connect_message(host, str(exc))), retryable=True)
    if isinstance(exc, httpx.RemoteProtocolError):
        return Failure(TransientError(f"{host} closed the connection without a reply"), retryable=True)
    if isinstance(exc, httpx.ReadError | httpx.WriteError):
        # A reset connection is a connection error too; a stream reaches here only if nothing was received.
        return Failure(
            TransientError(f"the connection to {host} was lost: {exc or type(exc).__name__}"), retryable=True
        )
    return Failure(TransientError(f"network error talking to {host}: {exc or type(exc).__name__}"))


def connect_message(host: str, reason: str) -> str:
    lowered = reason.lower()
    if "name or service not known" in lowered or "nodename nor servname" in lowered or "name resolution" in lowered:
        return f"cannot resolve the host {host} (DNS); check the network and --base-url"
    if "ssl" in lowered or "certificate" in lowered or "tls" in lowered:
        return f"TLS handshake with {host} failed: {reason}"
    if "refused" in lowered:
        return f"connection to {host} refused; is the server running and --base-url right?"
    return f"cannot connect to {host}: {reason}"


def mid_stream_error(exc: httpx.TransportError, timeout: float) -> TransientError:
    if isinstance(exc, httpx.TimeoutException):
        return StreamCutError(f"the stream stalled: nothing arrived for {timeout:g} s", kept=True)
    return StreamCutError("the stream was cut before the response was complete", kept=True)


def no_progress_error(exc: wire.NoProgress, request: PreparedRequest, received: bool) -> TransientError:
    """A stream that sends bytes but no event: keep-alive comments past --timeout, or an event past its size cap."""
    if exc.size is not None:
        limit = f"{exc.size // bounds.MIB} MiB"
        line = f"the stream sent {limit} without completing an event (once decoded), the limit for one event"
        return StreamCutError(line, kept=True) if received else TransientError(line)
    stalled = f"the stream stalled: no event for {exc.seconds:g} s, only keep-alive comments"
    return StreamCutError(stalled, kept=True) if received else TransientError(stalled + "; raise it with --timeout")
