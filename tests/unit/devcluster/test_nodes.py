from __future__ import annotations

from pathlib import Path

from sophia_platform.devcluster.inventory import nodes_from_spec
from sophia_platform.devcluster.nodes import NodeSpec, node_manifest


def test_gpu_node_gets_label_annotation_and_capacity() -> None:
    node = NodeSpec("ai-core", labels={"sophia.dev/pool": "ai"}, gpu_type="GH200", gpu_count=2)
    manifest = node_manifest(node)
    labels = manifest["metadata"]["labels"]
    assert labels["gpu-type"] == "GH200"
    assert labels["sophia.dev/pool"] == "ai"
    assert labels["kubernetes.io/hostname"] == "ai-core"
    assert manifest["metadata"]["annotations"]["kwok.x-k8s.io/node"] == "fake"
    assert manifest["status"]["capacity"]["nvidia.com/gpu"] == "2"
    assert manifest["status"]["allocatable"]["nvidia.com/gpu"] == "2"


def test_cpu_node_has_no_gpu_resource_and_server_is_control_plane() -> None:
    manifest = node_manifest(NodeSpec("control", role="server"))
    assert "nvidia.com/gpu" not in manifest["status"]["capacity"]
    assert "gpu-type" not in manifest["metadata"]["labels"]
    assert "node-role.kubernetes.io/control-plane" in manifest["metadata"]["labels"]


def test_example_spec_nodes(example_spec_path: Path) -> None:
    nodes = {n.name: n for n in nodes_from_spec(example_spec_path)}
    assert len(nodes) == 5
    assert nodes["ai-core"].gpu_type == "GH200"
    assert all(n.gpu_count >= 1 for n in nodes.values())
