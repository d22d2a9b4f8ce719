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


def test_the_push_hook_runs_the_notifier_detached_and_logs_it(tmp_path: Path) -> None:
    import json

    from sophia_platform.gitops import devloop

    state = tmp_path / "loop"
    (state / "repos").mkdir(parents=True)
    (state / "gitops.json").write_text(json.dumps({"git_url": "http://127.0.0.1:9/"}))
    url = devloop.create_repo(state, "app")
    assert url == "http://127.0.0.1:9/app.git" == devloop.repo_url(state, "app")
    bare = state / "repos" / "app.git"
    work = tmp_path / "work"
    git(tmp_path, "init", "-q", "-b", "main", str(work))
    git(work, "commit", "-q", "--allow-empty", "-m", "one")
    # KUBECONFIG names nothing that answers: the notifier fails, the push does not
    env = {"KUBECONFIG": str(tmp_path / "none"), "PATH": "/usr/bin:/bin", "HOME": str(work)}
    push = subprocess.run(
        ["git", "push", "-q", str(bare), "HEAD:main"],
        cwd=work, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert push.returncode == 0, push.stderr
    assert "sophia:" not in push.stderr  # the notifier's words go to the log, not the pusher
    log = bare / "hooks" / "post-receive.log"
    deadline = time.monotonic() + 60
    while "sophia:" not in (log.read_text() if log.exists() else ""):
        assert time.monotonic() < deadline, "the detached notifier wrote nothing"
        time.sleep(0.2)
    assert "could not ask Flux to reconcile" in log.read_text()


def test_repo_url_names_the_repositories_there_are(tmp_path: Path) -> None:
    import json

    from sophia_platform.errors import CheckFailed, UsageError
    from sophia_platform.gitops import devloop

    state = tmp_path / "loop"
    with pytest.raises(CheckFailed, match="not up"):
        devloop.repo_url(state, "app")
    (state / "repos").mkdir(parents=True)
    (state / "gitops.json").write_text(json.dumps({"git_url": "http://127.0.0.1:9/"}))
    devloop.create_repo(state, "app")
    with pytest.raises(UsageError, match=r"no repository 'other'.*it has: app"):
        devloop.repo_url(state, "other")
