"""How a wait decides it is over, and which engine revisions are deploys (no cluster)."""

from __future__ import annotations

import pytest

from sophia_platform.deploy.revision import Revision
from sophia_platform.gitops import converge
from sophia_platform.gitops.engines import EngineState, ObjectState

GOOD, BAD = "0.1.0+aaaaaaaaaaaa.1", "0.1.0+bbbbbbbbbbbb.1"
HISTORY = [  # newest first, as HelmRelease.status.history
    {"version": 9, "chartVersion": GOOD, "status": "deployed"},
    {"version": 8, "chartVersion": BAD, "status": "failed"},
    {"version": 7, "chartVersion": GOOD, "status": "superseded"},
]


def _rev(number: int, description: str) -> Revision:
    return Revision(number, "deployed", "", description, "sophia-platform", "", {})


@pytest.mark.parametrize(
    ("index", "helm", "expected"),
    [
        (0, _rev(9, "Rollback to 7"), 7),  # Helm says so
        (0, None, 7),  # the history says so: the same chart version applied again
        (1, _rev(8, 'Upgrade "sophia" failed: timed out'), None),  # a (failed) deploy
        (2, _rev(7, "Upgrade complete"), None),
    ],
)
def test_engine_made_rollbacks_are_not_deploys(
    index: int, helm: Revision | None, expected: int | None
) -> None:
    assert converge._remediated_to(HISTORY, index, helm) == expected


def _state(reason: str, *, stalled: bool = False) -> EngineState:
    release = ObjectState("HelmRelease", "x", True, reason=reason, stalled=stalled)
    return EngineState("flux", ObjectState("GitRepository", "x", True, ready=True), release)


def test_fail_fast_stops_at_the_failure_a_watcher_waits_for_the_remediation(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    now = [100.0]
    monkeypatch.setattr(converge.time, "monotonic", lambda: now[0])
    failed = _state("UpgradeFailed")
    assert converge._Settle(True).done(failed, "UpgradeFailed: timed out")
    watcher = converge._Settle(False)
    assert not watcher.done(failed, "UpgradeFailed: timed out")  # remediation comes next
    assert watcher.done(_state("RollbackSucceeded"), "RollbackSucceeded: back to 7")
    assert converge._Settle(False).done(_state("UpgradeFailed", stalled=True), "stalled")
    # no remediation at all (retries 0): the failure standing long enough ends the wait
    watcher = converge._Settle(False)
    assert not watcher.done(failed, "UpgradeFailed")
    now[0] += converge.REMEDIATION_WAIT_S
    assert watcher.done(failed, "UpgradeFailed")
    assert not converge._Settle(False).done(failed, None)  # not given up: keep waiting
