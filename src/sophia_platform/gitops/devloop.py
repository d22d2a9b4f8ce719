"""``sophia dev gitops``: real Flux controllers and a real git server next to the local cluster.

source-controller and helm-controller (built by ``data/gitops/build.sh``) run as host processes
against the local control plane through ``KUBECONFIG`` (controller-runtime reads it; the
controllers have no ``--kubeconfig`` flag), each with its own metrics and health ports, the
artifact server on 127.0.0.1. Their CRDs are applied from the controller modules'
``config/crd/bases/`` in the Go module cache. The git server is
:mod:`sophia_platform.gitops.gitserver`; every repository it creates gets a ``post-receive``
hook that asks Flux to reconcile the GitRepositories that watch it (the push trigger a
notification-controller Receiver gives a real cluster). Processes are supervised like the
control plane's: PID files with start times, logs, stopped on failure.
"""

from __future__ import annotations

import json
import shlex
import sys
import time
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import httpx

from sophia_platform.atomicfile import write_text_atomic
from sophia_platform.devcluster import cluster
from sophia_platform.devcluster import components as comp
from sophia_platform.devcluster.kubeconfig import CONTEXT
from sophia_platform.devcluster.processes import (
    ProcessRecord,
    StartupWatch,
    Supervisor,
    is_running,
    state_lock,
)
from sophia_platform.errors import CheckFailed, ExternalError, UsageError
from sophia_platform.gitops import gitserver, tools
from sophia_platform.gitops.layout import FLUX_NAMESPACE
from sophia_platform.kube.apply import apply
from sophia_platform.kube.client import connect

PROCESSES = ("source-controller", "helm-controller", "git-server")
READY_TIMEOUT_S = 120.0
# git waits for post-receive before it answers the push, and the notifier is a Python process
# that loads the Kubernetes client (seconds on a busy machine): it runs detached, so the push
# returns as soon as the branch moved, and its one line goes to a log next to the hook.
HOOK = """#!/bin/sh
# Installed by sophia dev gitops: a push asks Flux to reconcile now (in the background).
{cmd} </dev/null >>{log} 2>&1 &
"""


@dataclass(frozen=True)
class LoopPorts:
    """Loopback ports of the loop."""

    storage: int
    source_metrics: int
    source_health: int
    helm_metrics: int
    helm_health: int
    git: int

    @classmethod
    def allocate(cls) -> LoopPorts:
        """Pick distinct free ports on 127.0.0.1."""
        return cls(*comp.free_ports(6))


@dataclass(frozen=True)
class LoopStatus:
    """The loop's state (``running`` False when nothing is up)."""

    state_dir: Path
    running: bool
    git_url: str | None
    repos: list[str] = field(default_factory=list)
    processes: dict[str, bool] = field(default_factory=dict)
    logs: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class LoopUp:
    """What ``up`` did."""

    state_dir: Path
    git_url: str
    repo_url: str | None
    reused: bool
    seconds: float
    pids: dict[str, int]
    crds: list[str]


def default_state_dir(cluster_dir: Path | None = None) -> Path:
    """The loop lives inside the dev cluster's state folder."""
    return (cluster_dir or cluster.default_state_dir()) / "gitops"


def _state_file(state_dir: Path) -> Path:
    return state_dir / "gitops.json"


def _load(state_dir: Path) -> dict[str, Any] | None:
    try:
        data: dict[str, Any] = json.loads(_state_file(state_dir).read_text())
        return data
    except (OSError, ValueError):
        return None


def _kubeconfig(cluster_dir: Path) -> Path:
    st = cluster.status(cluster_dir)
    if not st.running or st.kubeconfig is None:
        raise ExternalError(
            f"the local cluster in {cluster_dir} is not running",
            hint="start it first: sophia dev cluster up",
        )
    return st.kubeconfig


