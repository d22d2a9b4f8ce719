"""The one Pulumi ESC client: open and read resolved values, and the definition's read/write side.

Used by the config library's ESC layer (``open_and_read``, imported on its first load) and by
the secrets pipeline's ``esc`` provider (everything). It is built on :mod:`.http` (httpx, the
one retry policy); this module, like that one, is never imported at ``import
sophia_platform.config`` time.

Endpoints (Pulumi ESC API, see shared/API_NOTES.md), under ``{backend}/api/esc``:
  POST  /environments/{org}/{project}/{env}/open          -> {"id": ...}   (a session; safe)
  GET   /environments/{org}/{project}/{env}/open/{id}     -> {"properties": {name: Value}}
  GET   /environments/{org}/{project}/{env}               -> the definition (YAML) + ETag
  GET   /environments/{org}/{project}/{env}/decrypt       -> the definition, secrets in plaintext
  GET   /environments/{org}/{project}/{env}/versions      -> revisions, newest first
  PATCH /environments/{org}/{project}/{env}   (If-Match)  -> replace the definition
where a Value is ``{"value": ..., "secret": bool, "unknown": bool, "trace": ...}`` and ``value``
nests objects (name -> Value) and arrays (list of Value).

Writes: a ``PATCH`` with ``If-Match`` may be retried after a failure in transit (see
:mod:`.http`); when the retry meets 409/412, :meth:`EscClient.patch` reads the decrypted
definition and, if it is exactly what was sent, the first attempt applied: success, not a
conflict. A ``PATCH`` without ``If-Match`` is never retried after a timeout.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from typing import Any

import httpx

from sophia_platform.config.esc_ref import DEFAULT_BASE_URL, EscRef, base_url_from_backend
from sophia_platform.config.http import (
    DEFAULT_POLICY,
    ConflictError,
    HttpClient,
    HttpError,
    NotFoundError,
    RetryPolicy,
)
from sophia_platform.errors import SophiaError

__all__ = [
    "DEFAULT_BASE_URL",
    "ConflictError",
    "EscApiError",
    "EscClient",
    "EscRef",
    "NotFoundError",
    "RetryPolicy",
    "base_url_from_backend",
    "flatten",
    "open_and_read",
]

ACCEPT = "application/vnd.pulumi+8"
SERVICE = "Pulumi ESC"
_SIMPLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")

# The ESC client's errors are the HTTP layer's: ``reason``, ``status``, ``retryable``.
EscApiError = HttpError


class EscClient:
    """Pulumi ESC over its REST API, for one backend and token."""

    def __init__(
        self,
        base_url: str,
        token: str,
        policy: RetryPolicy = DEFAULT_POLICY,
        *,
        env_source: str = "the ESC environment setting",
        user_agent: str = "sophia-platform",
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.env_source = env_source
        self.http = HttpClient(
            base_url,
            {
                "Authorization": f"token {token}",
                "Accept": ACCEPT,
                "User-Agent": user_agent,
            },
            service=SERVICE,
            policy=policy,
            on_error=self._on_error,
            transport=transport,
            sleep=sleep,
        )

    @property
    def requests(self) -> int:
        """HTTP requests made so far (retries included)."""
        return self.http.requests

    def _on_error(self, response: httpx.Response, where: str) -> SophiaError | None:
        status = response.status_code
        if status == 401:
            return HttpError(
                f"{where}: ESC rejected the access token (401); check PULUMI_ACCESS_TOKEN",
                status=status,
            )
        if status == 403:
            return HttpError(
                f"{where}: forbidden (403); the token needs 'write' (sync) or 'open' (read) "
                "permission on this environment",
                status=status,
                hint="grant it in Pulumi Cloud: Environments -> Settings -> Access",
            )
        if status == 404:
            return NotFoundError(
                f"{where}: not found (404); does the ESC environment exist? "
                f"(check {self.env_source})",
                status=status,
                hint="create it with 'esc env init org/project/env'",
            )
        return None

    # -- resolved values ----------------------------------------------------------------------
    def open_and_read(self, ref: EscRef) -> dict[str, Any]:
        """Open ``ref`` and return its resolved ``properties`` (secrets decrypted)."""
        path = _path(ref)
        session = _json(self.http.request("POST", f"{path}/open", idempotent=True))
        session_id = session.get("id") if isinstance(session, dict) else None
        if not isinstance(session_id, str) or not session_id:
            raise HttpError(f"{SERVICE}: open of {ref} returned no session id")
        body = _json(self.http.request("GET", f"{path}/open/{session_id}"))
        properties = body.get("properties") if isinstance(body, dict) else None
        if properties is None:
            return {}
        if not isinstance(properties, dict):
            raise HttpError(f"{SERVICE}: read of {ref} returned malformed properties")
        return properties

    # -- the definition -----------------------------------------------------------------------
    def definition(self, ref: EscRef) -> tuple[str, str | None]:
        """The definition as stored (secrets as ciphertext) and its ETag (the revision)."""
        response = self.http.request("GET", _path(ref))
        return response.text, response.headers.get("etag")

    def decrypted(self, ref: EscRef) -> str:
        """The definition with secrets in plaintext (needs the 'decrypt' permission)."""
        return self.http.request("GET", f"{_path(ref)}/decrypt").text

    def versions(self, ref: EscRef) -> list[dict[str, Any]]:
        """The revisions of the environment (each with ``created``), newest first."""
        data = _json(self.http.request("GET", f"{_path(ref)}/versions"))
        return [r for r in data if isinstance(r, dict)] if isinstance(data, list) else []

    def patch(self, ref: EscRef, definition: str, *, if_match: str | None) -> None:
        """Replace the definition in one PATCH; with ``if_match``, only over that revision.

        Raises :class:`ConflictError` when the environment changed since ``if_match`` was read
        (nothing written). After an ambiguous first attempt, a conflict whose decrypted state is
        exactly ``definition`` is our own write: success.
        """
        headers = {"Content-Type": "application/x-yaml"}
        if if_match:
            headers["If-Match"] = if_match
        try:
            self.http.request(
                "PATCH", _path(ref), content=definition.encode(), headers=headers, ok=(200, 204)
            )
        except ConflictError as exc:
            if exc.after_retry and _same_document(self.decrypted(ref), definition):
                return
            raise

    def close(self) -> None:
        """Close the connection pool."""
        self.http.close()


def _path(ref: EscRef) -> str:
    return ref.url("")  # "/environments/org/project/env", relative to the client's base URL


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        raise HttpError(
            f"{SERVICE}: {response.request.method} {response.request.url.path}: "
            "the answer is not JSON"
        ) from None


def _same_document(stored: str, sent: str) -> bool:
    import yaml  # deferred: only a retried write needs it

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        return bool(yaml.load(stored, Loader=loader) == yaml.load(sent, Loader=loader))
    except yaml.YAMLError:
        return False


def open_and_read(
    base_url: str,
    ref: EscRef,
    token: str,
    policy: RetryPolicy = DEFAULT_POLICY,
    *,
    env_source: str = "SOPHIA_ESC_ENV",
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Any]:
    """Open ``ref`` and return its resolved ``properties`` (the config layer's one call)."""
    client = EscClient(
        base_url,
        token,
        policy,
        env_source=env_source,
        user_agent="sophia-platform-config",
        sleep=sleep,
    )
    try:
        return client.open_and_read(ref)
    finally:
        client.close()


def flatten(properties: dict[str, Any]) -> dict[str, str]:
    """Flatten ESC Values to ``{"a.b": "x", "a.list[0]": "y"}``; unknown and null are skipped."""
    out: dict[str, str] = {}
    for name, value in properties.items():
        _flatten_value(_join(None, name), value, out)
    return out


def _flatten_value(path: str, node: Any, out: dict[str, str]) -> None:
    if not isinstance(node, dict) or node.get("unknown"):
        return
    value = node.get("value")
    if isinstance(value, dict):
        for name, child in value.items():
            _flatten_value(_join(path, str(name)), child, out)
    elif isinstance(value, list):
        for index, child in enumerate(value):
            _flatten_value(f"{path}[{index}]", child, out)
    elif isinstance(value, bool):
        out[path] = "true" if value else "false"
    elif isinstance(value, str):
        out[path] = value
    elif isinstance(value, int | float):
        out[path] = json.dumps(value)


def _join(parent: str | None, name: str) -> str:
    # Pulumi path syntax: a.b for plain names, a["odd.name"] for the rest.
    if _SIMPLE_NAME.fullmatch(name):
        return name if parent is None else f"{parent}.{name}"
    return f"{parent or ''}[{json.dumps(name)}]"
