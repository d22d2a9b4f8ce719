from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from sophia_platform.resources import chart_dir
from sophia_platform.spec import Spec, load_spec

ROOT = Path(__file__).resolve().parents[3]
DEPLOY_SPEC = ROOT / "tests" / "fixtures" / "deploy-spec.yaml"
CHART = chart_dir()


@pytest.fixture
def deploy_spec() -> Spec:
    return load_spec(DEPLOY_SPEC)


@pytest.fixture(scope="session")
def helm_bin() -> Path:
    from sophia_platform.devcluster import find_tool

    found = find_tool("helm")
    if found is None:
        pytest.skip("helm is not built: run scripts/setup (or set SOPHIA_HELM_BIN)")
    return found


Render = Callable[[dict[str, Any]], list[dict[str, Any]]]


@pytest.fixture
def render(helm_bin: Path, tmp_path: Path) -> Render:
    """Run the real `helm template` on values; return the manifests as dicts."""

    def _render(values: dict[str, Any]) -> list[dict[str, Any]]:
        path = tmp_path / "values.json"
        path.write_text(json.dumps(values))
        proc = subprocess.run(
            [str(helm_bin), "template", "acme", str(CHART), "--values", str(path)],
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
        assert proc.returncode == 0, proc.stderr
        return [d for d in YAML(typ="safe").load_all(proc.stdout) if d]

    return _render


def find(docs: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    hits = [d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name]
    assert len(hits) == 1, f"{kind}/{name}: {len(hits)} found"
    return hits[0]
