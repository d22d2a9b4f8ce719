"""What runs in an environment: services, GPU use per node, the release and its drift.

One pass of list calls (no helm process) so ``sophia status`` answers in well under a second.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sophia_platform.deploy import records, releases, source
from sophia_platform.deploy.source import release_source
from sophia_platform.deploy.target import Target, resolve
from sophia_platform.errors import ExternalError
from sophia_platform.kube import lease, raw
from sophia_platform.kube.client import connect
from sophia_platform.kube.rollout import INSTANCE_LABEL, NAME_LABEL
from sophia_platform.spec.facts import SpecFacts

if TYPE_CHECKING:
    from sophia_platform.spec import Spec

GPU = "nvidia.com/gpu"
STATUS_SCHEMA_VERSION = 1


@dataclass
class ServiceStatus:
    """One service: replicas, image, restarts, age."""

    name: str
    kind: str
    desired: int
    ready: int
    available: int
    updated: int
    image_tag: str | None
    restarts: int
    age_s: int | None
    healthy: bool
    problem: str = ""


@dataclass
class GpuHolder:
    """A pod holding GPUs on a node."""

    namespace: str
    pod: str
    gpus: int


@dataclass
class NodeStatus:
    """A node's GPUs: allocatable vs requested and who holds them."""

    name: str
    ready: bool
    gpu_type: str | None
    gpu_allocatable: int
    gpu_requested: int
    holders: list[GpuHolder] = field(default_factory=list)


@dataclass
class ReleaseInfo:
    """The Helm release: revision, status and drift of the live objects from it."""

    revision: int
    status: str
    updated: str
    drift: list[str] = field(default_factory=list)


@dataclass
class EnvStatus:
    """Everything ``sophia status`` reports (``--json`` emits exactly this)."""

    schema_version: int
    env: str
    context: str
    namespace: str
    release: str
    healthy: bool
    drifted: bool
    services: list[ServiceStatus]
    nodes: list[NodeStatus]
    helm: ReleaseInfo | None
    last_deploy: dict[str, Any] | None
    lock: dict[str, Any] | None


def _age(ts: datetime | None) -> int | None:
    return int((datetime.now(UTC) - ts).total_seconds()) if ts else None


def _tag(image: str) -> str:
    last = image.rsplit("/", 1)[-1]
    return last.split(":", 1)[1] if ":" in last else "latest"


def _quantity(value: Any) -> int:
    try:
        return int(str(value))
    except ValueError:
        return 0


def _workload_status(obj: Any, kind: str, pods: list[Any]) -> ServiceStatus:
    name = (obj.metadata.labels or {}).get(NAME_LABEL, obj.metadata.name)
    desired = obj.spec.replicas if obj.spec.replicas is not None else 1
    st = obj.status
    ready, available = st.ready_replicas or 0, st.available_replicas or 0
    updated = st.updated_replicas or 0
    mine = [p for p in pods if (p.metadata.labels or {}).get(NAME_LABEL) == name]
    restarts = sum(
        cs.restart_count or 0 for p in mine for cs in (p.status.container_statuses or [])
    )
    image = obj.spec.template.spec.containers[0].image
    problem = ""
    for p in mine:
        for cs in p.status.container_statuses or []:
            if (
                cs.state
                and cs.state.waiting
                and cs.state.waiting.reason not in (None, "ContainerCreating")
            ):
                problem = f"{p.metadata.name}: {cs.state.waiting.reason}"
    healthy = ready >= desired and available >= desired and not problem
    if kind == "StatefulSet":
        available = max(available, ready)
        healthy = ready >= desired and not problem
    return ServiceStatus(
        name,
        kind,
        desired,
        ready,
        available,
        updated,
        _tag(image),
        restarts,
        _age(obj.metadata.creation_timestamp),
        healthy,
        problem or ("" if healthy else "not ready"),
    )


def _nodes(api: Any) -> list[NodeStatus]:
    nodes = raw.get(api, "list nodes", "/api/v1/nodes").items or []
    active = "status.phase!=Succeeded,status.phase!=Failed"
    pods = raw.get(api, "list pods", "/api/v1/pods", fieldSelector=active).items or []
    result = {}
    for node in nodes:
        ready = any(c.type == "Ready" and c.status == "True" for c in node.status.conditions or [])
        result[node.metadata.name] = NodeStatus(
            node.metadata.name,
            ready,
            (node.metadata.labels or {}).get("gpu-type"),
            _quantity((node.status.allocatable or {}).get(GPU, 0)),
            0,
        )
    for pod in pods:
        node = result.get(pod.spec.node_name or "")
        if node is None:
            continue
        gpus = sum(
            _quantity(((c.resources.limits or {}) if c.resources else {}).get(GPU, 0))
            for c in pod.spec.containers
        )
        if gpus:
            node.gpu_requested += gpus
            node.holders.append(GpuHolder(pod.metadata.namespace, pod.metadata.name, gpus))
    return sorted(result.values(), key=lambda n: n.name)


