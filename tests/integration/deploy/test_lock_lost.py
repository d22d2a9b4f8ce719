"""A lost lock stops the deploy: real local control plane, real helm, the Lease changed by others.

The deploy ships an image that never becomes ready with a long grace, so it would wait for
minutes; mid-watch another holder takes the Lease over (or it is deleted). The deploy must stop
waiting, not roll back (the lock is someone else's now), leave the release consistent (helm's
revision deployed, nothing pending-*), close its record, and exit 3 saying the lock was lost.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from sophia_platform.cli.main import main
from sophia_platform.deploy import records, releases
from sophia_platform.deploy.results import (
    DeployOptions,
    LockLost,
    SilentObserver,
    Step,
    StepKind,
)
from sophia_platform.deploy.upgrade import deploy
from sophia_platform.errors import ExitStatus
from sophia_platform.kube import lease

from .conftest import CANARY, DeployEnv

pytestmark = pytest.mark.cluster
INTRUDER = "bob@other-laptop:4242:beef"


def _take_over(denv: DeployEnv) -> None:
    """What a second deploy does once a lease lapsed: replace the holder (optimistically)."""
    from kubernetes import client

    coord = client.CoordinationV1Api(denv.api)
    current = coord.read_namespaced_lease(lease.LEASE_NAME, denv.namespace)
    current.spec.holder_identity = INTRUDER
    current.spec.lease_transitions = (current.spec.lease_transitions or 0) + 1
    coord.replace_namespaced_lease(lease.LEASE_NAME, denv.namespace, current)


class _OnWatch(SilentObserver):
    """Runs ``action`` in a thread as soon as the deploy starts waiting for its rollout."""

    def __init__(self, action: Callable[[], None]) -> None:
        self.action = action
        self.thread: threading.Thread | None = None

    def step(self, step: Step) -> None:
        if step.kind == StepKind.WATCH and self.thread is None:
            self.thread = threading.Thread(target=self.action)
            self.thread.start()


def _assert_consistent(denv: DeployEnv, revision: int) -> None:
    stored = releases.revisions(denv.api, denv.namespace, "acme")
    assert [r.revision for r in stored][-1] == revision  # no rollback revision was written
    assert not any(r.pending for r in stored)
    assert releases.deployed(denv.api, denv.namespace, "acme").revision == revision  # type: ignore[union-attr]
    rec = next(
        r for r in records.load_all(denv.api, denv.namespace, "acme") if r.revision == revision
    )
    assert rec.outcome == "failed" and "lock" in rec.message and "lost" in rec.message


def test_lease_taken_over_mid_deploy_stops_it(denv: DeployEnv) -> None:
    assert denv.deploy(image_tag="1.0.0").outcome == "succeeded"
    observer = _OnWatch(lambda: _take_over(denv))
    opts = DeployOptions(
        image_tag="never-ready",
        timeout_s=300,
        grace_s=300,
        lock_ttl_s=3,
        kubeconfig=denv.kubeconfig,
    )
    with pytest.raises(LockLost) as info:
        deploy(denv.spec, "local", opts, observer)
    assert observer.thread is not None
    observer.thread.join(30)
    err = info.value
    assert err.exit_status == ExitStatus.EXTERNAL
    assert "deploy lock" in err.message and "was lost" in err.message and INTRUDER in err.message
    assert err.result.outcome == "lock-lost" and err.result.revision == 2
    _assert_consistent(denv, 2)
    # the intruder's lock is left alone: we did not release what is no longer ours
    assert lease.lock_status(denv.api, denv.namespace).holder == INTRUDER


def test_lease_deleted_mid_deploy_exits_3_from_the_cli(
    denv: DeployEnv, capsys: pytest.CaptureFixture[str]
) -> None:
    assert denv.deploy(image_tag="1.0.0").outcome == "succeeded"
    applied = threading.Event()

    def break_the_lock_once_applied() -> None:
        from kubernetes import client

        apps = client.AppsV1Api(denv.api)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            dep = apps.read_namespaced_deployment("api", denv.namespace)
            held = lease.lock_status(denv.api, denv.namespace).held
            if held and dep.spec.template.spec.containers[0].image.endswith(":never-ready"):
                lease.release(denv.api, denv.namespace, None)  # `sophia lock release --force`
                applied.set()
                return
            time.sleep(0.2)

    breaker = threading.Thread(target=break_the_lock_once_applied)
    breaker.start()
    argv = ["--spec", str(denv.spec_path), "deploy", "local", "--image-tag", "never-ready"]
    argv += ["--grace", "300", "--timeout", "300", "--lock-ttl", "3", "--json"]
    code = main([*argv, "--kubeconfig", str(denv.kubeconfig)])
    breaker.join(30)
    out, err = capsys.readouterr()
    assert applied.is_set()
    assert code == ExitStatus.EXTERNAL, err
    result: dict[str, Any] = json.loads(out)
    assert result["outcome"] == "lock-lost" and result["revision"] == 2
    assert "Lease was deleted" in err and "lock" in err
    assert CANARY not in out + err
    _assert_consistent(denv, 2)
    assert not lease.lock_status(denv.api, denv.namespace).held
