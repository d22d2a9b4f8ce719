"""A small Pulumi ESC REST client: open an environment and read its resolved values.

Uses urllib from the standard library rather than httpx: it is two JSON requests, retry and
backoff are ours either way (httpx does not retry on 5xx), and an application importing the
config library should not pay httpx/httpcore/anyio import time in its startup path. The module
is imported only when the ESC layer first loads, so ``import sophia_platform.config`` stays light.

Endpoints (Pulumi ESC API, see shared/API_NOTES.md):
  POST {base}/environments/{org}/{project}/{env}/open          -> {"id": ..., "diagnostics": ...}
  GET  {base}/environments/{org}/{project}/{env}/open/{id}     -> {"properties": {name: Value}}
where a Value is ``{"value": ..., "secret": bool, "unknown": bool, "trace": ...}`` and ``value``
nests objects (name -> Value) and arrays (list of Value).
"""

from __future__ import annotations

import http.client
import json
import random
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sophia_platform.config.esc_ref import DEFAULT_BASE_URL, EscRef, base_url_from_backend

__all__ = [
    "DEFAULT_BASE_URL",
    "EscApiError",
    "EscRef",
    "RetryPolicy",
    "base_url_from_backend",
    "flatten",
    "open_and_read",
]

ACCEPT = "application/vnd.pulumi+8"
MAX_RESPONSE_BYTES = 32 * 1024 * 1024
_LOOPBACK = {"127.0.0.1", "localhost", "::1"}
_SIMPLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")


class EscApiError(Exception):
    """ESC could not be read; ``retryable`` says whether trying again may help."""

    def __init__(self, reason: str, *, status: int | None = None, retryable: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status
        self.retryable = retryable


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently to talk to ESC."""

    attempts: int = 3
    request_timeout: float = 5.0
    backoff: float = 0.25
    max_backoff: float = 5.0

    def delay(self, attempt: int, retry_after: float | None) -> float:
        """Exponential backoff with jitter, or the server's Retry-After when it gave one."""
        if retry_after is not None:
            return min(retry_after, self.max_backoff)
        base = min(self.backoff * float(2**attempt), self.max_backoff)
        return base * (0.5 + random.random() / 2)  # jitter keeps replicas from retrying in step


def open_and_read(
    base_url: str,
    ref: EscRef,
    token: str,
    policy: RetryPolicy = RetryPolicy(),
    *,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Any]:
    """Open ``ref`` and return its resolved ``properties`` (secrets decrypted), with retries."""
    session = _with_retries(
        lambda: _request("POST", ref.url(base_url, "open"), token, policy), policy, sleep
    )
    session_id = session.get("id") if isinstance(session, dict) else None
    if not isinstance(session_id, str) or not session_id:
        raise EscApiError("ESC open returned no session id")
    read_url = ref.url(base_url, "open", session_id)
    env = _with_retries(lambda: _request("GET", read_url, token, policy), policy, sleep)
    properties = env.get("properties") if isinstance(env, dict) else None
    if properties is None:
        return {}
    if not isinstance(properties, dict):
        raise EscApiError("ESC read returned malformed properties")
    return properties


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


def _with_retries(
    call: Callable[[], dict[str, Any]],
    policy: RetryPolicy,
    sleep: Callable[[float], None],
) -> dict[str, Any]:
    attempts = max(1, policy.attempts)
    for attempt in range(attempts):
        try:
            return call()
        except _Retry as retry:
            if attempt + 1 >= attempts:
                raise EscApiError(
                    f"{retry.reason} (gave up after {attempts} attempts)",
                    status=retry.status,
                    retryable=True,
                ) from None
            sleep(policy.delay(attempt, retry.retry_after))
    raise AssertionError("unreachable")  # pragma: no cover


class _Retry(Exception):
    def __init__(self, reason: str, status: int | None, retry_after: float | None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status
        self.retry_after = retry_after


def _request(method: str, url: str, token: str, policy: RetryPolicy) -> dict[str, Any]:
    request = urllib.request.Request(
        url,
        method=method,
        data=b"" if method == "POST" else None,
        headers={
            "Authorization": f"token {token}",
            "Accept": ACCEPT,
            "Content-Type": "application/json",
            "User-Agent": "sophia-platform-config",
        },
    )
    host = urllib.parse.urlsplit(url).hostname or ""
    # A loopback ESC (tests, port-forwards) must not be sent through an HTTP(S)_PROXY.
    handlers = [urllib.request.ProxyHandler({})] if host in _LOOPBACK else []
    opener = urllib.request.build_opener(*handlers)
    try:
        with opener.open(request, timeout=policy.request_timeout) as response:
            body = response.read(MAX_RESPONSE_BYTES + 1)
    except urllib.error.HTTPError as exc:
        raise _http_error(exc) from None
    except (TimeoutError, OSError, http.client.HTTPException) as exc:
        reason = _network_reason(exc, policy.request_timeout)
        raise _Retry(f"cannot reach ESC at {host}: {reason}", None, None) from None
    if len(body) > MAX_RESPONSE_BYTES:
        raise EscApiError("ESC response is larger than 32 MiB")
    try:
        data = json.loads(body or b"{}")
    except ValueError:
        raise EscApiError("ESC answered with something that is not JSON") from None
    if not isinstance(data, dict):
        raise EscApiError("ESC answered with JSON that is not an object")
    return data


def _network_reason(exc: BaseException, timeout: float) -> str:
    if isinstance(exc, TimeoutError) or "timed out" in str(exc):
        return f"no answer within {timeout:g}s"
    reason = getattr(exc, "reason", None)
    if isinstance(reason, TimeoutError) or "timed out" in str(reason):
        return f"no answer within {timeout:g}s"
    text = getattr(reason, "strerror", None) or getattr(exc, "strerror", None) or str(reason or exc)
    return str(text)


def _http_error(exc: urllib.error.HTTPError) -> Exception:
    status = exc.code
    message = _error_message(exc)
    if status == 401:
        return EscApiError(
            f"ESC rejected the access token (401{message}): check PULUMI_ACCESS_TOKEN",
            status=status,
        )
    if status == 403:
        return EscApiError(
            f"the access token may not open this environment (403{message})", status=status
        )
    if status == 404:
        return EscApiError(
            f"ESC environment not found (404{message}): check SOPHIA_ESC_ENV", status=status
        )
    if status == 429 or status >= 500:
        return _Retry(f"ESC answered {status}{message}", status, _retry_after(exc))
    return EscApiError(f"ESC answered {status}{message}", status=status)


def _error_message(exc: urllib.error.HTTPError) -> str:
    # ESC errors are {"message": ..., "code": ...}; keep the message short and single-line.
    try:
        data = json.loads(exc.read(4096) or b"{}")
    except (ValueError, OSError):
        return ""
    message = data.get("message") if isinstance(data, dict) else None
    if not isinstance(message, str) or not message.strip():
        return ""
    return ": " + " ".join(message.split())[:200]


def _retry_after(exc: urllib.error.HTTPError) -> float | None:
    value = exc.headers.get("Retry-After") if exc.headers else None
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None
