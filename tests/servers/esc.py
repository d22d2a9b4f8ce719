"""A local Pulumi ESC API server for tests: the documented endpoints, faithfully, on 127.0.0.1.

Written from the ESC API reference (pulumi/esc-sdk sdk/swagger.yaml) and shared/API_NOTES.md,
and never used by the product itself. Implemented:

  POST /api/esc/environments/{org}/{project}/{env}/open[?duration=1h]  -> {"id": "..."}
  GET  /api/esc/environments/{org}/{project}/{env}/open/{id}           -> {"properties": {...}}
  GET  /api/esc/environments/{org}/{project}/{env}/open//{id}?property=path -> Value

Every request needs ``Authorization: token <token>`` (401 otherwise); unknown environments and
sessions are 404; errors are ``{"message", "code"}`` as the API returns them. Values are the
environment definition's ``values`` tree: ``{"fn::secret": x}`` marks a secret, ``${a.b}``
interpolates, ``imports`` merge other environments of the org first. The state lives in
:class:`EscState` and routes are a table on :class:`EscHandler`, so an extension (definition
GET/PATCH with ETag/If-Match, decrypt, versions) adds methods on a subclass and route lines.

Fault injection for client tests: ``state.fail(status, times, op)`` answers ``status`` for the
next ``times`` matching requests (then normal service resumes), ``state.slow(seconds, times,
op)`` delays answers (timeouts), ``state.requests`` records what clients sent.
"""

from __future__ import annotations

import copy
import json
import re
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

API_PREFIX = "/api/esc"
SECRET_FN = "fn::secret"
_INTERPOLATION = re.compile(r"\$\{([^}]+)\}")
_PATH_PART = re.compile(r'\.?([A-Za-z_][A-Za-z0-9_-]*)|\[(\d+)\]|\["((?:[^"\\]|\\.)*)"\]')


@dataclass
class EscEnvironment:
    """One environment: its definition (imports + values) and a revision counter."""

    org: str
    project: str
    name: str
    values: dict[str, Any] = field(default_factory=dict)
    imports: list[str] = field(default_factory=list)
    revision: int = 1

    @property
    def ref(self) -> str:
        """``org/project/env``."""
        return f"{self.org}/{self.project}/{self.name}"

    def definition(self) -> dict[str, Any]:
        """The definition document, as ``GET /environments/...`` would return it (parsed)."""
        doc: dict[str, Any] = {}
        if self.imports:
            doc["imports"] = list(self.imports)
        doc["values"] = copy.deepcopy(self.values)
        return doc


@dataclass
class Fault:
    """An injected misbehaviour for the next ``times`` requests matching ``op`` (None = all)."""

    op: str | None
    times: int | None
    status: int | None = None
    delay: float = 0.0
    body: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    hold: Hold | None = None


@dataclass
class Hold:
    """A request kept unanswered until the test releases it (no clock involved)."""

    arrived: threading.Event = field(default_factory=threading.Event)
    released: threading.Event = field(default_factory=threading.Event)


@dataclass(frozen=True)
class RecordedRequest:
    """What a client sent (the token is recorded only as valid or not)."""

    method: str
    path: str
    op: str | None
    authorized: bool
    accept: str | None
    status: int


@dataclass
class OpenSession:
    """An open session: a snapshot of resolved properties taken at open time."""

    env_ref: str
    properties: dict[str, Any]
    expires_at: float


