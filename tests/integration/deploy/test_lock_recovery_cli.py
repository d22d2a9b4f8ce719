"""Deploy lock, recovery from a stuck release and an API server restart, and the CLI."""

from __future__ import annotations

import base64
import gzip
import json
import threading
import time
from importlib.resources import files
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from sophia_platform.cli.main import main
from sophia_platform.deploy import releases
from sophia_platform.deploy.results import DeployOptions, PreflightRefused, StepKind
from sophia_platform.deploy.upgrade import deploy
from sophia_platform.errors import CheckFailed
from sophia_platform.kube import lease

from .conftest import CANARY, DeployEnv

pytestmark = pytest.mark.cluster
STATUS_SCHEMA = Path(str(files("sophia_platform.deploy").joinpath("status.schema.json")))


def test_lock_held_by_someone_else_refuses_then_expires(denv: DeployEnv) -> None:
    lease.acquire(denv.api, denv.namespace, "alice@laptop", "incident 42: hands off", ttl_s=4)
    with pytest.raises(CheckFailed, match=r"held by alice@laptop \(incident 42: hands off\)"):
        denv.deploy()
    assert releases.latest(denv.api, denv.namespace, "acme") is None
    # alice's laptop died: nobody renews, the lease lapses and a waiting deploy proceeds
    result = denv.deploy(lock_wait_s=20)
    assert result.outcome == "succeeded"
    assert not lease.lock_status(denv.api, denv.namespace).held  # released after the deploy


