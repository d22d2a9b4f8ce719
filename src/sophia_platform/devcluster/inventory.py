"""The nodes to simulate, taken from the spec's ``nodes:`` inventory."""

from __future__ import annotations

import os
from pathlib import Path

from sophia_platform.devcluster.nodes import NodeSpec
from sophia_platform.errors import UsageError
from sophia_platform.spec import Spec, load_spec

EXAMPLE_SPEC = Path(__file__).resolve().parents[3] / "examples" / "sophia-ai" / "sophia.yaml"


def default_spec_path(explicit: Path | None = None) -> Path:
    """Pick ``explicit``, else ``$SOPHIA_SPEC``, else ./sophia.yaml, else the Sophia AI example."""
    if explicit is not None:
        return explicit
    env = os.environ.get("SOPHIA_SPEC")
    if env:
        return Path(env)
    if Path("sophia.yaml").is_file():
        return Path("sophia.yaml")
    if EXAMPLE_SPEC.is_file():
        return EXAMPLE_SPEC
    raise UsageError("no sophia.yaml found", hint="pass --spec PATH or run in your repo's root")


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
