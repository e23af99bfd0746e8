"""Small purpose-built servers on 127.0.0.1 for the faults the emulator cannot produce: a closed port, a port
that never completes a connection, a server that speaks garbage where TLS is expected, an API that quotes the
request's secrets back in its error messages, an attacker's endpoint that records whatever reaches it, and one
that replays a fixed event stream byte for byte. Nothing here touches any address but 127.0.0.1.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

LOOPBACK = "127.0.0.1"


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
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


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
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


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
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
