"""Bring the local control plane up, report on it, and take it down.

``up`` is idempotent: a healthy running cluster in the state directory is reused (its nodes
are reconciled with the spec); a half-dead one (a component crashed, PID files left by a
killed session) is stopped and started afresh. Every process ``up`` starts is stopped again
if ``up`` fails, and the error carries the tail of the failing component's log.
"""

from __future__ import annotations

import json
import os
import shutil
import ssl
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any

import httpx

from sophia_platform import resources
from sophia_platform.atomicfile import write_text_atomic
from sophia_platform.devcluster import addons
from sophia_platform.devcluster import components as comp
from sophia_platform.devcluster.kubeconfig import CONTEXT, kubeconfig_document, write_kubeconfig
from sophia_platform.devcluster.nodes import (
    GPU_RESOURCE,
    GPU_TYPE_LABEL,
    KWOK_ANNOTATION,
    NodeSpec,
    node_manifest,
)
from sophia_platform.devcluster.pki import create_pki
from sophia_platform.devcluster.processes import (
    ProcessRecord,
    StartupWatch,
    Supervisor,
    is_running,
    state_lock,
)
from sophia_platform.devcluster.toolchain import binary_version, find_tool
from sophia_platform.errors import ExternalError
from sophia_platform.kube.client import ApiError, call, connect
from sophia_platform.kube.merge import MergeResult, merge_into, remove_from

READY_TIMEOUT_S = 90.0
_START_ATTEMPTS = 3


def state_dir_for(override_var: str, leaf: str) -> Path:
    """``$override_var``, else ``$XDG_STATE_HOME`` (~/.local/state)/sophia-platform/``leaf``."""
    override = os.environ.get(override_var)
    if override:
        return Path(override)
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "sophia-platform" / leaf


def default_state_dir() -> Path:
    """Return $SOPHIA_DEV_CLUSTER_DIR, else ~/.local/state/sophia-platform/dev-cluster."""
    return state_dir_for("SOPHIA_DEV_CLUSTER_DIR", "dev-cluster")


@dataclass(frozen=True)
class ComponentStatus:
    """One component of the control plane."""

    name: str
    pid: int | None
    running: bool
    version: str
    log: str


@dataclass(frozen=True)
class NodeStatus:
    """One simulated node as the API server sees it."""

    name: str
    ready: bool
    gpu_type: str | None
    gpu_capacity: int
    gpu_allocatable: int
    gpu_requested: int
    labels: dict[str, str]


@dataclass(frozen=True)
class ClusterStatus:
    """The state of a local cluster (``running`` is False when nothing is up)."""

    state_dir: Path
    running: bool
    server: str | None
    server_version: str | None
    kubeconfig: Path | None
    components: list[ComponentStatus] = field(default_factory=list)
    nodes: list[NodeStatus] = field(default_factory=list)
    stale_pid_files: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class UpResult:
    """What ``up`` did."""

    state_dir: Path
    kubeconfig: Path
    server: str
    reused: bool
    seconds: float
    nodes_created: list[str]
    stale_pid_files: list[str]
    pids: dict[str, int]
    addons_created: list[str] = field(default_factory=list)
    merged: MergeResult | None = None  # None: not merged into a user kubeconfig (--no-merge)


@dataclass(frozen=True)
class DownResult:
    """What ``down`` did."""

    state_dir: Path
    stopped: list[str]
    killed: list[str]
    stale_pid_files: list[str]
    removed_state: bool
    seconds: float
    unmerged: list[MergeResult] = field(default_factory=list)


@dataclass(frozen=True)
class _State:
    """What ``cluster.json`` records about a running cluster."""

    ports: comp.Ports
    server: str
    versions: dict[str, str]

    @classmethod
    def load(cls, path: Path) -> _State | None:
        try:
            data = json.loads(path.read_text())
            return cls(comp.Ports(**data["ports"]), data["server"], dict(data["versions"]))
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def save(self, path: Path) -> None:
        write_text_atomic(path, json.dumps(asdict(self), indent=1))


def _binaries() -> dict[str, Path]:
    found: dict[str, Path] = {}
    missing = []
    for name in comp.COMPONENTS:
        path = find_tool(name)
        if path is None:
            missing.append(name)
        else:
            found[name] = path
    if missing:
        raise ExternalError(
            f"local cluster binaries not found: {', '.join(missing)}",
            hint="run `sophia dev cluster up --build` (or scripts/setup in a checkout)",
        )
    return found


def _tls_context(layout: comp.Layout) -> ssl.SSLContext:
    pki = layout.pki
    ctx = ssl.create_default_context(cafile=str(pki.ca_cert))
    ctx.load_cert_chain(str(pki.admin_cert), str(pki.admin_key))
    return ctx


