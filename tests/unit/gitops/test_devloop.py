"""The local loop's pieces that need no cluster: the git server over real git, supervision."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from sophia_platform.devcluster import cluster
from sophia_platform.devcluster.components import free_ports
from sophia_platform.devcluster.processes import Supervisor, is_running
from sophia_platform.gitops.gitserver import create_bare

from .conftest import git


def _serve(root: Path, *extra: str) -> Iterator[str]:
    port = free_ports(1)[0]
    proc = subprocess.Popen(
        [sys.executable, "-m", "sophia_platform.gitops.gitserver", "--root", str(root),
         "--port", str(port), *extra],
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 10
    while True:
        try:
            httpx.get(url, timeout=1)
            break
        except httpx.HTTPError:
            assert time.monotonic() < deadline, "git server did not start"
            time.sleep(0.1)
    try:
        yield url
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    create_bare(tmp_path / "repos", "demo")
    yield from _serve(tmp_path / "repos")


def test_clone_push_fetch_over_smart_http(server: str, tmp_path: Path) -> None:
    work = tmp_path / "w"
    git(tmp_path, "clone", "-q", f"{server}demo.git", str(work))
    (work / "big.bin").write_bytes(bytes(range(256)) * 8192)  # 2 MiB: a chunked POST
    git(work, "add", "big.bin")
    git(work, "-c", "user.name=a", "-c", "user.email=a@b", "commit", "-qm", "big")
    git(work, "push", "-q", "origin", "HEAD:main")
    head = git(work, "rev-parse", "HEAD")
    assert git(tmp_path, "ls-remote", f"{server}demo.git", "main").split()[0] == head
    git(tmp_path, "clone", "-q", f"{server}demo.git", str(tmp_path / "again"))
    assert (tmp_path / "again" / "big.bin").read_bytes() == (work / "big.bin").read_bytes()


def test_basic_auth_refuses_wrong_credentials(tmp_path: Path) -> None:
    create_bare(tmp_path / "repos", "private")
    secret = tmp_path / "pass"
    secret.write_text("git:s3cret-canary\n")
    for url in _serve(tmp_path / "repos", "--password-file", str(secret)):
        host = url.removeprefix("http://")
        wrong = subprocess.run(
            ["git", "ls-remote", f"http://git:nope@{host}private.git"],
            capture_output=True, text=True, env={"GIT_TERMINAL_PROMPT": "0", "PATH": "/usr/bin"},
        )  # fmt: skip
        assert wrong.returncode != 0 and "Authentication failed" in wrong.stderr
        right = subprocess.run(
            ["git", "ls-remote", f"http://git:s3cret-canary@{host}private.git"],
            capture_output=True, text=True, env={"GIT_TERMINAL_PROMPT": "0", "PATH": "/usr/bin"},
        )  # fmt: skip
        assert right.returncode == 0, right.stderr


def test_cluster_down_stops_the_tools_started_next_to_it(tmp_path: Path) -> None:
    loop = Supervisor(tmp_path / "gitops")
    record = loop.start("helm-controller", ["sleep", "300"])
    assert is_running(record)
    result = cluster.down(tmp_path)
    assert "helm-controller" in result.stopped
    assert not is_running(record)
