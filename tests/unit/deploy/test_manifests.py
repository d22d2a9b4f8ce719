"""`sophia render manifests`: the real helm template of the shipped chart, from any directory."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sophia_platform.cli.main import main
from sophia_platform.deploy.manifests import render_manifests
from sophia_platform.spec import load_spec


def test_renders_every_service_of_the_example_offline(
    helm_bin: Path,
    example_spec_path: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("SOPHIA_HELM_BIN", str(helm_bin))
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "no-such-kubeconfig"))  # never read
    monkeypatch.chdir(tmp_path)
    assert main(["init", "--example"]) == 0
    capsys.readouterr()
    assert main(["render", "manifests", "staging", "--format", "json"]) == 0
    objects = json.loads(capsys.readouterr().out)
    spec = load_spec(example_spec_path)
    workloads = {
        o["metadata"]["name"] for o in objects if o["kind"] in {"Deployment", "StatefulSet"}
    }
    assert workloads == set(spec.services)
    env_labels = {o["metadata"]["labels"]["sophia.dev/environment"] for o in objects}
    assert env_labels == {"staging"}


def test_text_output_is_the_helm_template_of_the_default_environment(
    helm_bin: Path, example_spec_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOPHIA_HELM_BIN", str(helm_bin))
    spec = load_spec(example_spec_path)
    rendered = render_manifests(spec, None, image_tag="2026.12.1")
    assert rendered.env == spec.default_environment
    assert "# Source: sophia-platform/templates/workload.yaml" in rendered.text
    assert "sophia-api:2026.12.1" in rendered.text