def _drift(manifest: str, live: dict[str, Any]) -> list[str]:
    """Differences between the release's workloads and the live ones (image, replicas)."""
    found = []
    for doc in releases.manifest_objects(manifest, kinds=("Deployment", "StatefulSet")):
        name = doc["metadata"]["name"]
        obj = live.get(f"{doc['kind']}/{name}")
        if obj is None:
            found.append(f"{doc['kind']}/{name} is missing")
            continue
        want_replicas = doc["spec"].get("replicas")
        if want_replicas is not None and obj.spec.replicas != want_replicas:
            found.append(f"{name}: replicas {obj.spec.replicas} (release says {want_replicas})")
        want = [c["image"] for c in doc["spec"]["template"]["spec"]["containers"]]
        have = [c.image for c in obj.spec.template.spec.containers]
        if want != have:
            found.append(f"{name}: image {', '.join(have)} (release says {', '.join(want)})")
    return found


def collect(
    spec: Spec | SpecFacts, env: str | None, *, kubeconfig: Path | None = None
) -> EnvStatus:
    """Read the environment's state from the cluster (``spec``: the spec or its facts)."""
    target: Target = resolve(spec, env, kubeconfig=kubeconfig)
    api = connect(target.kubeconfig, target.context)
    ns, sel = target.namespace, f"{INSTANCE_LABEL}={target.release}"
    apps = f"/apis/apps/v1/namespaces/{ns}"
    deps = raw.get(api, "list deployments", f"{apps}/deployments", labelSelector=sel).items or []
    stss = raw.get(api, "list statefulsets", f"{apps}/statefulsets", labelSelector=sel).items or []
    pods_path = f"/api/v1/namespaces/{ns}/pods"
    pods = raw.get(api, "list pods", pods_path, labelSelector=sel).items or []
    services = [_workload_status(d, "Deployment", pods) for d in deps]
    services += [_workload_status(s, "StatefulSet", pods) for s in stss]
    present = {s.name for s in services}
    for name, svc in spec.services.items():
        if name not in present:
            kind = "StatefulSet" if svc.kind == "statefulset" else "Deployment"
            services.append(
                ServiceStatus(
                    name, kind, svc.replicas, 0, 0, 0, None, 0, None, False, "not deployed"
                )
            )
    services.sort(key=lambda s: s.name)
    history = release_source(target, api).history()
    current, latest = source.current(history), source.latest(history)
    info = None
    if latest is not None:
        shown = current or latest
        live = {f"Deployment/{d.metadata.name}": d for d in deps}
        live.update({f"StatefulSet/{s.metadata.name}": s for s in stss})
        info = ReleaseInfo(
            latest.revision, latest.status, latest.updated, _drift(shown.manifest, live)
        )
    recs = records.load_all(api, ns, target.release)
    last = recs[-1] if recs else None
    lock_info = lease.lock_status(api, ns)
    healthy = bool(services) and all(s.healthy for s in services)
    healthy = healthy and info is not None and info.status == "deployed"
    return EnvStatus(
        schema_version=STATUS_SCHEMA_VERSION,
        env=target.env,
        context=target.context,
        namespace=ns,
        release=target.release,
        healthy=healthy,
        drifted=bool(info and info.drift),
        services=services,
        nodes=_nodes(api),
        helm=info,
        last_deploy=None
        if last is None
        else {
            "revision": last.revision,
            "action": last.action,
            "user": last.user,
            "at": last.started_at,
            "outcome": last.outcome,
            "git_sha": last.git_sha,
            "duration_s": last.duration_s,
        },
        lock=None
        if not lock_info.held
        else {
            "holder": lock_info.holder,
            "message": lock_info.message,
            "expires_at": lock_info.expires_at.isoformat() if lock_info.expires_at else None,
        },
    )


@dataclass
class WatchFrame:
    """One refresh of ``sophia status --watch``: the status, or why it could not be read."""

    at: datetime
    status: EnvStatus | None
    error: str | None = None


def watch(
    spec: Spec | SpecFacts,
    env: str | None,
    *,
    interval_s: float = 2.0,
    kubeconfig: Path | None = None,
) -> Iterator[WatchFrame]:
    """Yield a fresh status every ``interval_s`` seconds, forever (the caller stops it).

    The first read raises like :func:`collect` (a wrong environment or an unreachable cluster
    should fail at once); later cluster errors are yielded as frames so a blip or an API
    server restart does not end the watch.
    """
    yield WatchFrame(datetime.now(UTC), collect(spec, env, kubeconfig=kubeconfig))
    while True:
        time.sleep(interval_s)
        try:
            st = collect(spec, env, kubeconfig=kubeconfig)
        except ExternalError as e:
            yield WatchFrame(datetime.now(UTC), None, str(e))
            continue
        yield WatchFrame(datetime.now(UTC), st)
