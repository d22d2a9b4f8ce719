"""Give a bare local cluster what K3s provides: storage for claims and the nvidia RuntimeClass.

K3s ships the local-path provisioner; the local kwok-based control plane has none, so the
claims of a StatefulSet would stay Pending and its pods unschedulable. This pre-binds one
hostPath volume per claim (``claimRef``), which the real PV controller then binds: the same
path a cluster administrator's static provisioning takes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sophia_platform.kube.client import ApiError, call


def claims_of(values: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(claim name, size) of every StatefulSet pod's data volume in chart values."""
    claims = []
    for name, svc in (values.get("services") or {}).items():
        storage = svc.get("storage")
        if svc.get("kind") == "statefulset" and storage:
            claims += [(f"data-{name}-{i}", storage["size"]) for i in range(int(svc["replicas"]))]
    return claims


def ensure_static_volumes(api: Any, namespace: str, claims: list[tuple[str, str]]) -> list[str]:
    """Create a pre-bound hostPath PV for each claim that has none; return the PVs created."""
    from kubernetes import client

    core = client.CoreV1Api(api)
    created = []
    for claim, size in claims:
        name = f"local-{namespace}-{claim}"[:253]
        body = client.V1PersistentVolume(
            metadata=client.V1ObjectMeta(name=name, labels={"sophia.dev/local-volume": "true"}),
            spec=client.V1PersistentVolumeSpec(
                capacity={"storage": size},
                access_modes=["ReadWriteOnce"],
                persistent_volume_reclaim_policy="Delete",
                host_path=client.V1HostPathVolumeSource(path=f"/var/lib/sophia-local/{name}"),
                claim_ref=client.V1ObjectReference(namespace=namespace, name=claim),
            ),
        )
        try:
            call("create local volume", core.create_persistent_volume, body)
            created.append(name)
        except ApiError as e:
            if e.status != 409:
                raise
    return created


def ensure_runtime_class(api: Any, name: str = "nvidia") -> bool:
    """Create the GPU RuntimeClass K3s registers when it finds the NVIDIA runtime; True if new."""
    from kubernetes import client

    node = client.NodeV1Api(api)
    body = client.V1RuntimeClass(metadata=client.V1ObjectMeta(name=name), handler=name)
    try:
        call("create runtime class", node.create_runtime_class, body)
    except ApiError as e:
        if e.status == 409:
            return False
        raise
    return True