def _http_ok(client: httpx.Client, url: str) -> bool:
    try:
        return client.get(url, timeout=2.0).status_code == 200
    except httpx.HTTPError:
        return False


def up(
    state_dir: Path,
    nodes: Sequence[NodeSpec],
    *,
    timeout_s: float = READY_TIMEOUT_S,
    merge_kubeconfig: Path | None = None,
    switch_context: bool = False,
) -> UpResult:
    """Start the cluster (or reuse the running one) and make sure ``nodes`` exist and are Ready.

    With ``merge_kubeconfig`` the context sophia-local is merged into that kubeconfig too
    (``down`` removes it again); the current context changes only with ``switch_context``.
    No nodes gives a bare control plane (the lab cluster behind ``sophia dev hosts``, whose
    nodes register themselves).
    """
    result = _up(state_dir, nodes, timeout_s)
    if merge_kubeconfig is None:
        return result
    merged = _merge(comp.Layout(state_dir), merge_kubeconfig, result.server, switch_context)
    return replace(result, merged=merged)


def _up(state_dir: Path, nodes: Sequence[NodeSpec], timeout_s: float) -> UpResult:
    started_at = time.monotonic()
    with state_lock(state_dir):
        layout = comp.Layout(state_dir)
        sup = Supervisor(state_dir)
        records = sup.records()
        stale = sorted(n for n, r in records.items() if not is_running(r))
        state = _State.load(layout.state_file)
        reusable = (
            state is not None
            and not stale
            and set(records) == set(comp.COMPONENTS)
            and _api_ready(layout, state.server)
        )
        if reusable and state is not None:
            created = _ensure_nodes(layout, nodes, StartupWatch(sup, records), timeout_s)
            made = addons.ensure(_core_api(layout).api_client)
            return UpResult(
                state_dir,
                layout.kubeconfig,
                state.server,
                reused=True,
                seconds=time.monotonic() - started_at,
                nodes_created=created,
                stale_pid_files=[],
                pids={n: r.pid for n, r in records.items()},
                addons_created=made,
            )
        # Anything left over (a crashed or half-started cluster) is stopped and replaced.
        for name in reversed(list(records)):
            sup.stop(records[name])
        _clear_state(layout)
        binaries = _binaries()
        for attempt in range(1, _START_ATTEMPTS + 1):
            started: dict[str, ProcessRecord] = {}
            try:
                server, created, made = _start(layout, sup, binaries, started, nodes, timeout_s)
                break
            except ExternalError as exc:
                _stop_all(sup, started)
                # Free ports are picked before the components bind them; another process
                # (a parallel test session) may win that race. Only that is worth a retry.
                if attempt == _START_ATTEMPTS or "address already in use" not in str(exc):
                    raise
                _clear_state(layout)
            except BaseException:
                _stop_all(sup, started)
                raise
        return UpResult(
            state_dir,
            layout.kubeconfig,
            server,
            reused=False,
            seconds=time.monotonic() - started_at,
            nodes_created=created,
            stale_pid_files=stale,
            pids={n: r.pid for n, r in started.items()},
            addons_created=made,
        )


def _merge(layout: comp.Layout, path: Path, server: str, switch_context: bool) -> MergeResult:
    """Merge the context into ``path`` and remember where, for ``down``."""
    document = kubeconfig_document(server, layout.pki)
    with state_lock(layout.state_dir):
        merged = merge_into(path, document, CONTEXT, switch_context=switch_context)
        known = [m for m in _merge_records(layout) if m["path"] != str(merged.path)]
        record = [*known, {"path": str(merged.path), "server": server}]
        write_text_atomic(layout.merge_record, json.dumps(record, indent=1))
    return merged


def _merge_records(layout: comp.Layout) -> list[dict[str, str]]:
    try:
        data = json.loads(layout.merge_record.read_text())
        return [{"path": str(d["path"]), "server": str(d["server"])} for d in data]
    except (OSError, ValueError, KeyError, TypeError):
        return []


def _stop_all(sup: Supervisor, started: dict[str, ProcessRecord]) -> None:
    for name in reversed(list(started)):
        sup.stop(started[name])


def _clear_state(layout: comp.Layout) -> None:
    for path in (layout.etcd_data, layout.pki.directory, layout.cert_dir, layout.addons_dir):
        shutil.rmtree(path, ignore_errors=True)
    for path in (layout.state_file, layout.kubeconfig, layout.kwok_config):
        path.unlink(missing_ok=True)


