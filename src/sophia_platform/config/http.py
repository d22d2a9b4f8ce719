"""The one HTTP client of the SaaS APIs (Pulumi ESC, GitHub): httpx, timeouts, one retry policy.

It lives in ``config/`` because ``config/`` is the lowest layer: the config library's ESC layer
and the secrets providers both use it, and ``config/`` may import nothing else of the package.
This module imports httpx at its top, so nothing imports it at ``import sophia_platform.config``
time: the ESC layer imports it on its first load (in a background thread), the providers when
they are built. (httpx costs ~60 ms to import; an app that never reads ESC never pays it.)

The retry policy — one, for every caller; only the numbers differ:

- **reads** (GET, HEAD, OPTIONS) and requests the caller marks ``idempotent`` (ESC's ``open``,
  a POST that creates a throw-away session; GitHub's PUT of a secret, which sets a value) are
  retried after transport errors, timeouts, 429 and 5xx, with exponential backoff and jitter
  (``Retry-After`` honoured, capped at ``max_backoff``);
- **writes** (POST, PATCH, ...) are retried only when they provably did not apply: the
  connection could not be made (refused, connect timeout: nothing was sent) or the server
  answered 429 (rate limited: not processed). After a read timeout, a reset or a 5xx the write
  may have been applied, so it is **not** retried and the error says so;
- **guarded writes** (the caller sends ``If-Match``) are retried like reads: if the first
  attempt did apply, the retry cannot apply again — the revision moved, the server answers
  409/412, and :class:`ConflictError` carries ``after_retry=True`` so the caller can check
  whether the state it finds is the one it sent (see ``EscClient.patch``).

Errors are ``ExternalError`` (exit 3) and name the service, the method, the path and the
status — never a header or a body we sent, because those can hold secrets.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from sophia_platform.errors import ExternalError, SophiaError

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
# status -> a message naming what to do; filled in by each client (e.g. the scope needed).
ErrorHook = Callable[[httpx.Response, str], SophiaError | None]


class HttpError(ExternalError):
    """A request failed; ``reason`` is the one-line message, ``status`` the HTTP status if any."""

    def __init__(
        self,
        reason: str,
        *,
        status: int | None = None,
        retryable: bool = False,
        hint: str | None = None,
    ) -> None:
        super().__init__(reason, hint=hint)
        self.reason = reason
        self.status = status
        self.retryable = retryable


class ConflictError(HttpError):
    """The remote object changed since it was read (HTTP 409/412); re-plan and retry.

    ``after_retry``: the 409/412 answered a retry of a guarded write whose first attempt failed
    in transit — that first attempt may be what moved the revision.
    """

    def __init__(self, reason: str, *, status: int | None = None, after_retry: bool = False):
        super().__init__(reason, status=status)
        self.after_retry = after_retry


class NotFoundError(HttpError):
    """The remote object does not exist (HTTP 404)."""


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently to talk to a service."""

    attempts: int = 3
    request_timeout: float = 5.0
    connect_timeout: float | None = None  # None: same as request_timeout
    backoff: float = 0.25
    max_backoff: float = 5.0

    def delay(self, attempt: int, retry_after: float | None) -> float:
        """Exponential backoff with jitter (attempt 0: the first retry), or the Retry-After."""
        if retry_after is not None:
            return min(retry_after, self.max_backoff)
        base = min(self.backoff * float(2**attempt), self.max_backoff)
        return base * (0.5 + random.random() / 2)  # jitter keeps replicas from retrying in step


DEFAULT_POLICY = RetryPolicy()


def _not_sent(exc: httpx.TransportError) -> bool:
    """True when the request never left: the connection itself failed."""
    return isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout)


def _describe(exc: httpx.TransportError, timeout: float) -> str:
    if isinstance(exc, httpx.TimeoutException):
        return f"no answer within {timeout:g}s"
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text[:120]}" if text else type(exc).__name__


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def server_message(response: httpx.Response) -> str:
    """The server's own short message (APIs put it in ``message``), one line, clipped."""
    try:
        body = response.json()
    except ValueError:
        return ""
    message = body.get("message") if isinstance(body, dict) else None
    if not isinstance(message, str) or not message.strip():
        return ""
    return ": " + " ".join(message.split())[:200]


