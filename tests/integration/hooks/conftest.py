"""The real pre-commit (from PyPI) running this project's hooks from a local clone.

One session-wide snapshot repository holds this checkout's files (tracked and untracked, not
ignored) in one commit; every test repository's ``.pre-commit-config.yaml`` points at it with
that ``rev``, so pre-commit builds the hook environment (``pip install`` of this package from
PyPI) once per session, in a ``PRE_COMMIT_HOME`` under the session's temp dir.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.fixtures.git import GIT_ENV, git, write

ROOT = Path(__file__).resolve().parents[3]


@dataclass(frozen=True)
class HookSource:
    """The snapshot repository and the commit a config pins (``repo:`` and ``rev:``)."""

    path: Path
    rev: str
    env: dict[str, str]  # PRE_COMMIT_HOME and a git identity, for every test repository


@pytest.fixture(scope="session")
def hook_source(tmp_path_factory: pytest.TempPathFactory) -> HookSource:
    base = tmp_path_factory.mktemp("pre-commit")
    snapshot = base / "sophia-platform"
    listed = git(ROOT, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
    for rel in filter(None, listed.split("\0")):
        src = ROOT / rel
        if src.is_file() and not src.is_symlink():
            (snapshot / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, snapshot / rel)
    env = {
        **GIT_ENV,
        "PRE_COMMIT_HOME": str(base / "home"),
        "GIT_CONFIG_GLOBAL": str(base / "gitconfig"),
        "GIT_CONFIG_NOSYSTEM": "1",
    }
    (base / "gitconfig").write_text("[init]\n\tdefaultBranch = main\n")
    git(snapshot, "init", "-q", env=env)
    git(snapshot, "add", "-A", env=env)
    git(snapshot, "commit", "-q", "-m", "snapshot for the pre-commit tests", env=env)
    source = HookSource(snapshot, git(snapshot, "rev-parse", "HEAD").strip(), env)
    # Build the hook environment once, here, so no single test pays for (or times out on) it.
    warm = HookRepo.create(base / "warm-up", source)
    proc = warm.pre_commit("install-hooks")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return source


@dataclass(frozen=True)
class HookRepo:
    """A user's repository with both hooks configured and installed as git's pre-commit hook."""

    path: Path
    env: dict[str, str]

    @classmethod
    def create(cls, path: Path, source: HookSource) -> HookRepo:
        path.mkdir(parents=True)
        git(path, "init", "-q", env=source.env)
        (path / ".pre-commit-config.yaml").write_text(
            "repos:\n"
            f"  - repo: {source.path}\n"
            f"    rev: {source.rev}\n"
            "    hooks:\n"
            "      - id: sophia-audit\n"
            "      - id: sophia-validate\n"
        )
        repo = cls(path, source.env)
        git(path, "add", ".pre-commit-config.yaml", env=source.env)
        git(path, "commit", "-q", "-m", "configure pre-commit", env=source.env)
        return repo

    def pre_commit(self, *args: str) -> subprocess.CompletedProcess[str]:
        return self._run([sys.executable, "-m", "pre_commit", *args], timeout=900)

    def write(self, files: Mapping[str, str]) -> None:
        write(self.path, files)

    def commit(self, files: Mapping[str, str], message: str) -> subprocess.CompletedProcess[str]:
        """Stage ``files`` and run ``git commit`` (which runs the installed hook)."""
        self.write(files)
        git(self.path, "add", *files, env=self.env)
        return self._run(["git", "commit", "-m", message], timeout=300)

    def _run(self, argv: list[str], *, timeout: float) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            argv,
            cwd=self.path,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def head_subject(self) -> str:
        return git(self.path, "log", "-1", "--format=%s", env=self.env).strip()


@pytest.fixture
def hook_repo(tmp_path: Path, hook_source: HookSource) -> HookRepo:
    repo = HookRepo.create(tmp_path / "repo", hook_source)
    proc = repo.pre_commit("install")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return repo
