"""The nodes to simulate, read from the spec's ``nodes:`` inventory."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from sophia_platform.devcluster.nodes import NodeSpec
from sophia_platform.errors import InputError, UsageError

EXAMPLE_SPEC = Path(__file__).resolve().parents[3] / "examples" / "sophia-ai" / "sophia.yaml"


def default_spec_path(explicit: Path | None = None) -> Path:
    """``explicit``, else ``$SOPHIA_SPEC``, else ./sophia.yaml, else the Sophia AI example."""
    for candidate in (explicit, os.environ.get("SOPHIA_SPEC"), "sophia.yaml"):
        if candidate:
            path = Path(candidate)
            if path.is_file() or candidate is explicit:
                return path
    if EXAMPLE_SPEC.is_file():
        return EXAMPLE_SPEC
    raise UsageError("no sophia.yaml found", hint="pass --spec PATH or run in your repo's root")


def nodes_from_spec(path: Path) -> list[NodeSpec]:
    """Read the ``nodes:`` of the spec at ``path`` as :class:`NodeSpec` objects."""
    # TODO(spec): switch to sophia_platform.spec.load_spec once it lands on main.
    try:
        data: Any = YAML(typ="safe", pure=True).load(path.read_text())
    except (OSError, YAMLError) as exc:
        raise InputError(f"cannot read {path}: {exc}") from exc
    raw_nodes = (data or {}).get("nodes") or {}
    nodes = []
    for name, raw in raw_nodes.items():
        raw = raw or {}
        gpu = raw.get("gpu") or {}
        labels = {str(k): str(v) for k, v in (raw.get("labels") or {}).items()}
        nodes.append(
            NodeSpec(
                name=str(name),
                role=str(raw.get("role", "agent")),
                labels=labels,
                gpu_type=gpu.get("type") or labels.get("gpu-type"),
                gpu_count=int(gpu.get("count", 0)),
            )
        )
    return nodes