class EscError(Exception):
    """Answer with an ESC error body ``{"message", "code"}``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class EscState:
    """All server-side state; thread-safe; tests arrange and inspect it directly."""

    def __init__(self, tokens: set[str] | None = None) -> None:
        self.lock = threading.RLock()
        self.tokens: set[str] = set(tokens or {"pul-test-token"})
        self.environments: dict[tuple[str, str, str], EscEnvironment] = {}
        self.sessions: dict[str, OpenSession] = {}
        self.faults: list[Fault] = []
        self.requests: list[RecordedRequest] = []
        self.stopping = threading.Event()

    # -- arranging -------------------------------------------------------------------------

    def add_environment(
        self, ref: str, values: dict[str, Any] | None = None, *, imports: list[str] | None = None
    ) -> EscEnvironment:
        """Create (or replace) environment ``org/project/env`` with a ``values`` tree."""
        org, project, name = ref.split("/")
        env = EscEnvironment(org, project, name, copy.deepcopy(values or {}), list(imports or []))
        with self.lock:
            self.environments[(org, project, name)] = env
        return env

    def environment(self, org: str, project: str, name: str) -> EscEnvironment:
        """Return the environment or raise the API's 404."""
        with self.lock:
            env = self.environments.get((org, project, name))
        if env is None:
            raise EscError(404, f"Environment '{org}/{project}/{name}' not found")
        return env

    def fail(
        self,
        status: int,
        times: int | None = 1,
        op: str | None = None,
        *,
        message: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        """Answer ``status`` to the next ``times`` requests of ``op`` (None: forever)."""
        body = {"message": message or _REASONS.get(status, "error"), "code": status}
        with self.lock:
            self.faults.append(Fault(op, times, status=status, body=body, headers=headers or {}))

    def slow(self, seconds: float, times: int | None = None, op: str | None = None) -> None:
        """Delay the next ``times`` answers of ``op`` by ``seconds`` (None: every answer)."""
        with self.lock:
            self.faults.append(Fault(op, times, delay=seconds))

    def hold(self, times: int | None = 1, op: str | None = None) -> Hold:
        """Keep the next ``times`` requests of ``op`` unanswered until ``.released`` is set."""
        hold = Hold()
        with self.lock:
            self.faults.append(Fault(op, times, hold=hold))
        return hold

    def clear_faults(self) -> None:
        """Back to normal service."""
        with self.lock:
            self.faults.clear()

    def count(self, op: str | None = None) -> int:
        """How many requests (of ``op``) arrived."""
        with self.lock:
            return sum(1 for r in self.requests if op is None or r.op == op)

    # -- serving ---------------------------------------------------------------------------

    def take_fault(self, op: str | None) -> Fault | None:
        """Consume the first fault that matches ``op``."""
        with self.lock:
            for fault in self.faults:
                if fault.op not in (None, op):
                    continue
                if fault.times is not None:
                    fault.times -= 1
                    if fault.times <= 0:
                        self.faults.remove(fault)
                return fault
        return None

    def check_token(self, header: str | None) -> bool:
        """Return whether ``Authorization: token <t>`` carries a known token."""
        if not header or not header.startswith("token "):
            return False
        with self.lock:
            return header[len("token ") :] in self.tokens

    def open(self, env: EscEnvironment, duration: str | None) -> str:
        """Open a session: resolve the environment now and keep the snapshot."""
        seconds = _duration_seconds(duration or "1h")
        properties = self.resolve(env)
        session_id = secrets.token_hex(8)
        with self.lock:
            self.sessions[session_id] = OpenSession(env.ref, properties, time.time() + seconds)
        return session_id

    def session(self, env: EscEnvironment, session_id: str) -> OpenSession:
        """Return an open, unexpired session of ``env`` or raise 404."""
        with self.lock:
            session = self.sessions.get(session_id)
        if session is None or session.env_ref != env.ref or session.expires_at < time.time():
            raise EscError(404, f"open session '{session_id}' not found")
        return session

    def resolve(self, env: EscEnvironment) -> dict[str, Any]:
        """Evaluate imports, secrets and interpolations into ESC ``Value`` objects."""
        merged = self._merged_values(env, seen=set())
        resolver = _Resolver(env.ref, merged)
        return {name: resolver.value(node, name) for name, node in merged.items()}

    def _merged_values(self, env: EscEnvironment, seen: set[str]) -> dict[str, Any]:
        if env.ref in seen:
            raise EscError(400, f"cyclic import of {env.ref}")
        seen = seen | {env.ref}
        merged: dict[str, Any] = {}
        for imported in env.imports:
            project, _, name = imported.rpartition("/")
            other = self.environment(env.org, project or "default", name)
            _deep_merge(merged, self._merged_values(other, seen))
        _deep_merge(merged, copy.deepcopy(env.values))
        return merged


class _Resolver:
    """Turns a values tree into ESC Values, following ``${path}`` references."""

    def __init__(self, env_ref: str, root: dict[str, Any]) -> None:
        self.env_ref = env_ref
        self.root = root
        self.active: set[str] = set()

    def value(self, node: Any, path: str) -> dict[str, Any]:
        trace = {"def": {"environment": self.env_ref, "begin": _POS, "end": _POS}}
        if isinstance(node, dict) and len(node) == 1 and SECRET_FN in node:
            inner = self.value(node[SECRET_FN], path)
            return {**inner, "secret": True}
        if isinstance(node, dict) and any(str(k).startswith("fn::") for k in node):
            return {"value": None, "unknown": True, "trace": trace}  # providers: not emulated
        if isinstance(node, dict):
            children = {k: self.value(v, f"{path}.{k}") for k, v in node.items()}
            return {"value": children, "secret": False, "trace": trace}
        if isinstance(node, list):
            items = [self.value(v, f"{path}[{i}]") for i, v in enumerate(node)]
            return {"value": items, "secret": False, "trace": trace}
        if isinstance(node, str) and "${" in node:
            return self.interpolate(node, path, trace)
        return {"value": node, "secret": False, "trace": trace}

    def interpolate(self, text: str, path: str, trace: dict[str, Any]) -> dict[str, Any]:
        whole = _INTERPOLATION.fullmatch(text)
        if whole:
            return self.reference(whole.group(1), path)
        secret = False

        def substitute(match: re.Match[str]) -> str:
            nonlocal secret
            ref = self.reference(match.group(1), path)
            secret = secret or bool(ref.get("secret"))
            return "" if ref["value"] is None else str(ref["value"])

        return {"value": _INTERPOLATION.sub(substitute, text), "secret": secret, "trace": trace}

    def reference(self, ref: str, path: str) -> dict[str, Any]:
        if ref in self.active:
            raise EscError(400, f"cyclic reference to {ref} at {path}")
        self.active.add(ref)
        try:
            node: Any = self.root
            for name, index, quoted in _PATH_PART.findall(ref):
                node = node[int(index)] if index else node[name or json.loads(f'"{quoted}"')]
        except (KeyError, IndexError, TypeError):
            raise EscError(400, f"unknown property {ref} referenced at {path}") from None
        try:
            return self.value(node, ref)
        finally:
            self.active.discard(ref)


class EscHandler(BaseHTTPRequestHandler):
    """Routes requests to ``state``; extend by subclassing and adding to ``routes``."""

    state: ClassVar[EscState]
    # (method, path regex under /api/esc, op name, handler method name)
    routes: ClassVar[list[tuple[str, str, str, str]]] = [
        ("POST", r"/environments/([^/]+)/([^/]+)/([^/]+)/open", "open", "handle_open"),
        ("GET", r"/environments/([^/]+)/([^/]+)/([^/]+)/open/([^/]+)", "read", "handle_read"),
        (
            "GET",
            r"/environments/([^/]+)/([^/]+)/([^/]+)/open//([^/]+)",
            "read_property",
            "handle_read_property",
        ),
    ]
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet: pytest shows failures, not access logs."""

    def do_GET(self) -> None:
        self.dispatch("GET")

    def do_POST(self) -> None:
        self.dispatch("POST")

    def do_PATCH(self) -> None:
        self.dispatch("PATCH")

    def do_DELETE(self) -> None:
        self.dispatch("DELETE")

    def do_HEAD(self) -> None:
        self.dispatch("HEAD")

    # -- plumbing --------------------------------------------------------------------------

    def dispatch(self, method: str) -> None:
        url = urlsplit(self.path)
        self.query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        self.body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        route = self.match(method, url.path)
        op = route[0] if route else None
        authorized = self.state.check_token(self.headers.get("Authorization"))
        self.pending = (method, url.path, op, authorized, self.headers.get("Accept"))
        try:
            fault = self.state.take_fault(op)
            if fault is not None and fault.delay:
                self.state.stopping.wait(fault.delay)
            if fault is not None and fault.hold is not None:
                fault.hold.arrived.set()
                while not (fault.hold.released.wait(0.05) or self.state.stopping.is_set()):
                    pass
            if fault is not None and fault.status is not None:
                self.send_json(fault.status, fault.body or {}, fault.headers)
                return
            if route is None:
                raise EscError(404, f"no route for {method} {url.path}")
            if not authorized:
                raise EscError(401, "Unauthorized: No credentials provided or are invalid.")
            _, handler, args = route
            getattr(self, handler)(*args)
        except EscError as exc:
            self.send_json(exc.status, {"message": exc.message, "code": exc.status})
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout tests)

    def send_response(self, code: int, message: str | None = None) -> None:
        # Recorded before the first byte goes out, so a client that got its answer can
        # already see its request in state.requests.
        with self.state.lock:
            self.state.requests.append(RecordedRequest(*self.pending, code))
        super().send_response(code, message)

    def match(self, method: str, path: str) -> tuple[str, str, list[str]] | None:
        if not path.startswith(API_PREFIX):
            return None
        rest = path[len(API_PREFIX) :]
        for route_method, pattern, op, handler in self.routes:
            found = re.fullmatch(pattern, rest)
            if route_method == method and found:
                return op, handler, [unquote(g) for g in found.groups()]
        return None

    def send_json(self, status: int, data: Any, headers: dict[str, str] | None = None) -> None:
        payload = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    # -- endpoints -------------------------------------------------------------------------

    def handle_open(self, org: str, project: str, name: str) -> None:
        env = self.state.environment(org, project, name)
        self.send_json(200, {"id": self.state.open(env, self.query.get("duration"))})

    def handle_read(self, org: str, project: str, name: str, session_id: str) -> None:
        env = self.state.environment(org, project, name)
        session = self.state.session(env, session_id)
        self.send_json(200, {"properties": session.properties})

    def handle_read_property(self, org: str, project: str, name: str, session_id: str) -> None:
        env = self.state.environment(org, project, name)
        session = self.state.session(env, session_id)
        path = self.query.get("property")
        if not path:
            raise EscError(400, "missing property")
        self.send_json(200, _value_at(session.properties, path))


class EscServer:
    """The server: ``url`` is the ESC API base (``.../api/esc``), ``backend_url`` the host."""

    def __init__(
        self, state: EscState | None = None, handler: type[EscHandler] = EscHandler
    ) -> None:
        self.state = state or EscState()
        bound = type("BoundEscHandler", (handler,), {"state": self.state})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), bound)
        self.httpd.daemon_threads = True
        self.httpd.block_on_close = False
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def backend_url(self) -> str:
        """What ``PULUMI_BACKEND_URL`` would be."""
        host, port = self.httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def url(self) -> str:
        """The ESC API base URL."""
        return self.backend_url + API_PREFIX

    @property
    def token(self) -> str:
        """A valid token."""
        return sorted(self.state.tokens)[0]

    def start(self) -> EscServer:
        """Serve in a background thread."""
        self.thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and wake any deliberately slow handler."""
        self.state.stopping.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)

    def __enter__(self) -> EscServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@pytest.fixture
