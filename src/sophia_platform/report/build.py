"""Compute the report once; the renderers only format it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sophia_platform.report import evaluate, history
from sophia_platform.report.model import DeployPoint, Report
from sophia_platform.report.sources import Options, Sources, gather


def build(
    path: Path,
    options: Options | None = None,
    *,
    sampling: history.Sampling | None = None,
    cache_dir: Path | None = None,
    progress: history.Progress | None = None,
) -> Report:
    """The report of the repository at ``path``; with ``sampling``, its history too."""
    src = gather(path, options)
    report = assemble(src)
    if sampling is not None:
        report.history = history.compute(src.root, sampling, cache_dir=cache_dir, progress=progress)
    return report


def assemble(src: Sources) -> Report:
    """The "now" part of the report from gathered sources."""
    table = evaluate.metrics(src)
    dod = evaluate.dod(src, table)
    checks = evaluate.checklists(src)
    return Report(
        generated_at=datetime.now(UTC).isoformat(timespec="seconds"),
        project=src.spec.project if src.spec is not None else None,
        repository=src.root.name,
        commit=src.commit,
        environment=src.env,
        sources=list(src.states.values()),
        metrics=table,
        dod=dod,
        checklists=checks,
        progress=evaluate.progress(src, [*dod, *checks]),
        deploys=_deploys(src),
    )


def _deploys(src: Sources) -> list[DeployPoint]:
    if src.cluster is None:
        return []
    return [
        DeployPoint(
            revision=r.revision,
            action=r.action,
            outcome=r.outcome,
            started_at=r.started_at,
            duration_s=r.duration_s,
            git_sha=r.git_sha,
        )
        for r in src.cluster.records
    ]