class HttpClient:
    """One base URL, fixed headers, the retry policy above; counts requests and writes."""

    def __init__(
        self,
        base_url: str,
        headers: Mapping[str, str],
        *,
        service: str,
        policy: RetryPolicy = DEFAULT_POLICY,
        on_error: ErrorHook | None = None,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.service = service
        self.policy = policy
        self.requests = 0
        self.writes = 0
        self._on_error = on_error
        self._sleep = sleep
        host = urlsplit(base_url).hostname or ""
        self.host = host
        connect = policy.connect_timeout or policy.request_timeout
        self._client = httpx.Client(
            base_url=base_url.rstrip("/"),
            headers=dict(headers),
            timeout=httpx.Timeout(policy.request_timeout, connect=connect),
            transport=transport,
            # A loopback service (tests, port-forwards) is never sent through HTTP(S)_PROXY.
            trust_env=host not in _LOOPBACK,
        )

    def request(
        self,
        method: str,
        path: str,
        *,
        ok: tuple[int, ...] = (200,),
        idempotent: bool | None = None,
        headers: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        """Send a request under the retry policy; return an ``ok`` response or raise."""
        safe = method in READ_METHODS if idempotent is None else idempotent
        guarded = any(k.lower() == "if-match" for k in (headers or {}))
        retry_freely = safe or guarded
        where = f"{self.service}: {method} {path}"
        attempts = max(1, self.policy.attempts)
        for attempt in range(attempts):
            last = attempt + 1 >= attempts
            self.requests += 1
            if method not in READ_METHODS:
                self.writes += 1
            try:
                response = self._client.request(method, path, headers=headers, **kwargs)
            except httpx.InvalidURL as exc:
                raise HttpError(f"{where}: invalid URL ({exc})") from None
            except httpx.TransportError as exc:
                reason = _describe(exc, self.policy.request_timeout)
                if not (retry_freely or _not_sent(exc)):
                    raise HttpError(
                        f"{where}: {reason}; the write may have been applied, so it was not "
                        "retried",
                        hint="check the remote state, then re-run (plans re-read it)",
                    ) from None
                if last:
                    raise HttpError(
                        f"{where}: cannot reach {self.host}: {reason} "
                        f"(gave up after {attempts} attempts)",
                        retryable=True,
                        hint="check the URL and the network, then re-run",
                    ) from None
                self._sleep(self.policy.delay(attempt, None))
                continue
            if response.status_code in ok:
                return response
            status = response.status_code
            may_retry = status in RETRY_STATUSES and (retry_freely or status == 429)
            if may_retry and not last:
                self._sleep(self.policy.delay(attempt, _retry_after(response)))
                continue
            error = self._error(response, where, after_retry=attempt > 0)
            if may_retry and isinstance(error, HttpError):
                error.reason = error.message = f"{error.reason} (gave up after {attempts} attempts)"
                error.retryable = True
            raise error
        raise AssertionError("unreachable")  # pragma: no cover

    def _error(self, response: httpx.Response, where: str, *, after_retry: bool) -> SophiaError:
        status = response.status_code
        detail = server_message(response)
        if status in (409, 412):
            return ConflictError(
                f"{where}: conflict ({status}){detail}", status=status, after_retry=after_retry
            )
        if self._on_error is not None:
            custom = self._on_error(response, where)
            if custom is not None:
                return custom
        if status == 404:
            return NotFoundError(f"{where}: not found (404){detail}", status=status)
        if status == 401:
            return HttpError(
                f"{where}: unauthorized (401){detail}; the token is missing or invalid",
                status=status,
            )
        return HttpError(f"{where}: HTTP {status}{detail}", status=status)

    def close(self) -> None:
        """Close the connection pool."""
        self._client.close()
