"""The fault matrix of issue 7, end to end: the installed `qwen` against the emulator's fault switches or a small
purpose-built server on 127.0.0.1 (`fault_servers`), one row per fault.

Every row asserts four things: the exit code, the lines on stderr (the error line last), what stdout kept and
what the local history recorded (read with SQLite itself). Every row runs with a recognisable API key, and
neither that key nor an MCP header value may appear on stdout, on stderr or anywhere in the history's files.

Two security items of the issue are proven elsewhere and only referenced here:
  `--run-tools` never uses a shell, arguments only on stdin:
      tests/test_tool_runner.py::test_shell_syntax_in_argv_and_arguments_stays_literal
  the history is created owner-only (0700 folder, 0600 file, under umask 022):
      tests/test_e2e_history.py::test_the_history_is_readable_by_its_owner_only
qwen never creates a config file, so there is no config file mode of its making to check; the warning about
a config file that others can read is not implemented (qwen_cli/settings/config.py never looks at the file's mode), so
no row tests it.
"""

from __future__ import annotations

import ctypes
import fcntl
import os
import pty
import re
import resource
import select
import signal
import sqlite3
import subprocess
import termios
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from conftest import Result, answer_ctrl_c, qwen_executable, read_until_closed
from fault_servers import (
    completed,
    full_backlog,
    garbage_server,
    gzip_bomb_reply,
    json_reply,
    quoting_server,
    refused_port,
    scripted_server,
    sse,
    stream_reply,
    text_events,
)

from qwen_cli.emulator import ANSI_SAMPLE, Emulator, x_lines

MATRIX_KEY = "sk-matrix-7c1e5a90d2b34f68"
MCP_SECRET = "mcp-secret-3e9d41b7c5"
SECRETS = (MATRIX_KEY, MCP_SECRET)
MCP = ("--mcp", "docs=https://mcp.example/sse", "--mcp-header", f"docs:Authorization=Bearer {MCP_SECRET}")
DNS_HOST = "qwen-fault-matrix.invalid"  # .invalid never resolves (RFC 2606)

RESP = r"resp_[0-9a-f-]{36}"
REQUEST_ID = r"[0-9a-f-]{36}"
RETRY = r"; retrying in \d+\.\d s \(retry {n} of {of}\)"
CUT_ID = rf"qwen: response id {RESP} \(cut\)"
STALLED = r"qwen: error: the stream stalled: nothing arrived for 1 s; the text so far is kept"
CUT = r"qwen: error: the stream was cut before the response was complete; the text so far is kept"
NOT_JSON = r"the server's reply is not valid JSON \(cut short or garbled\); try again \(HTTP 200\)"
GATEWAY = {
    429: ("Requests rate limit exceeded, please try again later.", "Throttling.RateQuota"),
    500: ("An internal error has occured, please try again later or contact service support.", "InternalError"),
    502: ("Bad Gateway", "Bad Gateway"),
    503: ("The service is temporarily unavailable, please try again later.", "ServiceUnavailable"),
    504: ("The request timed out, please try again later.", "RequestTimeOut"),
}
KEEPALIVE_STALLED = r"the stream stalled: no event for 1 s, only keep-alive comments"
TOO_DEEP = r"the server's reply is not valid JSON \(nested deeper than 256 levels, the limit\); try again \(HTTP 200\)"
EVENT_CAP = r"the stream sent 64 MiB without completing an event \(once decoded\), the limit for one event"
BODY_CAP = r"the server's reply is larger than 64 MiB once decoded, the limit for one reply; qwen stopped reading it"
MEMORY_CAP = 1024 * 1024 * 1024  # address space for each qwen: a runaway (a bomb inflated whole) fails, not the machine
RATE_LIMITED = (
    r"rate limited: Operation model request rate limit exceeded, please try again later\. \(code server_error\)"
)


def words(count: int) -> str:
    return " ".join(f"w{n}" for n in range(1, count + 1))


def retry(n: int, of: int) -> str:
    return RETRY.format(n=n, of=of)


def gateway(status: int) -> str:
    message, code = GATEWAY[status]
    return rf"{re.escape(message)} \(HTTP {status}, code {re.escape(code)}, request id {REQUEST_ID}\)"


# --- the rows ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """One fault. `stderr` holds one regex per line (fullmatch, in order); in args and regexes `<base>`, `<host>`,
    `<tmp>`, `<config>`, `<history>` and `<key>` stand for the row's server, folders and API key."""

    id: str
    args: tuple[str, ...]
    exit: int
    stderr: tuple[str, ...]
    stdout: str | re.Pattern[str] = ""
    history: tuple[tuple[str, str], ...] = ()  # (status, answer) of every recorded response, oldest first
    faults: Mapping[str, object] = field(default_factory=dict)
    server: str = "emulator"  # or refused, dns, tls, connect-timeout, quoting-400, quoting-503
    stdin: bytes | None = None
    config: str | None = None
    sent: int | None = None  # create requests the emulator received, retries included
    prepare: str | None = None  # read-only history, corrupt history, unreadable file, cloned repository, 40 MiB file
    files: Mapping[str, str] = field(default_factory=dict)  # written into <tmp> first


