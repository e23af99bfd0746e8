"""The HTTP server on 127.0.0.1: the request handler, gzip, the Emulator object tests start, and `qwen emulator`'s serve_forever."""

from __future__ import annotations

import select
import socket
import threading
import time
import uuid
import zlib
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

from qwen_cli.emulator.faults import STALL_LIMIT, Faults
from qwen_cli.emulator.routes import handle_call
from qwen_cli.emulator.state import EmulatorState
from qwen_cli.emulator.streams import build_frames, split_frame
from qwen_cli.emulator.wire import CONTROL_PREFIX, SSE_TYPE, Call, StreamReply

if TYPE_CHECKING:
    from qwen_cli.emulator.wire import JsonReply


class _Handler(BaseHTTPRequestHandler):
    """Turns sockets into Calls and Replies into bytes: chunked streams, Content-Length bodies, faults."""

    protocol_version = "HTTP/1.1"
    server_version = "qwen-emulator"
    chunked = False
    gzip = False
    compressor: Any = None
    timeout = 60  # idle keep-alive connections end instead of holding a thread forever
    server: _Server

    def setup(self) -> None:
        super().setup()
        # Small SSE frames (and split writes) must leave at once rather than wait for Nagle.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: test output must not be flooded with access logs."""

    def do_GET(self) -> None:
        self.dispatch()

    do_POST = do_DELETE = do_PUT = do_PATCH = do_GET

    def dispatch(self) -> None:
        call = self.read_call()
        reply = handle_call(self.server.state, call)
        self.gzip, self.compressor = (
            wants_gzip(self.server.state.faults, call),
            None,
        )  # a keep-alive handler serves many
        try:
            if isinstance(reply, StreamReply):
                self.send_stream(reply, call.request_id)
            else:
                self.send_json(reply, call.request_id)
        except OSError:  # the client went away mid-reply; nothing is left to tell it
            self.close_connection = True

    def read_call(self) -> Call:
        parts = urlsplit(self.path)
        headers = {name.lower(): value for name, value in self.headers.items()}
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        return Call(self.command, parts.path, query, headers, self.read_body(headers), str(uuid.uuid4()))

    def read_body(self, headers: dict[str, str]) -> bytes:
        if "chunked" in headers.get("transfer-encoding", "").lower():
            return self.read_chunked_body()
        length = int(headers.get("content-length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def read_chunked_body(self) -> bytes:
        chunks: list[bytes] = []
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass
                return b"".join(chunks)
            chunks.append(self.rfile.read(size))
            self.rfile.readline()

    def send_json(self, reply: JsonReply, request_id: str) -> None:
        body = gzip_whole(reply.body) if self.gzip else reply.body
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("x-request-id", request_id)
        if self.gzip:
            self.send_header("Content-Encoding", "gzip")
        for name, value in reply.headers:
            self.send_header(name, value)
        self.end_headers()
        if not reply.stall:
            self.wfile.write(body)
            return
        self.wfile.write(body[: len(body) // 2])
        self.wfile.flush()
        self.hold_open()

    def send_stream(self, reply: StreamReply, request_id: str) -> None:
        faults = reply.faults
        self.chunked = self.request_version == "HTTP/1.1"
        self.send_response(200)
        self.send_header("Content-Type", SSE_TYPE)
        self.send_header("Cache-Control", "no-cache")
        self.send_header("x-request-id", request_id)
        if self.gzip:
            self.send_header("Content-Encoding", "gzip")
            self.compressor = zlib.compressobj(wbits=31)
        if self.chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.close_connection = True  # without chunks only the close can end the body
        self.end_headers()
        if not self.write_frames(build_frames(reply.events, faults), faults):
            return
        if self.compressor is not None:
            self.write_chunk(self.compressor.flush(), compressed=True)
        if self.chunked:
            self.write_chunk(b"", compressed=True)

    def write_frames(self, frames: list[bytes], faults: Faults) -> bool:
        """Write frames with the stream faults applied; False when the stream was cut or stalled."""
        for index, frame in enumerate(frames):
            if faults.cut_after_events is not None and index >= faults.cut_after_events:
                self.cut_connection()
                return False
            if faults.stall_after_events is not None and index >= faults.stall_after_events:
                self.hold_open()
                return False
            if faults.event_delay and self.server.state.stopping.wait(faults.event_delay):
                self.close_connection = True
                return False
            for piece in split_frame(frame) if faults.split_writes else [frame]:
                self.write_chunk(piece)
        return True

    def write_chunk(self, data: bytes, compressed: bool = False) -> None:
        if self.compressor is not None and not compressed:
            data = self.compressor.compress(data) + self.compressor.flush(zlib.Z_SYNC_FLUSH)
        if self.chunked:
            data = b"%x\r\n%s\r\n" % (len(data), data)
        self.wfile.write(data)
        self.wfile.flush()

    def cut_connection(self) -> None:
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def hold_open(self) -> None:
        """Send nothing more until the client leaves, the emulator stops or the stall limit passes."""
        self.close_connection = True
        deadline = time.monotonic() + STALL_LIMIT
        while time.monotonic() < deadline and not self.server.state.stopping.is_set():
            readable, _, _ = select.select([self.connection], [], [], 0.1)
            if readable and self.peer_closed():
                return

    def peer_closed(self) -> bool:
        try:
            if self.connection.recv(1, socket.MSG_PEEK) == b"":
                return True
        except OSError:
            return True
        time.sleep(0.1)  # the client sent bytes: keep waiting without spinning on them
        return False


def wants_gzip(faults: Faults, call: Call) -> bool:
    if not faults.gzip or call.path.startswith(CONTROL_PREFIX):
        return False
    accepted = [part.split(";")[0].strip().lower() for part in call.headers.get("accept-encoding", "").split(",")]
    return "gzip" in accepted


def gzip_whole(body: bytes) -> bytes:
    compressor = zlib.compressobj(wbits=31)
    return compressor.compress(body) + compressor.flush()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # stalled streams and idle keep-alive connections must not block stop()
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], state: EmulatorState) -> None:
        self.state = state
        super().__init__(address, _Handler)


def base_url_of(server: _Server) -> str:
    host, port = server.socket.getsockname()[:2]  # the address bound, as server_address holds it
    return f"http://{host}:{port}/compatible-mode/v1"


class Emulator:
    """The emulator as a context manager: ``with Emulator() as emu: ... emu.base_url``."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, api_key: str | None = None) -> None:
        self.host = host
        self.port = port
        self._state = EmulatorState(api_key)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> Emulator:
        """Bind and serve in a daemon thread."""
        self._state.stopping.clear()
        self._server = _Server((self.host, self.port), self._state)
        self._thread = threading.Thread(target=self._server.serve_forever, name="qwen-emulator", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._state.stopping.set()
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server, self._thread = None, None

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("The emulator is not running; call start() first.")
        return base_url_of(self._server)

    @property
    def requests(self) -> list[dict[str, Any]]:
        return self._state.snapshot_requests()

    @property
    def faults(self) -> Faults:
        return self._state.faults

    def set_faults(self, faults: Faults | None = None, **fields: Any) -> None:
        """Replace the current faults with ``faults`` or with ``Faults(**fields)``."""
        self._state.set_faults(faults if faults is not None else Faults(**fields))

    def reset(self) -> None:
        """Forget faults, recorded requests, stored responses and conversations."""
        self._state.reset()

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def serve_forever(
    host: str, port: int, api_key: str | None, faults: Faults | None, announce: Callable[[str], None]
) -> None:
    """Serve in the calling thread until KeyboardInterrupt, announcing the base URL once listening."""
    state = EmulatorState(api_key)
    if faults is not None:
        state.set_faults(faults)
    server = _Server((host, port), state)
    try:
        announce(f"Emulator listening on {base_url_of(server)}")
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        state.stopping.set()
        server.server_close()
