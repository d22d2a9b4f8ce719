"""Proof the local control plane is real: controllers, scheduler, kwok and helm at work."""

from __future__ import annotations

import json
import os
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes.client.exceptions import ApiException

from sophia_platform.resources import local_cluster_dir
from tests.plugins.k8s import K8sCluster

pytestmark = pytest.mark.cluster

GPU = "nvidia.com/gpu"


def wait_for(what: str, check: Callable[[], Any], timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(0.2)


def deployment(name: str, replicas: int, image: str, gpus: int = 0) -> dict[str, Any]:
    resources = {"limits": {GPU: str(gpus)}} if gpus else {}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "revisionHistoryLimit": 5,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "main", "image": image, "resources": resources}]},
            },
        },
    }


def pod(name: str, gpus: int, node_selector: dict[str, str] | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "containers": [
            {"name": "main", "image": "cuda:12", "resources": {"limits": {GPU: str(gpus)}}}
        ]
    }
    if node_selector:
        spec["nodeSelector"] = node_selector
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": spec}


def available(k8s: K8sCluster, ns: str, name: str) -> bool:
    dep = k8s.apps().read_namespaced_deployment(name, ns)
    want = dep.spec.replicas
    st = dep.status
    return bool(
        st.observed_generation == dep.metadata.generation
        and st.updated_replicas == want
        and st.available_replicas == want
        and (st.replicas or 0) == want
    )


def test_deployment_becomes_available_through_real_controllers(
    k8s_cluster: K8sCluster, k8s_namespace: str
) -> None:
    ns = k8s_namespace
    k8s_cluster.apps().create_namespaced_deployment(ns, deployment("web", 3, "nginx:1.27"))
    wait_for("deployment web Available", lambda: available(k8s_cluster, ns, "web"))

    # The controller-manager made a ReplicaSet owned by the Deployment ...
    replica_sets = k8s_cluster.apps().list_namespaced_replica_set(ns).items
    assert len(replica_sets) == 1
    assert replica_sets[0].metadata.owner_references[0].kind == "Deployment"
    # ... the scheduler bound every pod to a simulated node, and kwok made them Ready.
    pods = k8s_cluster.core().list_namespaced_pod(ns, label_selector="app=web").items
    assert len(pods) == 3
    nodes = {n.metadata.name for n in k8s_cluster.core().list_node().items}
    for p in pods:
        assert p.spec.node_name in nodes
        assert p.status.phase == "Running"
        assert any(c.type == "Ready" and c.status == "True" for c in p.status.conditions)
        assert p.metadata.owner_references[0].kind == "ReplicaSet"


@pytest.fixture
def cpu_only_node(k8s_cluster: K8sCluster) -> Iterator[str]:
    """An extra simulated node without GPUs, so 'lands only on GPU nodes' means something."""
    from sophia_platform.devcluster.nodes import NodeSpec, node_manifest

    name = f"cpu-{uuid.uuid4().hex[:6]}"
    core = k8s_cluster.core()
    core.create_node(node_manifest(NodeSpec(name, labels={"sophia.dev/pool": "cpu-test"})))
    wait_for(
        f"node {name} Ready",
        lambda: any(
            c.type == "Ready" and c.status == "True"
            for c in (core.read_node(name).status.conditions or [])
        ),
    )
    yield name
    core.delete_node(name)


def free_gpus(k8s: K8sCluster) -> dict[str, int]:
    core = k8s.core()
    free = {
        n.metadata.name: int((n.status.allocatable or {}).get(GPU, 0))
        for n in core.list_node().items
    }
    for p in core.list_pod_for_all_namespaces().items:
        if p.spec.node_name and p.status.phase not in ("Succeeded", "Failed"):
            for c in p.spec.containers:
                limits = (c.resources and c.resources.limits) or {}
                free[p.spec.node_name] -= int(limits.get(GPU, 0))
    return free


