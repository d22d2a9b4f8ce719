"""The API side of the bootstrap: nodes Ready, labels and taints as the spec says, cordon/drain.

Every call goes through :mod:`sophia_platform.kube.client` (one ApiError). Labels and taints
that ``sophia`` set are remembered in two node annotations, so a key removed from the spec is
removed from the node, while labels others set (K3s, GPU feature discovery) are left alone.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sophia_platform.cluster.inventory import GPU_RESOURCE, ClusterNode, Taint
from sophia_platform.errors import ExternalError
from sophia_platform.kube import raw
from sophia_platform.kube.client import ApiError, call

MANAGED_LABELS = "sophia.dev/managed-labels"
MANAGED_TAINTS = "sophia.dev/managed-taints"
POLL_S = 0.2


def core(api: Any) -> Any:
    """CoreV1Api on ``api``."""
    from kubernetes import client

    return client.CoreV1Api(api)


def list_nodes(api: Any) -> dict[str, Any]:
    """Every Node by name (raw JSON objects)."""
    return {n.metadata.name: n for n in raw.get(api, "list nodes", "/api/v1/nodes").items or []}


def is_ready(node: Any) -> bool:
    """The Node's Ready condition is True."""
    return any(c.type == "Ready" and c.status == "True" for c in (node.status.conditions or []))


def allocatable_gpus(node: Any) -> int:
    """status.allocatable["nvidia.com/gpu"] (0 when absent)."""
    alloc = node.status.allocatable
    return int(alloc.get(GPU_RESOURCE, 0)) if alloc else 0


def wait_until(what: str, check: Callable[[], bool], timeout_s: float) -> None:
    """Poll ``check`` until True; ExternalError naming ``what`` after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise ExternalError(f"timed out after {timeout_s:.0f}s waiting for {what}")
        time.sleep(POLL_S)


@dataclass(frozen=True)
class Drift:
    """How one node's labels and taints differ from the spec."""

    node: str
    set_labels: dict[str, str] = field(default_factory=dict)
    remove_labels: list[str] = field(default_factory=list)
    add_taints: list[str] = field(default_factory=list)
    remove_taints: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        """No difference."""
        return not (self.set_labels or self.remove_labels or self.add_taints or self.remove_taints)

    def describe(self) -> str:
        """One line, e.g. ``label gpu-type=A100 (is A10); taint -x:NoSchedule``."""
        parts = [f"label {k}={v}" for k, v in self.set_labels.items()]
        parts += [f"remove label {k}" for k in self.remove_labels]
        parts += [f"taint {t}" for t in self.add_taints]
        parts += [f"remove taint {t}" for t in self.remove_taints]
        return "; ".join(parts)


def _csv(value: str | None) -> list[str]:
    return [v for v in (value or "").split(",") if v]


def _taint_str(t: Any) -> str:
    return str(Taint(t.key, t.value or "", t.effect))


def drift(node: ClusterNode, live: Any) -> Drift:
    """Compare a live Node with the spec's labels and taints."""
    labels = dict(live.metadata.labels.to_dict()) if live.metadata.labels else {}
    notes = live.metadata.annotations.to_dict() if live.metadata.annotations else {}
    set_labels = {k: v for k, v in node.labels.items() if labels.get(k) != v}
    remove = [k for k in _csv(notes.get(MANAGED_LABELS)) if k not in node.labels and k in labels]
    live_taints = {_taint_str(t) for t in (live.spec.taints or [])}
    wanted = {str(t) for t in node.taints}
    managed = set(_csv(notes.get(MANAGED_TAINTS)))
    return Drift(
        node.name,
        set_labels,
        sorted(remove),
        sorted(wanted - live_taints),
        sorted((managed - wanted) & live_taints),
    )


