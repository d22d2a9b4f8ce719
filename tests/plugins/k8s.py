"""pytest fixtures for the real local control plane (``sophia dev cluster``).

``k8s_cluster`` (session) builds the binaries if needed, starts one cluster for the whole
session in a private state directory (unique per session, so parallel worktrees never share
one), and stops it at the end — asserting that no process it started outlives the session.
``k8s_namespace`` gives each test a fresh namespace, deleted afterwards.

Only when the binaries cannot be built at all (no Go toolchain) are cluster tests skipped,
with a reason that says so; CI builds them in scripts/setup.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from sophia_platform.devcluster import cluster, toolchain
from sophia_platform.devcluster.inventory import nodes_from_spec
from sophia_platform.devcluster.kubeconfig import CONTEXT
from sophia_platform.devcluster.processes import (
    ProcessRecord,
    Supervisor,
    is_running,
    proc_start_ticks,
)
from sophia_platform.resources import example_spec_path

EXAMPLE_SPEC = example_spec_path()


@dataclass
class K8sCluster:
    """A running local cluster, as the tests see it."""

    kubeconfig: Path
    context: str
    api_client: Any  # kubernetes.client.ApiClient
    helm: Path
    state_dir: Path
    server: str
    processes: dict[str, ProcessRecord] = field(default_factory=dict)

    def core(self) -> Any:
        """A CoreV1Api on this cluster."""
        from kubernetes import client

        return client.CoreV1Api(self.api_client)

    def apps(self) -> Any:
        """An AppsV1Api on this cluster."""
        from kubernetes import client

        return client.AppsV1Api(self.api_client)


_CLUSTER_FIXTURES = {"k8s_binaries", "k8s_cluster", "k8s_namespace"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that uses a cluster fixture ``cluster``, so ``-m`` selection is exact."""
    for item in items:
        if _CLUSTER_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.cluster)


def _ensure_binaries() -> None:
    missing = toolchain.missing_tools()
    if not missing:
        return
    if not toolchain.go_available():
        pytest.skip(
            "LOCAL CLUSTER TESTS SKIPPED: the control-plane binaries "
            f"({', '.join(missing)}) are not built and no Go toolchain is installed to build "
            "them; install Go >= 1.26 and run scripts/setup"
        )
    toolchain.build()  # a broken build is a failure, not a skip


def processes_mentioning(path: Path) -> list[str]:
    """Live processes whose command line mentions ``path`` (how a leak is spotted)."""
    needle = str(path).encode()
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes()
            state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if needle in cmdline and state != "Z":
            argv = cmdline.replace(b"\0", b" ").decode(errors="replace")
            found.append(f"{proc.name}: {argv}")
    return found


_SESSION_PREFIX = "sophia-k8s-"


def _reap_abandoned_sessions() -> None:
    """Stop clusters of earlier sessions that were killed before their teardown ran."""
    for state_dir in Path(tempfile.gettempdir()).glob(f"{_SESSION_PREFIX}*"):
        try:
            owner = json.loads((state_dir / "owner.json").read_text())
        except (OSError, ValueError):
            continue  # being created right now, or not ours
        if proc_start_ticks(int(owner["pid"])) == owner["start_ticks"]:
            continue  # its session is still running (another worktree, say)
        cluster.down(state_dir)
        shutil.rmtree(state_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def k8s_binaries() -> None:
    """Make sure the control-plane binaries are built (skip loudly if they cannot be)."""
    _ensure_binaries()


@pytest.fixture(scope="session")
def k8s_cluster(k8s_binaries: None) -> Iterator[K8sCluster]:
    """Start one real local control plane for the session; stop it (and check) at the end."""
    from kubernetes import config

    _reap_abandoned_sessions()
    state_dir = Path(tempfile.mkdtemp(prefix=_SESSION_PREFIX))
    me = os.getpid()
    (state_dir / "owner.json").write_text(
        json.dumps({"pid": me, "start_ticks": proc_start_ticks(me)})
    )
    started: dict[str, ProcessRecord] = {}
    try:
        result = cluster.up(state_dir, nodes_from_spec(EXAMPLE_SPEC))
        started = Supervisor(state_dir).records()
        api_client = config.new_client_from_config(
            config_file=str(result.kubeconfig), context=CONTEXT
        )
        helm = toolchain.find_tool("helm")
        assert helm is not None, "helm was not built"
        yield K8sCluster(
            kubeconfig=result.kubeconfig,
            context=CONTEXT,
            api_client=api_client,
            helm=helm,
            state_dir=state_dir,
            server=result.server,
            processes=started,
        )
        api_client.close()
    finally:
        # Records read now also cover a failed `up` that left something behind.
        started = {**Supervisor(state_dir).records(), **started}
        cluster.down(state_dir)
        shutil.rmtree(state_dir, ignore_errors=True)
        survivors = [f"{n} (pid {r.pid})" for n, r in started.items() if is_running(r)]
        survivors += processes_mentioning(state_dir)
        assert not survivors, f"processes outlived the test session: {', '.join(survivors)}"


@pytest.fixture
def k8s_namespace(k8s_cluster: K8sCluster) -> Iterator[str]:
    """A fresh namespace (ready for pods: its default ServiceAccount exists); deleted after."""
    from kubernetes.client.exceptions import ApiException

    core = k8s_cluster.core()
    name = f"t-{uuid.uuid4().hex[:10]}"
    core.create_namespace({"metadata": {"name": name, "labels": {"sophia.dev/test": "true"}}})
    # Pods are rejected until the controller-manager has created the default ServiceAccount.
    deadline = time.monotonic() + 30
    while True:
        try:
            core.read_namespaced_service_account("default", name)
            break
        except ApiException as exc:
            if exc.status != 404 or time.monotonic() > deadline:
                raise
            time.sleep(0.1)
    yield name
    # Not waited for (finalizing takes the namespace controller 5-10 s); a test that needs a
    # quiet cluster waits until no namespace is Terminating.
    try:
        core.delete_namespace(name)
    except ApiException as exc:
        if exc.status != 404:
            raise