def settled_free_gpus(k8s: K8sCluster) -> dict[str, int] | None:
    """Free GPUs per node, once no GPU pod is terminating and two reads agree."""
    core = k8s.core()
    if any(ns.status.phase == "Terminating" for ns in core.list_namespace().items):
        return None  # an earlier test's pods are about to go away
    first = free_gpus(k8s)
    time.sleep(0.5)
    pods = core.list_pod_for_all_namespaces().items
    if any(p.metadata.deletion_timestamp and p.spec.node_name for p in pods):
        return None
    second = free_gpus(k8s)
    return second if first == second else None


def failed_scheduling(k8s: K8sCluster, ns: str, pod_name: str) -> str:
    events = (
        k8s.core()
        .list_namespaced_event(
            ns, field_selector=f"involvedObject.name={pod_name},reason=FailedScheduling"
        )
        .items
    )
    return " ".join(e.message for e in events)


def test_gpu_pods_land_only_on_gpu_nodes_with_free_capacity(
    k8s_cluster: K8sCluster, k8s_namespace: str, cpu_only_node: str
) -> None:
    ns = k8s_namespace
    core = k8s_cluster.core()
    # Pods of earlier tests' namespaces may still be terminating: wait until GPU use is stable.
    snapshot = wait_for("GPU use to settle", lambda: settled_free_gpus(k8s_cluster))
    free_total = sum(v for v in snapshot.values() if v > 0)
    assert free_total >= 1, f"no free GPU on any node: {snapshot}"
    assert snapshot[cpu_only_node] == 0

    names = [f"gpu-{i}" for i in range(free_total)]
    for name in names:
        core.create_namespaced_pod(ns, pod(name, 1))

    def all_running() -> bool:
        return all(core.read_namespaced_pod(n, ns).status.phase == "Running" for n in names)

    wait_for("every 1-GPU pod Running", all_running)
    placed = [core.read_namespaced_pod(n, ns).spec.node_name for n in names]
    assert cpu_only_node not in placed
    for node, count in {n: placed.count(n) for n in placed}.items():
        assert count <= snapshot[node], f"{node} got {count} GPU pods but had {snapshot[node]} free"

    # Every GPU is now taken: one more 1-GPU pod cannot be placed anywhere.
    core.create_namespaced_pod(ns, pod("gpu-extra", 1))
    message = wait_for(
        "FailedScheduling for gpu-extra", lambda: failed_scheduling(k8s_cluster, ns, "gpu-extra")
    )
    assert f"Insufficient {GPU}" in message
    assert core.read_namespaced_pod("gpu-extra", ns).status.phase == "Pending"
    assert core.read_namespaced_pod("gpu-extra", ns).spec.node_name is None

    # More GPUs than any node has stays Pending for good.
    core.create_namespaced_pod(ns, pod("gpu-greedy", 64))
    message = wait_for(
        "FailedScheduling for gpu-greedy", lambda: failed_scheduling(k8s_cluster, ns, "gpu-greedy")
    )
    assert f"Insufficient {GPU}" in message
    assert core.read_namespaced_pod("gpu-greedy", ns).spec.node_name is None


def test_gpu_type_selector_picks_the_matching_node(
    k8s_cluster: K8sCluster, k8s_namespace: str
) -> None:
    core = k8s_cluster.core()
    gpu_nodes = {
        n.metadata.labels["gpu-type"]: n.metadata.name
        for n in core.list_node().items
        if "gpu-type" in (n.metadata.labels or {})
    }
    gpu_type, node_name = sorted(gpu_nodes.items())[0]
    if wait_for("GPU use to settle", lambda: settled_free_gpus(k8s_cluster))[node_name] < 1:
        pytest.fail(f"{node_name} has no free GPU at the start of the test")
    core.create_namespaced_pod(k8s_namespace, pod("typed", 1, {"gpu-type": gpu_type}))
    placed = wait_for(
        "pod typed scheduled",
        lambda: core.read_namespaced_pod("typed", k8s_namespace).spec.node_name,
    )
    assert placed == node_name


