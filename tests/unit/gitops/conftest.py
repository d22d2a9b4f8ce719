"""Fixtures for the GitOps unit tests: a spec with build contexts, real git repositories."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from sophia_platform.spec import Spec, load_spec

ROOT = Path(__file__).resolve().parents[3]
DEPLOY_SPEC = ROOT / "tests" / "fixtures" / "deploy-spec.yaml"


def git(cwd: Path, *args: str) -> str:
    """Run git in ``cwd`` (tests only: the product goes through sophia_platform.git)."""
    env = {
        "GIT_AUTHOR_NAME": "Dev One",
        "GIT_AUTHOR_EMAIL": "dev1@example.com",
        "GIT_COMMITTER_NAME": "Dev One",
        "GIT_COMMITTER_EMAIL": "dev1@example.com",
        "HOME": str(cwd),
        "PATH": "/usr/bin:/bin",
    }
    out = subprocess.run(
        ["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=True
    )
    return out.stdout.strip()


def write_spec(folder: Path) -> Path:
    yaml = YAML()
    data = yaml.load(DEPLOY_SPEC.read_text())
    data["services"]["api"]["image"] = "acme-api"
    data["services"]["api"]["build"] = {"context": "services/api"}
    data["services"]["worker"]["build"] = {
        "context": "services/worker",
        "dockerfile": "docker/worker.Dockerfile",
    }
    path = folder / "sophia.yaml"
    with path.open("w") as handle:
        yaml.dump(data, handle)
    return path


@dataclass
class Repo:
    """A work tree cloned from a bare 'origin', both real git repositories."""

    work: Path
    origin: Path
    spec: Spec

    def git(self, *args: str) -> str:
        return git(self.work, *args)


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    origin = tmp_path / "origin.git"
    git(tmp_path, "init", "-q", "--bare", "--initial-branch=main", str(origin))
    work = tmp_path / "work"
    git(tmp_path, "clone", "-q", str(origin), str(work))
    git(work, "config", "user.name", "Dev One")
    git(work, "config", "user.email", "dev1@example.com")
    spec_path = write_spec(work)
    git(work, "add", "sophia.yaml")
    git(work, "commit", "-qm", "spec")
    git(work, "push", "-q", "origin", "HEAD:main")
    return Repo(work, origin, load_spec(spec_path))
