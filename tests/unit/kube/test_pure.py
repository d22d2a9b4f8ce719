"""The pure parts of the kube helpers: lease state and the fail-fast grace tracker."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace as NS

from sophia_platform.kube.lease import MESSAGE_ANNOTATION, _info
from sophia_platform.kube.rollout import PodProblem, _Tracker


def _lease(holder: str | None, renewed: datetime, ttl: int) -> NS:
    spec = NS(
        holder_identity=holder, renew_time=renewed, acquire_time=renewed, lease_duration_seconds=ttl
    )
    return NS(spec=spec, metadata=NS(annotations={MESSAGE_ANNOTATION: "hotfix"}))


def test_lease_held_until_expiry() -> None:
    now = datetime.now(UTC)
    held = _info("ns", _lease("me@host:1", now, 60))
    assert held.held and held.holder == "me@host:1" and held.message == "hotfix"
    assert held.expires_at == now + timedelta(seconds=60)
    # a crashed holder stops renewing: the lock lapses by itself
    assert not _info("ns", _lease("me@host:1", now - timedelta(seconds=61), 60)).held
    assert not _info("ns", None).held
    assert not _info("ns", _lease(None, now, 60)).held


def test_tracker_fails_only_after_grace_and_forgets_healed_pods() -> None:
    t = _Tracker()
    p = PodProblem("api", "api-1", "CrashLoopBackOff", "")
    assert t.overdue((p,), 0.0, 5.0) is None
    assert t.overdue((p,), 4.9, 5.0) is None
    assert t.overdue((p,), 5.0, 5.0) == p
    # healed, then failing again: the grace period starts over
    assert t.overdue((), 6.0, 5.0) is None
    assert t.overdue((p,), 7.0, 5.0) is None
    assert t.overdue((p,), 11.9, 5.0) is None
