"""The kubernetes provider against the real local control plane."""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from pathlib import Path
from secrets import token_hex
from typing import Any

import pytest

from sophia_platform.config import SecretValue
from sophia_platform.errors import ExternalError, InputError
from sophia_platform.secrets.providers import kubernetes as kube
from sophia_platform.secrets.providers.base import ProviderContext
from sophia_platform.secrets.providers.kubernetes import KubernetesProvider
from sophia_platform.secrets.providers.local import LocalProvider
from sophia_platform.secrets.sync import SyncOptions, run
from sophia_platform.secrets.trace import trace

pytestmark = pytest.mark.cluster


@pytest.fixture
def kctx(
    make_ctx: Callable[..., ProviderContext],
    k8s_cluster: Any,
    k8s_namespace: str,
    values: dict[str, str],
) -> ProviderContext:
    ctx = make_ctx(api_client=k8s_cluster.api_client, namespace=k8s_namespace)
    LocalProvider(ctx).save({k: SecretValue(v) for k, v in values.items()})
    return ctx


def secret(cluster: Any, ns: str, name: str) -> Any:
    return cluster.core().read_namespaced_secret(name, ns)


def decoded(obj: Any) -> dict[str, str]:
    return {k: base64.b64decode(v).decode() for k, v in (obj.data or {}).items()}


def sync(ctx: ProviderContext, **opts: bool) -> Any:
    return run(
        LocalProvider(ctx), KubernetesProvider(ctx), "dev", SyncOptions(**opts), dry_run=False
    )


def test_one_secret_per_service_with_label_and_hash(
    kctx, k8s_cluster, k8s_namespace, values
) -> None:
    result = sync(kctx)
    assert result.applied is not None
    assert result.plan.names("add") == [
        "api-secrets/DATABASE_URL",
        "api-secrets/OPENAI_API_KEY",
        "api-secrets/SHARED_TOKEN",
        "common-secrets/GROUPED_KEY",
        "worker-secrets/SHARED_TOKEN",
    ]
    api = secret(k8s_cluster, k8s_namespace, "api-secrets")
    assert api.metadata.labels["app.kubernetes.io/managed-by"] == "sophia"
    assert decoded(api) == {
        k: values[k] for k in ("DATABASE_URL", "OPENAI_API_KEY", "SHARED_TOKEN")
    }
    assert api.metadata.annotations[kube.HASH_ANNOTATION] == kube.content_hash(decoded(api))
    assert any(
        f.manager == "sophia" and f.operation == "Apply" for f in api.metadata.managed_fields
    )
    assert decoded(secret(k8s_cluster, k8s_namespace, "common-secrets")) == {
        "GROUPED_KEY": values["GROUPED_KEY"]
    }
    # OPTIONAL_KEY is consumed by no service: it is not written anywhere in Kubernetes.
    assert "OPTIONAL_KEY" not in result.plan.names("add")
    # Re-running writes nothing.
    again = sync(kctx)
    assert again.plan.changes == [] and again.applied is not None
    assert again.applied.requests == 0


def test_change_updates_hash_and_only_touched_secret(kctx, k8s_cluster, k8s_namespace) -> None:
    sync(kctx)
    before = {n: secret(k8s_cluster, k8s_namespace, n) for n in ("api-secrets", "worker-secrets")}
    LocalProvider(kctx).set_value("OPENAI_API_KEY", SecretValue("CANARY-rotated-k8s"))
    result = sync(kctx)
    assert result.plan.names("change") == ["api-secrets/OPENAI_API_KEY"]
    api = secret(k8s_cluster, k8s_namespace, "api-secrets")
    old = before["api-secrets"].metadata.annotations[kube.HASH_ANNOTATION]
    assert api.metadata.annotations[kube.HASH_ANNOTATION] != old
    worker = secret(k8s_cluster, k8s_namespace, "worker-secrets")
    assert worker.metadata.resource_version == before["worker-secrets"].metadata.resource_version


