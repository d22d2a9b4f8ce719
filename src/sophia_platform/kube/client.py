"""Connect to a cluster by kubeconfig context; convert the client's exceptions where they enter."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sophia_platform.errors import CheckFailed, ExternalError

# Every API call gets a deadline so a dead API server never hangs a command.
REQUEST_TIMEOUT = (3.0, 15.0)


def kubeconfig_path(explicit: Path | None = None) -> Path | None:
    """Return the kubeconfig to read: explicit, else the first of $KUBECONFIG, else default."""
    if explicit is not None:
        return explicit
    env = os.environ.get("KUBECONFIG", "")
    first = next((p for p in env.split(os.pathsep) if p), None)
    return Path(first) if first else None


def contexts(kubeconfig: Path | None) -> list[str]:
    """Context names defined in the kubeconfig (empty if it cannot be read)."""
    from kubernetes import config

    try:
        found, _active = config.list_kube_config_contexts(  # type: ignore[no-untyped-call]
            config_file=str(kubeconfig) if kubeconfig else None
        )
    except (config.ConfigException, OSError):
        return []
    return [str(c["name"]) for c in found]


def connect(kubeconfig: Path | None, context: str) -> Any:
    """Connect to ``context``; refuses (exit 1) when the kubeconfig lacks that context."""
    from kubernetes import config

    names = contexts(kubeconfig)
    if context not in names:
        where = str(kubeconfig) if kubeconfig else "~/.kube/config"
        raise CheckFailed(
            f"kube context {context!r} is not in {where}",
            hint="check environments.<env>.context in sophia.yaml or set KUBECONFIG",
        )
    try:
        return config.new_client_from_config(  # type: ignore[no-untyped-call]
            config_file=str(kubeconfig) if kubeconfig else None,
            context=context,
            persist_config=False,
        )
    except (config.ConfigException, OSError, ValueError) as e:
        raise ExternalError(f"cannot load kube context {context!r}: {e}") from e


class ApiError(ExternalError):
    """The API server answered with an error status, or could not be reached (status None)."""

    def __init__(self, message: str, *, status: int | None, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.status = status


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
        reason = getattr(e, "reason", "") or "error"
        status = int(e.status) if isinstance(e.status, int) else None
        raise ApiError(f"{what}: API server answered {e.status} {reason}", status=status) from e
    except (HTTPError, OSError) as e:
        raise ApiError(
            status=None,
            message=f"{what}: cannot reach the API server ({type(e).__name__})",
            hint="is the cluster up? `sophia dev status` for the local one",
        ) from e
