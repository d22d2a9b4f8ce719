"""Simulated nodes: one kwok-managed Node per entry of the spec's ``nodes:``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

KWOK_ANNOTATION = "kwok.x-k8s.io/node"
GPU_RESOURCE = "nvidia.com/gpu"
GPU_TYPE_LABEL = "gpu-type"
# Every simulated machine gets the same CPU and memory; only GPUs differ between nodes,
# because GPU placement is what the platform's scheduling cares about.
NODE_CPU = "32"
NODE_MEMORY = "128Gi"
NODE_PODS = "110"


@dataclass(frozen=True)
class NodeSpec:
    """What the local cluster needs to know about one inventory node."""

    name: str
    role: str = "agent"
    labels: dict[str, str] = field(default_factory=dict)
    gpu_type: str | None = None
    gpu_count: int = 0


def node_manifest(node: NodeSpec) -> dict[str, Any]:
    """Build the Node object kwok will adopt: labels, role, and GPU capacity for GPU nodes."""
    labels = {
        **node.labels,
        "kubernetes.io/hostname": node.name,
        "kubernetes.io/os": "linux",
        "kubernetes.io/arch": "amd64",
        "type": "kwok",
    }
    if node.role == "server":
        labels["node-role.kubernetes.io/control-plane"] = ""
    if node.gpu_type:
        labels[GPU_TYPE_LABEL] = node.gpu_type
    capacity = {"cpu": NODE_CPU, "memory": NODE_MEMORY, "pods": NODE_PODS}
    if node.gpu_count > 0:
        capacity[GPU_RESOURCE] = str(node.gpu_count)
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": node.name,
            "labels": labels,
            "annotations": {KWOK_ANNOTATION: "fake", "node.alpha.kubernetes.io/ttl": "0"},
        },
        "spec": {},
        # A Node is created with its status (as a kubelet registers); kwok keeps capacity
        # and allocatable as given and fills in conditions, addresses and nodeInfo.
        "status": {"capacity": dict(capacity), "allocatable": dict(capacity)},
    }
