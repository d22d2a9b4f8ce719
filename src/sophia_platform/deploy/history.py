"""An environment's deploys: its release source's revisions joined with Sophia's deploy records."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sophia_platform.deploy import records
from sophia_platform.deploy.source import release_source
from sophia_platform.deploy.target import resolve
from sophia_platform.kube.client import connect
from sophia_platform.spec import Spec


@dataclass
class HistoryEntry:
    """One revision: what the release source stored and what Sophia recorded about it."""

    revision: int
    helm_status: str
    updated: str
    description: str
    action: str | None = None
    user: str | None = None
    git_sha: str | None = None
    outcome: str | None = None
    duration_s: float | None = None
    message: str = ""
    images: dict[str, str] = field(default_factory=dict)


def collect(spec: Spec, env: str | None, *, kubeconfig: Path | None = None) -> list[HistoryEntry]:
    """Every stored revision of the environment's release, oldest first."""
    target = resolve(spec, env, kubeconfig=kubeconfig)
    api = connect(target.kubeconfig, target.context)
    by_rev = {r.revision: r for r in records.load_all(api, target.namespace, target.release)}
    entries = []
    for rev in release_source(target, api).history():
        rec = by_rev.get(rev.revision)
        entry = HistoryEntry(rev.revision, rev.status, rev.updated, rev.description)
        if rec is not None:
            entry.action, entry.user, entry.git_sha = rec.action, rec.user, rec.git_sha
            entry.outcome, entry.duration_s, entry.message = (
                rec.outcome,
                rec.duration_s,
                rec.message,
            )
            entry.images = rec.images
        entries.append(entry)
    return entries