def sync_labels(api: Any, node: ClusterNode, live: Any) -> Drift:
    """Patch labels, taints and the managed-keys annotations; return what was changed."""
    d = drift(node, live)
    notes = live.metadata.annotations.to_dict() if live.metadata.annotations else {}
    want_notes = {
        MANAGED_LABELS: ",".join(sorted(node.labels)),
        MANAGED_TAINTS: ",".join(sorted(str(t) for t in node.taints)),
    }
    notes_stale = any(notes.get(k, "") != v for k, v in want_notes.items())
    if d.empty and not notes_stale:
        return d
    labels: dict[str, str | None] = {**d.set_labels, **dict.fromkeys(d.remove_labels)}
    patch: dict[str, Any] = {"metadata": {"labels": labels, "annotations": want_notes}}
    if d.add_taints or d.remove_taints:
        drop = set(d.remove_taints)
        kept = [t.to_dict() for t in (live.spec.taints or []) if _taint_str(t) not in drop]
        for text in d.add_taints:
            t = Taint.parse(text)
            kept.append(
                {"key": t.key, "effect": t.effect, **({"value": t.value} if t.value else {})}
            )
        patch["spec"] = {"taints": kept}  # a merge patch: the list replaces the live one
    raw.patch(api, f"label node {node.name}", f"/api/v1/nodes/{node.name}", patch)
    return d


def cordon(api: Any, name: str, unschedulable: bool = True) -> None:
    """Mark a node (un)schedulable."""
    body = {"spec": {"unschedulable": unschedulable}}
    raw.patch(api, f"cordon {name}", f"/api/v1/nodes/{name}", body)


def _evictable(pod: Any) -> bool:
    owners = pod.metadata.owner_references or []
    if any(o.kind == "DaemonSet" for o in owners):
        return False  # kubectl drain --ignore-daemonsets
    if (pod.metadata.annotations or {}).get("kubernetes.io/config.mirror"):
        return False
    return pod.status.phase not in ("Succeeded", "Failed")


def drain(
    api: Any, name: str, *, timeout_s: float, on_wait: Callable[[str], None] | None = None
) -> list[str]:
    """Evict every pod of the node through the eviction API; return the pods evicted.

    PodDisruptionBudgets are respected: a 429 is retried until the budget allows it or
    ``timeout_s`` passes (then ExternalError).
    """
    from kubernetes import client

    api_core = core(api)
    deadline = time.monotonic() + timeout_s
    pods = [
        p
        for p in call(
            f"list pods on {name}",
            api_core.list_pod_for_all_namespaces,
            field_selector=f"spec.nodeName={name}",
        ).items
        if _evictable(p)
    ]
    evicted: list[str] = []
    for pod in pods:
        ns, pod_name = pod.metadata.namespace, pod.metadata.name
        body = client.V1Eviction(metadata=client.V1ObjectMeta(name=pod_name, namespace=ns))
        while True:
            try:
                call(
                    f"evict {ns}/{pod_name}",
                    api_core.create_namespaced_pod_eviction,
                    pod_name,
                    ns,
                    body,
                )
                evicted.append(f"{ns}/{pod_name}")
                break
            except ApiError as e:
                if e.status == 404:
                    break
                if e.status != 429 or time.monotonic() > deadline:
                    if e.status == 429:
                        raise ExternalError(
                            f"drain {name}: evicting {ns}/{pod_name} is refused by a "
                            f"PodDisruptionBudget for {timeout_s:.0f}s",
                            hint="scale the workload up or relax its PodDisruptionBudget",
                        ) from e
                    raise
                if on_wait:
                    on_wait(f"{ns}/{pod_name} waits for its PodDisruptionBudget")
                time.sleep(1.0)
    _wait_pods_gone(api_core, [(p.metadata.namespace, p.metadata.name) for p in pods], deadline)
    return evicted


def _wait_pods_gone(api_core: Any, pods: Iterable[tuple[str, str]], deadline: float) -> None:
    pending = list(pods)
    while pending:
        still = []
        for ns, name in pending:
            try:
                call("read pod", api_core.read_namespaced_pod, name, ns)
                still.append((ns, name))
            except ApiError as e:
                if e.status != 404:
                    raise
        pending = still
        if pending and time.monotonic() > deadline:
            raise ExternalError(f"drain: pods still terminating: {pending[:3]}")
        if pending:
            time.sleep(POLL_S)
