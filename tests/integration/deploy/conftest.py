"""Deploy tests against the real local control plane with the real helm.

Each test gets a fresh namespace and a spec whose `local` environment points at it. The
Secrets are written with canary values; every test that looks at output checks they are absent.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from sophia_platform.deploy.results import DeployOptions, DeployResult, SilentObserver
from sophia_platform.deploy.rollback import rollback
from sophia_platform.deploy.upgrade import deploy
from sophia_platform.spec import Spec, load_spec

ROOT = Path(__file__).resolve().parents[3]
FIXTURE_SPEC = ROOT / "tests" / "fixtures" / "deploy-spec.yaml"
CANARY = "canary-5b1e0c-never-print-me"


@dataclass
class DeployEnv:
    """A spec bound to one test namespace of the local cluster."""

    spec: Spec
    spec_path: Path
    namespace: str
    kubeconfig: Path
    api: Any

    def opts(self, **kw: Any) -> DeployOptions:
        kw.setdefault("timeout_s", 120)
        kw.setdefault("grace_s", 3.0)
        return DeployOptions(kubeconfig=self.kubeconfig, **kw)

    def deploy(self, **kw: Any) -> DeployResult:
        return deploy(self.spec, "local", self.opts(**kw), SilentObserver())

    def rollback(self, to: int | None = None, **kw: Any) -> DeployResult:
        return rollback(self.spec, "local", to, self.opts(**kw), SilentObserver())

    def core(self) -> Any:
        from kubernetes import client

        return client.CoreV1Api(self.api)

    def apps(self) -> Any:
        from kubernetes import client

        return client.AppsV1Api(self.api)

    def images(self) -> dict[str, str]:
        deps = self.apps().list_namespaced_deployment(self.namespace).items
        stss = self.apps().list_namespaced_stateful_set(self.namespace).items
        return {o.metadata.name: o.spec.template.spec.containers[0].image for o in [*deps, *stss]}

    def put_secret(self, name: str, data: dict[str, str]) -> None:
        from kubernetes import client

        body = client.V1Secret(
            metadata=client.V1ObjectMeta(name=name),
            data={k: base64.b64encode(v.encode()).decode() for k, v in data.items()},
        )
        core = self.core()
        existing = {s.metadata.name for s in core.list_namespaced_secret(self.namespace).items}
        if name in existing:
            core.replace_namespaced_secret(name, self.namespace, body)
        else:
            core.create_namespaced_secret(self.namespace, body)


def write_spec(
    tmp_path: Path, namespace: str, source: Path = FIXTURE_SPEC, edit: Any = None
) -> Path:
    yaml = YAML()
    data = yaml.load(source.read_text())
    data["environments"]["local"]["namespace"] = namespace
    data["environments"]["local"]["context"] = "sophia-local"
    if edit is not None:
        edit(data)
    path = tmp_path / "sophia.yaml"
    with path.open("w") as handle:
        yaml.dump(data, handle)
    return path


def make_env(
    k8s_cluster: Any, namespace: str, spec_path: Path, *, secrets: bool = True
) -> DeployEnv:
    spec = load_spec(spec_path)
    env = DeployEnv(spec, spec_path, namespace, k8s_cluster.kubeconfig, k8s_cluster.api_client)
    if secrets:
        for service, svc in spec.services.items():
            own = {
                s: f"{CANARY}-{s}" for s in svc.secrets if spec.secrets[s].kubernetes.secret is None
            }
            if own:
                env.put_secret(f"{service}-secrets", own)
        shared: dict[str, dict[str, str]] = {}
        for name, entry in spec.secrets.items():
            if entry.kubernetes.secret:
                shared.setdefault(entry.kubernetes.secret, {})[name] = f"{CANARY}-{name}"
        for secret, data in shared.items():
            env.put_secret(secret, data)
    return env


def free_namespace(api: Any, namespace: str, timeout_s: float = 30.0) -> None:
    """Remove a test's workloads and wait for its pods to go: the simulated GPUs are shared."""
    import time

    from kubernetes import client

    apps, core = client.AppsV1Api(api), client.CoreV1Api(api)
    for dep in apps.list_namespaced_deployment(namespace).items:
        apps.delete_namespaced_deployment(dep.metadata.name, namespace)
    for sts in apps.list_namespaced_stateful_set(namespace).items:
        apps.delete_namespaced_stateful_set(sts.metadata.name, namespace)
    core.delete_collection_namespaced_pod(namespace, grace_period_seconds=0)
    deadline = time.monotonic() + timeout_s
    while core.list_namespaced_pod(namespace).items and time.monotonic() < deadline:
        time.sleep(0.2)


@pytest.fixture
def namespace(k8s_cluster: Any, k8s_namespace: str) -> Iterator[str]:
    """A fresh namespace whose pods are gone (GPUs free) before the next test starts."""
    yield k8s_namespace
    free_namespace(k8s_cluster.api_client, k8s_namespace)


@pytest.fixture
def denv(k8s_cluster: Any, namespace: str, tmp_path: Path) -> DeployEnv:
    return make_env(k8s_cluster, namespace, write_spec(tmp_path, namespace))
