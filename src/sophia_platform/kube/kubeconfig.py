"""Read a kubeconfig without the ``kubernetes`` package, for the fast path of :mod:`.raw`.

Importing ``kubernetes`` loads every generated API and model (about a third of a short
``sophia status``). ``connect`` therefore reads the kubeconfig itself first: the context names
(to refuse a wrong one) and, for the common credentials — a bearer token (``token`` /
``tokenFile``), a client certificate (``client-certificate[-data]`` + ``client-key[-data]``),
the CA (``certificate-authority[-data]``) or ``insecure-skip-tls-verify`` — what a plain HTTPS
request needs (reads, and the few writes a deploy makes). Anything else (``exec``,
``auth-provider``, basic auth, proxies) is left to the official client: :func:`read_path`
returns ``None`` and every request goes through it.
"""

from __future__ import annotations

import base64
import contextlib
import os
import select
import ssl
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

_SUPPORTED_USER_KEYS = frozenset(
    {
        "token",
        "tokenFile",
        "client-certificate",
        "client-certificate-data",
        "client-key",
        "client-key-data",
    }
)
_SUPPORTED_CLUSTER_KEYS = frozenset(
    {
        "server",
        "certificate-authority",
        "certificate-authority-data",
        "insecure-skip-tls-verify",
        "extensions",
    }
)


class KubeconfigError(ValueError):
    """The kubeconfig cannot be read or lacks what was asked for."""


@dataclass(frozen=True)
class Kubeconfig:
    """The parts of a kubeconfig file Sophia reads itself."""

    path: Path
    data: dict[str, Any] = field(repr=False)

    @property
    def contexts(self) -> list[str]:
        """Context names, in file order."""
        return [str(c.get("name")) for c in self.data.get("contexts") or [] if c.get("name")]

    @property
    def current(self) -> str | None:
        """The ``current-context``."""
        value = self.data.get("current-context")
        return str(value) if value else None

    def _named(self, section: str, name: str) -> dict[str, Any]:
        for item in self.data.get(section) or []:
            if item.get("name") == name:
                inner = item.get(section[:-1]) or {}
                return dict(inner) if isinstance(inner, dict) else {}
        raise KubeconfigError(f"{section[:-1]} {name!r} is not in {self.path}")

    def _file_or_data(self, entry: dict[str, Any], key: str) -> tuple[str | None, bytes | None]:
        if entry.get(f"{key}-data"):
            return None, base64.b64decode(str(entry[f"{key}-data"]))
        if entry.get(key):
            path = Path(str(entry[key]))
            return str(path if path.is_absolute() else self.path.parent / path), None
        return None, None