def esc_server() -> Iterator[EscServer]:
    """A fresh local ESC server on 127.0.0.1 with token ``pul-test-token`` and no environments."""
    with EscServer() as server:
        yield server


def _deep_merge(target: dict[str, Any], source: dict[str, Any]) -> None:
    for key, value in source.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict) and SECRET_FN not in value:
            _deep_merge(target[key], value)
        else:
            target[key] = value


def _value_at(properties: dict[str, Any], path: str) -> dict[str, Any]:
    node: Any = {"value": properties}
    for name, index, quoted in _PATH_PART.findall(path):
        container = node.get("value")
        try:
            node = container[int(index)] if index else container[name or json.loads(f'"{quoted}"')]
        except (KeyError, IndexError, TypeError):
            raise EscError(404, f"property {path} not found") from None
    return dict(node)


def _duration_seconds(text: str) -> float:
    units = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600}
    parts = re.findall(r"(\d*\.\d+|\d+)(ns|us|µs|ms|s|m|h)", text)
    if not parts:
        raise EscError(400, f"invalid duration {text!r}")
    return sum(float(number) * units[unit] for number, unit in parts)


_POS = {"line": 0, "column": 0, "byte": 0}
_REASONS = {
    400: "Bad request",
    401: "Unauthorized: No credentials provided or are invalid.",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}
