"""The one CI workflow: generated from the spec, checked by the real actionlint."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from sophia_platform.errors import UsageError
from sophia_platform.gitops.manifests import TreeOptions
from sophia_platform.gitops.tree import init
from sophia_platform.gitops.workflow import ACTIONS, WorkflowOptions, plan

from .conftest import Repo


def _gitops(repo: Repo) -> None:
    opts = TreeOptions(engine="flux", repo_url="https://git.example.com/acme/app.git")
    init(repo.spec, "production", opts, repo.work, dry_run=False)


def _lint(actionlint: Path, repo: Repo, text: str) -> subprocess.CompletedProcess[str]:
    path = repo.work / ".github" / "workflows" / "deploy.yml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return subprocess.run(
        [str(actionlint), "-no-color", str(path.relative_to(repo.work))],
        cwd=repo.work,
        capture_output=True,
        text=True,
        check=False,
    )


def test_workflow_passes_actionlint(repo: Repo, actionlint: Path) -> None:
    _gitops(repo)
    result = plan(repo.spec, repo.work, WorkflowOptions(envs=("production", "local"), report=True))
    lint = _lint(actionlint, repo, result.text)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    assert result.gitops_envs == ["production"] and result.helm_envs == ["local"]
    doc = YAML(typ="safe").load(result.text)
    jobs = doc["jobs"]
    assert doc["permissions"] == {"contents": "read"}
    assert doc["on"]["push"]["paths-ignore"] == ["kubernetes/production/values.yaml"]
    assert [r["service"] for r in jobs["build"]["strategy"]["matrix"]["include"]] == [
        "api",
        "worker",
    ]
    build = jobs["build"]["steps"][-1]["with"]
    assert build["tags"] == "${{ matrix.image }}:${{ github.sha }}"
    assert build["cache-from"].startswith("type=gha")
    deploy = jobs["deploy-production"]
    assert deploy["permissions"] == {"contents": "write"}
    assert deploy["concurrency"] == {"group": "deploy-production", "cancel-in-progress": False}
    assert 'sophia gitops set-image production --tag "$GITHUB_SHA"' in deploy["steps"][-1]["run"]
    assert jobs["audit"]["permissions"]["security-events"] == "write"
    steps = [s.get("uses", "") for s in jobs["audit"]["steps"]]
    assert any(u.startswith("github/codeql-action/upload-sarif@") for u in steps)
    assert any("sophia report --format md" in s.get("run", "") for s in jobs["audit"]["steps"])
    # A pull request runs the gates only; its audit gate reads the files it changes.
    assert doc["on"]["pull_request"] == {"branches": ["main"]}
    gate = next(s for s in jobs["audit"]["steps"] if "--since" in s.get("run", ""))
    assert gate["if"] == "github.event_name == 'pull_request'"
    assert gate["run"] == 'sophia audit --since "origin/$BASE_REF" --format concise\n'
    assert gate["env"] == {"BASE_REF": "${{ github.base_ref }}"}  # not spliced into the script
    assert jobs["audit"]["steps"][0]["with"]["fetch-depth"] == 0
    assert jobs["build"]["if"] == "github.event_name != 'pull_request'"
    assert deploy["if"] == "github.ref == 'refs/heads/main'"
    # every action is pinned to a full commit SHA
    for job in jobs.values():
        for step in job["steps"]:
            if "uses" in step:
                name, _, ref = step["uses"].partition("@")
                assert name in ACTIONS and len(ref) == 40, step["uses"]


def test_spec_gates_are_the_quality_job(repo: Repo, actionlint: Path) -> None:
    repo.spec.ci.lint = ["ruff check src", "ruff format --check src"]
    repo.spec.ci.test = ["pytest tests/unit -q"]
    result = plan(repo.spec, repo.work, WorkflowOptions(envs=("local",)))
    assert _lint(actionlint, repo, result.text).returncode == 0
    steps = YAML(typ="safe").load(result.text)["jobs"]["quality"]["steps"]
    runs = [s["run"] for s in steps if "run" in s]
    assert "ruff check src\nruff format --check src\n" in runs
    assert "pytest tests/unit -q\n" in runs
    assert "paths-ignore" not in YAML(typ="safe").load(result.text)["on"]["push"]


def test_check_lists_the_deploy_workflows_it_replaces(repo: Repo) -> None:
    folder = repo.work / ".github" / "workflows"
    folder.mkdir(parents=True)
    (folder / "deploy-swarm.yml").write_text(
        "on: push\njobs:\n  d:\n    runs-on: x\n    steps:\n"
        "      - run: docker stack deploy -c a b\n"
    )
    (folder / "lint.yml").write_text(
        "on: push\njobs:\n  l:\n    runs-on: x\n    steps:\n      - run: ruff check .\n"
    )
    repo.git("add", "-A")
    result = plan(repo.spec, repo.work, WorkflowOptions(envs=("local",)))
    assert result.replaces == [".github/workflows/deploy-swarm.yml"]


def test_no_environment_is_an_error(repo: Repo) -> None:
    with pytest.raises(UsageError, match="no environment"):
        plan(repo.spec, repo.work, WorkflowOptions(envs=()))


def test_gates_and_registry_come_from_sophia_yaml(repo: Repo, actionlint: Path) -> None:
    # Defaults first: ruff and pytest, images under the spec's registry.
    default = YAML(typ="safe").load(plan(repo.spec, repo.work, WorkflowOptions(("local",))).text)
    runs = [s.get("run", "") for s in default["jobs"]["quality"]["steps"]]
    assert "ruff check .\n" in runs and "pytest -q\n" in runs
    images = [r["image"] for r in default["jobs"]["build"]["strategy"]["matrix"]["include"]]
    assert images == ["registry.example.com/acme/acme-api", "registry.example.com/acme/acme-worker"]
    # Then the `ci:` block of the file, read by the loader (not set on the model).
    yaml = YAML()
    spec_file = repo.work / "sophia.yaml"
    data = yaml.load(spec_file.read_text())
    data["registry"] = "ghcr.io/acme"
    data["ci"] = {
        "python": "3.11",
        "install": ["pip install -e .[dev]"],
        "lint": ["ruff check src", "mypy src"],
        "test": ["pytest tests/unit -q -x"],
    }
    with spec_file.open("w") as handle:
        yaml.dump(data, handle)
    out = subprocess.run(
        ["sophia", "ci", "workflow", "local", "--dry-run", "--json"],
        cwd=repo.work,
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    import json

    text = json.loads(out.stdout)["text"]
    assert _lint(actionlint, repo, text).returncode == 0
    doc = YAML(typ="safe").load(text)
    steps = doc["jobs"]["quality"]["steps"]
    runs = [s.get("run", "") for s in steps]
    assert "pip install -e .[dev]\n" in runs
    assert "ruff check src\nmypy src\n" in runs and "pytest tests/unit -q -x\n" in runs
    assert any(s.get("with", {}).get("python-version") == "3.11" for s in steps)
    build = doc["jobs"]["build"]
    assert build["strategy"]["matrix"]["include"][0]["image"].startswith("ghcr.io/acme/")
    assert build["permissions"].get("packages") == "write"  # ghcr.io needs it, nothing else
