"""A one-purpose SSE server for the time-to-first-token goal, on 127.0.0.1 only.

    python bench/ttft_server.py      # prints "listening BASE_URL", then one line per request

Every POST .../responses gets, at once, response.created, response.in_progress, output_item.added,
content_part.added and ONE text delta ("Hello"); the server then prints the time.monotonic() at which that
delta's write returned, holds the rest back for HOLD_SECONDS, and finishes the answer ("Hello world").
The harness compares that time with the moment the first byte shows on the client's stdout (same clock).
"""

from __future__ import annotations

import json
import socket
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HOLD_SECONDS = 0.2
PATH = "/compatible-mode/v1/responses"
IDS = {"response_id": "resp_ttft", "item_id": "msg_ttft"}


def response(status: str, text: str | None) -> dict:
    body: dict = {"id": IDS["response_id"], "object": "response", "model": "qwen-plus", "status": status, "output": []}
    if text is not None:
        body["output"] = [message_item("completed", text)]
        body["usage"] = {"input_tokens": 1, "output_tokens": 2, "total_tokens": 3}
    return body


def message_item(status: str, text: str | None) -> dict:
    content = [] if text is None else [{"type": "output_text", "text": text, "annotations": []}]
    return {"id": IDS["item_id"], "type": "message", "role": "assistant", "status": status, "content": content}


def text_event(kind: str, **fields: object) -> dict:
    return {"type": kind, "item_id": IDS["item_id"], "output_index": 0, "content_index": 0, **fields}


def opening_events() -> list[dict]:
    return [
        {"type": "response.created", "response": response("in_progress", None)},
        {"type": "response.in_progress", "response": response("in_progress", None)},
        {"type": "response.output_item.added", "output_index": 0, "item": message_item("in_progress", None)},
        text_event("response.content_part.added", part={"type": "output_text", "text": "", "annotations": []}),
    ]


def closing_events(text: str) -> list[dict]:
    part = {"type": "output_text", "text": text, "annotations": []}
    return [
        text_event("response.output_text.delta", delta=" world"),
        text_event("response.output_text.done", text=text),
        text_event("response.content_part.done", part=part),
        {"type": "response.output_item.done", "output_index": 0, "item": message_item("completed", text)},
        {"type": "response.completed", "response": response("completed", text)},
    ]


def frames(events: list[dict], first_number: int) -> bytes:
    chunks = []
    for number, event in enumerate(events, first_number):
        event = {**event, "sequence_number": number}
        chunks.append(f"event: {event['type']}\ndata: {json.dumps(event)}\n\n")
    return "".join(chunks).encode("utf-8")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path != PATH:
            self.send_error(404)
            return
        # Small writes must leave at once: Nagle's algorithm would hold the delta behind the opening frames.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Connection", "close")
        self.end_headers()
        self.chunk(frames(opening_events(), 0))
        self.chunk(frames([text_event("response.output_text.delta", delta="Hello")], 4))
        written = time.monotonic()
        print(f"{written:.6f}", flush=True)
        time.sleep(HOLD_SECONDS)
        self.chunk(frames(closing_events("Hello world"), 5))
        self.wfile.write(b"0\r\n\r\n")
        self.close_connection = True

    def chunk(self, data: bytes) -> None:
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))

    def log_message(self, format: str, *args: object) -> None:
        pass


def main() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    print(f"listening http://127.0.0.1:{server.server_port}/compatible-mode/v1", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    sys.exit(main())