BIG = x_lines(10_000_000)
STDIN_20MB = b"".join(b"line %07d of a long log\n" % n for n in range(20 * 1024 * 1024 // 25))


def echo_of_long(text: str) -> str:
    """The emulator's echo of a prompt over 200 characters."""
    return f"You said {len(text)} characters: {text[:100]} ... {text[-100:]}"


STDIN_33MIB = b"a line of text\n" * (33 * 1024 * 1024 // 15)
BOMB_LEVELS = [
    "&l0 [" + ", ".join(["lol"] * 9) + "]",
    *(f"&l{n} [" + ", ".join([f"*l{n - 1}"] * 9) + "]" for n in range(1, 9)),
]
BOMB_PRESET = (
    "tools:\n  - {name: f, description: d, parameters: {type: object, enum: [" + ", ".join(BOMB_LEVELS) + "]}}\n"
)
LONG_PROMPT = '<document name="stdin">\n' + STDIN_20MB.decode().rstrip() + "\n</document>\nsummarise"

NETWORK = [
    Row(
        "connection refused",
        ("ask", "--max-retries", "1", "hi"),
        4,
        (
            r"qwen: connection to <host> refused; is the server running and --base-url right\?" + retry(1, 1),
            r"qwen: error: connection to <host> refused; is the server running and --base-url right\?",
        ),
        server="refused",
    ),
    Row(
        "connection refused, stream",
        ("stream", "--max-retries", "0", "hi"),
        4,
        (r"qwen: error: connection to <host> refused; is the server running and --base-url right\?",),
        server="refused",
    ),
    Row(
        "DNS failure",
        ("ask", "--max-retries", "0", "hi"),
        4,
        (r"qwen: error: cannot resolve the host <host> \(DNS\); check the network and --base-url",),
        server="dns",
    ),
    Row(
        "TLS handshake failure",
        ("ask", "--max-retries", "0", "hi"),
        4,
        (r"qwen: error: TLS handshake with <host> failed: \S.*",),
        server="tls",
    ),
    Row(
        "connect timeout",
        ("ask", "--max-retries", "1", "hi"),
        4,
        (
            r"qwen: no connection to <host> in time \(connect timeout\)" + retry(1, 1),
            r"qwen: error: no connection to <host> in time \(connect timeout\)",
        ),
        server="connect-timeout",
        config="connect_timeout: 0.3\n",
    ),
    Row(
        "read timeout mid-body",
        ("ask", "--timeout", "1", "hi"),
        4,
        (r"qwen: error: <host> sent nothing for 1 s \(read timeout\); raise it with --timeout",),
        faults={"stall_json": 1},
        sent=1,
    ),
    Row(
        "read timeout mid-stream",
        ("stream", "--timeout", "1", "@@words=50"),
        4,
        (CUT_ID, STALLED),
        stdout="w1 w2 \n",
        history=(("cut", "w1 w2 "),),
        faults={"stall_after_events": 6},
        sent=1,
    ),
    Row(
        "slow trickle that stops",
        ("stream", "--timeout", "1", "@@words=50"),
        4,
        (CUT_ID, STALLED),
        stdout="w1 w2 w3 w4 \n",
        history=(("cut", "w1 w2 w3 w4 "),),
        faults={"event_delay": 0.05, "stall_after_events": 8},
        sent=1,
    ),
    Row(
        "429 with Retry-After, retried then answered",
        ("ask", "hi"),
        0,
        (
            r"qwen: " + gateway(429) + r"; retrying in 1\.0 s \(retry 1 of 2\)",  # Retry-After: 1, not the backoff
        ),
        stdout="You said: hi\n",
        history=(("completed", "You said: hi"),),
        faults={"http_status": 429, "retry_after": "1"},
        sent=2,
    ),
    *[
        Row(
            f"{status}, retried then answered",
            ("ask", "hi"),
            0,
            (r"qwen: " + gateway(status) + retry(1, 2),),
            stdout="You said: hi\n",
            history=(("completed", "You said: hi"),),
            faults={"http_status": status, "retry_after": "0"},
            sent=2,
        )
        for status in (500, 502, 503, 504)
    ],
    *[
        Row(
            f"{status}, retries exhausted",
            ("stream", "--max-retries", "2", "hi"),
            4,
            (
                r"qwen: " + gateway(status) + retry(1, 2),
                r"qwen: " + gateway(status) + retry(2, 2),
                r"qwen: error: " + gateway(status),
            ),
            faults={"http_status": status, "http_status_count": 10, "retry_after": "0"},
            sent=3,
        )
        for status in (429, 500, 502, 503, 504)
    ],
    Row(
        "HTTP-200 rate limit, retried",
        ("ask", "hi"),
        0,
        (r"qwen: " + RATE_LIMITED + retry(1, 2),),
        stdout="You said: hi\n",
        history=(("completed", "You said: hi"),),
        faults={"rate_limit_http200": 1},
        sent=2,
    ),
    Row(
        "HTTP-200 rate limit, retried, stream",
        ("stream", "hi"),
        0,
        (r"qwen: " + RATE_LIMITED + retry(1, 2),),
        stdout="You said: hi\n",
        history=(("completed", "You said: hi"),),
        faults={"rate_limit_http200": 1},
        sent=2,
    ),
    Row(
        "HTTP-200 rate limit, retries exhausted",
        ("ask", "--max-retries", "1", "hi"),
        4,
        (
            r"qwen: " + RATE_LIMITED + retry(1, 1),
            r"qwen: error: " + RATE_LIMITED,
        ),
        faults={"rate_limit_http200": 5},
        sent=2,
    ),
    Row(
        "400, flat envelope",
        ("ask", "hi"),
        1,
        (rf"qwen: error: Emulated invalid request\. \(HTTP 400, code InvalidParameter, request id {REQUEST_ID}\)",),
        faults={"http_status": 400},
        sent=1,
    ),
    Row(
        "400, nested envelope",
        ("stream", "hi"),
        1,
        (rf"qwen: error: Emulated invalid request\. \(HTTP 400, code InvalidParameter, request id {REQUEST_ID}\)",),
        faults={"http_status": 400, "error_body": "nested"},
        sent=1,
    ),
    Row(
        "401",
        ("ask", "hi"),
        3,
        (
            r"qwen: error: the API key was refused: Invalid API-key provided\. Check DASHSCOPE_API_KEY; the request went "
            r"to the base URL <base> \(environment\); a key belongs to one region \(intl, cn, us\): check the key, and "
            rf"--base-url or try --region \(HTTP 401, code InvalidApiKey, request id {REQUEST_ID}\)",
        ),
        faults={"http_status": 401},
        sent=1,
    ),
    Row(
        "403",
        ("stream", "hi"),
        3,
        (
            r"qwen: error: permission denied: Access denied\. Check that the model is activated for your account; the "
            r"request went to the base URL <base> \(environment\); a key belongs to one region \(intl, cn, us\): check "
            rf"the key, and --base-url or try --region \(HTTP 403, code AccessDenied, request id {REQUEST_ID}\)",
        ),
        faults={"http_status": 403},
        sent=1,
    ),
    Row(
        "HTML error page from a proxy",
        ("ask", "--max-retries", "0", "hi"),
        4,
        (
            rf"qwen: error: the server \(or a proxy\) sent an HTML page: 502 Bad Gateway \(HTTP 502, request id {REQUEST_ID}\)",
        ),
        faults={"http_status": 502, "error_body": "html"},
        sent=1,
    ),
    Row(
        "truncated JSON error body",
        ("ask", "--max-retries", "0", "hi"),
        4,
        (
            r'qwen: error: the server \(or a proxy\) sent a reply that is not valid JSON: \{"request_id":.* '
            rf"\(HTTP 503, request id {REQUEST_ID}\)",
        ),
        faults={"http_status": 503, "error_body": "truncated"},
        sent=1,
    ),
    Row("truncated JSON body", ("ask", "hi"), 4, (r"qwen: error: " + NOT_JSON,), faults={"truncate_json": 1}, sent=1),
    Row("invalid JSON body", ("ask", "hi"), 4, (r"qwen: error: " + NOT_JSON,), faults={"invalid_json": 1}, sent=1),
    Row(
        "HTTP-200 HTML page to a stream request",
        ("stream", "--max-retries", "0", "hi"),
        4,
        (r"qwen: error: .*HTML page.*Sign in to the network.*",),
        faults={"stream_body": "html"},
        sent=1,
    ),
    Row(
        "HTTP-200 JSON body to a stream request",
        ("stream", "@@words=3"),
        0,
        (),
        stdout=words(3) + "\n",
        history=(("completed", words(3)),),
        faults={"stream_body": "json"},
        sent=1,
    ),
    Row(
        "gzip-encoded stream",
        ("stream", "@@words=3"),
        0,
        (),
        stdout=words(3) + "\n",
        history=(("completed", words(3)),),
        faults={"gzip": True, "split_writes": True},
        sent=1,
    ),
    Row(
        "gzip-encoded body",
        ("ask", "@@words=3"),
        0,
        (),
        stdout=words(3) + "\n",
        history=(("completed", words(3)),),
        faults={"gzip": True},
        sent=1,
    ),
    Row(
        "stream cut before the first event",
        ("stream", "--max-retries", "1", "hi"),
        4,
        (
            r"qwen: <host> closed the connection without a reply" + retry(1, 1),
            r"qwen: error: <host> closed the connection without a reply",
        ),
        faults={"cut_after_events": 0},
        sent=2,
    ),
    Row(
        "stream cut in the middle of the text",
        ("stream", "@@words=50"),
        4,
        (CUT_ID, CUT),
        stdout="w1 w2 \n",
        history=(("cut", "w1 w2 "),),
        faults={"cut_after_events": 6},
        sent=1,
    ),
    Row(
        "stream cut just before the terminal event",
        ("stream", "@@words=3"),
        4,
        (CUT_ID, CUT),
        stdout=words(3) + "\n",
        history=(("cut", words(3)),),
        faults={"cut_after_events": 10},
        sent=1,
    ),
    Row(
        "malformed SSE line",
        ("stream", "@@words=5"),
        0,
        (r"qwen: skipped a malformed event in the stream \(invalid JSON .*\)",),
        stdout=words(5) + "\n",
        history=(("completed", words(5)),),
        faults={"malformed_at": 6},
        sent=1,
    ),
    Row(
        "unknown event type, text",
        ("stream", "@@words=3"),
        0,
        (),
        stdout=words(3) + "\n",
        history=(("completed", words(3)),),
        faults={"unknown_event_at": 5},
        sent=1,
    ),
    Row(
        "unknown event type, jsonl",
        ("stream", "-o", "jsonl", "@@words=3"),
        0,
        (),
        stdout=re.compile(
            r'(\{"type":"response\.[a-z_.]+".*\}\n){5}\{"type":"response\.emulator_unknown","note":"ignore me",'
            r'"sequence_number":5\}\n(\{"type":"response\.[a-z_.]+".*\}\n){6}'
        ),
        history=(("completed", words(3)),),
        faults={"unknown_event_at": 5},
        sent=1,
    ),
    Row(
        "response.failed after text",
        ("stream", "@@words=50"),
        1,
        (
            rf"qwen: error: the request failed: Emulated failure mid-stream\. \(response {RESP}\) \(code InternalError\)",
        ),
        stdout="w1 w2 \n",
        history=(("failed", "w1 w2 "),),
        faults={"fail_after_events": 6},
        sent=1,
    ),
    Row(
        "error event after text",
        ("stream", "@@words=50"),
        1,
        (
            rf"qwen: error: the request failed: Emulated failure mid-stream\. \(response {RESP}\) \(code InternalError\)",
        ),
        stdout="w1 w2 \n",
        history=(("failed", "w1 w2 "),),
        faults={"fail_after_events": 6, "fail_event": "error"},
        sent=1,
    ),
    Row("10 MB answer", ("ask", "@@bytes=10000000"), 0, (), stdout=BIG, history=(("completed", BIG),), sent=1),
    Row(
        "10 MB answer, stream",
        ("stream", "@@bytes=10000000"),
        0,
        (),
        stdout=BIG,  # it ends with a newline of its own: none is added
        history=(("completed", BIG),),
        sent=1,
    ),
]

DEEP = b"[" * 200_000 + b"]" * 200_000  # JSON nested 200,000 levels: RecursionError for a naive json.loads
HELLO = [sse(event) for event in text_events("Hello", " there")]
HOSTILE = {  # what each `hostile:NAME` server answers: made per row, as some are generators of gigabytes
    "keep-alives after text": lambda: stream_reply(HELLO, then_ping_every=0.3),
    "keep-alives only": lambda: stream_reply([], then_ping_every=0.3),
    "deep body": lambda: json_reply(DEEP),
    "deep field in a body": lambda: json_reply(b'{"id": "resp_1", "output": ' + DEEP + b"}"),
    "deep error body": lambda: json_reply(DEEP, status=503),
    "deep event": lambda: stream_reply(
        [*HELLO, sse('{"type": "x", "data": ' + DEEP.decode() + "}"), sse(completed("Hello there"))]
    ),
    "brotli body": lambda: json_reply(b"\x1b\x03\x00\xf8\x8d\x94n\xde\xc4\x9f\x0e", Content_Encoding="br"),
    "broken gzip body": lambda: json_reply(b"\x1f\x8b\x08\x00 this is not deflate data", Content_Encoding="gzip"),
    "gzip bomb body": lambda: gzip_bomb_reply("application/json"),
    "gzip bomb error page": lambda: gzip_bomb_reply("text/html", status=502),
    "gzip bomb stream after text": lambda: gzip_bomb_reply("text/event-stream", first=b"".join(HELLO) + b"data: "),
    "gzip bomb stream": lambda: gzip_bomb_reply("text/event-stream"),
}
HOSTILE_RESP = r"resp_00000000-0000-4000-8000-00000000beef"

HOSTILE_REPLIES = [
    Row(
        "keep-alive comments forever after some text",
        ("stream", "--timeout", "1", "hi"),
        4,
        (
            rf"qwen: response id {HOSTILE_RESP} \(cut\)",
            rf"qwen: error: {KEEPALIVE_STALLED}; the text so far is kept",
        ),
        stdout="Hello there\n",
        history=(("cut", "Hello there"),),
        server="hostile:keep-alives after text",
    ),
    Row(
        "keep-alive comments forever, no event",
        ("stream", "--timeout", "1", "hi"),
        4,
        (rf"qwen: error: {KEEPALIVE_STALLED}; raise it with --timeout",),
        server="hostile:keep-alives only",
    ),
    Row(
        "JSON nested 200,000 deep, reply body",
        ("ask", "hi"),
        4,
        (rf"qwen: error: {TOO_DEEP}",),
        server="hostile:deep body",
    ),
    Row(
        "JSON nested 200,000 deep inside a reply",
        ("ask", "hi"),
        4,
        (rf"qwen: error: {TOO_DEEP}",),
        server="hostile:deep field in a body",
    ),
    Row(
        "JSON nested 200,000 deep, error body",
        ("ask", "--max-retries", "0", "hi"),
        4,
        (
            r"qwen: error: the server \(or a proxy\) sent a reply that is not valid JSON: \[{160} \(HTTP 503, request id req-hostile\)",
        ),
        server="hostile:deep error body",
    ),
    Row(
        "JSON nested 200,000 deep, JSON body to a stream request",
        ("stream", "hi"),
        4,
        (rf"qwen: error: {TOO_DEEP}",),
        server="hostile:deep body",
    ),
    Row(
        "JSON nested 200,000 deep, stream event",
        ("stream", "hi"),
        0,
        (r"qwen: skipped a malformed event in the stream \(invalid JSON \(nested deeper than 256 levels\): .*\)",),
        stdout="Hello there\n",
        history=(("completed", "Hello there"),),
        server="hostile:deep event",
    ),
    Row(
        "an encoding qwen did not ask for",
        ("ask", "hi"),
        4,
        (
            r"qwen: error: the server sent its reply encoded as 'br', which qwen does not read \(it asks for gzip, deflate\) "
            r"\(HTTP 200, request id req-hostile\)",
        ),
        server="hostile:brotli body",
    ),
    Row(
        "broken gzip",
        ("ask", "hi"),
        4,
        (
            r"qwen: error: the server's gzip data is broken \(Error -3 while decompressing data: .+\) \(HTTP 200, request id req-hostile\)",
        ),
        server="hostile:broken gzip body",
    ),
    Row(
        "gzip bomb (8 MB to 8 GiB), reply body",
        ("ask", "hi"),
        4,
        (rf"qwen: error: {BODY_CAP} \(HTTP 200, request id req-hostile\)",),
        server="hostile:gzip bomb body",
    ),
    Row(
        "gzip bomb, error page",
        ("ask", "--max-retries", "0", "hi"),
        4,
        (r"qwen: error: the server \(or a proxy\) sent binary data, not JSON \(HTTP 502, request id req-hostile\)",),
        server="hostile:gzip bomb error page",
    ),
    Row(
        "gzip bomb, stream after some text",
        ("stream", "hi"),
        4,
        (
            rf"qwen: response id {HOSTILE_RESP} \(cut\)",
            rf"qwen: error: {EVENT_CAP}; the text so far is kept",
        ),
        stdout="Hello there\n",
        history=(("cut", "Hello there"),),
        server="hostile:gzip bomb stream after text",
    ),
    Row("gzip bomb, stream", ("stream", "hi"), 4, (rf"qwen: error: {EVENT_CAP}",), server="hostile:gzip bomb stream"),
]

LOCAL = [
    Row(
        "stdin of invalid UTF-8",
        ("ask", "summarise"),
        2,
        (r"qwen: error: stdin is not valid UTF-8 \(bad byte at offset 3\); convert it with iconv first",),
        stdin=b"caf\xe9 au lait\n",
        sent=0,
    ),
    Row(
        "stdin of binary data",
        ("ask", "summarise"),
        2,
        (r"qwen: error: stdin looks like a binary file \(it contains NUL bytes\); attach text files only",),
        stdin=bytes(range(256)) * 64,
        sent=0,
    ),
    Row(
        "stdin of 20 MB",
        ("ask", "summarise"),
        0,
        (),
        stdout=echo_of_long(LONG_PROMPT) + "\n",
        history=(("completed", echo_of_long(LONG_PROMPT)),),
        stdin=STDIN_20MB,
        sent=1,
    ),
    Row(
        "missing file",
        ("ask", "-f", "<tmp>/missing.txt", "hi"),
        2,
        (r"qwen: error: no such file: <tmp>/missing\.txt",),
        sent=0,
    ),
    Row(
        "unreadable file",
        ("ask", "-f", "<tmp>/private.txt", "hi"),
        2,
        (r"qwen: error: cannot read <tmp>/private\.txt: permission denied",),
        prepare="unreadable file",
        sent=0,
    ),
    Row(
        "config file with a YAML syntax error",
        ("ask", "hi"),
        2,
        (r"qwen: error: <config>:\d+: invalid YAML: .+",),
        config="model: qwen-plus\ntimeout: [30\n",
        sent=0,
    ),
    Row(
        "config file nested too deep",
        ("ask", "hi"),
        2,
        (r"qwen: error: <config>(:\d+)?: .+",),
        config="model: " + "[" * 1000 + "\n",
        sent=0,
    ),
    Row(
        "a file that never ends (-f /dev/zero)",
        ("ask", "-f", "/dev/zero", "hi"),
        2,
        (r"qwen: error: /dev/zero looks like a binary file \(it contains NUL bytes\); attach text files only",),
        sent=0,
    ),
    Row(
        "stdin over 32 MiB",
        ("ask", "summarise"),
        2,
        (
            r"qwen: error: stdin holds more than 32 MiB; qwen reads text files and stdin up to 32 MiB \(33,554,432 bytes\): "
            r"send an excerpt \(head, tail, grep\)",
        ),
        stdin=STDIN_33MIB,
        sent=0,
    ),
    Row(
        "a file over 32 MiB",
        ("ask", "-f", "<tmp>/big.log", "hi"),
        2,
        (
            r"qwen: error: <tmp>/big\.log is 41,943,040 bytes; qwen reads text files and stdin up to 32 MiB \(33,554,432 bytes\): "
            r"send an excerpt \(head, tail, grep\)",
        ),
        prepare="40 MiB file",
        sent=0,
    ),
    Row(
        "preset with a YAML alias bomb",
        ("ask", "-p", "<tmp>/bomb.yaml", "hi"),
        2,
        (
            r"qwen: error: <tmp>/bomb\.yaml: YAML aliases expand to [\d,]+ more nodes than the file holds, past the limit "
            r"of 10,000 \(a 'billion laughs' bomb\?\); write the values out instead",
        ),
        files={"bomb.yaml": BOMB_PRESET},
        sent=0,
    ),
    Row(
        "--extra with a number too large for JSON",
        ("ask", "--extra", '{"x": 1e999}', "hi"),
        2,
        (
            r"qwen: error: --extra is not JSON the API can take \(1e999 is too large for a JSON number\); pass an object like .+",
        ),
        sent=0,
    ),
    Row(
        "--messages file with NaN",
        ("ask", "--messages", "<tmp>/nan.json"),
        2,
        (r"qwen: error: <tmp>/nan\.json: not JSON qwen can send: NaN is not a JSON number",),
        files={"nan.json": '[{"role": "user", "content": "hi", "x": NaN}]'},
        sent=0,
    ),
    Row(
        "an id that climbs out of its endpoint",
        ("response", "delete", ".."),
        2,
        (r'qwen: error: "\.\." is not an id: an id is letters, digits, .+',),
        sent=0,
    ),
    Row(
        "preset file with a YAML syntax error",
        ("ask", "-p", "<tmp>/broken.yaml", "hi"),
        2,
        (r"qwen: error: <tmp>/broken\.yaml:\d+: invalid YAML: .+",),
        prepare="broken preset",
        sent=0,
    ),
    Row(
        "read-only history",
        ("stream", "hi"),
        0,
        (r"qwen: warning: the history at <history> could not be written \(.+\); the answer is not affected",),
        stdout="You said: hi\n",
        history=(("completed", "You said: earlier"),),
        prepare="read-only history",
        sent=2,
    ),
    Row(
        "corrupt history",
        ("ask", "hi"),
        0,
        (r"qwen: warning: the history at <history> could not be written \(.+\); the answer is not affected",),
        stdout="You said: hi\n",
        prepare="corrupt history",
        sent=2,
    ),
]

SECURITY = [
    Row(
        "dry run with the key and an MCP header",
        ("ask", "--dry-run", *MCP, "hi"),
        0,
        (),
        stdout=re.compile(
            r'(?s)\{\n  "method": "POST",.*"Authorization": "Bearer \[redacted\]",.*'
            r'"headers": \{\n +"Authorization": "\[redacted\]"\n.*\}\n'
        ),
        sent=0,
    ),
    Row(
        "debug log with an MCP header",
        ("ask", "--debug", *MCP, "hi"),
        0,
        (
            r"qwen: request \{.*\"Authorization\": \"Bearer \[redacted\]\".*\}",
            rf"qwen: reply HTTP 200 application/json request id {REQUEST_ID}",
        ),
        stdout="You said: hi\n",
        history=(("completed", "You said: hi"),),
        sent=1,
    ),
    Row(
        "the key passed in a body through --extra",
        (
            "ask",
            "--extra",
            '{"tools": [{"type": "mcp", "server_label": "k", "server_url": "https://mcp.example/sse", '
            '"server_protocol": "sse", "headers": {"Authorization": "Bearer <key>"}}]}',
            "hi",
        ),
        0,
        (),
        stdout="You said: hi\n",
        history=(("completed", "You said: hi"),),
        sent=1,
    ),
    Row(
        "an error that quotes the request, json",
        ("ask", "--json", *MCP, "hi"),
        1,
        (
            r"qwen: error: Bad request from Bearer \[redacted\]: .* \(HTTP 400, code InvalidParameter, request id req-quoting\)",
        ),
        stdout=re.compile(
            r'\{"error": \{"type": "api_error", "message": "Bad request from Bearer \[redacted\]: .*\}\}\n'
        ),
        server="quoting-400",
    ),
    Row(
        "a retried error that quotes the key",
        ("ask", "--max-retries", "1", "hi"),
        4,
        (
            r"qwen: Bad request from Bearer \[redacted\]: .* \(HTTP 503, code InvalidParameter, request id req-quoting\)"
            + retry(1, 1),
            r"qwen: error: Bad request from Bearer \[redacted\]: .* \(HTTP 503, code InvalidParameter, request id req-quoting\)",
        ),
        server="quoting-503",
    ),
    Row(
        "an error that quotes a control sequence",
        ("ask", "hi \x1b[2J"),
        1,
        (
            r"qwen: error: Bad request from Bearer \[redacted\]: .*; input was: hi \u241b\[2J \(HTTP 400, code InvalidParameter, request id req-quoting\)",
        ),
        server="quoting-400",
    ),
    Row(
        "an untrusted project preset (a cloned repository's)",
        ("ask", "-p", "<tmp>/clone/.qwen/presets/review.yaml", "hi"),
        2,
        (
            r"qwen: error: <tmp>/clone/\.qwen/presets/review\.yaml is a project preset you have not trusted \(a preset can "
            r"send your key to any server\); review <tmp>/clone/\.qwen/presets, then run: qwen presets trust <tmp>/clone",
        ),
        prepare="cloned repository",
        sent=0,
    ),
    Row(
        "terminal control sequences, text mode",
        ("ask", "-o", "text", "@@ansi"),
        0,
        (),
        stdout=ANSI_SAMPLE + "\n",
        history=(("completed", ANSI_SAMPLE),),
        sent=1,
    ),
    Row(
        "a server that echoes the key in its answer",
        ("ask", "@@echo-key @@key"),
        0,
        (),
        stdout="You said: @@echo-key [redacted]\n",
        history=(("completed", "You said: @@echo-key [redacted]"),),
        sent=1,
    ),
    Row(
        "a server that streams the key back in pieces",
        ("stream", "@@echo-key @@key"),
        0,
        (),
        stdout="You said: @@echo-key [redacted]\n",
        history=(("completed", "You said: @@echo-key [redacted]"),),
        sent=1,
    ),
    Row(
        "a failure that quotes the key",
        ("stream", "@@echo-key @@fail @@key"),
        1,
        (
            rf"qwen: error: the request failed: Emulated failure of: @@echo-key @@fail \[redacted\] \(response {RESP}\) \(code InternalError\)",
        ),
        history=(("failed", ""),),
        sent=1,
    ),
    Row(
        "a two-letter MCP header value, jsonl",
        ("stream", "-o", "jsonl", *MCP, "--mcp-header", "docs:Accept-Language=en", "hi"),
        0,
        (),
        stdout=re.compile(
            r'(?s)\{"type":"response\.created".*"headers":\{"Authorization":"\[redacted\]","Accept-Language":"\[redacted\]"\}'
            r'.*\{"type":"response\.content_part\.added".*"model":"qwen-plus".*\n'
        ),
        history=(("completed", "You said: hi"),),
        sent=1,
    ),
]


# --- running a row ------------------------------------------------------------------------------------------------


# Root ignores file modes; a child that is root gives up that power for its exec'd qwen, so an unreadable file
# or a read-only folder is what it would be to any user.
PR_CAPBSET_DROP, CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER = 24, 1, 2, 3


def as_ordinary_user() -> Callable[[], None]:
    prctl = ctypes.CDLL(None, use_errno=True).prctl  # looked up before the fork

    def drop_file_mode_overrides() -> None:
        if os.geteuid() == 0:
            for capability in (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER):
                if prctl(PR_CAPBSET_DROP, capability, 0, 0, 0) != 0:
                    raise OSError(ctypes.get_errno(), "cannot drop a capability")

    return drop_file_mode_overrides


def bounded_child(ordinary_user: bool) -> Callable[[], None]:
    """In the child: at most MEMORY_CAP of address space, and (when asked) no root override of file modes."""
    drop = as_ordinary_user() if ordinary_user else None

    def set_up() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))
        if drop is not None:
            drop()

    return set_up


@dataclass
class Place:
    """Where a row runs: its server's base URL and host, and the files it may name."""

    base: str
    host: str
    tmp: Path
    env: dict[str, str]

    @property
    def config(self) -> Path:
        return Path(self.env["XDG_CONFIG_HOME"]) / "qwen" / "config.yaml"

    @property
    def history(self) -> Path:
        return Path(self.env["XDG_DATA_HOME"]) / "qwen" / "history.db"

    def fill(self, text: str, as_regex: bool) -> str:
        values = {
            "<base>": self.base,
            "<host>": self.host,
            "<tmp>": str(self.tmp),
            "<config>": str(self.config),
            "<history>": str(self.history),
            "<key>": MATRIX_KEY,
        }
        for token, value in values.items():
            text = text.replace(token, re.escape(value) if as_regex else value)
        return text


@contextmanager
def server_for(kind: str, emulator: Emulator) -> Iterator[str]:
    """The base URL of the row's server."""
    with ExitStack() as stack:
        if kind == "emulator":
            yield emulator.base_url
        elif kind == "refused":
            yield f"http://127.0.0.1:{stack.enter_context(refused_port())}/compatible-mode/v1"
        elif kind == "dns":
            yield f"http://{DNS_HOST}/compatible-mode/v1"
        elif kind == "tls":
            yield f"https://127.0.0.1:{stack.enter_context(garbage_server())}/compatible-mode/v1"
        elif kind == "connect-timeout":
            yield f"http://127.0.0.1:{stack.enter_context(full_backlog())}/compatible-mode/v1"
        elif kind.startswith("quoting-"):
            yield stack.enter_context(quoting_server(int(kind.split("-")[1]))).base_url
        elif kind.startswith("hostile:"):
            yield stack.enter_context(scripted_server(HOSTILE[kind.partition(":")[2]]())).base_url
        else:
            raise AssertionError(f"no server kind {kind}")


def run_qwen(place: Place, args: tuple[str, ...], stdin: bytes | None = None, ordinary_user: bool = False) -> Result:
    completed = subprocess.run(
        [qwen_executable(), *(place.fill(arg, as_regex=False) for arg in args)],
        input=stdin,
        stdin=None if stdin is not None else subprocess.DEVNULL,
        capture_output=True,
        env=place.env,
        timeout=60,
        preexec_fn=bounded_child(ordinary_user),
    )
    result = Result(completed.returncode, completed.stdout.decode("utf-8"), completed.stderr.decode("utf-8"))
    assert_no_secrets(result, place)
    return result


def assert_no_secrets(result: Result, place: Place) -> None:
    """No key, no MCP header value: not on stdout, not on stderr, not in any file of the history."""
    for secret in SECRETS:
        assert secret not in result.stdout, f"{secret} on stdout"
        assert secret not in result.stderr, f"{secret} on stderr"
    folder = place.history.parent
    stored = b"".join(path.read_bytes() for path in folder.iterdir()) if folder.is_dir() else b""
    for secret in SECRETS:
        assert secret.encode() not in stored, f"{secret} in the history files"


def recorded(place: Place) -> list[tuple[str, str]]:
    """(status, answer) of every response in the history, oldest first, read with SQLite itself."""
    if not place.history.exists():
        return []
    with sqlite3.connect(f"file:{place.history}?mode=ro", uri=True) as db:
        return db.execute("SELECT status, answer FROM responses ORDER BY created_at, rowid").fetchall()


def recorded_ids(place: Place) -> list[str]:
    with sqlite3.connect(f"file:{place.history}?mode=ro", uri=True) as db:
        return [row[0] for row in db.execute("SELECT id FROM responses ORDER BY created_at, rowid")]


def created(emulator: Emulator) -> int:
    return sum(1 for entry in emulator.requests if entry["method"] == "POST" and entry["path"].endswith("/responses"))


@pytest.fixture
def place_env(qwen_env: dict[str, str]) -> dict[str, str]:
    return {**qwen_env, "DASHSCOPE_API_KEY": MATRIX_KEY}


def prepare(row: Row, place: Place) -> None:
    for name, text in row.files.items():
        (place.tmp / name).write_text(text, encoding="utf-8")
    if row.config is not None:
        place.config.parent.mkdir(parents=True, exist_ok=True)
        place.config.write_text(row.config, encoding="utf-8")
    if row.prepare == "unreadable file":
        (place.tmp / "private.txt").write_text("private notes\n", encoding="utf-8")
        (place.tmp / "private.txt").chmod(0o000)
    elif row.prepare == "cloned repository":  # its preset would send the key to the row's server
        (place.tmp / "clone" / ".git").mkdir(parents=True)
        (place.tmp / "clone" / ".qwen" / "presets").mkdir(parents=True)
        (place.tmp / "clone" / ".qwen" / "presets" / "review.yaml").write_text(
            f"base_url: {place.base}\n", encoding="utf-8"
        )
    elif row.prepare == "40 MiB file":  # sparse: its size says it all before a byte is read
        with open(place.tmp / "big.log", "wb") as big:
            big.truncate(40 * 1024 * 1024)
    elif row.prepare == "broken preset":
        (place.tmp / "broken.yaml").write_text("model: qwen-plus\ninstructions: 'unclosed\n", encoding="utf-8")
    elif row.prepare in ("read-only history", "corrupt history"):
        earlier = run_qwen(place, ("ask", "earlier"))
        assert (earlier.returncode, earlier.stdout) == (0, "You said: earlier\n")
        if row.prepare == "corrupt history":
            place.history.write_bytes(b"this is not an SQLite database \x00\xff\xfe" * 64)
        else:
            place.history.parent.chmod(0o500)


@pytest.mark.parametrize("row", [*NETWORK, *HOSTILE_REPLIES, *LOCAL, *SECURITY], ids=lambda row: row.id)
def test_fault_matrix(row: Row, emulator: Emulator, place_env: dict[str, str], tmp_path: Path) -> None:
    with server_for(row.server, emulator) as base:
        host = base.split("/")[2]
        place = Place(base, host, tmp_path, {**place_env, "QWEN_BASE_URL": base})
        prepare(row, place)
        corrupt = place.history.read_bytes() if row.prepare == "corrupt history" else None
        emulator.set_faults(**row.faults)
        try:
            result = run_qwen(place, row.args, row.stdin, ordinary_user=row.prepare is not None)
        finally:
            if place.history.parent.is_dir():
                place.history.parent.chmod(0o700)  # the read-only row's folder, writable again for clean-up
    assert result.returncode == row.exit, result.stderr
    lines = result.stderr.splitlines()
    patterns = [place.fill(pattern, as_regex=True) for pattern in row.stderr]
    assert len(lines) == len(patterns) and all(re.fullmatch(p, line) for p, line in zip(patterns, lines)), (
        f"stderr {result.stderr!r} does not match {patterns!r}"
    )
    assert result.stderr == "" or result.stderr.endswith("\n")
    if isinstance(row.stdout, re.Pattern):
        assert row.stdout.fullmatch(result.stdout), f"stdout {result.stdout[:2000]!r}"
    else:
        assert result.stdout == row.stdout
    if corrupt is not None:
        assert place.history.read_bytes() == corrupt  # a damaged history is left as it was, never replaced
    else:
        assert recorded(place) == list(row.history)
    if row.sent is not None:
        assert created(emulator) == row.sent


# --- rows that need a running process: Ctrl-C, a reader that leaves, an idle stdin, many writers, a terminal -------


@pytest.fixture
def place(place_env: dict[str, str], emulator: Emulator, tmp_path: Path) -> Place:
    return Place(emulator.base_url, emulator.base_url.split("/")[2], tmp_path, place_env)


def take_terminal() -> None:
    """In the child: lead a session whose controlling terminal is the pty, so ^C typed there is SIGINT to it."""
    os.setsid()
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)
    answer_ctrl_c()


