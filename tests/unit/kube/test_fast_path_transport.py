"""The fast path's transport (http.client, one kept-alive connection per thread) over real TLS.

A local HTTPS server on 127.0.0.1, its certificates from the local cluster's PKI code: it
checks the client certificate, counts connections, and can close a connection after
answering without saying so — what an API server's idle timeout does to a kept-alive one.
"""

from __future__ import annotations

import http.server
import json
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sophia_platform.devcluster.pki import create_pki
from sophia_platform.kube import raw
from sophia_platform.kube.client import Api, ApiError
from sophia_platform.kube.kubeconfig import ReadPath

TIMEOUT = (3.0, 10.0)


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive unless told otherwise
    server: Any

    def _answer(self, status: int, doc: dict[str, Any]) -> None:
        body = json.dumps(doc).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        if self.server.drop_after_answer:
            self.close_connection = True  # closes the socket without a Connection: close

    def do_GET(self) -> None:
        self.server.seen.append(("GET", self.path, self.headers.get("Authorization")))
        if self.path.startswith("/missing"):
            self._answer(404, {"kind": "Status", "reason": "NotFound", "message": "gone"})
        else:
            self._answer(200, {"path": self.path})

    def do_PUT(self) -> None:
        length = int(self.headers["Content-Length"])
        sent = json.loads(self.rfile.read(length))
        self.server.seen.append(("PUT", self.path, self.headers.get("Content-Type")))
        self._answer(200, {"echo": sent})

    def log_message(self, format: str, *args: Any) -> None:
        return


class _Server(http.server.ThreadingHTTPServer):
    def __init__(self, context: ssl.SSLContext) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.context = context
        self.seen: list[tuple[str, str, str | None]] = []
        self.connections = 0
        self.drop_after_answer = False

    def get_request(self) -> tuple[Any, Any]:
        sock, addr = super().get_request()
        self.connections += 1
        return self.context.wrap_socket(sock, server_side=True), addr


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[_Server, ReadPath]]:
    pki = create_pki(tmp_path / "pki")
    server_side = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_side.load_cert_chain(pki.serving_cert, pki.serving_key)
    server_side.load_verify_locations(pki.ca_cert)
    server_side.verify_mode = ssl.CERT_REQUIRED  # a client certificate, as kube-apiserver asks
    server = _Server(server_side)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    client_side = ssl.create_default_context(cafile=str(pki.ca_cert))
    client_side.load_cert_chain(pki.admin_cert, pki.admin_key)
    host, port = server.server_address[:2]
    path = ReadPath(f"https://{host}:{port}", {"Authorization": "Bearer t0ken"}, client_side)
    try:
        yield server, path
    finally:
        path.close()
        server.shutdown()
        server.server_close()


def test_requests_share_one_connection_and_carry_headers_and_bodies(
    served: tuple[_Server, ReadPath],
) -> None:
    server, path = served
    assert path.get("/api/v1/a", TIMEOUT) == (200, b'{"path": "/api/v1/a"}')
    status, body = path.request("PUT", "/api/v1/b", b'{"x": 1}', TIMEOUT)
    assert status == 200 and json.loads(body) == {"echo": {"x": 1}}
    assert server.seen == [
        ("GET", "/api/v1/a", "Bearer t0ken"),
        ("PUT", "/api/v1/b", "application/json"),
    ]
    assert server.connections == 1  # kept alive


def test_a_connection_the_server_closed_is_replaced_before_the_next_request(
    served: tuple[_Server, ReadPath],
) -> None:
    server, path = served
    server.drop_after_answer = True
    for n in range(3):
        assert path.get(f"/n/{n}", TIMEOUT)[0] == 200  # never an error on the dead socket
    assert server.connections == 3


def test_errors_through_raw_keep_status_and_reason(served: tuple[_Server, ReadPath]) -> None:
    _server, path = served
    api = Api(None, "ctx", path)
    assert (
        raw.get(api, "read a", "/api/v1/a", labelSelector="x=y").path
        == "/api/v1/a?labelSelector=x%3Dy"
    )
    with pytest.raises(ApiError) as err:
        raw.get(api, "read missing", "/missing")
    assert (err.value.status, err.value.reason, err.value.detail) == (404, "NotFound", "gone")


def test_an_unreachable_server_is_an_api_error_without_status(tmp_path: Path) -> None:
    path = ReadPath("https://127.0.0.1:9", {}, ssl.create_default_context())
    with pytest.raises(ApiError) as err:
        raw.get(Api(None, "ctx", path), "list pods", "/api/v1/pods")
    assert err.value.status is None and "cannot reach the API server" in str(err.value)
