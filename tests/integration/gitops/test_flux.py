"""git push deploys: real Flux controllers, a real git server, the real local control plane."""

from __future__ import annotations

import json
import subprocess
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from sophia_platform.deploy import records
from sophia_platform.gitops import actions, engines, repo
from sophia_platform.gitops.status import collect_status, same_commit

from .conftest import GitOpsEnv, Loop, assert_no_canary

pytestmark = pytest.mark.cluster

OURS = ("api", "inference", "worker")


def _converge(genv: GitOpsEnv, timeout: float = 120.0) -> actions.ReconcileResult:
    result = actions.reconcile(genv.ctx(), timeout_s=timeout, grace_s=5.0)
    assert result.outcome == "succeeded", result.message
    return result


def _until(check: Any, timeout: float, what: str, seen: list[str] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}; {(seen or [])[-1:]}"
        time.sleep(1.0)


def test_push_tag_change_deploys_every_service(genv: GitOpsEnv, k8s_cluster: Any) -> None:
    first = _converge(genv)
    assert first.commit == genv.git("rev-parse", "HEAD")
    bump = repo.set_image(genv.spec, genv.work, "local", "2.0.0")
    assert bump.pushed and bump.commit
    result = _converge(genv)
    assert result.commit == bump.commit
    images = genv.images()
    assert all(images[name].endswith(":2.0.0") for name in OURS), images
    assert images["redis"] == "redis:7.4"
    st = collect_status(genv.spec, "local", genv.work, kubeconfig=genv.kubeconfig)
    assert st.ok, st.message
    assert st.branch_revision == st.source_revision == st.applied_revision == bump.commit
    # the CLI says the same, as JSON, exit 0
    out = genv.sophia("gitops", "status", "local", "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert {
        "engine",
        "branch_revision",
        "source_revision",
        "applied_revision",
        "ready",
        "suspended",
        "message",
        "services",
    } <= set(data)
    assert data["applied_revision"] == bump.commit and data["ready"] is True
    # helm v3.22 reads the release Flux's helm-controller (Helm v4 library) stored
    helm = subprocess.run(
        [
            str(k8s_cluster.helm),
            "history",
            genv.spec.project,
            "-n",
            genv.namespace,
            "--kube-context",
            "sophia-local",
            "--kubeconfig",
            str(genv.kubeconfig),
            "-o",
            "json",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    revisions = json.loads(helm.stdout)
    assert revisions[-1]["status"] == "deployed"
    assert bump.commit[:12] in revisions[-1]["chart"]
    # deploy records: who, which commit, tags, outcome, push-to-ready
    recs = records.load_all(genv.api, genv.namespace, genv.spec.project)
    last = recs[-1]
    assert last.action == "gitops" and last.git_sha == bump.commit
    assert last.user == "Dev One <dev1@example.com>"
    assert last.images["api"] == "2.0.0" and last.outcome == "succeeded"
    assert last.duration_s is not None and 0 < last.duration_s < 120
    # the clock started at the push (git's reflog of origin/main here), not at the commit
    pushed = repo.pushed_at(genv.work, bump.commit, "main")
    assert pushed is not None and last.pushed_at is not None
    assert last.started_at == last.pushed_at
    assert datetime.fromisoformat(last.pushed_at).timestamp() == pushed
    assert data["deploy"]["git_sha"] == bump.commit and data["deploy"]["pushed_at"]
    history = genv.sophia("history", "local", "--json")
    assert history.returncode == 0, history.stderr
    # canary secret values: in the cluster's Secrets only, never in git, CRs or output
    tree = "".join(p.read_text() for p in genv.work.rglob("*.yaml") if ".git" not in p.parts)
    crs = json.dumps(engines.read(genv.api, "flux", genv.name).history)
    assert_no_canary(tree, crs, out.stdout, out.stderr, history.stdout, genv.git("log", "-p"))


def test_status_wait_sees_a_push_through_and_writes_its_record(genv: GitOpsEnv) -> None:
    # Nobody asks Flux to reconcile: the git server's hook does, on the push.
    bump = repo.set_image(genv.spec, genv.work, "local", "2.1.0")
    assert bump.commit is not None
    out = genv.sophia("gitops", "status", "local", "--wait", "--timeout", "180")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "push -> every service ready in" in out.stdout
    assert bump.commit[:12] in out.stdout and "Dev One <dev1@example.com>" in out.stdout
    assert all(genv.images()[name].endswith(":2.1.0") for name in OURS)
    recs = records.load_all(genv.api, genv.namespace, genv.spec.project)
    mine = next(r for r in recs if r.git_sha == bump.commit)
    assert mine.action == "gitops" and mine.outcome == "succeeded" and mine.pushed_at
    # a record removed (another checkout observed the deploy, say) is written again by status
    from kubernetes import client

    client.CoreV1Api(genv.api).delete_namespaced_config_map(mine.name, genv.namespace)
    again = genv.sophia("gitops", "status", "local", "--json")
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["deploy"]["git_sha"] == bump.commit
    rewritten = next(
        r
        for r in records.load_all(genv.api, genv.namespace, genv.spec.project)
        if r.git_sha == bump.commit
    )
    # the ready time is then the HelmRelease's Ready transition: still push -> ready
    assert rewritten.duration_s is not None and 0 < rewritten.duration_s < 180
    assert rewritten.pushed_at == mine.pushed_at


def test_status_wait_on_a_never_ready_push_waits_for_the_remediation(genv: GitOpsEnv) -> None:
    _converge(genv)
    good = genv.git("rev-parse", "HEAD")
    bad = repo.set_image(genv.spec, genv.work, "local", "never-ready", services=["api"])
    assert bad.commit is not None
    out = genv.sophia("gitops", "status", "local", "--wait", "--grace", "3", "--timeout", "240")
    assert out.returncode == 1, out.stdout + out.stderr
    assert "RollbackSucceeded" in out.stdout  # Flux remediated before the wait ended
    assert "api: pod api-" in out.stdout and "CrashLoopBackOff" in out.stdout
    state = engines.read(genv.api, "flux", genv.name)
    assert same_commit(state.release.revision, good)
    recs = records.load_all(genv.api, genv.namespace, genv.spec.project)
    failed = next(r for r in recs if r.git_sha == bad.commit)
    assert failed.outcome == "failed" and "api: pod api-" in failed.message
    # Flux's rollback is recorded as a rollback: no deploy time for the report to count
    remediation = [r for r in recs if r.action == "rollback"]
    assert remediation and remediation[-1].duration_s is None
    assert remediation[-1].rolled_back_to is not None


def test_never_ready_release_is_remediated_and_rolled_back_through_git(
    genv: GitOpsEnv,
) -> None:
    _converge(genv)
    good = genv.git("rev-parse", "HEAD")
    bad = repo.set_image(genv.spec, genv.work, "local", "never-ready", services=["api"])
    failed = actions.reconcile(genv.ctx(), timeout_s=120, grace_s=5.0)
    assert failed.outcome == "failed"
    assert failed.message.startswith("api: pod api-") and "CrashLoopBackOff" in failed.message

    # Flux gives up on the upgrade and rolls it back (remediation, retries: 1)
    seen: list[str] = []

    def remediated() -> bool:
        state = engines.read(genv.api, "flux", genv.name)
        rel = state.release
        seen.append(
            f"{rel.line()} applied={rel.revision} attempted={rel.attempted} "
            f"history={[(h.get('status'), h.get('chartVersion')) for h in state.history]}"
        )
        rolled_back = same_commit(rel.revision, good) and same_commit(rel.attempted, bad.commit)
        return rolled_back and any(h.get("status") == "failed" for h in state.history)

    _until(remediated, 180, "Flux to remediate the failed upgrade", seen)
    st = genv.sophia("gitops", "status", "local")
    assert st.returncode == 1, st.stdout + st.stderr
    assert "api: pod api-" in st.stdout  # the failing service's events, from the record
    assert f"branch main is at {bad.commit[:12]}" in st.stdout + st.stderr
    # rollback through git: a new commit restoring the good revision's values
    out = genv.sophia("rollback", "local", "--timeout", "120")
    assert out.returncode == 0, out.stdout + out.stderr
    head = genv.git("rev-parse", "HEAD")
    subject = genv.git("log", "-1", "--format=%s")
    assert subject.startswith(f"rollback(local): values of {good[:12]}")
    assert genv.git("show", f"{head}:kubernetes/local/values.yaml") == genv.git(
        "show", f"{good}:kubernetes/local/values.yaml"
    )
    assert genv.images()["api"].endswith(":1.4.0")
    st_after = collect_status(genv.spec, "local", genv.work, kubeconfig=genv.kubeconfig)
    assert st_after.ok and st_after.applied_revision == head


def test_manual_change_is_corrected(genv: GitOpsEnv) -> None:
    from kubernetes import client

    _converge(genv)
    apps = client.AppsV1Api(genv.api)
    apps.patch_namespaced_deployment("api", genv.namespace, {"spec": {"replicas": 1}})
    engines.request_reconcile(genv.api, "flux", genv.name)

    def corrected() -> bool:
        return apps.read_namespaced_deployment("api", genv.namespace).spec.replicas == 3

    _until(corrected, 90, "drift detection to restore api's replicas")


def test_suspended_environment_does_not_move(genv: GitOpsEnv) -> None:
    _converge(genv)
    before = genv.images()["api"]
    assert actions.set_suspended(genv.ctx(), True)
    bump = repo.set_image(genv.spec, genv.work, "local", "3.0.0")
    engines.request_reconcile(genv.api, "flux", genv.name)
    time.sleep(8)
    st = collect_status(genv.spec, "local", genv.work, kubeconfig=genv.kubeconfig)
    assert st.suspended and not st.at_head and genv.images()["api"] == before
    out = genv.sophia("deploy", "local")
    assert out.returncode == 2 and "GitOps-managed" in out.stderr
    assert actions.set_suspended(genv.ctx(), False)
    result = _converge(genv)
    assert result.commit == bump.commit and genv.images()["api"].endswith(":3.0.0")


def test_unreachable_git_server_is_a_clear_error(genv: GitOpsEnv, tmp_path: Path) -> None:
    from kubernetes import client

    _converge(genv)
    custom = client.CustomObjectsApi(genv.api)
    body = {"spec": {"url": "http://127.0.0.1:9/nothing.git"}}  # discard port: refused
    custom.patch_namespaced_custom_object(
        "source.toolkit.fluxcd.io",
        "v1",
        "flux-system",
        "gitrepositories",
        genv.name,
        body,
    )
    engines.request_reconcile(genv.api, "flux", genv.name)

    def broken() -> bool:
        return not engines.read(genv.api, "flux", genv.name).source.ready

    _until(broken, 60, "the GitRepository to report the fetch error")
    out = genv.sophia("gitops", "status", "local")
    assert out.returncode == 1
    assert "GitRepository/" in out.stdout and "connection refused" in out.stdout


def test_wrong_credentials_are_a_clear_error(
    genv: GitOpsEnv, gitops_loop: Loop, tmp_path: Path
) -> None:
    import base64
    import socket
    import sys

    from kubernetes import client

    secret_file = tmp_path / "pass"
    secret_file.write_text("git:right-password")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sophia_platform.gitops.gitserver",
            "--root",
            str(gitops_loop.state_dir / "repos"),
            "--port",
            str(port),
            "--password-file",
            str(secret_file),
        ],
        stderr=subprocess.DEVNULL,
    )
    try:
        time.sleep(1.0)
        core = client.CoreV1Api(genv.api)
        wrong = {"username": "git", "password": "wrong-password"}
        core.create_namespaced_secret(
            "flux-system",
            {
                "metadata": {"name": f"{genv.spec.project}-git"},
                "data": {k: base64.b64encode(v.encode()).decode() for k, v in wrong.items()},
            },
        )
        url = f"http://127.0.0.1:{port}/{genv.spec.project}.git"
        body = {"spec": {"url": url, "secretRef": {"name": f"{genv.spec.project}-git"}}}
        client.CustomObjectsApi(genv.api).patch_namespaced_custom_object(
            "source.toolkit.fluxcd.io",
            "v1",
            "flux-system",
            "gitrepositories",
            genv.name,
            body,
        )

        def refused() -> bool:
            src = engines.read(genv.api, "flux", genv.name).source
            return not src.ready and "auth" in src.message.lower()

        _until(refused, 60, "the GitRepository to report the authentication failure")
        st = collect_status(genv.spec, "local", genv.work, kubeconfig=genv.kubeconfig)
        assert not st.ok and "GitRepository/" in st.message
        assert "wrong-password" not in st.message and "right-password" not in st.message
    finally:
        server.terminate()
        server.wait(10)
        client.CoreV1Api(genv.api).delete_namespaced_secret(
            f"{genv.spec.project}-git", "flux-system"
        )
