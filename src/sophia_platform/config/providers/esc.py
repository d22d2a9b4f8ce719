"""Layer 3: Pulumi ESC, opened once per process through its REST API and cached.

Lifecycle: the first lookup starts a load in a background thread and waits for it at most
``startup_timeout`` seconds in total (every thread shares one deadline), so an app never blocks
longer than that however ESC misbehaves. Values are served from memory for ``ttl`` seconds;
after that the stale values keep being served while one background refresh runs. A failed
load is retried in the background after ``retry_after_failure`` seconds, never on the hot path.

Keys: ``OPENAI_API_KEY`` is looked up as, in order, the path the caller gave (``a.b[0]``), an
explicit mapping (from the spec's ``secrets.*.esc``), ``openai_api_key`` (the company's
lower_snake convention), ``OPENAI_API_KEY``, ``environmentVariables.OPENAI_API_KEY`` (what
``esc run`` exports), then ``<group>.openai_api_key`` for each configured group
(``SOPHIA_ESC_GROUPS``, e.g. ``sophia,secrets``). Nested values are flattened to Pulumi paths.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import weakref
from collections.abc import Callable, Mapping, Sequence

from sophia_platform.config.keys import Key
from sophia_platform.config.providers.base import LayerStatus
from sophia_platform.config.secret import SecretValue

log = logging.getLogger("sophia_platform.config")

# Returns the flattened values of one open+read; the default talks to the ESC REST API.
Loader = Callable[[], dict[str, str]]


class EscProvider:
    """Serves ESC values from a per-process cache that refreshes itself in the background."""

    name = "esc"

    def __init__(
        self,
        environment: str | None,
        token: SecretValue | None,
        *,
        base_url: str | None = None,
        ttl: float = 300.0,
        startup_timeout: float = 5.0,
        request_timeout: float = 5.0,
        attempts: int = 3,
        backoff: float = 0.25,
        retry_after_failure: float = 30.0,
        groups: Sequence[str] = (),
        paths: Mapping[str, str] | None = None,
        clock: Callable[[], float] = time.monotonic,
        loader: Loader | None = None,
    ) -> None:
        self._environment = environment
        self._token = token
        self._base_url = base_url
        self._ttl = ttl
        self._startup_timeout = startup_timeout
        self._request_timeout = request_timeout
        self._attempts = attempts
        self._backoff = backoff
        self._retry_after_failure = retry_after_failure
        self._groups = tuple(groups)
        self._paths = dict(paths or {})
        self._clock = clock
        self._loader = loader
        self._config_problem = self._check_settings()

        self._lock = threading.Lock()
        self._values: dict[str, str] | None = None
        self._expires_at = float("-inf")
        self._loading = False
        self._first_load = threading.Event()
        self._startup_deadline: float | None = None
        self._timed_out_waiting = False
        self._error: str | None = None
        self._next_attempt = float("-inf")
        self._loaded_at: float | None = None
        _reset_in_forked_children(self)
        self._candidates: dict[str, tuple[str, ...]] = {}

    # -- hot path ---------------------------------------------------------------------------

    def lookup(self, key: Key) -> str | None:
        """Return the ESC value for ``key`` from the cache (loading it on first use)."""
        values = self._values
        if values is None or self._clock() >= self._expires_at:
            values = self._slow_path()
            if values is None:
                return None
        candidates = self._candidates.get(key.path or key.name)
        if candidates is None:
            candidates = self._candidates_for(key)
        for path in candidates:
            value = values.get(path)
            if value is not None:
                return value
        return None

    # -- diagnostics ------------------------------------------------------------------------

    def searched(self, key: Key) -> str:
        """Describe the lookup, including why the layer had nothing (not configured, failed)."""
        paths = ", ".join(self._candidates_for(key))
        status = self.status()
        where = f"esc {self._environment or '(no environment)'} (paths {paths})"
        return where if status.state == "ok" else f"{where} [{status.state}: {status.detail}]"

    def status(self) -> LayerStatus:
        """Return how the ESC layer is doing."""
        if self._config_problem is not None:
            if self._environment is None:
                return LayerStatus(self.name, "not configured", self._config_problem)
            return LayerStatus(self.name, "failed", self._config_problem)
        with self._lock:
            if self._values is not None:
                age = self._clock() - (self._loaded_at or 0.0)
                detail = f"{self._environment}, {len(self._values)} values, loaded {age:.0f}s ago"
                if self._error is not None:
                    detail += f"; refresh failed, serving cached values: {self._error}"
                return LayerStatus(self.name, "ok", detail)
            if self._error is not None:
                return LayerStatus(self.name, "failed", f"{self._environment}: {self._error}")
            if self._timed_out_waiting:
                detail = (
                    f"{self._environment}: no answer within the {self._startup_timeout:g}s "
                    "startup timeout (SOPHIA_ESC_TIMEOUT); still trying in the background"
                )
                return LayerStatus(self.name, "failed", detail)
            if self._loading:
                return LayerStatus(self.name, "loading", f"opening {self._environment}")
            return LayerStatus(self.name, "ok", f"{self._environment}, not opened yet")

    def wait_until_loaded(self, timeout: float) -> bool:
        """Start loading if needed and wait up to ``timeout``; True once values are cached."""
        self._slow_path(wait=False)
        if timeout > 0:
            self._first_load.wait(timeout)
        return self._values is not None

    # -- internals --------------------------------------------------------------------------

    def _check_settings(self) -> str | None:
        if self._environment is None:
            return "no ESC environment (set SOPHIA_ESC_ENV=org/project/env)"
        from sophia_platform.config.esc_ref import EscRef

        try:
            EscRef.parse(self._environment)
        except ValueError:
            return f"SOPHIA_ESC_ENV={self._environment!r} is not org/project/env"
        if self._loader is None and (self._token is None or not self._token):
            return f"{self._environment}: PULUMI_ACCESS_TOKEN is not set"
        return None

    def _candidates_for(self, key: Key) -> tuple[str, ...]:
        cache_key = key.path or key.name
        found = self._candidates.get(cache_key)
        if found is not None:
            return found
        order: list[str] = []
        if key.path is not None:
            order.append(key.path)
        mapped = self._paths.get(key.name)
        if mapped:
            order.append(mapped)
        order += [key.lower, key.name, f"environmentVariables.{key.name}"]
        order += [f"{group}.{key.lower}" for group in self._groups]
        candidates = tuple(dict.fromkeys(order))
        if len(self._candidates) < 4096:  # bounded: keys are normally a fixed set
            self._candidates[cache_key] = candidates
        return candidates

    def _slow_path(self, *, wait: bool = True) -> dict[str, str] | None:
        if self._config_problem is not None:
            return None
        now = self._clock()
        with self._lock:
            if (
                not self._loading
                and now >= self._next_attempt
                and (self._values is None or now >= self._expires_at)
            ):
                self._start_load()
            if self._values is not None:
                return self._values  # fresh, or stale while a refresh runs
            if self._startup_deadline is None:
                self._startup_deadline = now + self._startup_timeout
            remaining = self._startup_deadline - now
        if wait and remaining > 0 and not self._first_load.wait(remaining):
            with self._lock:
                if self._values is None and not self._timed_out_waiting:
                    self._timed_out_waiting = True
                    log.warning(
                        "config layer esc: %s did not load within %gs; continuing without it",
                        self._environment,
                        self._startup_timeout,
                    )
        return self._values

    def _reset_after_fork(self) -> None:
        # A forked worker (gunicorn --preload) inherits the cache but neither the loader
        # thread nor a usable lock: start the child with fresh ones.
        self._lock = threading.Lock()
        if self._loading:
            self._loading = False
            self._next_attempt = float("-inf")
        if self._values is None and not self._first_load.is_set():
            self._first_load = threading.Event()
            self._startup_deadline = None

    def _start_load(self) -> None:
        self._loading = True
        thread = threading.Thread(target=self._load, name="sophia-config-esc", daemon=True)
        thread.start()

    def _load(self) -> None:
        error: str | None = None
        values: dict[str, str] | None = None
        try:
            values = (self._loader or self._load_from_api)()
        except Exception as exc:  # any failure becomes the layer's status; the app goes on
            error = _describe(exc)
        now = self._clock()
        with self._lock:
            self._loading = False
            if values is not None:
                self._values = values
                self._loaded_at = now
                self._expires_at = now + self._ttl
                self._error = None
            else:
                self._error = error
                self._next_attempt = now + self._retry_after_failure
                if self._values is not None:
                    # Keep serving the stale values from the fast path until the next try.
                    self._expires_at = self._next_attempt
        if error is not None:
            log.warning("config layer esc failed: %s: %s", self._environment, error)
        self._first_load.set()

    def _load_from_api(self) -> dict[str, str]:
        from sophia_platform.config.esc_api import (
            EscRef,
            RetryPolicy,
            base_url_from_backend,
            flatten,
            open_and_read,
        )

        assert self._environment is not None and self._token is not None
        policy = RetryPolicy(
            attempts=self._attempts, request_timeout=self._request_timeout, backoff=self._backoff
        )
        base = self._base_url or base_url_from_backend(None)
        ref = EscRef.parse(self._environment)
        return flatten(open_and_read(base, ref, self._token.reveal(), policy))


def _reset_in_forked_children(provider: EscProvider) -> None:
    ref = weakref.ref(provider)

    def reset() -> None:
        alive = ref()
        if alive is not None:
            alive._reset_after_fork()

    if hasattr(os, "register_at_fork"):
        os.register_at_fork(after_in_child=reset)


def _describe(exc: Exception) -> str:
    from sophia_platform.config.http import HttpError

    if isinstance(exc, HttpError):
        return exc.reason
    return f"unexpected {type(exc).__name__}"
