"""``cluster verify``: the live cluster against the spec, read through the API only.

Every gap carries the command that closes it. Checked: each node registered and Ready, its
K3s version (kubelet) equal to the pinned one, labels and taints as the spec says, on GPU
nodes allocatable ``nvidia.com/gpu`` equal to the spec's count and a passed smoke Job, and
cluster-wide the ``nvidia`` RuntimeClass and a healthy device plugin DaemonSet.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sophia_platform.cluster import gpu, kubeside
from sophia_platform.cluster.inventory import Inventory
from sophia_platform.spec.facts import SpecFacts


@dataclass(frozen=True)
class Gap:
    """One difference between the spec and the cluster, and how to fix it."""

    subject: str
    problem: str
    fix: str


@dataclass
class NodeReport:
    """What verify saw on one node."""

    name: str
    ready: bool
    version: str | None
    gpus_allocatable: int
    gpus_wanted: int
    smoke: str


@dataclass
class VerifyReport:
    """The whole verification (``ok`` when there is no gap)."""

    env: str
    context: str
    nodes: list[NodeReport] = field(default_factory=list)
    runtime_class: bool = False
    device_plugin: dict[str, Any] = field(default_factory=dict)
    gaps: list[Gap] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """No gap found."""
        return not self.gaps


def verify(spec: SpecFacts, inv: Inventory, api: Any) -> VerifyReport:
    """Compare the cluster behind ``api`` with the spec's inventory."""
    env, pin = inv.env, spec.cluster.k3s_version
    report = VerifyReport(env, inv.context)
    up, sync = f"sophia cluster up {env}", f"sophia cluster labels sync {env}"
    live = kubeside.list_nodes(api)
    jobs = gpu.smoke_jobs(api) if any(n.gpu_count for n in inv.nodes) else {}
    for node in inv.nodes:
        obj = live.get(node.name)
        if obj is None:
            report.gaps.append(Gap(node.name, "not registered", up))
            report.nodes.append(NodeReport(node.name, False, None, 0, node.gpu_count, "-"))
            continue
        ready = kubeside.is_ready(obj)
        version = obj.status.node_info.kubelet_version if obj.status.node_info else None
        if not ready:
            report.gaps.append(Gap(node.name, "not Ready", up))
        if version != pin:
            report.gaps.append(
                Gap(
                    node.name,
                    f"runs {version}, spec pins {pin}",
                    f"sophia cluster upgrade {env} --to {pin}",
                )
            )
        d = kubeside.drift(node, obj)
        if not d.empty:
            report.gaps.append(Gap(node.name, d.describe(), sync))
        alloc = kubeside.allocatable_gpus(obj)
        smoke = "-"
        if node.gpu_count:
            if alloc != node.gpu_count:
                report.gaps.append(
                    Gap(node.name, f"allocatable nvidia.com/gpu {alloc}, spec {node.gpu_count}", up)
                )
            result = gpu.smoke_state(node.name, jobs.get(node.name))
            smoke = result.state
            if result.state != "passed":
                why = f" ({result.detail})" if result.detail else ""
                report.gaps.append(Gap(node.name, f"GPU smoke Job {result.state}{why}", up))
        report.nodes.append(NodeReport(node.name, ready, version, alloc, node.gpu_count, smoke))
    if any(n.gpu_count for n in inv.nodes):
        report.runtime_class = gpu.runtime_class_present(api)
        if not report.runtime_class:
            report.gaps.append(Gap("cluster", "RuntimeClass nvidia missing", up))
        health = gpu.plugin_health(api)
        report.device_plugin = {
            "present": health.present,
            "desired": health.desired,
            "ready": health.ready,
        }
        if not health.healthy:
            report.gaps.append(
                Gap(
                    "cluster",
                    f"device plugin DaemonSet unhealthy ({health.ready}/{health.desired} ready)",
                    up,
                )
            )
    return report