def controller_argv(name: str, binary: Path, ports: LoopPorts, storage: Path) -> list[str]:
    """The command line of one controller (flags checked against the pinned versions' --help)."""
    common = ["--watch-all-namespaces=true", "--log-level=info", "--log-encoding=console"]
    if name == "source-controller":
        return [
            str(binary),
            *common,
            f"--storage-path={storage}",
            f"--storage-addr=127.0.0.1:{ports.storage}",
            f"--storage-adv-addr=127.0.0.1:{ports.storage}",
            f"--metrics-addr=127.0.0.1:{ports.source_metrics}",
            f"--health-addr=127.0.0.1:{ports.source_health}",
        ]
    return [
        str(binary),
        *common,
        f"--metrics-addr=127.0.0.1:{ports.helm_metrics}",
        f"--health-addr=127.0.0.1:{ports.helm_health}",
    ]


def _load_crds() -> list[dict[str, Any]]:
    from ruamel.yaml import YAML

    docs: list[dict[str, Any]] = []
    for path in tools.crd_files():
        docs += [d for d in YAML(typ="safe").load_all(path.read_text()) if isinstance(d, dict)]
    return docs


def install_crds(api: Any, docs: list[dict[str, Any]], timeout_s: float = 60.0) -> list[str]:
    """Apply CRDs and wait until the API server serves them (Established)."""
    from kubernetes import client

    names = apply(api, docs)
    ext = client.ApiextensionsV1Api(api)
    deadline = time.monotonic() + timeout_s
    for doc in docs:
        while True:
            crd = ext.read_custom_resource_definition(doc["metadata"]["name"])
            conds = (crd.status.conditions if crd.status else None) or []
            if any(c.type == "Established" and c.status == "True" for c in conds):
                break
            if time.monotonic() > deadline:
                raise ExternalError(f"CRD {doc['metadata']['name']} not established in time")
            time.sleep(0.2)
    return names


def _ensure_namespace(api: Any, name: str) -> None:
    apply(api, [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}])


def _healthy(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2.0).status_code == 200
    except httpx.HTTPError:
        return False


def _git_ok(url: str) -> bool:
    try:
        # Any HTTP answer means the server is up (the root lists nothing: 404).
        httpx.get(url, timeout=2.0)
    except httpx.HTTPError:
        return False
    return True


def create_repo(state_dir: Path, name: str, *, branch: str = "main") -> str:
    """Create a bare repository on the loop's git server (idempotent); returns its URL."""
    state = _load(state_dir)
    if state is None:
        raise ExternalError("the GitOps loop is not up", hint="sophia dev gitops up")
    path = gitserver.create_bare(state_dir / "repos", name, branch=branch)
    url = f"{state['git_url']}{name}.git"
    hook = path / "hooks" / "post-receive"
    cmd = shlex.join([sys.executable, "-m", "sophia_platform.gitops.notify", url])
    log = shlex.quote(str(path / "hooks" / "post-receive.log"))
    write_text_atomic(hook, HOOK.format(cmd=cmd, log=log), mode=0o755)
    return url


def repo_url(state_dir: Path, name: str) -> str:
    """The URL of an existing repository on the loop's git server."""
    state = _load(state_dir)
    if state is None:
        raise CheckFailed("the GitOps loop is not up", hint="sophia dev gitops up")
    if not (state_dir / "repos" / f"{name}.git").is_dir():
        known = ", ".join(p.stem for p in sorted((state_dir / "repos").glob("*.git"))) or "none"
        raise UsageError(
            f"no repository {name!r} on the git server (it has: {known})",
            hint=f"sophia dev gitops up --repo {name}",
        )
    return f"{state['git_url']}{name}.git"


