"""The pure parts of the kube helpers: lease state and the fail-fast grace tracker."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace as NS

import pytest

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


def test_raw_reads_like_a_model() -> None:
    from sophia_platform.kube.raw import Raw

    obj = Raw(
        {
            "items": [{"metadata": {"name": "a", "creationTimestamp": "2026-01-02T03:04:05Z"}}],
            "status": {"readyReplicas": 2, "allocatable": {"nvidia.com/gpu": "1"}},
            "data": {"release": "x"},
        }
    )
    assert obj.items[0].metadata.name == "a"  # a list's items, not dict.items
    assert obj.items[0].metadata.creation_timestamp == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert obj.items[0].metadata.deletion_timestamp is None
    assert obj.status.ready_replicas == 2 and obj.status.updated_replicas is None
    assert obj.status.allocatable.get("nvidia.com/gpu") == "1"
    assert "release" in obj.data and obj.data["release"] == "x"
    assert not Raw({})


def test_latest_event_per_service(monkeypatch: pytest.MonkeyPatch) -> None:
    from sophia_platform.kube import raw, rollout

    def ev(name: str, when: str, reason: str, message: str) -> dict[str, object]:
        return {
            "involvedObject": {"name": name},
            "lastTimestamp": when,
            "reason": reason,
            "message": message,
            "metadata": {},
        }

    events = {
        "items": [
            ev("mcp-github-7d9-abc", "2026-01-01T00:00:02Z", "Scheduled", "assigned to dev"),
            ev("mcp-github-7d9", "2026-01-01T00:00:01Z", "SuccessfulCreate", "created pod"),
            ev("mcp-github-sync-1", "2026-01-01T00:00:09Z", "Scheduled", "other service"),
            ev("api", "2026-01-01T00:00:05Z", "ScalingReplicaSet", "Scaled up to 3"),
        ]
    }
    monkeypatch.setattr(raw, "get", lambda *a, **k: raw.Raw(events))
    latest = rollout._latest_events(None, "ns", ["api", "mcp-github", "mcp-github-sync"])
    assert latest == {
        "mcp-github": "Scheduled: assigned to dev",
        "mcp-github-sync": "Scheduled: other service",
        "api": "ScalingReplicaSet: Scaled up to 3",
    }
    assert rollout._latest_events(None, "ns", []) == {}
