"""An environment's namespace: made when missing, as ``helm --create-namespace`` does.

``secrets sync --to kubernetes`` and ``deploy`` call :func:`ensure_namespace` before their first
write and say when they created it. Where the user may not create namespaces (403), the error
names the command a cluster admin runs.
"""

from __future__ import annotations

from typing import Any

from sophia_platform.kube.client import ApiError, call


def namespace_exists(api: Any, namespace: str) -> bool:
    """Tell whether ``namespace`` exists (a 403 on the read counts as existing: we may not look)."""
    from kubernetes import client

    try:
        call(f"read namespace {namespace}", client.CoreV1Api(api).read_namespace, namespace)
    except ApiError as e:
        if e.status == 404:
            return False
        if e.status == 403:
            return True  # the writes that follow will say what is not allowed
        raise
    return True


def ensure_namespace(api: Any, namespace: str) -> bool:
    """Create ``namespace`` if it does not exist; True if this call created it."""
    from kubernetes import client

    if namespace_exists(api, namespace):
        return False
    body = client.V1Namespace(metadata=client.V1ObjectMeta(name=namespace))
    try:
        call(f"create namespace {namespace}", client.CoreV1Api(api).create_namespace, body)
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
