"""The client's TLS context is httpx's own verifying one, built only when a connection needs TLS: plain http:// never
loads CA certificates, https:// is verified exactly as before (SSL_CERT_FILE included), and nothing fails open.

The fixtures are a test CA (`ca.pem`) and a server certificate it signed for 127.0.0.1 (`server.pem`, with its key).
"""

from __future__ import annotations

import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from qwen_cli.api.client import Client, DeferredTLS

TLS = Path(__file__).parent / "fixtures" / "tls"


class Hello(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "5")
        self.end_headers()
        self.wfile.write(b"hello")

    def log_message(self, *args: object) -> None:
        pass


def serve(tls: bool) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Hello)
    if tls:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(TLS / "server.pem")
        server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"{'https' if tls else 'http'}://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.fixture
def http_url() -> Iterator[str]:
    yield from serve(tls=False)


@pytest.fixture
def https_url() -> Iterator[str]:
    yield from serve(tls=True)


def test_plain_http_never_builds_the_tls_context(http_url: str) -> None:
    context = DeferredTLS()
    with httpx.Client(verify=context) as client:
        assert client.get(http_url).text == "hello"
    assert "verifying" not in vars(context)


def test_https_is_verified_and_an_unknown_authority_is_refused(https_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    with Client() as client, pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        client.http.get(https_url)


def test_https_trusts_what_httpx_trusts_including_ssl_cert_file(
    https_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(TLS / "ca.pem"))
    context = DeferredTLS()
    with httpx.Client(verify=context) as client:
        assert client.get(https_url).text == "hello"
    assert "verifying" in vars(context)


def test_the_stand_in_context_fails_closed() -> None:
    context = DeferredTLS()
    assert (context.verify_mode, context.check_hostname, context.cert_store_stats()["x509_ca"]) == (
        ssl.CERT_REQUIRED,
        True,
        0,
    )
