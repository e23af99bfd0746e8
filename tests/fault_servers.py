"""Small purpose-built servers on 127.0.0.1 for the faults the emulator cannot produce: a closed port, a port
that never completes a connection, a server that speaks garbage where TLS is expected, an API that quotes the
request's secrets back in its error messages, an attacker's endpoint that records whatever reaches it, one that
replays a fixed event stream byte for byte, and hostile APIs scripted per test (keep-alive comments forever, JSON
nested absurdly deep, gzip bombs). Nothing here touches any address but 127.0.0.1.
"""

from __future__ import annotations

import json
import socket
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

LOOPBACK = "127.0.0.1"


@contextmanager
def serving(server: ThreadingHTTPServer) -> Iterator[None]:
    """`server` answering on a thread of its own until the block ends; then shut down and closed."""
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@contextmanager
def refused_port() -> Iterator[int]:
    """A loopback port nobody listens on: bound once to learn a free number, then closed."""
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        port = probe.getsockname()[1]
    yield port


@contextmanager
def full_backlog() -> Iterator[int]:
    """A listening socket that never accepts, its accept queue already full: on Linux a new SYN to it is
    dropped, so a client's connect hangs until its connect timeout, all on loopback."""
    listener = socket.socket()
    listener.bind((LOOPBACK, 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    try:
        for _ in range(8):  # fill the queue until a connect no longer completes
            filler = socket.socket()
            filler.settimeout(0.3)
            fillers.append(filler)
            try:
                filler.connect((LOOPBACK, port))
            except OSError:
                break
        else:
            raise AssertionError("the listener's accept queue never filled: cannot make a connect time out")
        yield port
    finally:
        for filler in fillers:
            filler.close()
        listener.close()


class Garbage:
    """Accepts connections and answers the first bytes it gets with something that is not TLS."""

    REPLY = b"SSH-2.0-OpenSSH_9.6 this is not a TLS server\r\n" + bytes(range(256)) * 4

    def __init__(self) -> None:
        self.listener = socket.socket()
        self.listener.bind((LOOPBACK, 0))
        self.listener.listen(16)
        self.port = self.listener.getsockname()[1]
        self.thread = threading.Thread(target=self.serve, daemon=True)

    def serve(self) -> None:
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return  # closed
            with connection, suppress(OSError):
                connection.settimeout(5)
                connection.recv(4096)  # the ClientHello
                connection.sendall(self.REPLY)


@contextmanager
def garbage_server() -> Iterator[int]:
    server = Garbage()
    server.thread.start()
    try:
        yield server.port
    finally:
        with suppress(OSError):
            server.listener.shutdown(socket.SHUT_RDWR)
        server.listener.close()
        server.thread.join(timeout=5)


class _Quoting(BaseHTTPRequestHandler):
    """Answers every request with an error whose message quotes the Authorization header and the body, as a
    debugging proxy or an over-helpful validator might: the test of whether qwen repeats what it is told."""

    protocol_version = "HTTP/1.1"
    server: _QuotingServer

    def log_message(self, format: str, *args: Any) -> None:
        """Silent."""

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode("utf-8", "replace")
        message = f"Bad request from {self.headers.get('Authorization')}: {body}{quoted_input(body)}"
        payload = json.dumps({"request_id": "req-quoting", "code": "InvalidParameter", "message": message}).encode()
        self.send_response(self.server.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Retry-After", "0")
        self.end_headers()
        self.wfile.write(payload)
        self.server.hits += 1

    do_GET = do_DELETE = do_POST


def quoted_input(body: str) -> str:
    """The request's string input as the server read it, decoded: it may hold characters that drive a terminal."""
    try:
        prompt = json.loads(body).get("input")
    except (ValueError, AttributeError):
        return ""
    return f"; input was: {prompt}" if isinstance(prompt, str) else ""


class _QuotingServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, status: int) -> None:
        super().__init__((LOOPBACK, 0), _Quoting)
        self.status = status
        self.hits = 0

    @property
    def base_url(self) -> str:
        return f"http://{LOOPBACK}:{self.server_address[1]}/compatible-mode/v1"


@contextmanager
def quoting_server(status: int) -> Iterator[_QuotingServer]:
    """An API base URL whose every reply is HTTP `status` quoting the request's secrets; `.base_url`, `.hits`."""
    server = _QuotingServer(status)
    with serving(server):
        yield server


class _Recording(BaseHTTPRequestHandler):
    """Records every request it gets (method, path, headers) and answers 418: a server that must hear nothing."""

    protocol_version = "HTTP/1.1"
    server: _RecordingServer

    def log_message(self, format: str, *args: Any) -> None:
        """Silent."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.requests.append({"method": self.command, "path": self.path, "headers": dict(self.headers)})
        self.send_response(418)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_GET = do_DELETE = do_POST


class _RecordingServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__((LOOPBACK, 0), _Recording)
        self.requests: list[dict[str, Any]] = []

    @property
    def base_url(self) -> str:
        return f"http://{LOOPBACK}:{self.server_address[1]}/compatible-mode/v1"


@contextmanager
def recording_server() -> Iterator[_RecordingServer]:
    """An attacker's endpoint: `.base_url`, and `.requests`, every request that reached it."""
    server = _RecordingServer()
    with serving(server):
        yield server


class _Replaying(BaseHTTPRequestHandler):
    """Answers every request with the same SSE stream: one `data:` line per given JSON line, exactly as given."""

    protocol_version = "HTTP/1.1"
    server: _ReplayingServer

    def log_message(self, format: str, *args: Any) -> None:
        """Silent."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        payload = b"".join(b"data: " + line + b"\n\n" for line in self.server.lines)
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


class _ReplayingServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, lines: list[bytes]) -> None:
        super().__init__((LOOPBACK, 0), _Replaying)
        self.lines = lines

    @property
    def base_url(self) -> str:
        return f"http://{LOOPBACK}:{self.server_address[1]}/compatible-mode/v1"


@contextmanager
def replaying_server(lines: list[bytes]) -> Iterator[_ReplayingServer]:
    """An API base URL whose every reply is the SSE stream of `lines` (compact JSON events), byte for byte."""
    server = _ReplayingServer(lines)
    with serving(server):
        yield server


# --- hostile APIs: a reply scripted per test, written byte by byte as a hostile server would ----------------------


class _Scripted(BaseHTTPRequestHandler):
    """Records each request's method and path, then hands the connection to the server's script."""

    protocol_version = "HTTP/1.1"
    server: ScriptedServer

    def log_message(self, format: str, *args: Any) -> None:
        """Silent."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.requests.append((self.command, self.path))
        with suppress(OSError):  # the client hanging up on a hostile reply is the point of most tests
            self.server.script(self)
        self.close_connection = True

    do_GET = do_DELETE = do_POST


Script = Callable[[BaseHTTPRequestHandler], None]


class ScriptedServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, script: Script) -> None:
        super().__init__((LOOPBACK, 0), _Scripted)
        self.script = script
        self.requests: list[tuple[str, str]] = []

    @property
    def base_url(self) -> str:
        return f"http://{LOOPBACK}:{self.server_address[1]}/compatible-mode/v1"


@contextmanager
def scripted_server(script: Script) -> Iterator[ScriptedServer]:
    """An API base URL whose every reply is written by `script(handler)`; `.requests` lists (method, path)."""
    server = ScriptedServer(script)
    with serving(server):
        yield server


def send_head(
    handler: BaseHTTPRequestHandler, status: int, content_type: str, length: int | None = None, **headers: str
) -> None:
    handler.send_response(status)
    handler.send_header("Content-Type", content_type)
    handler.send_header("X-Request-Id", "req-hostile")
    if length is not None:
        handler.send_header("Content-Length", str(length))
    for name, value in headers.items():
        handler.send_header(name.replace("_", "-"), value)
    handler.end_headers()


def json_reply(body: bytes, status: int = 200, **headers: str) -> Script:
    def script(handler: BaseHTTPRequestHandler) -> None:
        send_head(handler, status, "application/json", len(body), **headers)
        handler.wfile.write(body)

    return script


def sse(event: dict[str, Any] | str) -> bytes:
    data = event if isinstance(event, str) else json.dumps(event)
    return f"data: {data}\n\n".encode()


RESPONSE_ID = "resp_00000000-0000-4000-8000-00000000beef"


def text_events(*deltas: str) -> list[dict[str, Any]]:
    """A response's stream up to (not including) its end: created, then one text delta per argument."""
    response = {"id": RESPONSE_ID, "object": "response", "status": "in_progress", "model": "qwen-plus", "output": []}
    events: list[dict[str, Any]] = [{"type": "response.created", "response": response}]
    for delta in deltas:
        events.append(
            {
                "type": "response.output_text.delta",
                "item_id": "msg_1",
                "output_index": 0,
                "content_index": 0,
                "delta": delta,
            }
        )
    return events


def completed(text: str) -> dict[str, Any]:
    message = {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "status": "completed",
        "content": [{"type": "output_text", "text": text, "annotations": []}],
    }
    response = {
        "id": RESPONSE_ID,
        "object": "response",
        "status": "completed",
        "model": "qwen-plus",
        "output": [message],
    }
    return {"type": "response.completed", "response": response}


def stream_reply(parts: list[bytes], then_ping_every: float | None = None, for_at_most: float = 60.0) -> Script:
    """An SSE stream of `parts`, then (if asked) a `: ping` comment every so often until the client leaves."""

    def script(handler: BaseHTTPRequestHandler) -> None:
        send_head(handler, 200, "text/event-stream", Cache_Control="no-cache")
        for part in parts:
            handler.wfile.write(part)
            handler.wfile.flush()
        deadline = time.monotonic() + for_at_most
        while then_ping_every is not None and time.monotonic() < deadline:
            time.sleep(then_ping_every)
            handler.wfile.write(b": ping\n\n")
            handler.wfile.flush()

    return script


def gzip_bomb(gibibytes: int, first: bytes = b"") -> tuple[bytes, bytes, int]:
    """A gzip body that inflates to `first` and then `gibibytes` GiB of zeros: (head, block, how many blocks).

    Each block is 1 MiB of zeros deflated after a full flush, which resets the compressor: every block comes out
    as the same ~1 KiB, so the bomb costs one megabyte of compressing, not gigabytes. Its trailer is never sent:
    the client must have given up long before it (a client that reads it all has failed the test anyway).
    """
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    zeros = bytes(1024 * 1024)
    head = compressor.compress(first) + compressor.flush(zlib.Z_FULL_FLUSH)
    block = compressor.compress(zeros) + compressor.flush(zlib.Z_FULL_FLUSH)
    assert block == compressor.compress(zeros) + compressor.flush(zlib.Z_FULL_FLUSH)  # the same bytes every time
    return head, block, gibibytes * 1024


def gzip_bomb_reply(content_type: str, gibibytes: int = 8, first: bytes = b"", status: int = 200) -> Script:
    """A reply of `content_type` that is 8 MB on the wire and 8 GiB once inflated, written as it goes."""
    head, block, count = gzip_bomb(gibibytes, first)

    def script(handler: BaseHTTPRequestHandler) -> None:
        send_head(handler, status, content_type, len(head) + len(block) * count, Content_Encoding="gzip")
        handler.wfile.write(head)
        for _ in range(count):
            handler.wfile.write(block)

    return script
