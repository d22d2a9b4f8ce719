"""HTTP for the ESC and GitHub providers: timeouts, retries on 429/5xx, errors converted here.

Every request is counted (the benchmark reports it). Error messages carry the method, the path
and the status — never a header or a body we sent, because those can hold secrets.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

import httpx

from sophia_platform.errors import ExternalError, SophiaError

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
# status -> a message naming what to do; filled in by each provider (e.g. the scope needed).
ErrorHook = Callable[[httpx.Response, str], SophiaError | None]


class ConflictError(ExternalError):
    """The remote object changed since it was read (HTTP 409/412); re-plan and retry."""


class NotFoundError(ExternalError):
    """The remote object does not exist (HTTP 404)."""


class HttpClient:
    """A thin httpx.Client wrapper: one base URL, fixed headers, bounded retries."""

    def __init__(
        self,
        base_url: str,
        headers: Mapping[str, str],
        *,
        service: str,
        on_error: ErrorHook | None = None,
        timeout: float = 30.0,
        retries: int = 4,
        backoff: float = 0.5,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.service = service
        self.requests = 0
        self.writes = 0
        self._on_error = on_error
        self._retries = retries
        self._backoff = backoff
        self._client = httpx.Client(
            base_url=base_url.rstrip("/"),
            headers=dict(headers),
            timeout=httpx.Timeout(timeout, connect=10.0),
            transport=transport,
        )

    def request(
        self,
        method: str,
        path: str,
        *,
        ok: tuple[int, ...] = (200,),
        **kwargs: Any,
    ) -> httpx.Response:
        """Send a request, retrying 429/5xx and transport errors; return an ``ok`` response."""
        attempt = 0
        while True:
            attempt += 1
            self.requests += 1
            if method not in ("GET", "HEAD"):
                self.writes += 1
            try:
                response = self._client.request(method, path, **kwargs)
            except httpx.HTTPError as exc:
                if attempt <= self._retries and not isinstance(exc, httpx.InvalidURL):
                    time.sleep(self._delay(attempt, None))
                    continue
                raise ExternalError(
                    f"{self.service}: {method} {path} failed: {type(exc).__name__}",
                    hint="check the URL and the network, then re-run",
                ) from exc
            if response.status_code in ok:
                return response
            if response.status_code in RETRY_STATUSES and attempt <= self._retries:
                time.sleep(self._delay(attempt, response))
                continue
            raise self._error(response, method, path)

    def _delay(self, attempt: int, response: httpx.Response | None) -> float:
        if response is not None:
            retry_after = response.headers.get("retry-after")
            if retry_after and retry_after.isdigit():
                return min(float(retry_after), 30.0)
        return float(min(self._backoff * 2 ** (attempt - 1), 8.0))

    def _error(self, response: httpx.Response, method: str, path: str) -> SophiaError:
        where = f"{self.service}: {method} {path}"
        if self._on_error is not None:
            custom = self._on_error(response, where)
            if custom is not None:
                return custom
        status = response.status_code
        detail = _server_message(response)
        if status in (409, 412):
            return ConflictError(f"{where}: conflict ({status}){detail}")
        if status == 404:
            return NotFoundError(f"{where}: not found (404){detail}")
        if status == 401:
            return ExternalError(f"{where}: unauthorized (401); the token is missing or invalid")
        return ExternalError(f"{where}: HTTP {status}{detail}")

    def close(self) -> None:
        """Close the connection pool."""
        self._client.close()


def _server_message(response: httpx.Response) -> str:
    """The server's own short message (APIs put it in ``message``), one line, clipped."""
    try:
        body = response.json()
    except ValueError:
        return ""
    message = body.get("message") if isinstance(body, dict) else None
    if not isinstance(message, str) or not message:
        return ""
    return ": " + message.splitlines()[0][:200]
