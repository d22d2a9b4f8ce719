"""The deployment-time metric reads the deploy records of both paths (helm and GitOps)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from sophia_platform.deploy.records import DeployRecord
from sophia_platform.report import evaluate


def _rec(revision: int, action: str, outcome: str, duration: float | None) -> DeployRecord:
    return DeployRecord(
        release="sophia-ai",
        environment="local",
        revision=revision,
        action=action,
        user="Dana Dev <dana@example.com>",
        started_at="2026-12-02T13:00:00+00:00",
        outcome=outcome,
        duration_s=duration,
    )


def _metric(recs: list[DeployRecord]) -> Any:
    src: Any = SimpleNamespace(cluster=SimpleNamespace(records=recs), env="local")
    return evaluate._deployment_time(src)


def test_gitops_push_to_ready_times_count_as_deploys() -> None:
    metric = _metric(
        [
            _rec(1, "deploy", "succeeded", 30.0),  # sophia deploy
            _rec(2, "gitops", "succeeded", 10.0),  # push -> ready through Flux
            _rec(3, "gitops", "failed", 99.0),  # never ready: not a deployment time
            _rec(4, "rollback", "succeeded", None),  # Flux's remediation: no time
            _rec(5, "gitops", "succeeded", 12.0),
        ]
    )
    assert metric.value == 12.0  # median of 30, 10, 12
    assert [e.detail.split(":")[0] for e in metric.evidence] == [
        "revision 1",
        "revision 2",
        "revision 5",
    ]


def test_only_gitops_records_still_give_the_metric() -> None:
    assert _metric([_rec(7, "gitops", "succeeded", 8.5)]).value == 8.5