def test_unmanaged_keys_are_kept_unless_pruned(kctx, k8s_cluster, k8s_namespace) -> None:
    sync(kctx)
    store = LocalProvider(kctx)
    values = store.load()
    del values["DATABASE_URL"]
    store.save(values)
    kept = sync(kctx)
    assert kept.plan.blocked  # a required secret went missing: refused, nothing written
    assert "DATABASE_URL" in decoded(secret(k8s_cluster, k8s_namespace, "api-secrets"))
    # Make DATABASE_URL optional through the manifest? Simpler: prune an extra key instead.
    core = k8s_cluster.core()
    core.patch_namespaced_secret(
        "worker-secrets",
        k8s_namespace,
        {"data": {"STRAY": base64.b64encode(b"stray-value-1").decode()}},
    )
    store.set_value("DATABASE_URL", SecretValue("CANARY-db-again"))
    orphan = sync(kctx)
    assert orphan.plan.names("orphaned") == ["worker-secrets/STRAY"]
    assert "STRAY" in decoded(secret(k8s_cluster, k8s_namespace, "worker-secrets"))
    pruned = sync(kctx, prune=True)
    assert pruned.plan.names("remove") == ["worker-secrets/STRAY"]
    assert "STRAY" not in decoded(secret(k8s_cluster, k8s_namespace, "worker-secrets"))


def test_size_limit_is_refused_before_writing(kctx, k8s_cluster, k8s_namespace) -> None:
    big = token_hex(600 * 1024)  # 1.2 MB of random text: real, not a placeholder
    LocalProvider(kctx).set_value("OPENAI_API_KEY", SecretValue(big))
    with pytest.raises(InputError, match="1 MiB") as info:
        sync(kctx)
    assert big[:16] not in str(info.value)
    names = {
        x.metadata.name for x in k8s_cluster.core().list_namespaced_secret(k8s_namespace).items
    }
    assert "api-secrets" not in names


def test_interrupted_apply_converges(kctx, k8s_cluster, k8s_namespace, monkeypatch) -> None:
    original = KubernetesProvider._apply_secret
    calls = {"n": 0}

    def dies_after_first(self: KubernetesProvider, name: str, data: dict[str, str]) -> str:
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt  # the process is killed between two Secret writes
        return original(self, name, data)

    monkeypatch.setattr(KubernetesProvider, "_apply_secret", dies_after_first)
    with pytest.raises(KeyboardInterrupt):
        sync(kctx)
    names = {
        s.metadata.name for s in k8s_cluster.core().list_namespaced_secret(k8s_namespace).items
    }
    assert len(names & {"api-secrets", "common-secrets", "worker-secrets"}) == 1
    monkeypatch.setattr(KubernetesProvider, "_apply_secret", original)
    rerun = sync(kctx)
    assert len(rerun.plan.names("add")) >= 2
    assert sync(kctx).plan.changes == []


def test_unreachable_cluster_is_exit_3(make_ctx, tmp_path: Path) -> None:
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: x\nclusters:\n- name: x\n  cluster:\n"
        "    server: https://127.0.0.1:1\ncontexts:\n- name: x\n  context: {cluster: x, user: x}\n"
        "users:\n- name: x\n  user: {token: t}\n"
    )
    ctx = make_ctx(kubeconfig=str(kubeconfig), kube_context="x")
    with pytest.raises(ExternalError, match=r"cannot reach the API server|failed"):
        KubernetesProvider(ctx).state()


def _deployment(name: str, secret_name: str) -> dict[str, Any]:
    labels = {"app.kubernetes.io/name": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "containers": [
                        {
                            "name": "app",
                            "image": "busybox",
                            "envFrom": [{"secretRef": {"name": secret_name}}],
                        }
                    ],
                    "tolerations": [{"operator": "Exists"}],
                },
            },
        },
    }


def _wait(predicate: Callable[[], bool], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.25)


