"""The one way to reach Kubernetes: a client from a kubeconfig and context, one error, one timeout.

- :func:`connect` builds the API client (the official ``kubernetes`` package) from a kubeconfig
  file and a context name; nothing else in the package loads a kubeconfig.
- :func:`call` runs one API call with :data:`REQUEST_TIMEOUT` and turns the client's exceptions
  into :class:`ApiError`, which keeps the HTTP status, its reason and the server's message
  (``status`` None: the server could not be reached). ``ApiError`` is an ``ExternalError``:
  exit 3 unless a caller decides a status means something else (404 = absent, 409 = lost race).
- :mod:`sophia_platform.kube.raw` reads JSON without the generated models, under the same rules.
"""

from __future__ import annotations

import json
import os
import ssl
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from sophia_platform.errors import CheckFailed, ExternalError

# The timeout policy: every API call gets (connect, read) deadlines so a dead API server never
# hangs a command. Long waits (rollouts, locks) are loops of short calls, never one long call.
REQUEST_TIMEOUT = (3.0, 30.0)
UNREACHABLE_HINT = "is the cluster up? `sophia dev cluster status` for the local one"


def kubeconfig_path(
    explicit: Path | None = None, environ: Mapping[str, str] | None = None
) -> Path | None:
    """Return the kubeconfig to read: explicit, else the first of $KUBECONFIG, else default."""
    if explicit is not None:
        return explicit
    env = (os.environ if environ is None else environ).get("KUBECONFIG", "")
    first = next((p for p in env.split(os.pathsep) if p), None)
    return Path(first) if first else None


def contexts(kubeconfig: Path | None) -> list[str]:
    """Context names defined in the kubeconfig (empty if it cannot be read)."""
    if kubeconfig is not None:
        from sophia_platform.kube import kubeconfig as kc

        try:
            return kc.load(kubeconfig).contexts
        except kc.KubeconfigError:
            return []
    from kubernetes import config

    try:
        found, _active = config.list_kube_config_contexts()  # type: ignore[no-untyped-call]
    except (config.ConfigException, OSError):
        return []
    return [str(c["name"]) for c in found]


class Api:
    """A connection to one cluster: what :func:`connect` returns.

    It stands for the official ``ApiClient`` (built on first use and reached through attribute
    access, so ``client.CoreV1Api(api)`` works as with the real one) and carries a fast read
    path that :mod:`.raw` uses without importing the ``kubernetes`` package — how a short
    ``sophia status`` stays short. ``read_path`` is None when the credentials need the
    official client (exec plugins, auth providers); reads then go through it.
    """

    def __init__(self, kubeconfig: Path | None, context: str | None, read_path: Any) -> None:
        self.kubeconfig, self.context, self.read_path = kubeconfig, context, read_path
        self._real: Any = None

    @property
    def real(self) -> Any:
        """The official ``kubernetes.client.ApiClient`` (loaded on first use)."""
        if self._real is None:
            self._real = _official_client(self.kubeconfig, self.context)
        return self._real

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name in {"_real", "kubeconfig", "context", "read_path"}:
            raise AttributeError(name)
        return getattr(self.real, name)

    def loaded(self) -> Api:
        """Build the official client now (its errors surface at connect time); return self."""
        _ = self.real
        return self

    def close(self) -> None:
        """Close the connection pools."""
        if self.read_path is not None:
            self.read_path.close()
        if self._real is not None:
            self._real.close()


def connect(kubeconfig: Path | None, context: str | None) -> Api:
    """A connection to ``context`` (None: the kubeconfig's current context).

    Refuses (exit 1) when the kubeconfig lacks a named context; exit 3 when it cannot be loaded.
    """
    where = str(kubeconfig) if kubeconfig else "~/.kube/config"
    if context is not None and context not in contexts(kubeconfig):
        raise CheckFailed(
            f"kube context {context!r} is not in {where}",
            hint="check environments.<env>.context in sophia.yaml or set KUBECONFIG",
        )
    if kubeconfig is None:
        return Api(None, context, None).loaded()
    from sophia_platform.kube import kubeconfig as kc

    try:
        parsed = kc.load(kubeconfig)
        name = context or parsed.current
        fast = kc.read_path(parsed, name) if name else None
    except (kc.KubeconfigError, OSError, ValueError, ssl.SSLError) as e:
        raise ExternalError(
            f"cannot load kube context {context or '(current)'!r} from {where}: {e}",
            hint="set KUBECONFIG or pass --kubeconfig",
        ) from e
    api = Api(kubeconfig, name, fast)
    return api if fast is not None else api.loaded()


def _official_client(kubeconfig: Path | None, context: str | None) -> Any:
    from kubernetes import config

    where = str(kubeconfig) if kubeconfig else "~/.kube/config"
    try:
        return config.new_client_from_config(  # type: ignore[no-untyped-call]
            config_file=str(kubeconfig) if kubeconfig else None,
            context=context,
            persist_config=False,
        )
    except (config.ConfigException, OSError, ValueError) as e:
        raise ExternalError(
            f"cannot load kube context {context or '(current)'!r} from {where}: {e}",
            hint="set KUBECONFIG or pass --kubeconfig",
        ) from e


class ApiError(ExternalError):
    """The API server answered with an error status, or could not be reached (status None)."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None,
        reason: str | None = None,
        detail: str = "",
        hint: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.status = status
        self.reason = reason  # the HTTP reason phrase, e.g. "Conflict"
        self.detail = detail  # the server's own message (Status.message), one line


def server_message(body: Any) -> str:
    """The ``message`` of a Kubernetes Status body, one line, clipped ("" if none)."""
    try:
        data = json.loads(body)
    except (TypeError, ValueError):
        return ""
    message = data.get("message") if isinstance(data, dict) else None
    return message.splitlines()[0][:200] if isinstance(message, str) and message else ""


def answered(what: str, status: int | None, reason: str | None, body: Any) -> ApiError:
    """The ApiError for an error answer (shared by :func:`call` and :mod:`raw`)."""
    detail = server_message(body)
    tail = f": {detail}" if detail else ""
    return ApiError(
        f"{what}: API server answered {status} {reason or 'error'}{tail}",
        status=status,
        reason=reason,
        detail=detail,
    )


def unreachable(what: str, exc: BaseException) -> ApiError:
    """The ApiError for a request that never got an answer."""
    return ApiError(
        f"{what}: cannot reach the API server ({type(exc).__name__})",
        status=None,
        hint=UNREACHABLE_HINT,
    )


def call(what: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call the API; connection and server errors become one-line ApiErrors.

    Results are ``Any``: the generated models make every field Optional, and the callers
    read them defensively anyway.
    """
    from kubernetes.client.exceptions import ApiException
    from urllib3.exceptions import HTTPError

    kwargs.setdefault("_request_timeout", REQUEST_TIMEOUT)
    try:
        return fn(*args, **kwargs)
    except ApiException as e:
        status = int(e.status) if isinstance(e.status, int) else None
        # from None: the client's exception holds the request and response bodies (a Secret's
        # data); the ApiError keeps status, reason and the server's message.
        raise answered(what, status, getattr(e, "reason", None), getattr(e, "body", None)) from None
    except (HTTPError, OSError) as e:
        raise unreachable(what, e) from e