def test_two_concurrent_deploys_one_waits(denv: DeployEnv) -> None:
    outcomes: list[Any] = []

    def run(tag: str, wait: float) -> None:
        try:
            outcomes.append(denv.deploy(image_tag=tag, lock_wait_s=wait).outcome)
        except CheckFailed as e:
            outcomes.append(e)

    threads = [threading.Thread(target=run, args=(t, 60)) for t in ("2.0.0", "2.0.1")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert outcomes == ["succeeded", "succeeded"]  # serialised by the lease, no helm conflict
    assert releases.latest(denv.api, denv.namespace, "acme").revision == 2  # type: ignore[union-attr]


def test_two_concurrent_deploys_without_wait_one_fails_clearly(denv: DeployEnv) -> None:
    barrier = threading.Barrier(2)
    outcomes: list[Any] = []

    def run(tag: str) -> None:
        barrier.wait()
        try:
            outcomes.append(denv.deploy(image_tag=tag).outcome)
        except CheckFailed as e:
            outcomes.append(str(e))

    threads = [threading.Thread(target=run, args=(t,)) for t in ("3.0.0", "3.0.1")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert "succeeded" in outcomes
    other = next(o for o in outcomes if o != "succeeded")
    assert "deploy lock" in other and "is held by" in other


def _mark_pending(denv: DeployEnv, revision: int) -> None:
    """Leave the release exactly as a helm killed mid-upgrade does (helm#8987)."""
    core = denv.core()
    name = f"sh.helm.release.v1.acme.v{revision}"
    secret = core.read_namespaced_secret(name, denv.namespace)
    data = releases.decode(secret.data["release"])
    data["info"]["status"] = "pending-upgrade"
    blob = base64.b64encode(gzip.compress(json.dumps(data).encode()))
    secret.data["release"] = base64.b64encode(blob).decode()
    secret.metadata.labels["status"] = "pending-upgrade"
    core.replace_namespaced_secret(name, denv.namespace, secret)


def test_stuck_release_is_detected_and_recovered(denv: DeployEnv) -> None:
    assert denv.deploy(image_tag="4.0.0").outcome == "succeeded"
    assert denv.deploy(image_tag="4.0.1").outcome == "succeeded"
    _mark_pending(denv, 2)
    with pytest.raises(PreflightRefused, match=r"pending-upgrade.*sophia deploy --recover"):
        denv.deploy(image_tag="4.0.2")
    result = denv.deploy(image_tag="4.0.2", recover=True)
    assert result.outcome == "succeeded"
    assert denv.images()["api"].endswith(":4.0.2")
    assert not any(r.pending for r in releases.revisions(denv.api, denv.namespace, "acme"))


def _restart_apiserver(k8s_cluster: Any) -> None:
    from kubernetes import client

    from sophia_platform.devcluster.processes import Supervisor

    sup = Supervisor(k8s_cluster.state_dir)
    record = sup.records()["kube-apiserver"]
    sup.stop(record)
    time.sleep(2)
    sup.start("kube-apiserver", record.argv)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            client.VersionApi(k8s_cluster.api_client).get_code(_request_timeout=2)
            return
        except Exception:
            time.sleep(0.3)
    raise AssertionError("kube-apiserver did not come back")


class _RestartDuringWatch:
    def __init__(self, k8s_cluster: Any) -> None:
        self.cluster, self.thread, self.outage_seen = k8s_cluster, None, False

    def step(self, step: Any) -> None:
        if step.kind == StepKind.WATCH and self.thread is None:
            self.thread = threading.Thread(target=_restart_apiserver, args=(self.cluster,))
            self.thread.start()

    def checked(self, result: Any) -> None:
        pass

    def rollout(self, snapshot: Any) -> None:
        self.outage_seen = self.outage_seen or snapshot.api_error is not None


def test_apiserver_restart_mid_deploy_converges(denv: DeployEnv, k8s_cluster: Any) -> None:
    assert denv.deploy(image_tag="5.0.0").outcome == "succeeded"
    observer = _RestartDuringWatch(k8s_cluster)
    opts = DeployOptions(image_tag="5.0.1", timeout_s=180, grace_s=5, kubeconfig=denv.kubeconfig)
    try:
        result = deploy(denv.spec, "local", opts, observer)
        outcome = result.outcome
    except Exception as e:
        outcome = type(e).__name__
    finally:
        if observer.thread is not None:
            observer.thread.join(90)
    assert observer.thread is not None
    # whatever that deploy saw, the next one converges and nothing is left pending
    result = denv.deploy(image_tag="5.0.2", recover=True, lock_wait_s=130)
    assert result.outcome == "succeeded", outcome
    assert denv.images()["api"].endswith(":5.0.2")
    assert not any(r.pending for r in releases.revisions(denv.api, denv.namespace, "acme"))


def _sophia(
    denv: DeployEnv, capsys: pytest.CaptureFixture[str], *args: str
) -> tuple[int, str, str]:
    code = main(["--spec", str(denv.spec_path), *args, "--kubeconfig", str(denv.kubeconfig)])
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_deploy_status_history_diff_rollback(
    denv: DeployEnv, capsys: pytest.CaptureFixture[str]
) -> None:
    schema = json.loads(STATUS_SCHEMA.read_text())
    code, out, err = _sophia(denv, capsys, "status", "local", "--json")
    assert code == 1  # nothing deployed yet: unhealthy
    jsonschema.validate(json.loads(out), schema)

    code, out, err = _sophia(denv, capsys, "deploy", "--dry-run")  # no env: default_environment
    assert code == 0, err
    assert "would apply" in out and "create    Deployment/api" in out and "plan: " in out
    assert releases.latest(denv.api, denv.namespace, "acme") is None

    code, out, err = _sophia(denv, capsys, "deploy", "local", "--grace", "3")
    assert code == 0, err
    assert "deploy succeeded: acme revision 1" in out
    code, out, err = _sophia(denv, capsys, "deploy", "--dry-run", "--image-tag", "1.9.0")
    assert code == 0, err
    assert "update    Deployment/api" in out and "update    Deployment/worker" in out
    changed = sorted(line.split()[-1] for line in out.splitlines() if line.startswith("  update"))
    # only our images change: defaults filled in by the server are not reported as changes
    assert changed == ["Deployment/api", "Deployment/inference", "Deployment/worker"], out
    assert "unchanged" in out.splitlines()[-1]
    code, out, err = _sophia(denv, capsys, "deploy", "local", "--image-tag", "1.9.0")
    assert code == 0, err

    code, out, err = _sophia(denv, capsys, "status", "--json")
    assert code == 0, err
    st = json.loads(out)
    jsonschema.validate(st, schema)
    assert (
        st["healthy"]
        and st["helm"]["revision"] == 2
        and st["last_deploy"]["outcome"] == "succeeded"
    )
    code, out, err = _sophia(denv, capsys, "status")
    assert code == 0 and "healthy" in out and "GPUs per node" in out

    code, out, err = _sophia(denv, capsys, "history", "local", "--json")
    assert code == 0
    hist = json.loads(out)
    assert [(h["revision"], h["outcome"]) for h in hist] == [(1, "succeeded"), (2, "succeeded")]

    code, out, err = _sophia(denv, capsys, "diff", "local")
    assert code == 1  # sophia.yaml says 1.4.0; 1.9.0 runs
    assert "update Deployment/api" in out and "acme-api:1.9.0" in out and "acme-api:1.4.0" in out

    code, out, err = _sophia(denv, capsys, "rollback", "local", "--grace", "3")
    assert code == 0, err
    assert "api: 1.9.0 -> 1.4.0" in out and "rollback succeeded" in out
    # each change is printed once (the core used to send it as text that cli printed again)
    assert (out + err).count("api: 1.9.0 -> 1.4.0") == 1
    assert "rollback acme: revision 2 -> 1" in err  # the step, rendered by cli
    code, out, err = _sophia(denv, capsys, "diff", "local", "--json")
    assert code == 0, out
    for text in (out, err):
        assert CANARY not in text

    code, out, err = _sophia(
        denv, capsys, "deploy", "local", "--image-tag", "never-ready", "--grace", "2"
    )
    assert code == 1
    assert "CrashLoopBackOff" in err and "rolled back to revision 3" in err
    assert CANARY not in out + err


def test_cli_lock_commands(denv: DeployEnv, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _sophia(denv, capsys, "lock", "status", "local")
    assert code == 0 and "unlocked" in out
    code, out, _ = _sophia(denv, capsys, "lock", "acquire", "local", "-m", "db migration")
    assert code == 0 and "db migration" in out
    code, out, err = _sophia(denv, capsys, "deploy", "local")
    assert code == 1 and "db migration" in err and "--lock-wait" in err
    code, out, _ = _sophia(denv, capsys, "--json", "lock", "status", "local")
    assert code == 0 and json.loads(out)["message"] == "db migration"
    code, out, _ = _sophia(denv, capsys, "lock", "release", "local")
    assert code == 0 and "released" in out
