"""An environment's namespace: made when missing, as ``helm --create-namespace`` does.

``secrets sync --to kubernetes`` and ``deploy`` call :func:`ensure_namespace` before their first
write and say when they created it. Where the user may not create namespaces (403), the error
names the command a cluster admin runs.
"""

from __future__ import annotations

from typing import Any

from sophia_platform.kube import raw
from sophia_platform.kube.client import ApiError


def namespace_exists(api: Any, namespace: str) -> bool:
    """Tell whether ``namespace`` exists (a 403 on the read counts as existing: we may not look)."""
    try:
        raw.get(api, f"read namespace {namespace}", f"/api/v1/namespaces/{namespace}")
    except ApiError as e:
        if e.status == 404:
            return False
        if e.status == 403:
            return True  # the writes that follow will say what is not allowed
        raise
    return True


def ensure_namespace(api: Any, namespace: str) -> bool:
    """Create ``namespace`` if it does not exist; True if this call created it."""
    if namespace_exists(api, namespace):
        return False
    body = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}}
    try:
        raw.create(api, f"create namespace {namespace}", "/api/v1/namespaces", body)
    except ApiError as e:
        if e.status == 409:
            return False  # made meanwhile by someone else
        if e.status == 403:
            raise ApiError(
                f"namespace {namespace} does not exist and these credentials may not create it "
                "(403 Forbidden)",
                status=403,
                hint=f"ask a cluster admin to run `kubectl create namespace {namespace}`, "
                "then run this command again",
            ) from e
        raise
    return True
