"""The nodes to simulate, taken from the spec's ``nodes:`` inventory."""

from __future__ import annotations

from pathlib import Path

from sophia_platform.devcluster.nodes import NodeSpec
from sophia_platform.spec import Spec, load_spec


def nodes_of(spec: Spec) -> list[NodeSpec]:
    """Turn the spec's inventory into the nodes the local cluster simulates."""
    return [
        NodeSpec(
            name=name,
            role=node.role,
            labels=dict(node.labels),
            gpu_type=node.gpu.type if node.gpu else node.labels.get("gpu-type"),
            gpu_count=node.gpu.count if node.gpu else 0,
        )
        for name, node in spec.nodes.items()
    ]


def nodes_from_spec(path: Path) -> list[NodeSpec]:
    """Load and validate the spec at ``path`` and return its nodes."""
    return nodes_of(load_spec(path))
