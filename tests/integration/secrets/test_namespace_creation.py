"""``secrets sync --to kubernetes`` creates a missing namespace, or says who must (real RBAC)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from sophia_platform.config import SecretValue
from sophia_platform.errors import ExternalError
from sophia_platform.secrets.providers.base import ProviderContext
from sophia_platform.secrets.providers.kubernetes import KubernetesProvider
from sophia_platform.secrets.providers.local import LocalProvider
from sophia_platform.secrets.sync import SyncOptions, run

pytestmark = pytest.mark.cluster


@pytest.fixture
def missing_namespace(k8s_cluster: Any) -> Iterator[str]:
    name = f"t-new-{uuid.uuid4().hex[:8]}"
    yield name
    from kubernetes.client.exceptions import ApiException

    try:
        k8s_cluster.core().delete_namespace(name)
    except ApiException as exc:
        if exc.status != 404:
            raise


@pytest.fixture
def stored_ctx(
    make_ctx: Callable[..., ProviderContext], missing_namespace: str, values: dict[str, str]
) -> Callable[[Any], ProviderContext]:
    """A context on ``missing_namespace`` through a given API client, values in the store."""

    def make(api_client: Any) -> ProviderContext:
        ctx = make_ctx(api_client=api_client, namespace=missing_namespace)
        LocalProvider(ctx).save({k: SecretValue(v) for k, v in values.items()})
        return ctx

    return make


def _sync(ctx: ProviderContext, *, dry_run: bool = False) -> Any:
    return run(LocalProvider(ctx), KubernetesProvider(ctx), "dev", SyncOptions(), dry_run=dry_run)


def test_sync_plans_then_creates_the_missing_namespace_and_says_so(
    stored_ctx: Callable[[Any], ProviderContext], k8s_cluster: Any, missing_namespace: str
) -> None:
    ctx = stored_ctx(k8s_cluster.api_client)
    planned = _sync(ctx, dry_run=True)
    assert planned.plan.creates == [f"namespace {missing_namespace}"]
    assert planned.applied is None
    names = [n.metadata.name for n in k8s_cluster.core().list_namespace().items]
    assert missing_namespace not in names  # a dry run creates nothing

    result = _sync(ctx)
    assert result.applied is not None
    assert result.applied.details == (f"created namespace {missing_namespace}",)
    secrets = k8s_cluster.core().list_namespaced_secret(missing_namespace).items
    assert {s.metadata.name for s in secrets} >= {"api-secrets", "worker-secrets"}
    assert _sync(ctx).plan.creates == []  # it exists now


def _limited_client(k8s_cluster: Any, suffix: str) -> Any:
    """An API client for a ServiceAccount that may read Secrets and namespaces, not create them."""
    from kubernetes import client

    core = k8s_cluster.core()
    rbac = client.RbacAuthorizationV1Api(k8s_cluster.api_client)
    name = f"limited-{suffix}"
    core.create_namespaced_service_account("default", {"metadata": {"name": name}})
    rbac.create_cluster_role(
        {
            "metadata": {"name": name},
            "rules": [
                {
                    "apiGroups": [""],
                    "resources": ["secrets", "namespaces"],
                    "verbs": ["get", "list"],
                }
            ],
        }
    )
    rbac.create_cluster_role_binding(
        {
            "metadata": {"name": name},
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": name,
            },
            "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": "default"}],
        }
    )
    token = core.create_namespaced_service_account_token(
        name, "default", {"spec": {"expirationSeconds": 600}}
    ).status.token
    config = client.Configuration()
    config.host = k8s_cluster.server
    config.ssl_ca_cert = k8s_cluster.api_client.configuration.ssl_ca_cert
    config.api_key = {"authorization": f"Bearer {token}"}
    return client.ApiClient(config)


def test_forbidden_namespace_creation_says_what_to_run(
    stored_ctx: Callable[[Any], ProviderContext],
    k8s_cluster: Any,
    missing_namespace: str,
    values: dict[str, str],
) -> None:
    limited = _limited_client(k8s_cluster, missing_namespace[-8:])
    try:
        ctx = stored_ctx(limited)
        with pytest.raises(ExternalError) as caught:
            _sync(ctx)
    finally:
        limited.close()
    error = caught.value
    assert "403" in error.message and missing_namespace in error.message
    assert error.hint is not None
    assert f"kubectl create namespace {missing_namespace}" in error.hint
    for value in values.values():
        assert value not in str(error) and value not in (error.hint or "")
