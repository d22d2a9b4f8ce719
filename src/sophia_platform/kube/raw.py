"""API objects as plain JSON, skipping the generated models (fast in a fresh process).

The generated client builds a pydantic model class for every type it touches, which costs
seconds in a short-lived ``sophia status``. Readers here GET the JSON and wrap it in
:class:`Raw`, a dict whose attributes follow the models' snake_case names, so code written
against the models (``pod.metadata.deletion_timestamp``) reads raw objects unchanged. The few
writes a deploy makes (namespace, Lease, records, a stuck Helm revision) go the same way,
with plain JSON bodies: a ``sophia deploy`` never imports the ``kubernetes`` package when the
kubeconfig holds a token or a client certificate.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any
from urllib.parse import quote

from sophia_platform.kube.client import REQUEST_TIMEOUT, Api, answered, unreachable

_TIME_KEYS = frozenset(
    {
        "creationTimestamp",
        "deletionTimestamp",
        "renewTime",
        "acquireTime",
        "lastTimestamp",
        "eventTime",
    }
)


_CAMEL: dict[str, str] = {}  # snake_case attribute -> JSON key, for the few dozen names used


def _camel(name: str) -> str:
    key = _CAMEL.get(name)
    if key is None:
        head, *rest = name.split("_")
        key = _CAMEL[name] = head + "".join(part[:1].upper() + part[1:] for part in rest)
    return key


def _wrap(value: Any) -> Any:
    if isinstance(value, dict):
        return Raw(value)
    if isinstance(value, list):
        return [_wrap(v) for v in value]
    return value


class Raw:
    """A JSON object readable like a generated model: missing fields read as None.

    Not a dict subclass on purpose: a list's ``.items`` must be the objects, not dict.items.
    """

    __slots__ = ("_data",)

    def __init__(self, data: dict[str, Any]) -> None:
        self._data = data

    def __getattr__(self, name: str) -> Any:
        key = _camel(name)
        if key not in self._data:
            return None
        value = self._data[key]
        if key in _TIME_KEYS and isinstance(value, str):
            return datetime.fromisoformat(value.replace("Z", "+00:00"))
        return _wrap(value)

    def __getitem__(self, key: str) -> Any:
        return _wrap(self._data[key])

    def __contains__(self, key: object) -> bool:
        return key in self._data

    def __bool__(self) -> bool:
        return bool(self._data)

    def get(self, key: str, default: Any = None) -> Any:
        """Like dict.get, on the JSON keys."""
        return _wrap(self._data[key]) if key in self._data else default

    def to_dict(self) -> dict[str, Any]:
        """The JSON object."""
        return self._data


def get(api: Any, what: str, path: str, **query: str) -> Raw:
    """GET ``path`` (with query parameters) as a :class:`Raw` object."""
    return Raw(json.loads(send(api, what, "GET", path, **query)))


def text(api: Any, what: str, path: str, **query: str) -> str:
    """GET ``path`` as text (a pod's log)."""
    return send(api, what, "GET", path, **query).decode(errors="replace")


def create(api: Any, what: str, path: str, body: dict[str, Any]) -> Raw:
    """POST ``body`` to the collection ``path``; the created object (409: it exists)."""
    return Raw(json.loads(send(api, what, "POST", path, body=body)))


def replace(api: Any, what: str, path: str, body: dict[str, Any]) -> Raw:
    """PUT ``body`` at ``path`` (guarded by its ``metadata.resourceVersion`` when set)."""
    return Raw(json.loads(send(api, what, "PUT", path, body=body)))


def delete(api: Any, what: str, path: str, *, uid: str | None = None, **query: str) -> None:
    """DELETE the object at ``path`` (404: it was not there; 409: ``uid`` is not its uid)."""
    body = {"kind": "DeleteOptions", "apiVersion": "v1", "preconditions": {"uid": uid}}
    send(api, what, "DELETE", path, body=body if uid else None, **query)


MERGE_PATCH = "application/merge-patch+json"
APPLY_PATCH = "application/apply-patch+yaml"  # server-side apply (JSON is YAML)


def patch(api: Any, what: str, path: str, body: dict[str, Any]) -> Raw:
    """A JSON merge patch of the object at ``path`` (a list in it replaces the live one)."""
    return Raw(json.loads(send(api, what, "PATCH", path, body=body, content_type=MERGE_PATCH)))


def server_side_apply(api: Any, what: str, path: str, doc: dict[str, Any]) -> Raw:
    """Server-side apply ``doc`` at its object ``path`` as field manager sophia (forced)."""
    answer = send(
        api,
        what,
        "PATCH",
        path,
        body=doc,
        content_type=APPLY_PATCH,
        fieldManager="sophia",
        force="true",
    )
    return Raw(json.loads(answer))


def send(
    api: Any,
    what: str,
    method: str,
    path: str,
    *,
    body: Any = None,
    content_type: str = "application/json",
    **query: str,
) -> bytes:
    """Send one request; the answer's body, or an :class:`ApiError` (the one timeout policy)."""
    params = "&".join(f"{k}={quote(v, safe='')}" for k, v in query.items())
    target = path + (f"?{params}" if params else "")
    fast = api.read_path if isinstance(api, Api) else None
    payload = json.dumps(body).encode() if body is not None else None
    if fast is not None:  # no kubernetes, no urllib3 import: see kube/kubeconfig.py
        try:
            status, answer = fast.request(method, target, payload, REQUEST_TIMEOUT, content_type)
        except OSError as e:
            raise unreachable(what, e) from e
    else:
        from urllib3.exceptions import HTTPError

        try:
            status, answer = _official(api, method, target, payload, content_type)
        except (HTTPError, OSError) as e:
            raise unreachable(what, e) from e
    if not 200 <= status < 300:
        raise answered(what, status, _reason(answer), answer)
    return bytes(answer)


def _official(
    api: Any, method: str, target: str, payload: bytes | None, content_type: str
) -> tuple[int, bytes]:
    """The same request through the official client's pool and auth (exec plugins, ...)."""
    url = api.configuration.host + target
    headers = {"Accept": "application/json"}
    if payload is not None:
        headers["Content-Type"] = content_type
    api.update_params_for_auth(headers, [], ["BearerToken"], url, method, None)
    response = api.rest_client.pool_manager.request(
        method,
        url,
        body=payload,
        headers=headers,
        preload_content=True,
        timeout=_timeout(),
    )
    return int(response.status), bytes(response.data)


def _timeout() -> Any:
    import urllib3

    return urllib3.Timeout(connect=REQUEST_TIMEOUT[0], read=REQUEST_TIMEOUT[1])


def _reason(body: bytes) -> str:
    try:
        return str(json.loads(body).get("reason") or "error")
    except (ValueError, AttributeError):
        return re.sub(r"\s+", " ", body[:80].decode(errors="replace"))
