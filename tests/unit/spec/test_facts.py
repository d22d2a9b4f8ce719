"""The facts of a validated spec, remembered by content: what ``sophia status`` reads."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from sophia_platform.errors import InputError, SpecError
from sophia_platform.spec import load_spec
from sophia_platform.spec.facts import EnvironmentFacts, ServiceFacts, SpecFacts, facts, load

SPEC = """\
project: acme
registry: docker.io/acme
default_environment: prod
environments:
  local: {context: kind-acme, namespace: acme}
  prod: {context: acme-prod, namespace: acme-prod, release: acme-web}
services:
  api: {image: acme-api, port: 8000, replicas: 3}
  redis: {kind: statefulset, image: redis:7, port: 6379, storage: 1Gi}
"""


@pytest.fixture(autouse=True)
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("SOPHIA_SPEC_CACHE", str(folder))
    return folder


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sophia.yaml"
    path.write_text(text)
    return path


def test_facts_are_what_the_spec_says_and_are_remembered(tmp_path: Path, cache: Path) -> None:
    path = _write(tmp_path, SPEC)
    first = facts(path)
    assert first == SpecFacts.of(load_spec(path))
    assert first.environments["prod"] == EnvironmentFacts("acme-prod", "acme-prod", "acme-web")
    assert first.services == {
        "api": ServiceFacts("deployment", 3),
        "redis": ServiceFacts("statefulset", 1),
    }
    (entry,) = cache.iterdir()
    assert entry.stat().st_mode & 0o777 == 0o600
    assert facts(path) == first  # from the entry


def test_the_example_inventory_and_cluster_settings_come_back_from_the_entry(
    tmp_path: Path, cache: Path
) -> None:
    from sophia_platform.resources import example_spec_path

    text = example_spec_path().read_text()
    text = text.replace(
        "  k3s_version:", "  server_config: {flannel-backend: wireguard-native}\n  k3s_version:"
    )
    text = text.replace(
        "    labels: {sophia.dev/pool: data}\n",
        "    labels: {sophia.dev/pool: data}\n    taints: ['nvidia.com/gpu=present:NoSchedule']\n"
        "    user: ubuntu\n    port: 2222\n    privilege: sudo\n",
    )
    path = _write(tmp_path, text)
    first = facts(path)
    assert first == SpecFacts.of(load_spec(path))
    again = facts(path)  # from the entry: no validation
    assert again == first
    data = again.nodes["data"]
    assert (data.role, data.user, data.port, data.privilege) == ("agent", "ubuntu", 2222, "sudo")
    assert data.taints == ["nvidia.com/gpu=present:NoSchedule"] and data.gpu_type == "A100"
    assert again.cluster.server_config == {"flannel-backend": "wireguard-native"}
    assert again.cluster.ssh.key == "${SSH_KEY_FILE}" and again.cluster.disable == ["traefik"]


def test_a_hit_imports_no_pydantic(tmp_path: Path, cache: Path) -> None:
    path = _write(tmp_path, SPEC)
    load(path)  # as `sophia deploy` does: validates and remembers
    probe = (
        "import sys; from pathlib import Path; from sophia_platform.spec.facts import facts; "
        f"f = facts(Path({str(path)!r})); "
        "print(f.default_environment, 'pydantic' in sys.modules, 'ruamel' in sys.modules)"
    )
    env = {**os.environ, "SOPHIA_SPEC_CACHE": str(cache)}
    out = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == ["prod", "False", "False"]


def test_an_edit_is_validated_again_and_a_broken_spec_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, SPEC)
    assert facts(path).services["api"].replicas == 3
    path.write_text(SPEC.replace("replicas: 3", "replicas: 4"))
    assert facts(path).services["api"].replicas == 4
    path.write_text(SPEC.replace("replicas: 3", "replicas: many"))
    with pytest.raises(SpecError, match="replicas"):
        facts(path)
    path.write_text(SPEC)  # the bytes validated first are still remembered
    assert facts(path).services["api"].replicas == 3


def test_a_missing_spec_names_sophia_init_and_a_broken_cache_is_ignored(
    tmp_path: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(InputError, match="sophia init"):
        facts(tmp_path / "sophia.yaml")
    path = _write(tmp_path, SPEC)
    facts(path)
    (entry,) = cache.iterdir()
    entry.write_text("{not json")
    assert facts(path).project == "acme"  # validated again, entry rewritten
    assert entry.read_text().startswith("{")
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("")
    monkeypatch.setenv("SOPHIA_SPEC_CACHE", str(blocked))  # unwritable: validates every time
    path.write_text(SPEC.replace("acme-web", "acme-www"))
    assert facts(path).environments["prod"].release == "acme-www"
    assert facts(path).environments["prod"].release == "acme-www"
