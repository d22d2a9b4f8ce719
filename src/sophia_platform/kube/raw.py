"""Read API objects as plain JSON, skipping the generated models (fast in a fresh process).

The generated client builds a pydantic model class for every type it touches, which costs
seconds in a short-lived ``sophia status``. Readers here GET the JSON and wrap it in
:class:`Raw`, a dict whose attributes follow the models' snake_case names, so code written
against the models (``pod.metadata.deletion_timestamp``) reads raw objects unchanged.
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


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


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
    return send(api, what, "GET", path, **query)


MERGE_PATCH = "application/merge-patch+json"
APPLY_PATCH = "application/apply-patch+yaml"  # server-side apply (JSON is YAML)


def send(
    api: Any,
    what: str,
    method: str,
    path: str,
    body: Any = None,
    content_type: str = "application/json",
    **query: str,
) -> Raw:
    """``method`` on ``path`` with a JSON ``body``; the answer as :class:`Raw` (else ApiError).

    Writes go the same fast way as reads: no ``kubernetes`` import, no discovery round.
    """
    from urllib3.exceptions import HTTPError

    params = "&".join(f"{k}={quote(v, safe='')}" for k, v in query.items())
    target = path + (f"?{params}" if params else "")
    data = json.dumps(body).encode() if body is not None else None
    ctype = content_type if data is not None else None
    fast = api.read_path if isinstance(api, Api) else None
    try:
        if fast is not None:  # no kubernetes import: see kube/kubeconfig.py
            status, answer = fast.request(method, target, REQUEST_TIMEOUT, data, ctype)
        else:
            url = api.configuration.host + target
            headers = {"Accept": "application/json", **({"Content-Type": ctype} if ctype else {})}
            api.update_params_for_auth(headers, [], ["BearerToken"], url, method, None)
            response = api.rest_client.request(  # it serialises ``body`` as JSON
                method, url, headers=headers, body=body, _request_timeout=REQUEST_TIMEOUT
            )
            status, answer = response.status, response.read()
    except (HTTPError, OSError) as e:
        raise unreachable(what, e) from e
    if not 200 <= status < 300:
        raise answered(what, status, _reason(answer), answer)
    loaded: dict[str, Any] = json.loads(answer) if answer else {}
    return Raw(loaded)


def patch(api: Any, what: str, path: str, body: dict[str, Any]) -> Raw:
    """A JSON merge patch (lists in it replace the live ones whole)."""
    return send(api, what, "PATCH", path, body, MERGE_PATCH)


def server_side_apply(api: Any, what: str, path: str, doc: dict[str, Any]) -> Raw:
    """Server-side apply ``doc`` at its object ``path`` as field manager sophia (forced)."""
    return send(api, what, "PATCH", path, doc, APPLY_PATCH, fieldManager="sophia", force="true")


def delete(api: Any, what: str, path: str, **query: str) -> Raw:
    """DELETE ``path`` (ApiError 404 when absent)."""
    return send(api, what, "DELETE", path, **query)


def _reason(body: bytes) -> str:
    try:
        return str(json.loads(body).get("reason") or "error")
    except (ValueError, AttributeError):
        return re.sub(r"\s+", " ", body[:80].decode(errors="replace"))