def revision(obj: Any) -> str:
    return str((obj.metadata.annotations or {}).get("deployment.kubernetes.io/revision"))


def test_rollout_history_and_undo(k8s_cluster: K8sCluster, k8s_namespace: str) -> None:
    ns = k8s_namespace
    apps = k8s_cluster.apps()
    apps.create_namespaced_deployment(ns, deployment("api", 2, "api:1"))
    wait_for("api v1 Available", lambda: available(k8s_cluster, ns, "api"))
    apps.patch_namespaced_deployment(
        "api",
        ns,
        {"spec": {"template": {"spec": {"containers": [{"name": "main", "image": "api:2"}]}}}},
    )
    wait_for("api v2 Available", lambda: available(k8s_cluster, ns, "api"))

    by_revision = {revision(rs): rs for rs in apps.list_namespaced_replica_set(ns).items}
    assert set(by_revision) == {"1", "2"}
    assert by_revision["1"].spec.template.spec.containers[0].image == "api:1"
    assert by_revision["1"].spec.replicas == 0  # scaled down, kept as history

    # `kubectl rollout undo`: copy the previous ReplicaSet's template back into the Deployment.
    template = apps.api_client.sanitize_for_serialization(by_revision["1"].spec.template)
    template["metadata"]["labels"].pop("pod-template-hash", None)
    apps.patch_namespaced_deployment("api", ns, {"spec": {"template": template}})
    wait_for("api undone and Available", lambda: available(k8s_cluster, ns, "api"))

    dep = apps.read_namespaced_deployment("api", ns)
    assert dep.spec.template.spec.containers[0].image == "api:1"
    assert revision(dep) == "3"
    # The old ReplicaSet was reused (not a new one) and now carries revision 3.
    old = apps.read_namespaced_replica_set(by_revision["1"].metadata.name, ns)
    assert revision(old) == "3"
    assert old.status.ready_replicas == 2
    assert len(apps.list_namespaced_replica_set(ns).items) == 2


def helm(k8s: K8sCluster, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "HELM_CACHE_HOME": str(home / "cache"),
        "HELM_CONFIG_HOME": str(home / "config"),
        "HELM_DATA_HOME": str(home / "data"),
    }
    argv = [str(k8s.helm), "--kubeconfig", str(k8s.kubeconfig), "--kube-context", k8s.context]
    proc = subprocess.run(
        [*argv, *args], capture_output=True, text=True, env=env, timeout=120, check=False
    )
    assert proc.returncode == 0, f"helm {' '.join(args)} failed: {proc.stderr}"
    return proc


def test_helm_installs_and_uninstalls_a_chart(
    k8s_cluster: K8sCluster, k8s_namespace: str, tmp_path: Path
) -> None:
    chart = tmp_path / "tiny"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text(
        "apiVersion: v2\nname: tiny\nversion: 0.1.0\nkubeVersion: '>=1.30.0-0'\n"
    )
    (chart / "values.yaml").write_text("replicas: 2\ngreeting: hello\n")
    (chart / "templates" / "all.yaml").write_text(
        """\
apiVersion: v1
kind: ConfigMap
metadata: {name: "{{ .Release.Name }}-config"}
data: {greeting: "{{ .Values.greeting }}"}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: "{{ .Release.Name }}"}
spec:
  replicas: {{ .Values.replicas }}
  selector: {matchLabels: {app: "{{ .Release.Name }}"}}
  template:
    metadata: {labels: {app: "{{ .Release.Name }}"}}
    spec: {containers: [{name: main, image: "tiny:1"}]}
"""
    )
    ns = k8s_namespace
    home = tmp_path / "helm-home"
    helm(k8s_cluster, home, "install", "tiny", str(chart), "-n", ns, "--wait", "--timeout", "90s")

    cm = k8s_cluster.core().read_namespaced_config_map("tiny-config", ns)
    assert cm.data == {"greeting": "hello"}
    assert available(k8s_cluster, ns, "tiny")
    listed = json.loads(helm(k8s_cluster, home, "list", "-n", ns, "-o", "json").stdout)
    assert [(r["name"], r["status"]) for r in listed] == [("tiny", "deployed")]

    helm(k8s_cluster, home, "uninstall", "tiny", "-n", ns, "--wait", "--timeout", "90s")
    with pytest.raises(ApiException) as gone:
        k8s_cluster.core().read_namespaced_config_map("tiny-config", ns)
    assert gone.value.status == 404
    assert helm(k8s_cluster, home, "list", "-n", ns, "-q").stdout.strip() == ""