def up(cluster_dir: Path, state_dir: Path, *, repo: str | None = None) -> LoopUp:
    """Start the controllers and the git server (or reuse running ones)."""
    started_at = time.monotonic()
    kubeconfig = _kubeconfig(cluster_dir)
    with state_lock(state_dir):
        sup = Supervisor(state_dir)
        records = sup.records()
        state = _load(state_dir)
        if state and set(records) == set(PROCESSES) and all(map(is_running, records.values())):
            url = create_repo(state_dir, repo) if repo else None
            return LoopUp(
                state_dir,
                state["git_url"],
                url,
                True,
                time.monotonic() - started_at,
                {n: r.pid for n, r in records.items()},
                [],
            )
        for record in records.values():
            sup.stop(record)
        missing = tools.missing()
        if missing:
            tools.build()
        api = connect(kubeconfig, CONTEXT)
        crds = install_crds(api, _load_crds())
        _ensure_namespace(api, FLUX_NAMESPACE)
        ports = LoopPorts.allocate()
        storage = state_dir / "artifacts"
        storage.mkdir(parents=True, exist_ok=True)
        env = {
            **_base_env(),
            "KUBECONFIG": str(kubeconfig),
            "RUNTIME_NAMESPACE": FLUX_NAMESPACE,
            "SOURCE_CONTROLLER_LOCALHOST": f"127.0.0.1:{ports.storage}",
        }
        git_url = f"http://127.0.0.1:{ports.git}/"
        started: dict[str, ProcessRecord] = {}
        try:
            for name in ("source-controller", "helm-controller"):
                binary = tools.find(name)
                if binary is None:
                    raise ExternalError(f"{name} was not built", hint="run scripts/setup")
                started[name] = sup.start(
                    name, controller_argv(name, binary, ports, storage), env=env
                )
            server_argv = [
                sys.executable,
                "-m",
                "sophia_platform.gitops.gitserver",
                "--root",
                str(state_dir / "repos"),
                "--port",
                str(ports.git),
            ]
            (state_dir / "repos").mkdir(exist_ok=True)
            started["git-server"] = sup.start("git-server", server_argv, env=env)
            watch = StartupWatch(sup, started)
            for name, port in (
                ("source-controller", ports.source_health),
                ("helm-controller", ports.helm_health),
            ):
                watch.until(
                    f"{name} ready",
                    partial(_healthy, f"http://127.0.0.1:{port}/readyz"),
                    READY_TIMEOUT_S,
                )
            watch.until("the git server", lambda: _git_ok(git_url), READY_TIMEOUT_S)
        except BaseException:
            for record in reversed(list(started.values())):
                sup.stop(record)
            raise
        write_text_atomic(
            _state_file(state_dir),
            json.dumps({"git_url": git_url, "ports": asdict(ports), "kubeconfig": str(kubeconfig)}),
        )
        url = create_repo(state_dir, repo) if repo else None
        return LoopUp(
            state_dir,
            git_url,
            url,
            False,
            time.monotonic() - started_at,
            {n: r.pid for n, r in started.items()},
            crds,
        )


def _base_env() -> dict[str, str]:
    import os

    keep = ("PATH", "HOME", "LANG", "TMPDIR", "XDG_CACHE_HOME")
    return {k: os.environ[k] for k in keep if k in os.environ}


def status(state_dir: Path) -> LoopStatus:
    """Which of the loop's processes run, and the git URL."""
    sup = Supervisor(state_dir)
    records = sup.records()
    state = _load(state_dir) or {}
    alive = {name: is_running(records[name]) if name in records else False for name in PROCESSES}
    repos = sorted(p.name for p in (state_dir / "repos").glob("*.git")) if state else []
    return LoopStatus(
        state_dir,
        running=all(alive.values()),
        git_url=state.get("git_url"),
        repos=repos,
        processes=alive,
        logs={name: str(sup.log_dir / f"{name}.log") for name in PROCESSES},
    )


def down(state_dir: Path) -> list[str]:
    """Stop every process of the loop; returns the names stopped. Repositories are kept."""
    with state_lock(state_dir):
        sup = Supervisor(state_dir)
        stopped = []
        for name, record in sup.records().items():
            sup.stop(record)
            stopped.append(name)
        _state_file(state_dir).unlink(missing_ok=True)
        return stopped


def kubeconfig_of(cluster_dir: Path) -> Path:
    """The local cluster's admin kubeconfig (what the controllers use)."""
    return comp.Layout(cluster_dir).kubeconfig
