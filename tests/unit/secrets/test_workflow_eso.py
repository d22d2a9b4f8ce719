"""The generated sync workflow and ESO manifests, validated structurally."""

from __future__ import annotations

import subprocess
from pathlib import Path

from ruamel.yaml import YAML

from sophia_platform.secrets.eso import eso_documents, render_eso
from sophia_platform.secrets.manifest import Manifest
from sophia_platform.secrets.workflow import render_workflow
from sophia_platform.spec import load_spec


def test_workflow_structure(example_spec_path: Path) -> None:
    spec = load_spec(example_spec_path)
    text = render_workflow(spec)
    doc = YAML(typ="safe").load(text)
    assert set(doc["on"]) == {"push", "schedule", "workflow_dispatch"}
    assert doc["on"]["push"]["branches"] == ["main"]
    assert "sophia.yaml" in doc["on"]["push"]["paths"]
    assert doc["on"]["schedule"][0]["cron"].count(" ") == 4
    assert doc["permissions"] == {"contents": "read"}
    steps = doc["jobs"]["sync"]["steps"]
    sync_steps = [s for s in steps if "sophia secrets sync" in s.get("run", "")]
    esc_envs = [n for n, e in spec.environments.items() if e.esc]
    assert len(sync_steps) == len(esc_envs) >= 1
    for step in sync_steps:
        assert step["env"]["ALL_SECRETS"] == "${{ toJSON(secrets) }}"
        # Values reach the step only through env, never through the command line or an echo.
        assert "secrets." not in step["run"] and "toJSON" not in step["run"]
        assert "echo" not in step["run"] and "set -x" not in step["run"]
        assert "--from github-actions --to esc" in step["run"]
    assert any(s.get("run", "").startswith("python -m pip install") for s in steps)
    # No step anywhere prints the secrets JSON.
    assert text.count("${{ toJSON(secrets) }}") == len(sync_steps)


def test_workflow_passes_actionlint(
    example_spec_path: Path, tmp_path: Path, actionlint: Path
) -> None:
    path = tmp_path / ".github" / "workflows" / "sync.yml"
    path.parent.mkdir(parents=True)
    path.write_text(render_workflow(load_spec(example_spec_path)))
    done = subprocess.run([str(actionlint), str(path)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def test_eso_documents_match_sync_layout(example_spec_path: Path) -> None:
    spec = load_spec(example_spec_path)
    env = next(n for n, e in spec.environments.items() if e.esc)
    docs = eso_documents(spec, env)
    store, externals = docs[0], docs[1:]
    pulumi = store["spec"]["provider"]["pulumi"]
    org, project, name = spec.environments[env].esc.split("/")
    assert (pulumi["organization"], pulumi["project"], pulumi["environment"]) == (
        org,
        project,
        name,
    )
    assert pulumi["accessToken"]["secretRef"]["key"] == "PULUMI_ACCESS_TOKEN"
    layout = Manifest.from_spec(spec).kube_layout()
    assert {d["metadata"]["name"] for d in externals} == set(layout)
    manifest = Manifest.from_spec(spec)
    for doc in externals:
        keys = layout[doc["metadata"]["name"]]
        assert {d["secretKey"] for d in doc["spec"]["data"]} == set(keys)
        for item in doc["spec"]["data"]:
            assert item["remoteRef"]["key"] == manifest.entries[keys[item["secretKey"]]].esc
    assert len(list(YAML(typ="safe").load_all(render_eso(spec, env)))) == len(docs)
