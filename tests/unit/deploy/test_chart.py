"""The chart rendered by the real `helm template` from generated values."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from sophia_platform.deploy.values import render_values
from sophia_platform.spec import Spec, load_spec

from .conftest import CHART, Render, find


def test_helm_lint_is_clean(helm_bin: Path, deploy_spec: Spec, tmp_path: Path) -> None:
    import json

    for env in ("local", "production"):
        values = tmp_path / f"{env}.json"
        values.write_text(json.dumps(render_values(deploy_spec, env)))
        proc = subprocess.run(
            [str(helm_bin), "lint", str(CHART), "--strict", "--values", str(values)],
            capture_output=True,
            text=True,
            check=False,
        )
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert "[WARNING]" not in proc.stdout and "[ERROR]" not in proc.stdout


def test_deployment_probes_resources_secrets(render: Render, deploy_spec: Spec) -> None:
    docs = render(render_values(deploy_spec, "local", secret_hashes={"api": "abc123"}))
    dep = find(docs, "Deployment", "api")
    assert dep["spec"]["replicas"] == 3
    assert dep["spec"]["strategy"]["rollingUpdate"] == {"maxUnavailable": 0, "maxSurge": 1}
    pod = dep["spec"]["template"]
    assert pod["metadata"]["annotations"]["sophia.dev/secrets-hash"] == "abc123"
    assert pod["metadata"]["annotations"]["prometheus.io/scrape"] == "true"
    c = pod["spec"]["containers"][0]
    assert c["image"] == "registry.example.com/acme/acme-api:1.4.0"
    assert c["readinessProbe"]["httpGet"] == {"path": "/health", "port": "http"}
    assert c["livenessProbe"]["httpGet"]["path"] == "/health"
    assert c["resources"] == {
        "requests": {"cpu": "250m", "memory": "256Mi"},
        "limits": {"memory": "512Mi"},
    }
    assert c["envFrom"] == [{"secretRef": {"name": "api-secrets"}}]
    shared = next(e for e in c["env"] if e["name"] == "DATABASE_URL")
    assert shared["valueFrom"] == {"secretKeyRef": {"name": "acme-shared", "key": "DATABASE_URL"}}
    # one file per key for sophia_platform.config, which is told where
    assert {"name": "SOPHIA_SECRETS_DIR", "value": "/var/run/secrets/sophia"} in c["env"]
    assert c["volumeMounts"][0]["mountPath"] == "/var/run/secrets/sophia"
    sources = pod["spec"]["volumes"][0]["projected"]["sources"]
    assert {"secret": {"name": "api-secrets"}} in sources
    assert "runtimeClassName" not in pod["spec"]


def test_secret_hash_change_rolls_pods(render: Render, deploy_spec: Spec) -> None:
    a = find(
        render(render_values(deploy_spec, "local", secret_hashes={"api": "1"})), "Deployment", "api"
    )
    b = find(
        render(render_values(deploy_spec, "local", secret_hashes={"api": "2"})), "Deployment", "api"
    )
    assert a["spec"]["template"] != b["spec"]["template"]
    # scaling is not a config change: it must not roll every pod
    c = find(
        render(
            render_values(
                deploy_spec,
                "local",
                secret_hashes={"api": "1"},
                overrides={"services": {"api": {"replicas": 5}}},
            )
        ),
        "Deployment",
        "api",
    )
    assert c["spec"]["template"] == a["spec"]["template"]


def test_gpu_service_gets_runtime_class_selector_toleration(
    render: Render, deploy_spec: Spec
) -> None:
    docs = render(render_values(deploy_spec, "local"))
    spec = find(docs, "Deployment", "inference")["spec"]
    pod = spec["template"]["spec"]
    assert pod["runtimeClassName"] == "nvidia"
    assert pod["nodeSelector"] == {"gpu-type": "A100"}
    assert {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in pod[
        "tolerations"
    ]
    assert pod["containers"][0]["resources"]["limits"] == {"nvidia.com/gpu": 1}
    # a surge pod could never get the GPU the old pod holds
    assert spec["strategy"]["rollingUpdate"] == {"maxUnavailable": 1, "maxSurge": 0}


def test_runtime_class_and_tolerations_are_values(render: Render, deploy_spec: Spec) -> None:
    overrides = {
        "global": {
            "gpu": {"runtimeClassName": ""},
            "tolerations": [{"key": "kwok.x-k8s.io/node", "operator": "Exists"}],
        }
    }
    docs = render(render_values(deploy_spec, "local", overrides=overrides))
    gpu_pod = find(docs, "Deployment", "inference")["spec"]["template"]["spec"]
    assert "runtimeClassName" not in gpu_pod
    api_pod = find(docs, "Deployment", "api")["spec"]["template"]["spec"]
    assert api_pod["tolerations"] == [{"key": "kwok.x-k8s.io/node", "operator": "Exists"}]


def test_statefulset_with_claim_and_headless_service(render: Render, deploy_spec: Spec) -> None:
    docs = render(render_values(deploy_spec, "local"))
    sts = find(docs, "StatefulSet", "postgres")
    assert sts["spec"]["serviceName"] == "postgres-headless"
    claim = sts["spec"]["volumeClaimTemplates"][0]
    assert claim["spec"]["resources"]["requests"]["storage"] == "5Gi"
    mount = sts["spec"]["template"]["spec"]["containers"][0]["volumeMounts"]
    assert {"name": "data", "mountPath": "/var/lib/postgresql/data"} in mount
    assert find(docs, "Service", "postgres-headless")["spec"]["clusterIP"] == "None"
    assert find(docs, "Service", "postgres")["spec"]["ports"][0]["port"] == 5432


def test_pdb_only_for_multiple_replicas_and_hpa_only_when_enabled(
    render: Render, deploy_spec: Spec
) -> None:
    local = render(render_values(deploy_spec, "local"))
    assert [d["metadata"]["name"] for d in local if d["kind"] == "PodDisruptionBudget"] == ["api"]
    assert not [d for d in local if d["kind"] == "HorizontalPodAutoscaler"]
    prod = render(render_values(deploy_spec, "production"))
    hpa = find(prod, "HorizontalPodAutoscaler", "api")
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (2, 6)
    assert "replicas" not in find(prod, "Deployment", "api")["spec"]  # the HPA owns it


def test_network_policy_allows_only_declared_dependents(render: Render, deploy_spec: Spec) -> None:
    docs = render(render_values(deploy_spec, "local"))
    redis = find(docs, "NetworkPolicy", "redis")["spec"]
    first = redis["ingress"][0]
    expr = first["from"][0]["podSelector"]["matchExpressions"][0]
    assert expr == {"key": "app.kubernetes.io/name", "operator": "In", "values": ["api", "worker"]}
    assert first["ports"] == [{"port": 6379, "protocol": "TCP"}]
    # worker has no port and nobody depends on it: nothing may reach it
    worker = find(docs, "NetworkPolicy", "worker")["spec"]
    assert not worker.get("ingress")


def test_ingress_class_and_cert_manager(render: Render, deploy_spec: Spec) -> None:
    docs = render(render_values(deploy_spec, "local"))
    ing = find(docs, "Ingress", "api")
    assert ing["spec"]["ingressClassName"] == "traefik"
    assert ing["metadata"]["annotations"] == {"cert-manager.io/cluster-issuer": "letsencrypt"}
    assert ing["spec"]["tls"] == [{"hosts": ["api.acme.example"], "secretName": "api-tls"}]
    overrides = {"global": {"ingress": {"className": "nginx"}}}
    ing2 = find(render(render_values(deploy_spec, "local", overrides=overrides)), "Ingress", "api")
    assert ing2["spec"]["ingressClassName"] == "nginx"


def test_schema_makes_helm_reject_bad_values(
    helm_bin: Path, deploy_spec: Spec, tmp_path: Path
) -> None:
    import json

    values = render_values(deploy_spec, "local")
    values["services"]["api"]["replicas"] = "three"
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(values))
    proc = subprocess.run(
        [str(helm_bin), "template", "acme", str(CHART), "--values", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode != 0
    assert "replicas" in proc.stderr


@pytest.mark.parametrize("env", ["production", "local"])
def test_example_renders_fifteen_workloads(
    render: Render, example_spec_path: Path, env: str
) -> None:
    docs = render(render_values(load_spec(example_spec_path), env))
    workloads = [d for d in docs if d["kind"] in ("Deployment", "StatefulSet")]
    assert len(workloads) == 15
    assert len([d for d in docs if d["kind"] == "NetworkPolicy"]) == 15


def test_secrets_of_only_optional_entries_do_not_block_pods(
    render: Render, deploy_spec: Spec
) -> None:
    # SLACK_WEBHOOK is optional: a service using only it must start without its Secret
    overrides = {
        "services": {
            "worker": {
                "secret": {"name": "worker-secrets", "keys": ["SLACK_WEBHOOK"], "optional": True}
            }
        }
    }
    docs = render(render_values(deploy_spec, "local", overrides=overrides))
    c = find(docs, "Deployment", "worker")["spec"]["template"]["spec"]["containers"][0]
    assert c["envFrom"] == [{"secretRef": {"name": "worker-secrets", "optional": True}}]
    api = find(docs, "Deployment", "api")["spec"]["template"]["spec"]["containers"][0]
    assert api["envFrom"] == [{"secretRef": {"name": "api-secrets"}}]  # required: not optional


def test_service_monitor_only_when_enabled_and_the_crd_exists(
    helm_bin: Path, deploy_spec: Spec, tmp_path: Path
) -> None:
    import json

    from ruamel.yaml import YAML

    overrides = {"global": {"monitoring": {"serviceMonitor": True}}}
    path = tmp_path / "v.json"
    path.write_text(json.dumps(render_values(deploy_spec, "local", overrides=overrides)))

    def kinds(*extra: str) -> list[str]:
        argv = [str(helm_bin), "template", "acme", str(CHART), "--values", str(path), *extra]
        out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
        return [d["kind"] for d in YAML(typ="safe").load_all(out) if d]

    assert "ServiceMonitor" not in kinds()  # no Prometheus Operator: nothing to break the install
    monitors = kinds("--api-versions", "monitoring.coreos.com/v1").count("ServiceMonitor")
    assert monitors == 4  # every service with a port (worker has none)
