from __future__ import annotations

from pathlib import Path

import pytest

from sophia_platform.errors import SpecError
from sophia_platform.secrets.manifest import (
    Manifest,
    is_valid_kube_key,
    kube_key_for,
    kube_secret_name,
    kube_secret_names,
)
from sophia_platform.spec import Spec, load_spec


def small_spec(**secrets: dict[str, object]) -> Spec:
    return Spec.model_validate(
        {
            "project": "acme",
            "registry": "docker.io/acme",
            "environments": {"dev": {"context": "c", "namespace": "acme"}},
            "services": {
                "api": {"image": "api", "secrets": ["A_KEY", "SHARED"]},
                "worker": {"image": "worker", "secrets": ["SHARED", "GROUPED"]},
            },
            "secrets": {
                "A_KEY": {},
                "SHARED": {"esc": "nested.shared"},
                "GROUPED": {"kubernetes": {"secret": "common-secrets"}},
                "UNUSED": {"required": False},
                **secrets,
            },
        }
    )


def test_layout_per_service_and_group() -> None:
    spec = small_spec()
    manifest = Manifest.from_spec(spec)
    assert manifest.kube_layout() == {
        "api-secrets": {"A_KEY": "A_KEY", "SHARED": "SHARED"},
        "worker-secrets": {"SHARED": "SHARED"},
        "common-secrets": {"GROUPED": "GROUPED"},
    }
    assert kube_secret_name(spec, "api") == "api-secrets"
    assert kube_secret_names(spec, "worker") == ["common-secrets", "worker-secrets"]
    assert manifest.entries["UNUSED"].kube_secrets == ()
    assert manifest.by_esc()["nested.shared"] == "SHARED"
    assert manifest.by_esc()["a_key"] == "A_KEY"
    assert manifest.by_github()["A_KEY"] == "A_KEY"


def test_key_collision_is_a_clear_error() -> None:
    spec = small_spec(OTHER={"kubernetes": {"secret": "common-secrets", "key": "GROUPED"}})
    with pytest.raises(SpecError, match="both map to key 'GROUPED'"):
        Manifest.from_spec(spec)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("OPENAI_API_KEY", "OPENAI_API_KEY"),
        ("a.b-c", "a.b-c"),
        ("has space", "has_space"),
        ("slash/name", "slash_name"),
    ],
)
def test_kube_key_mapping(name: str, expected: str) -> None:
    assert kube_key_for(name) == expected
    assert is_valid_kube_key(expected)


@pytest.mark.parametrize("name", ["", "..", "???"])
def test_unmappable_names_are_rejected(name: str) -> None:
    with pytest.raises(SpecError, match="cannot be a Kubernetes key"):
        kube_key_for(name)


def test_example_spec_every_service_secret_has_a_home(example_spec_path: Path) -> None:
    spec = load_spec(example_spec_path)
    manifest = Manifest.from_spec(spec)
    layout = manifest.kube_layout()
    assert len(manifest.entries) >= 40
    for service, svc in spec.services.items():
        for secret in svc.secrets:
            homes = [s for s in kube_secret_names(spec, service) if secret in layout[s].values()]
            assert homes, (service, secret)
