from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from sophia_platform.deploy.values import deep_merge, render_values, split_image
from sophia_platform.errors import UsageError
from sophia_platform.resources import chart_dir
from sophia_platform.spec import Spec, load_spec

SCHEMA = chart_dir() / "values.schema.json"


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        ("redis:7.4", ("redis", "7.4")),
        ("docker.io/acme/api:1.2", ("docker.io/acme/api", "1.2")),
        ("localhost:5000/api", ("localhost:5000/api", "latest")),
        ("localhost:5000/api:2", ("localhost:5000/api", "2")),
        ("api@sha256:abc", ("api", "latest@sha256:abc")),
        ("reg.io/api:1@sha256:abc", ("reg.io/api", "1@sha256:abc")),
    ],
)
def test_split_image(ref: str, expected: tuple[str, str]) -> None:
    assert split_image(ref) == expected


def test_service_block_carries_everything_the_chart_needs(deploy_spec: Spec) -> None:
    api = render_values(deploy_spec, "local")["services"]["api"]
    assert api["image"] == {"repository": "registry.example.com/acme/acme-api", "tag": "1.4.0"}
    assert api["replicas"] == 3
    assert api["health"] == "/health"
    assert api["resources"] == {
        "requests": {"cpu": "250m", "memory": "256Mi"},
        "limits": {"memory": "512Mi"},
    }
    # own Secret by the secrets pipeline's naming rule; the shared one by key reference
    assert api["secret"] == {"name": "api-secrets", "keys": ["OPENAI_API_KEY"]}
    assert api["secretsHash"] == "none"
    assert api["sharedSecrets"] == [{"name": "acme-shared", "key": "DATABASE_URL"}]
    assert api["env"] == {"LOG_LEVEL": "info", "REDIS_HOST": "redis"}  # ${REDIS_HOST} from config
    assert api["ingress"] == {"host": "api.acme.example", "path": "/", "tls": True}


def test_gpu_storage_and_network_edges(deploy_spec: Spec) -> None:
    services = render_values(deploy_spec, "local")["services"]
    assert services["inference"]["gpu"] == {"count": 1, "type": "A100"}
    assert services["redis"]["storage"] == {"size": "1Gi", "mountPath": "/data"}
    assert services["postgres"]["storage"]["mountPath"] == "/var/lib/postgresql/data"
    # allowFrom is the reverse of depends_on: who may call this service
    assert services["redis"]["allowFrom"] == ["api", "worker"]
    assert services["inference"]["allowFrom"] == ["api"]
    assert services["api"]["allowFrom"] == []


def test_image_tag_applies_only_to_unpinned_registry_images(deploy_spec: Spec) -> None:
    services = render_values(deploy_spec, "local", image_tag="9.9.9")["services"]
    # --image-tag is the release tag of our own images; third-party images keep theirs
    assert services["api"]["image"]["tag"] == "9.9.9"
    assert services["worker"]["image"]["tag"] == "9.9.9"
    assert services["redis"]["image"] == {"repository": "redis", "tag": "7.4"}


def test_environment_overrides_and_secret_hashes(deploy_spec: Spec) -> None:
    values = render_values(deploy_spec, "production", secret_hashes={"api": "h1"})
    assert values["global"] == {"project": "acme", "environment": "production"}
    assert values["services"]["api"]["autoscaling"] == {
        "enabled": True,
        "minReplicas": 2,
        "maxReplicas": 6,
    }
    assert values["services"]["api"]["secretsHash"] == "h1"


def test_unknown_environment_is_a_usage_error(deploy_spec: Spec) -> None:
    with pytest.raises(UsageError, match=r"unknown environment 'nope'.*local, production"):
        render_values(deploy_spec, "nope")


def test_deep_merge_does_not_mutate() -> None:
    base = {"a": {"b": 1, "c": [1]}}
    merged = deep_merge(base, {"a": {"b": 2}, "d": 3})
    assert merged == {"a": {"b": 2, "c": [1]}, "d": 3}
    assert base == {"a": {"b": 1, "c": [1]}}


@pytest.mark.parametrize("env", ["production", "staging", "local"])
def test_example_values_validate_against_the_chart_schema(
    example_spec_path: Path, env: str
) -> None:
    spec = load_spec(example_spec_path)
    values = render_values(spec, env)
    jsonschema.validate(values, json.loads(SCHEMA.read_text()))
    assert len(values["services"]) == 15
    if env == "staging":  # replicasOverride: 1
        assert {s["replicas"] for s in values["services"].values()} == {1}


def test_schema_rejects_bad_values(deploy_spec: Spec) -> None:
    values = render_values(deploy_spec, "local")
    values["services"]["api"]["replicas"] = -1
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(values, json.loads(SCHEMA.read_text()))


def test_only_optional_secrets_make_the_secret_optional(tmp_path: Path) -> None:
    from ruamel.yaml import YAML

    from .conftest import DEPLOY_SPEC

    yaml = YAML()
    data = yaml.load(DEPLOY_SPEC.read_text())
    data["services"]["worker"]["secrets"] = ["SLACK_WEBHOOK"]
    path = tmp_path / "s.yaml"
    with path.open("w") as handle:
        yaml.dump(data, handle)
    services = render_values(load_spec(path), "local")["services"]
    assert services["worker"]["secret"]["optional"] is True
    assert "optional" not in services["api"]["secret"]
