"""Real git repositories with tech debt, and a fingerprint of a work tree to compare states."""

from __future__ import annotations

import hashlib
import os
import subprocess
import textwrap
from pathlib import Path

import pytest

CANARY = "ghp_" + "Zq8Xv2Lm4Np6Rt0Yw3Bc5Df7Gh9Jk1MnCANARY"

FILES: dict[str, str] = {
    "services/api/settings.py": textwrap.dedent(
        '''\
        """API settings; the GPU box is 10.20.0.5."""

        import os

        AI_CORE_HOST = "10.20.0.5"
        REDIS_URL = f"redis://10.20.0.9:6379/{os.getpid() % 4}"
        OPENAI_API_KEY = "changeme"
        GITHUB_TOKEN = "{canary}"
        TIMEOUT = {"connect": 3}
        '''
    ),
    "services/api/client.py": 'BASE = "http://10.20.0.5:8000"  # ai-core\n',
    "scripts/deploy.sh": "#!/bin/bash\nset -e\nssh root@10.20.0.5 'systemctl restart api'\n",
    "scripts/swarm-deploy.sh": "#!/bin/bash\ndocker stack deploy -c stack.yml sophia\n",
    "docker-compose.yml": "services:\n  api:\n    image: sophia-api:1.0\n    ports: ['8000']\n",
    "deploy/docker-compose.prod.yml": "services:\n  redis:\n    image: redis:7\n",
    "docs/servers.md": "# Servers\n\n| node | ip |\n| --- | --- |\n| ai-core | 10.20.0.5 |\n",
    "config/app.yaml": "redis:\n  host: 10.20.0.9\n  password: changeme\n",
    ".env.example": "REDIS_HOST=10.20.0.9\nSTRIPE_SECRET_KEY=your-api-key-here\n",
    "sophia.yaml": textwrap.dedent(
        """\
        # the source of truth
        project: demo
        registry: docker.io/demo
        environments:
          local: {context: sophia-local, namespace: demo}
        nodes:
          control: {role: server, address: "${NODE_CONTROL_HOST}"}
          ai-core: {role: agent, address: "${NODE_AI_CORE_HOST}", gpu: {type: GH200, count: 1}}
        """
    ),
}


def git(root: Path, *args: str) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_DATE": "2026-01-01T00:00:00",
        "GIT_COMMITTER_DATE": "2026-01-01T00:00:00",
    }
    proc = subprocess.run(
        ["git", *args], cwd=root, capture_output=True, text=True, env=env, check=True
    )
    return proc.stdout


def make_repo(root: Path, files: dict[str, str] | None = None) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.email", "dev@example.com")
    git(root, "config", "user.name", "dev")
    for rel, text in (files or FILES).items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text.replace("{canary}", CANARY))
        if text.startswith("#!"):
            path.chmod(0o755)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "chaos")
    return root


def tree_state(root: Path) -> tuple[dict[str, str], str]:
    """sha256 and mode of every file outside .git and .sophia, plus `git status`."""
    files: dict[str, str] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in (".git", ".sophia")]
        for name in filenames:
            path = Path(dirpath) / name
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            files[path.relative_to(root).as_posix()] = f"{digest} {path.stat().st_mode & 0o777:o}"
        for name in dirnames:
            files[(Path(dirpath) / name).relative_to(root).as_posix() + "/"] = "dir"
    status = git(root, "status", "--porcelain=v1", "--untracked-files=all")
    return files, status


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "repo")
