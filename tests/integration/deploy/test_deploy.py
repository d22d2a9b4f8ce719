"""sophia deploy / rollback against the real local control plane with the real helm."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from sophia_platform.deploy import helm, records, releases
from sophia_platform.deploy.results import DeployFailed, PreflightRefused
from sophia_platform.deploy.status import collect
from sophia_platform.deploy.target import chart_dir
from sophia_platform.deploy.values import render_values, values_file
from sophia_platform.kube.apply import dry_run
from sophia_platform.resources import example_spec_path
from sophia_platform.spec import load_spec

from .conftest import DeployEnv, make_env, write_spec

pytestmark = pytest.mark.cluster

EXAMPLE = example_spec_path()


def test_example_manifests_pass_server_side_dry_run(
    k8s_cluster: Any, namespace: str, tmp_path: Path
) -> None:
    spec = load_spec(write_spec(tmp_path, namespace, EXAMPLE))
    values = render_values(spec, "local")
    t = helm.HelmTarget(
        k8s_cluster.helm, "sophia-local", namespace, "sophia-ai", k8s_cluster.kubeconfig
    )
    with values_file(values) as path:
        rendered = helm.run(helm.template(t, chart_dir(), path), timeout=60).stdout
    docs = [d for d in YAML(typ="safe").load_all(rendered) if d]
    results = dry_run(k8s_cluster.api_client, namespace, docs)
    assert len(results) == len(docs) > 45
    assert [(r.kind, r.name, r.error) for r in results if r.error] == []
    # dry run: nothing was created
    assert all(r.live is None for r in results)


def test_deploy_from_nothing_then_new_tag_rolls_pods(denv: DeployEnv) -> None:
    first = denv.deploy()
    assert first.outcome == "succeeded" and first.revision == 1
    st = collect(denv.spec, "local", kubeconfig=denv.kubeconfig)
    assert st.healthy, [s for s in st.services if not s.healthy]
    assert {s.name: s.ready for s in st.services} == {
        "api": 3,
        "inference": 1,
        "postgres": 1,
        "redis": 1,
        "worker": 1,
    }
    gpu_node = next(n for n in st.nodes if n.gpu_type == "A100")
    assert gpu_node.gpu_requested == 1 and gpu_node.holders[0].pod.startswith("inference-")
    old_pods = {
        p.metadata.name
        for p in denv.core()
        .list_namespaced_pod(denv.namespace, label_selector="app.kubernetes.io/name=api")
        .items
    }

    second = denv.deploy(image_tag="1.5.0")
    assert second.outcome == "succeeded" and second.revision == 2
    assert denv.images()["api"].endswith("acme-api:1.5.0")
    assert denv.images()["redis"] == "redis:7.4"  # third-party image keeps its tag
    pods = (
        denv.core()
        .list_namespaced_pod(denv.namespace, label_selector="app.kubernetes.io/name=api")
        .items
    )
    live = {p.metadata.name for p in pods if p.metadata.deletion_timestamp is None}
    assert len(live) == 3 and not live & old_pods
    recs = records.load_all(denv.api, denv.namespace, "acme")
    assert [(r.revision, r.action, r.outcome) for r in recs] == [
        (1, "deploy", "succeeded"),
        (2, "deploy", "succeeded"),
    ]
    assert recs[1].images["api"] == "1.5.0" and recs[1].duration_s is not None


def test_never_ready_image_fails_fast_and_rolls_back(denv: DeployEnv) -> None:
    assert denv.deploy().outcome == "succeeded"
    with pytest.raises(DeployFailed) as info:
        denv.deploy(image_tag="never-ready", timeout_s=300, grace_s=3.0)
    result = info.value.result
    # stopped by the failing pods, not by the 300 s timeout (benchmarks/deploy.py times it)
    assert result.failure is not None and result.failure.reason == "CrashLoopBackOff"
    assert result.rolled_back_to == 1 and result.outcome == "rolled-back"
    assert "rolled back to revision 1" in str(info.value)
    # the release is healthy again, on revision 1's manifest (as a new revision 3)
    latest = releases.latest(denv.api, denv.namespace, "acme")
    assert latest is not None and latest.revision == 3 and latest.status == "deployed"
    assert denv.images()["api"].endswith(":1.4.0")
    st = collect(denv.spec, "local", kubeconfig=denv.kubeconfig)
    assert st.healthy and not st.drifted
    recs = records.load_all(denv.api, denv.namespace, "acme")
    outcomes = [(r.revision, r.action, r.outcome) for r in recs]
    assert recs[2].images["api"] == "1.4.0"  # the rollback record names what it restored
    assert outcomes == [
        (1, "deploy", "succeeded"),
        (2, "deploy", "rolled-back"),
        (3, "rollback", "succeeded"),
    ]


def test_rollback_to_chosen_revision_and_default_previous(denv: DeployEnv) -> None:
    for tag in ("1.0.0", "1.1.0", "1.2.0"):
        assert denv.deploy(image_tag=tag).outcome == "succeeded"
    plan = denv.rollback(to=1, dry_run=True)
    assert plan.outcome == "dry-run" and plan.changes["api"] == ("1.2.0", "1.0.0")
    assert releases.latest(denv.api, denv.namespace, "acme").revision == 3  # type: ignore[union-attr]
    done = denv.rollback(to=1)
    assert done.outcome == "succeeded" and done.revision == 4
    assert denv.images()["api"].endswith(":1.0.0")
    # default: the previous good revision before the current one (3: 1.2.0)
    back = denv.rollback()
    assert back.rolled_back_to == 3 and denv.images()["api"].endswith(":1.2.0")


def _nothing_deployed(denv: DeployEnv) -> None:
    assert releases.latest(denv.api, denv.namespace, "acme") is None
    assert denv.apps().list_namespaced_deployment(denv.namespace).items == []


def test_preflight_refuses_missing_secret(denv: DeployEnv) -> None:
    denv.core().delete_namespaced_secret("inference-secrets", denv.namespace)
    with pytest.raises(PreflightRefused, match=r"HF_TOKEN \(inference-secrets/HF_TOKEN"):
        denv.deploy()
    _nothing_deployed(denv)


def test_preflight_refuses_placeholder_secret(denv: DeployEnv) -> None:
    denv.put_secret("api-secrets", {"OPENAI_API_KEY": "your-api-key-here"})
    with pytest.raises(PreflightRefused, match="placeholder values: OPENAI_API_KEY") as info:
        denv.deploy()
    assert "your-api-key-here" not in str(info.value)
    _nothing_deployed(denv)


def test_preflight_refuses_unsatisfiable_gpu(
    k8s_cluster: Any, namespace: str, tmp_path: Path
) -> None:
    def edit(data: Any) -> None:
        data["services"]["inference"]["gpu"] = 2  # every simulated node has one GPU

    denv = make_env(k8s_cluster, namespace, write_spec(tmp_path, namespace, edit=edit))
    with pytest.raises(PreflightRefused, match="inference needs 2 x A100 GPU per pod"):
        denv.deploy()
    _nothing_deployed(denv)


def test_preflight_refuses_wrong_context(k8s_cluster: Any, namespace: str, tmp_path: Path) -> None:
    def edit(data: Any) -> None:
        data["environments"]["local"]["context"] = "sophia-prod"

    path = write_spec(tmp_path, namespace)
    denv = make_env(k8s_cluster, namespace, path)
    denv.spec = load_spec(write_spec(tmp_path, namespace, edit=edit))
    from sophia_platform.errors import CheckFailed

    with pytest.raises(CheckFailed, match="kube context 'sophia-prod' is not in"):
        denv.deploy()
    _nothing_deployed(denv)


def test_status_reports_drift_from_the_release(denv: DeployEnv) -> None:
    assert denv.deploy().outcome == "succeeded"
    denv.apps().patch_namespaced_deployment_scale("api", denv.namespace, {"spec": {"replicas": 1}})
    st = collect(denv.spec, "local", kubeconfig=denv.kubeconfig)
    assert st.drifted
    assert st.helm is not None and st.helm.drift == ["api: replicas 1 (release says 3)"]


def test_old_deploy_records_are_pruned(denv: DeployEnv) -> None:
    for rev in range(1, 6):
        rec = records.DeployRecord("acme", "local", rev, "deploy", "me", "t", outcome="succeeded")
        records.save(denv.api, denv.namespace, rec)
    assert records.prune(denv.api, denv.namespace, "acme", keep=2) == 3
    assert [r.revision for r in records.load_all(denv.api, denv.namespace, "acme")] == [4, 5]
