"""A local GitHub REST API server for Actions secrets (test-only, never used by the product).

Implements the documented endpoints the github-api provider uses, faithfully enough to catch
mistakes: ``Authorization: Bearer|token`` checks (401), scope checks (403 with
``X-Accepted-OAuth-Scopes``), 404 for unknown orgs/repos/secrets, 422 for bad bodies and names,
pagination with ``Link`` headers, and a real libsodium sealed-box round trip: the server holds
the private key and decrypts what the client sent, so tests can assert the stored plaintext.
Faults (429/5xx/...) can be injected for the next N requests.
"""

from __future__ import annotations

import base64
import json
import re
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from nacl.public import PrivateKey, SealedBox

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass
class Owner:
    """An org or a repo holding secrets."""

    key: PrivateKey = field(default_factory=PrivateKey.generate)
    key_id: str = "568250167242549743"
    secrets: dict[str, dict[str, Any]] = field(default_factory=dict)  # name -> record
    plaintext: dict[str, str] = field(default_factory=dict)  # what the server decrypted


@dataclass
class Fault:
    status: int
    remaining: int
    path_contains: str = ""
    headers: dict[str, str] = field(default_factory=dict)


class GithubState:
    """Everything the server knows; tests seed and inspect it directly."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.tokens: dict[str, set[str]] = {}  # token -> scopes
        self.orgs: dict[str, Owner] = {}
        self.repos: dict[str, Owner] = {}
        self.requests: list[tuple[str, str]] = []
        self.faults: list[Fault] = []

    def add_token(self, token: str, *scopes: str) -> None:
        self.tokens[token] = set(scopes)

    def add_org(self, org: str) -> Owner:
        return self.orgs.setdefault(org, Owner())

    def add_repo(self, repo: str) -> Owner:
        return self.repos.setdefault(repo, Owner())

    def seed(self, owner: Owner, name: str, when: str = "2026-01-02T03:04:05Z") -> None:
        owner.secrets[name] = {"name": name, "created_at": when, "updated_at": when}

    def fail_next(
        self, status: int, count: int = 1, path_contains: str = "", **headers: str
    ) -> None:
        self.faults.append(Fault(status, count, path_contains, dict(headers)))


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        return

    # -- plumbing ----------------------------------------------------------------------------
    def _send(self, status: int, body: Any = None, headers: dict[str, str] | None = None) -> None:
        data = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def _error(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        self._send(
            status,
            {"message": message, "documentation_url": "https://docs.github.com/rest"},
            headers,
        )

    def _body(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            return json.loads(raw or b"null")
        except ValueError:
            return None

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    # -- routing -----------------------------------------------------------------------------
    def _dispatch(self, method: str) -> None:
        state = self.server.state
        url = urlsplit(self.path)
        body = self._body() if method == "PUT" else None
        with state.lock:
            state.requests.append((method, url.path))
            for fault in state.faults:
                if fault.remaining > 0 and fault.path_contains in url.path:
                    fault.remaining -= 1
                    self._error(fault.status, "injected fault", fault.headers)
                    return
            auth = self.headers.get("Authorization", "")
            scheme, _, token = auth.partition(" ")
            if not auth:
                self._error(401, "Requires authentication")
                return
            if scheme.lower() not in ("bearer", "token") or token not in state.tokens:
                self._error(401, "Bad credentials")
                return
            if self.headers.get("Accept") not in (
                "application/vnd.github+json",
                "application/json",
            ):
                self._error(415, "Unsupported 'Accept' header")
                return
            self._route(method, url.path, parse_qs(url.query), body, state.tokens[token])

    def _route(
        self, method: str, path: str, query: dict[str, list[str]], body: Any, scopes: set[str]
    ) -> None:
        state = self.server.state
        m = re.fullmatch(r"/(orgs)/([^/]+)/actions/secrets(?:/([^/]+))?", path) or re.fullmatch(
            r"/(repos)/([^/]+/[^/]+)/actions/secrets(?:/([^/]+))?", path
        )
        if m is None:
            self._error(404, "Not Found")
            return
        kind, owner_name, leaf = m.groups()
        needed = "admin:org" if kind == "orgs" else "repo"
        owners = state.orgs if kind == "orgs" else state.repos
        owner = owners.get(owner_name)
        if owner is None:
            self._error(404, "Not Found")
            return
        if needed not in scopes:
            self._error(
                403,
                "Resource not accessible by personal access token",
                {"X-Accepted-OAuth-Scopes": needed, "X-OAuth-Scopes": ", ".join(sorted(scopes))},
            )
            return
        if leaf is None and method == "GET":
            self._list(owner, query, path)
        elif leaf == "public-key" and method == "GET":
            self._send(
                200,
                {
                    "key_id": owner.key_id,
                    "key": base64.b64encode(bytes(owner.key.public_key)).decode(),
                },
            )
        elif leaf and method == "GET":
            record = owner.secrets.get(leaf.upper())
            self._send(200, record) if record else self._error(404, "Not Found")
        elif leaf and method == "PUT":
            self._put(owner, leaf, body, kind == "orgs")
        elif leaf and method == "DELETE":
            if owner.secrets.pop(leaf.upper(), None) is None:
                self._error(404, "Not Found")
            else:
                owner.plaintext.pop(leaf.upper(), None)
                self._send(204)
        else:
            self._error(404, "Not Found")

    def _list(self, owner: Owner, query: dict[str, list[str]], path: str) -> None:
        per_page = min(int(query.get("per_page", ["30"])[0]), 100)
        page = int(query.get("page", ["1"])[0])
        names = sorted(owner.secrets)
        chunk = names[(page - 1) * per_page : page * per_page]
        headers: dict[str, str] = {}
        last = max(1, -(-len(names) // per_page))
        host = self.headers.get("Host", "127.0.0.1")
        links = []
        if page < last:
            links.append(f'<http://{host}{path}?per_page={per_page}&page={page + 1}>; rel="next"')
            links.append(f'<http://{host}{path}?per_page={per_page}&page={last}>; rel="last"')
        if links:
            headers["Link"] = ", ".join(links)
        self._send(
            200, {"total_count": len(names), "secrets": [owner.secrets[n] for n in chunk]}, headers
        )

    def _put(self, owner: Owner, name: str, body: Any, is_org: bool) -> None:
        if not _NAME.match(name) or name.upper().startswith("GITHUB_"):
            self._error(422, "Secret names can only contain alphanumeric characters or '_'")
            return
        if not isinstance(body, dict) or not {"encrypted_value", "key_id"} <= set(body):
            self._error(422, "Invalid request: encrypted_value and key_id are required")
            return
        if body["key_id"] != owner.key_id:
            self._error(422, "Bad key_id: re-fetch the public key")
            return
        if is_org and body.get("visibility") not in ("all", "private", "selected"):
            self._error(422, "Invalid request: visibility must be all, private or selected")
            return
        try:
            plain = SealedBox(owner.key).decrypt(base64.b64decode(body["encrypted_value"]))
        except Exception:
            self._error(422, "encrypted_value could not be decrypted with the public key")
            return
        upper = name.upper()
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        created = upper not in owner.secrets
        record = owner.secrets.get(upper) or {"name": upper, "created_at": now}
        record["updated_at"] = now
        owner.secrets[upper] = record
        owner.plaintext[upper] = plain.decode("utf-8")
        self._send(201 if created else 204)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, state: GithubState) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.state = state


class GithubServer:
    """Start with ``with GithubServer() as gh:``; ``gh.url`` is the API base URL."""

    def __init__(self) -> None:
        self.state = GithubState()
        self._server = _Server(self.state)
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> GithubServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