class Running:
    """`qwen ARGS...` started on a pseudo-terminal (a person at a shell) or on pipes (a script), read as it runs."""

    def __init__(self, place: Place, args: tuple[str, ...], terminal: bool) -> None:
        self.place, self.terminal, self.received = place, terminal, b""
        argv = [qwen_executable(), *args]
        env = {**place.env, "COLUMNS": "120", "LINES": "40"}
        if terminal:
            self.fd, child = pty.openpty()
            self.tty = os.ttyname(child)
            self.settings = termios.tcgetattr(child)
            self.process = subprocess.Popen(
                argv, stdin=child, stdout=child, stderr=child, env=env, preexec_fn=take_terminal
            )
            os.close(child)
        else:
            self.process = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=env,
                preexec_fn=answer_ctrl_c,
            )
            self.fd = self.process.stdout.fileno()

    def wait_for(self, condition: Callable[[], bool], timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while not condition() and time.monotonic() < deadline and self.process.poll() is None:
            if select.select([self.fd], [], [], 0.05)[0]:
                try:
                    self.received += os.read(self.fd, 65536)
                except OSError:
                    break
        assert condition(), f"never happened; so far: {self.received[-500:]!r}"
        assert self.process.poll() is None, "qwen exited before it was interrupted"

    def ctrl_c(self) -> Result:
        if self.terminal:
            os.write(self.fd, b"\x03")  # typed at the terminal: the line discipline sends SIGINT
            self.received += read_until_closed(self.fd, time.monotonic() + 20)
            self.process.wait(timeout=10)
            result = Result(self.process.returncode, self.received.decode("utf-8", "replace"), "")
        else:
            self.process.send_signal(signal.SIGINT)
            rest, stderr = self.process.communicate(timeout=20)
            self.received += rest
            result = Result(self.process.returncode, self.received.decode("utf-8"), stderr.decode("utf-8"))
        assert_no_secrets(result, self.place)
        return result

    def terminal_restored(self) -> bool:
        """The terminal's settings are as they were and the cursor is visible again."""
        fd = os.open(self.tty, os.O_RDWR | os.O_NOCTTY)
        try:
            settings = termios.tcgetattr(fd)
        finally:
            os.close(fd)
        raw = self.received.decode("utf-8", "replace")
        hidden = raw.rfind("\x1b[?25l")
        return settings == self.settings and (hidden == -1 or "\x1b[?25h" in raw[hidden:])

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        if self.terminal:
            os.close(self.fd)


@pytest.fixture
def start(place: Place):
    started: list[Running] = []

    def run(*args: str, terminal: bool = False) -> Running:
        started.append(Running(place, args, terminal))
        return started[-1]

    yield run
    for running in started:
        running.close()


def screen_text(raw: str) -> str:
    from test_e2e_stream import Screen  # the terminal model the stream tests read screens with

    return Screen(raw, columns=120).text


@pytest.mark.parametrize("terminal", [False, True], ids=["pipe", "terminal"])
def test_ctrl_c_while_ask_waits(start, place: Place, emulator: Emulator, terminal: bool) -> None:
    emulator.set_faults(first_event_delay=10)
    running = start("ask", "hi", terminal=terminal)
    running.wait_for(lambda: created(emulator) == 1)
    result = running.ctrl_c()
    assert result.returncode == 130
    if terminal:
        assert screen_text(result.stdout).splitlines()[-1] == "qwen: error: interrupted"
        assert running.terminal_restored()
    else:
        assert (result.stdout, result.stderr) == ("", "qwen: error: interrupted\n")
    assert recorded(place) == []  # no id was known: nothing to record


@pytest.mark.parametrize("terminal", [False, True], ids=["pipe", "terminal"])
def test_ctrl_c_mid_stream(start, place: Place, emulator: Emulator, terminal: bool) -> None:
    emulator.set_faults(event_delay=0.02)
    running = start("stream", "@@words=300", terminal=terminal)
    running.wait_for(lambda: b"w5 " in running.received)
    result = running.ctrl_c()
    shown_text = screen_text(result.stdout) if terminal else result.stdout
    shown = re.findall(r"\bw\d+\b", shown_text)
    ((status, answer),) = recorded(place)
    kept = answer.split()
    assert result.returncode == 130
    assert 5 <= len(shown) < 300 and shown == words(len(shown)).split()
    assert status == "interrupted" and kept == words(len(kept)).split() and len(kept) >= len(shown)
    response_id = re.escape(recorded_ids(place)[0])  # the id shown is the one recorded
    if terminal:
        lines = shown_text.splitlines()
        assert re.fullmatch(rf"qwen: response id {response_id} \(interrupted\)", lines[-2])
        assert lines[-1] == "qwen: error: interrupted" and running.terminal_restored()
    else:
        assert result.stdout == answer[: len(result.stdout) - 1] + "\n"
        assert re.fullmatch(
            rf"qwen: response id {response_id} \(interrupted\)\nqwen: error: interrupted\n", result.stderr
        )


@pytest.mark.parametrize("command", ["ask", "stream"])
def test_stdout_closed_early(place: Place, emulator: Emulator, command: str) -> None:
    pipeline = f"set -o pipefail; '{qwen_executable()}' {command} @@bytes=1000000 | head -1"
    completed = subprocess.run(
        ["bash", "-c", pipeline], env=place.env, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL
    )
    result = Result(completed.returncode, completed.stdout, completed.stderr)
    assert_no_secrets(result, place)
    assert (result.returncode, result.stdout, result.stderr) == (0, "x" * 79 + "\n", "")
    ((status, answer),) = recorded(place)
    full = x_lines(1_000_000)
    if command == "ask":
        assert (status, answer) == ("completed", full)  # recorded before it was printed
    else:
        assert status == "interrupted" and full.startswith(answer) and len(answer) >= 80


def test_an_idle_stdin(place: Place, emulator: Emulator) -> None:
    process = subprocess.Popen(
        [qwen_executable(), "ask", "hi"],
        env=place.env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:  # the writer never writes and never closes, as CI runners leave stdin
        stdout, stderr = wait_keeping_stdin_open(process)
    finally:
        process.stdin.close()
        process.wait(timeout=10)
    result = Result(process.returncode, stdout.decode(), stderr.decode())
    assert_no_secrets(result, place)
    assert (result.returncode, result.stdout) == (0, "You said: hi\n")
    assert result.stderr == (
        "qwen: stdin sent nothing within 1 s; going on without it (--stdin-wait SECONDS waits longer, -f - waits for its end, --no-stdin skips it)\n"
    )
    assert recorded(place) == [("completed", "You said: hi")]


def wait_keeping_stdin_open(process: subprocess.Popen) -> tuple[bytes, bytes]:
    out, err, deadline = b"", b"", time.monotonic() + 20
    streams = {process.stdout.fileno(): "out", process.stderr.fileno(): "err"}
    while streams and time.monotonic() < deadline:
        for fd in select.select(list(streams), [], [], 0.1)[0]:
            chunk = os.read(fd, 65536)
            if not chunk:
                del streams[fd]
            elif streams[fd] == "out":
                out += chunk
            else:
                err += chunk
    assert not streams, "qwen hung on an idle stdin"
    return out, err


def test_two_dozen_concurrent_asks_share_one_emulator_and_one_history(place: Place, emulator: Emulator) -> None:
    emulator.set_faults(first_event_delay=0.3)  # the replies arrive together, so the history writes contend
    prompts = [f"question number {n}" for n in range(1, 25)]
    processes = [
        subprocess.Popen(
            [qwen_executable(), "ask", prompt],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=place.env,
        )
        for prompt in prompts
    ]
    outcomes = [process.communicate(timeout=60) for process in processes]
    results = [Result(p.returncode, out.decode(), err.decode()) for p, (out, err) in zip(processes, outcomes)]
    for result in results:
        assert_no_secrets(result, place)
    assert [(r.returncode, r.stdout, r.stderr) for r in results] == [(0, f"You said: {p}\n", "") for p in prompts]
    assert sorted(recorded(place)) == sorted(("completed", f"You said: {p}") for p in prompts)
    assert created(emulator) == 24


@pytest.mark.parametrize("command", ["ask", "stream"])
def test_control_sequences_in_a_reply_are_neutralised_on_a_terminal(
    start, place: Place, emulator: Emulator, command: str
) -> None:
    running = start(command, "@@ansi", terminal=True)
    running.received += read_until_closed(running.fd, time.monotonic() + 20)
    running.process.wait(timeout=10)
    raw = running.received.decode("utf-8", "replace")
    assert_no_secrets(Result(running.process.returncode, raw, ""), place)
    assert running.process.returncode == 0
    for sequence in ("\x1b[2J", "\x1b[31mred", "\x1b]8;"):
        assert sequence not in raw, f"{sequence!r} reached the terminal"
    lines = screen_text(raw).splitlines()
    assert lines[0].startswith("Terminal escapes: ␛[2J␛[31mred␛[0m and a ")  # shown, harmless
    assert re.fullmatch(rf"{RESP} · \d+ in, \d+ out \(0 reasoning, 0 cached\) tokens", lines[-1])
    assert recorded(place) == [("completed", ANSI_SAMPLE)]  # the history keeps what the model said


def test_control_sequences_in_a_recorded_reply_are_neutralised_when_shown_on_a_terminal(
    start, place: Place, emulator: Emulator
) -> None:
    asked = run_qwen(place, ("ask", "-o", "text", "@@ansi"))
    assert (asked.returncode, asked.stdout) == (0, ANSI_SAMPLE + "\n")
    running = start("history", "show", "last", terminal=True)
    running.received += read_until_closed(running.fd, time.monotonic() + 20)
    running.process.wait(timeout=10)
    raw = running.received.decode("utf-8", "replace")
    assert running.process.returncode == 0
    assert "Terminal escapes: " in raw
    for sequence in ("\x1b[2J", "\x1b[31mred", "\x1b]8;"):
        assert sequence not in raw, f"{sequence!r} reached the terminal"
    assert recorded(place) == [("completed", ANSI_SAMPLE)]