def load(path: Path) -> Kubeconfig:
    """Parse ``path`` (libyaml when available: this is on every command's start-up path)."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=loader)
    except (OSError, yaml.YAMLError) as e:
        raise KubeconfigError(f"cannot read {path}: {e}") from e
    if not isinstance(data, dict):
        raise KubeconfigError(f"{path} is not a kubeconfig")
    return Kubeconfig(path, data)


@dataclass
class ReadPath:
    """What plain HTTPS requests to one cluster need: server, headers, an SSL context.

    Requests go over the standard library's ``http.client`` (urllib3 is a tenth of a short
    ``sophia status``), one keep-alive connection per thread: the deploy's Lease renewer
    and its rollout watch run side by side.
    """

    server: str
    headers: dict[str, str] = field(repr=False)
    ssl_context: ssl.SSLContext | None = field(repr=False)
    _local: threading.local = field(default_factory=threading.local, repr=False)
    _open: list[Any] = field(default_factory=list, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def get(self, path: str, timeout: tuple[float, float]) -> tuple[int, bytes]:
        """GET ``server + path``; returns (status, body). Raises OSError on a transport error."""
        return self.request("GET", path, None, timeout)

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None,
        timeout: tuple[float, float],
        content_type: str = "application/json",
    ) -> tuple[int, bytes]:
        """Send ``method`` to ``server + path`` (``body``: JSON); returns (status, body).

        Never retried here: whether a write may be repeated is the caller's decision (409 on
        create, ``resourceVersion`` on replace). A kept-alive connection the server has
        closed is noticed before a request is written on it (as urllib3 does), not after.
        """
        import http.client

        split = urlsplit(self.server)
        headers = {**self.headers, "Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = content_type  # JSON, or a patch type of JSON
        conn = self._connection(split, timeout)
        try:
            conn.request(method, split.path + path, body=body, headers=headers)
            response = conn.getresponse()
            data = response.read()
        except http.client.HTTPException as e:
            self._drop(conn)
            raise ConnectionError(f"{type(e).__name__}: {e}") from e
        except OSError:
            self._drop(conn)
            raise
        if response.will_close:
            self._drop(conn)
        return int(response.status), bytes(data)

    def _connection(self, split: Any, timeout: tuple[float, float]) -> Any:
        import http.client

        conn = getattr(self._local, "conn", None)
        if conn is not None and conn.sock is not None and not _dropped(conn.sock):
            return conn
        if conn is not None:
            self._drop(conn)
        conn = http.client.HTTPSConnection(
            split.hostname or "", split.port or 443, timeout=timeout[0], context=self.ssl_context
        )
        conn.connect()  # within the connect deadline; then reads get theirs
        conn.sock.settimeout(timeout[1])
        self._local.conn = conn
        with self._lock:
            self._open.append(conn)
        return conn

    def _drop(self, conn: Any) -> None:
        conn.close()
        if getattr(self._local, "conn", None) is conn:
            self._local.conn = None
        with self._lock, contextlib.suppress(ValueError):
            self._open.remove(conn)

    def close(self) -> None:
        """Close every connection."""
        with self._lock:
            found, self._open = self._open, []
        for conn in found:
            conn.close()


def _dropped(sock: Any) -> bool:
    """True when an idle kept-alive socket was closed by the server (readable means EOF)."""
    try:
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)


def read_path(config: Kubeconfig, context: str) -> ReadPath | None:
    """The fast read path for ``context``, or None when its credentials need the official client."""
    ctx = config._named("contexts", context)
    cluster = config._named("clusters", str(ctx.get("cluster")))
    user = config._named("users", str(ctx.get("user"))) if ctx.get("user") else {}
    if set(user) - _SUPPORTED_USER_KEYS or set(cluster) - _SUPPORTED_CLUSTER_KEYS:
        return None
    server = str(cluster.get("server") or "").rstrip("/")
    if not server.startswith("https://"):
        return None
    headers: dict[str, str] = {}
    token = user.get("token")
    if not token and user.get("tokenFile"):
        token = Path(str(user["tokenFile"])).read_text(encoding="utf-8").strip()
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return ReadPath(server, headers, _ssl_context(config, cluster, user))


def _ssl_context(
    config: Kubeconfig, cluster: dict[str, Any], user: dict[str, Any]
) -> ssl.SSLContext:
    if cluster.get("insecure-skip-tls-verify"):
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    else:
        ca_file, ca_data = config._file_or_data(cluster, "certificate-authority")
        context = ssl.create_default_context(
            cafile=ca_file, cadata=ca_data.decode() if ca_data else None
        )
    cert_file, cert_data = config._file_or_data(user, "client-certificate")
    key_file, key_data = config._file_or_data(user, "client-key")
    if cert_data is not None or key_data is not None:
        # load_cert_chain reads files only: a private directory, gone once they are loaded.
        with tempfile.TemporaryDirectory(prefix="sophia-kube-") as tmp:
            if cert_data is not None:
                cert_file = os.path.join(tmp, "cert.pem")
                _write_private(cert_file, cert_data)
            if key_data is not None:
                key_file = os.path.join(tmp, "key.pem")
                _write_private(key_file, key_data)
            if cert_file:
                context.load_cert_chain(cert_file, key_file)
    elif cert_file:
        context.load_cert_chain(cert_file, key_file)
    return context


def _write_private(path: str, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