def _start(
    layout: comp.Layout,
    sup: Supervisor,
    binaries: dict[str, Path],
    started: dict[str, ProcessRecord],
    nodes: Sequence[NodeSpec],
    timeout_s: float,
) -> tuple[str, list[str], list[str]]:
    ports = comp.Ports.allocate()
    pki = create_pki(layout.pki.directory)
    layout.cert_dir.mkdir(parents=True, exist_ok=True)
    layout.etcd_data.mkdir(parents=True, exist_ok=True, mode=0o700)
    server = f"https://127.0.0.1:{ports.apiserver}"
    write_kubeconfig(layout.kubeconfig, server, pki)
    _write_kwok_config(layout.kwok_config)
    addons.write_provisioner_files(layout)
    watch = StartupWatch(sup, started)

    started["etcd"] = sup.start("etcd", comp.etcd_argv(binaries["etcd"], layout, ports))
    with httpx.Client() as plain:
        etcd_health = f"http://127.0.0.1:{ports.etcd_client}/health"
        watch.until("etcd /health", lambda: _http_ok(plain, etcd_health), timeout_s)

    argv = comp.apiserver_argv(binaries["kube-apiserver"], layout, ports)
    started["kube-apiserver"] = sup.start("kube-apiserver", argv)
    watch.until("kube-apiserver /readyz", lambda: _api_ready(layout, server), timeout_s)
    api = _core_api(layout)
    # Before the provisioner starts: it needs its ServiceAccount for its helper pods.
    made = addons.ensure(api.api_client)

    builders = {
        "kube-controller-manager": comp.controller_manager_argv,
        "kube-scheduler": comp.scheduler_argv,
        "kwok": comp.kwok_argv,
        "local-path-provisioner": comp.local_path_provisioner_argv,
    }
    for name, builder in builders.items():
        started[name] = sup.start(name, builder(binaries[name], layout, ports))
    with httpx.Client(verify=_tls_context(layout)) as tls:
        for name, port in (
            ("kube-controller-manager", ports.controller_manager),
            ("kube-scheduler", ports.scheduler),
        ):
            url = f"https://127.0.0.1:{port}/healthz"
            watch.until(f"{name} /healthz", partial(_http_ok, tls, url), timeout_s)

    versions = {name: binary_version(path) for name, path in binaries.items()}
    _State(ports, server, versions).save(layout.state_file)
    created = _ensure_nodes(layout, nodes, watch, timeout_s)
    # The controller-manager creates each namespace's "default" ServiceAccount; pods are
    # rejected until it exists, so "up" is not done before that.
    watch.until(
        "the default ServiceAccount (kube-controller-manager)",
        lambda: _exists(
            "read the default ServiceAccount",
            api.read_namespaced_service_account,
            "default",
            "default",
        ),
        timeout_s,
    )
    return server, created, made


def _write_kwok_config(path: Path) -> None:
    path.write_text("\n---\n".join(resources.kwok_stages()))


def _api_ready(layout: comp.Layout, server: str) -> bool:
    if not layout.pki.exists():
        return False
    try:
        with httpx.Client(verify=_tls_context(layout)) as client:
            return _http_ok(client, f"{server}/readyz")
    except (OSError, ssl.SSLError):
        return False


def _core_api(layout: comp.Layout) -> Any:
    from kubernetes import client  # deferred: the client is slow to import

    return client.CoreV1Api(connect(layout.kubeconfig, CONTEXT))


def _exists(what: str, read: Callable[..., object], *args: object) -> bool:
    try:
        call(what, read, *args)
    except ApiError as exc:
        if exc.status == 404:
            return False
        raise
    return True


def _ensure_nodes(
    layout: comp.Layout, nodes: Sequence[NodeSpec], watch: StartupWatch, timeout_s: float
) -> list[str]:
    """Make the simulated nodes match ``nodes`` (create, update, prune); wait for Ready."""
    api = _core_api(layout)
    created: list[str] = []
    wanted = {n.name for n in nodes}
    live = call("list nodes", api.list_node).items
    existing = {n.metadata.name for n in live}
    # Simulated nodes the spec no longer lists go away (their pods get rescheduled).
    for item in live:
        simulated = (item.metadata.annotations or {}).get(KWOK_ANNOTATION) == "fake"
        if simulated and item.metadata.name not in wanted:
            call(f"delete simulated node {item.metadata.name}", api.delete_node, item.metadata.name)
    for node in nodes:
        manifest = node_manifest(node)
        if node.name in existing:
            labels = {"metadata": {"labels": manifest["metadata"]["labels"]}}
            call(f"label simulated node {node.name}", api.patch_node, node.name, labels)
            status = {"status": manifest["status"]}
            call(f"update simulated node {node.name}", api.patch_node_status, node.name, status)
        else:
            call(f"create simulated node {node.name}", api.create_node, manifest)
            created.append(node.name)

    def all_ready() -> bool:
        listed = call("list nodes", api.list_node).items
        return wanted <= {n.metadata.name for n in listed if _node_ready(n)}

    watch.until("simulated nodes to become Ready (kwok)", all_ready, timeout_s)
    return created