def test_deployment_rolls_when_its_secret_changes_and_trace_sees_stale_pods(
    kctx, k8s_cluster, k8s_namespace
) -> None:
    apps, core = k8s_cluster.apps(), k8s_cluster.core()
    sync(kctx)
    apps.create_namespaced_deployment(k8s_namespace, _deployment("api", "api-secrets"))
    apps.create_namespaced_deployment(k8s_namespace, _deployment("worker", "worker-secrets"))

    def running(app: str) -> list[Any]:
        pods = core.list_namespaced_pod(
            k8s_namespace, label_selector=f"app.kubernetes.io/name={app}"
        ).items
        return [
            p for p in pods if p.status.phase == "Running" and not p.metadata.deletion_timestamp
        ]

    _wait(lambda: len(running("api")) == 1 and len(running("worker")) == 1)
    first_api = running("api")[0].metadata.name
    first_worker = running("worker")[0].metadata.name
    time.sleep(1.1)  # start times have second resolution: the change must come later

    # Without the restart: trace reports the running pod as stale.
    kctx.options = {**kctx.options, "restart": False}
    LocalProvider(kctx).set_value("OPENAI_API_KEY", SecretValue("CANARY-rotated-roll"))
    sync(kctx)
    report = trace("OPENAI_API_KEY", kctx.manifest, {"kubernetes": KubernetesProvider(kctx)}, "dev")
    assert [(p.pod, p.stale) for p in report.pods] == [(first_api, True)]

    # With it (the default): the Deployment's template gets the hash, the pod is replaced.
    kctx.options = {**kctx.options, "restart": True}
    LocalProvider(kctx).set_value("OPENAI_API_KEY", SecretValue("CANARY-rotated-roll-2"))
    sync(kctx)
    dep = apps.read_namespaced_deployment("api", k8s_namespace)
    assert kube.TEMPLATE_ANNOTATION in dep.spec.template.metadata.annotations
    _wait(lambda: [p.metadata.name for p in running("api")] not in ([], [first_api]))
    # The worker does not use api-secrets: untouched.
    assert [p.metadata.name for p in running("worker")] == [first_worker]
    worker = apps.read_namespaced_deployment("worker", k8s_namespace)
    assert kube.TEMPLATE_ANNOTATION not in (worker.spec.template.metadata.annotations or {})
    _wait(lambda: len(running("api")) == 1)
    report = trace("OPENAI_API_KEY", kctx.manifest, {"kubernetes": KubernetesProvider(kctx)}, "dev")
    assert report.pods and not any(
        p.stale for p in report.pods if p.pod in {q.metadata.name for q in running("api")}
    )


def test_unmanaged_names_are_mapped_to_valid_keys(kctx, k8s_cluster, k8s_namespace) -> None:
    store = LocalProvider(kctx)
    store.set_value("weird name!", SecretValue("CANARY-weird"))
    result = sync(kctx, include_unmanaged=True)
    assert "acme-unmanaged-secrets/weird_name_" in result.plan.names("add")
    bucket = secret(k8s_cluster, k8s_namespace, "acme-unmanaged-secrets")
    assert decoded(bucket) == {"weird_name_": "CANARY-weird"}
    store.set_value("weird?name!", SecretValue("CANARY-weird-2"))
    with pytest.raises(InputError, match="both map to Kubernetes key"):
        sync(kctx, include_unmanaged=True)


def test_sigkilled_sync_rerun_converges(
    kctx, k8s_cluster, k8s_namespace, spec_file, tmp_path
) -> None:
    """Kill a real `sophia secrets sync` process at several points; the next run converges."""
    import os
    import signal
    import subprocess
    import sys

    spec_file.write_text(
        spec_file.read_text().replace("namespace: acme-dev", f"namespace: {k8s_namespace}")
    )
    env = {
        **os.environ,
        "SOPHIA_SPEC": str(spec_file),
        "KUBECONFIG": str(k8s_cluster.kubeconfig),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
    }
    argv = [
        sys.executable,
        "-m",
        "sophia_platform.cli.main",
        "secrets",
        "sync",
        "--from",
        "local",
        "--to",
        "kubernetes",
        "dev",
    ]
    store = LocalProvider(kctx)
    for round_, delay in enumerate((0.6, 0.9, 1.2, 1.5, 1.8)):
        for name in ("OPENAI_API_KEY", "SHARED_TOKEN", "GROUPED_KEY"):
            store.set_value(name, SecretValue(f"CANARY-{name}-{round_}-{token_hex(4)}"))
        proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        sync(kctx)
        assert sync(kctx).plan.changes == []
        want = {k: v.reveal() for k, v in store.load().items()}
        api = decoded(secret(k8s_cluster, k8s_namespace, "api-secrets"))
        assert api["OPENAI_API_KEY"] == want["OPENAI_API_KEY"]
        assert decoded(secret(k8s_cluster, k8s_namespace, "worker-secrets")) == {
            "SHARED_TOKEN": want["SHARED_TOKEN"]
        }