def test_server_reports_its_real_version(k8s_cluster: K8sCluster) -> None:
    from kubernetes import client

    pins = local_cluster_dir() / "versions.env"
    pinned = next(
        line.split("=", 1)[1].strip()
        for line in pins.read_text().splitlines()
        if line.startswith("KUBERNETES_VERSION=")
    )
    version = client.VersionApi(k8s_cluster.api_client).get_code()
    assert version.git_version == pinned
    assert f"v{version.major}.{version.minor}." in pinned + "."


def test_statefulset_claim_binds_through_the_local_path_provisioner(
    k8s_cluster: K8sCluster, k8s_namespace: str
) -> None:
    """No volume is made by the test: the default StorageClass and the provisioner do it."""
    from kubernetes import client

    apps, core = k8s_cluster.apps(), k8s_cluster.core()
    storage = client.StorageV1Api(k8s_cluster.api_client)
    default = [
        sc.metadata.name
        for sc in storage.list_storage_class().items
        if (sc.metadata.annotations or {}).get("storageclass.kubernetes.io/is-default-class")
        == "true"
    ]
    assert default == ["local-path"]
    assert client.NodeV1Api(k8s_cluster.api_client).read_runtime_class("nvidia").handler == "nvidia"
    apps.create_namespaced_stateful_set(
        k8s_namespace,
        {
            "metadata": {"name": "db"},
            "spec": {
                "serviceName": "db",
                "replicas": 1,
                "selector": {"matchLabels": {"app": "db"}},
                "template": {
                    "metadata": {"labels": {"app": "db"}},
                    "spec": {"containers": [{"name": "db", "image": "postgres:16"}]},
                },
                "volumeClaimTemplates": [
                    {
                        "metadata": {"name": "data"},
                        "spec": {
                            "accessModes": ["ReadWriteOnce"],
                            "resources": {"requests": {"storage": "1Gi"}},
                        },
                    }
                ],
            },
        },
    )

    def bound() -> Any:
        try:  # the StatefulSet controller creates the claim first
            claim = core.read_namespaced_persistent_volume_claim("data-db-0", k8s_namespace)
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise
        return claim if claim.status.phase == "Bound" else None

    claim = wait_for("the claim to be Bound", bound, timeout=90)
    assert claim.spec.storage_class_name == "local-path"
    pv = core.read_persistent_volume(claim.spec.volume_name)
    assert pv.metadata.annotations["pv.kubernetes.io/provisioned-by"] == "rancher.io/local-path"
    assert pv.spec.host_path.path.startswith("/var/lib/rancher/k3s/storage/")
    wait_for(
        "the pod to run",
        lambda: core.read_namespaced_pod("db-0", k8s_namespace).status.phase == "Running",
    )
    node = core.read_namespaced_pod("db-0", k8s_namespace).spec.node_name
    terms = pv.spec.node_affinity.required.node_selector_terms
    assert terms[0].match_expressions[0].values == [node]  # the volume is on the pod's node

    # Reclaim policy Delete: the claim goes, the provisioner removes the volume.
    apps.delete_namespaced_stateful_set("db", k8s_namespace)
    core.delete_namespaced_persistent_volume_claim("data-db-0", k8s_namespace)

    def pv_gone() -> bool:
        try:
            core.read_persistent_volume(pv.metadata.name)
        except ApiException as exc:
            return exc.status == 404
        return False

    wait_for("the volume to be deleted", pv_gone, timeout=90)
