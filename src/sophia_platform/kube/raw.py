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
    from urllib3.exceptions import HTTPError

    params = "&".join(f"{k}={quote(v, safe='')}" for k, v in query.items())
    target = path + (f"?{params}" if params else "")
    fast = api.read_path if isinstance(api, Api) else None
    try:
        if fast is not None:  # no kubernetes import: see kube/kubeconfig.py
            status, body = fast.get(target, REQUEST_TIMEOUT)
        else:
            url = api.configuration.host + target
            headers = {"Accept": "application/json"}
            api.update_params_for_auth(headers, [], ["BearerToken"], url, "GET", None)
            response = api.rest_client.request(
                "GET", url, headers=headers, _request_timeout=REQUEST_TIMEOUT
            )
            status, body = response.status, response.read()
    except (HTTPError, OSError) as e:
        raise unreachable(what, e) from e
    if not 200 <= status < 300:
        raise answered(what, status, _reason(body), body)
    data: dict[str, Any] = json.loads(body)
    return Raw(data)


def _reason(body: bytes) -> str:
    try:
        return str(json.loads(body).get("reason") or "error")
    except (ValueError, AttributeError):
        return re.sub(r"\s+", " ", body[:80].decode(errors="replace"))
