"""One restart per secret change: `secrets sync` and `deploy` stamp pod templates alike.

A sync to Kubernetes restarts the pods of the Secrets it changed (ESO#3218); a deploy right
after it must render the very same stamp, so the pods are not restarted a second time.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sophia_platform.config import SecretValue
from sophia_platform.secrets.providers.kubernetes import KubernetesProvider
from sophia_platform.secrets.providers.local import LocalProvider
from sophia_platform.secrets.session import provider_context
from sophia_platform.secrets.stamp import TEMPLATE_ANNOTATION
from sophia_platform.secrets.sync import SyncOptions, run
from tests.integration.deploy.conftest import CANARY, DeployEnv

pytestmark = pytest.mark.cluster


def template(denv: DeployEnv, name: str) -> tuple[str, int]:
    """The stamp and the generation (the API server bumps it synchronously on any spec change;
    the revision annotation is set later by the controller, so it would race)."""
    dep = denv.apps().read_namespaced_deployment(name, denv.namespace)
    stamp = (dep.spec.template.metadata.annotations or {}).get(TEMPLATE_ANNOTATION, "")
    return stamp, int(dep.metadata.generation)


def test_deploy_after_sync_does_not_restart_again(
    denv: DeployEnv, k8s_cluster: Any, tmp_path: Path
) -> None:
    assert denv.deploy().outcome == "succeeded"
    stamp_before, generation_before = template(denv, "api")
    assert stamp_before not in ("", "none")

    ctx = provider_context(
        denv.spec,
        "local",
        options={"api_client": k8s_cluster.api_client, "namespace": denv.namespace},
        environ={"XDG_CONFIG_HOME": str(tmp_path / "config")},
    )
    # The values conftest put in the cluster, with one of them rotated.
    rotated = {name: SecretValue(f"{CANARY}-{name}") for name in denv.spec.secrets}
    rotated["OPENAI_API_KEY"] = SecretValue(f"{CANARY}-rotated")
    LocalProvider(ctx).save(rotated)
    result = run(LocalProvider(ctx), KubernetesProvider(ctx), "local", SyncOptions(), dry_run=False)
    assert result.applied is not None

    stamp_synced, generation_synced = template(denv, "api")
    assert stamp_synced != stamp_before, "the sync restarts the consumers of the changed Secret"
    assert generation_synced == generation_before + 1

    assert denv.deploy().outcome == "succeeded"
    assert template(denv, "api") == (stamp_synced, generation_synced), "no second restart"