def _node_ready(node: Any) -> bool:
    for cond in node.status.conditions or []:
        if cond.type == "Ready":
            return bool(cond.status == "True")
    return False


def down(state_dir: Path, *, keep: bool = False, grace_s: float = 10.0) -> DownResult:
    """Stop every process the cluster started (TERM, then KILL) and remove its state."""
    started_at = time.monotonic()
    if not state_dir.exists():
        return DownResult(state_dir, [], [], [], removed_state=False, seconds=0.0)
    with state_lock(state_dir):
        stopped, killed, stale = [], [], []
        # Tools started next to the cluster in a sub-folder of its state (the GitOps loop's
        # controllers) talk to this API server: they stop first, and never outlive it.
        for pid_dir in sorted(state_dir.glob("*/pids")):
            nested = Supervisor(pid_dir.parent)
            for name, record in nested.records().items():
                if is_running(record):
                    if nested.stop(record, grace_s=grace_s):
                        killed.append(name)
                    stopped.append(name)
                else:
                    nested.forget(name)
        sup = Supervisor(state_dir)
        records = sup.records()
        order = [n for n in reversed(comp.COMPONENTS) if n in records]
        order += [n for n in records if n not in order]
        for name in order:
            record = records[name]
            if not is_running(record):
                stale.append(name)
                sup.forget(name)
                continue
            if sup.stop(record, grace_s=grace_s):
                killed.append(name)
            stopped.append(name)
        # The entries would point at a server that is gone: take them out, also with --keep.
        layout = comp.Layout(state_dir)
        unmerged = [
            remove_from(Path(m["path"]), CONTEXT, server=m["server"])
            for m in _merge_records(layout)
        ]
        layout.merge_record.unlink(missing_ok=True)
    removed = False
    if not keep:
        shutil.rmtree(state_dir, ignore_errors=True)
        removed = True
    seconds = time.monotonic() - started_at
    return DownResult(state_dir, stopped, killed, stale, removed, seconds, unmerged)


def status(state_dir: Path) -> ClusterStatus:
    """Components (PIDs, versions), the server version and the nodes with their GPUs."""
    layout = comp.Layout(state_dir)
    sup = Supervisor(state_dir)
    records = sup.records() if state_dir.exists() else {}
    state = _State.load(layout.state_file)
    versions = state.versions if state else {}
    components = []
    stale = []
    for name in comp.COMPONENTS:
        record = records.get(name)
        running = record is not None and is_running(record)
        if record is not None and not running:
            stale.append(name)
        components.append(
            ComponentStatus(
                name=name,
                pid=record.pid if record else None,
                running=running,
                version=versions.get(name, ""),
                log=str(record.log) if record else "",
            )
        )
    api_up = state is not None and _api_ready(layout, state.server)
    if state is None or not api_up:
        return ClusterStatus(
            state_dir, False, state.server if state else None, None, None, components, [], stale
        )
    server_version, nodes = _live_view(layout)
    return ClusterStatus(
        state_dir,
        running=not stale and all(c.running for c in components),
        server=state.server,
        server_version=server_version,
        kubeconfig=layout.kubeconfig,
        components=components,
        nodes=nodes,
        stale_pid_files=stale,
    )


def _live_view(layout: comp.Layout) -> tuple[str, list[NodeStatus]]:
    from kubernetes import client

    api = _core_api(layout)
    what = "read the local cluster"
    version = call(what, client.VersionApi(api.api_client).get_code).git_version
    node_items = call(what, api.list_node).items
    pods = call(
        what, api.list_pod_for_all_namespaces, field_selector="status.phase!=Succeeded"
    ).items
    requested: dict[str, int] = {}
    for pod in pods:
        if not pod.spec.node_name or pod.status.phase == "Failed":
            continue
        for container in pod.spec.containers:
            limits = (container.resources and container.resources.limits) or {}
            requests = (container.resources and container.resources.requests) or {}
            count = int(requests.get(GPU_RESOURCE, limits.get(GPU_RESOURCE, 0)))
            requested[pod.spec.node_name] = requested.get(pod.spec.node_name, 0) + count
    nodes = [
        NodeStatus(
            name=n.metadata.name,
            ready=_node_ready(n),
            gpu_type=(n.metadata.labels or {}).get(GPU_TYPE_LABEL),
            gpu_capacity=int((n.status.capacity or {}).get(GPU_RESOURCE, 0)),
            gpu_allocatable=int((n.status.allocatable or {}).get(GPU_RESOURCE, 0)),
            gpu_requested=requested.get(n.metadata.name, 0),
            labels=dict(n.metadata.labels or {}),
        )
        for n in node_items
    ]
    return str(version), sorted(nodes, key=lambda n: n.name)
