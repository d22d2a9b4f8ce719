"""Deploy records kept in the cluster: one ConfigMap per deploy, so history survives the laptop.

A record says who deployed which image tags from which git commit, when, for how long, and how
it ended. Records hold no secret value (values and images only).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sophia_platform.kube import raw
from sophia_platform.kube.client import ApiError

RECORD_LABEL = "sophia.dev/deploy-record"
RELEASE_LABEL = "sophia.dev/release"
OUTCOMES = ("running", "succeeded", "failed", "rolled-back", "recovered")
# Records outlive Helm's 30 stored revisions on purpose (history, metrics), but not forever.
KEEP = 200


@dataclass
class DeployRecord:
    """One deploy, rollback or recovery of a release."""

    release: str
    environment: str
    revision: int
    action: str  # deploy | rollback | recover
    user: str
    started_at: str
    git_sha: str | None = None
    images: dict[str, str] = field(default_factory=dict)
    outcome: str = "running"
    finished_at: str | None = None
    duration_s: float | None = None
    message: str = ""
    rolled_back_to: int | None = None
    pushed_at: str | None = None  # GitOps: when the commit reached the branch (None: unknown)

    @property
    def name(self) -> str:
        """The ConfigMap name of this record."""
        return f"sophia-deploy-{self.release}-r{self.revision}"

    def finish(self, outcome: str, message: str = "", *, started: float, now: float) -> None:
        """Close the record with its outcome and duration."""
        self.outcome = outcome
        self.message = message
        self.finished_at = utcnow()
        self.duration_s = round(now - started, 2)


def utcnow() -> str:
    """Now, as an ISO 8601 UTC timestamp."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def git_sha(start: Path | None) -> str | None:
    """Find the commit being deployed: $GITHUB_SHA / $GIT_SHA, else ``git rev-parse HEAD``."""
    for var in ("GITHUB_SHA", "GIT_SHA"):
        if os.environ.get(var):
            return os.environ[var]
    if start is None:
        return None
    from sophia_platform import git  # the runner is not needed to read records (status)

    return git.head_commit(start)


def _body(record: DeployRecord) -> dict[str, Any]:
    labels = {
        RECORD_LABEL: "true",
        RELEASE_LABEL: record.release,
        "app.kubernetes.io/managed-by": "sophia",
    }
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": record.name, "labels": labels},
        "data": {"record.json": json.dumps(asdict(record))},
    }


def _maps(namespace: str) -> str:
    return f"/api/v1/namespaces/{namespace}/configmaps"


def save(api: Any, namespace: str, record: DeployRecord) -> None:
    """Create or replace the record's ConfigMap."""
    body = _body(record)
    try:
        raw.create(api, "write deploy record", _maps(namespace), body)
    except ApiError as e:
        if e.status != 409:
            raise
        raw.replace(api, "write deploy record", f"{_maps(namespace)}/{record.name}", body)


def load_all(api: Any, namespace: str, release: str) -> list[DeployRecord]:
    """Every record of ``release``, oldest revision first."""
    selector = f"{RECORD_LABEL}=true,{RELEASE_LABEL}={release}"
    maps = raw.get(api, "read deploy records", _maps(namespace), labelSelector=selector).items
    maps = maps or []
    found = []
    for cm in maps:
        text = (cm.data or {}).get("record.json")
        if not text:
            continue
        try:
            found.append(DeployRecord(**json.loads(text)))
        except (TypeError, ValueError):
            continue  # a record written by a newer version: skip rather than fail history
    return sorted(found, key=lambda r: r.revision)


def last_good(records: list[DeployRecord], *, before: int | None = None) -> DeployRecord | None:
    """Return the newest succeeded record (optionally older than revision ``before``)."""
    good = [
        r
        for r in records
        if r.outcome in {"succeeded", "recovered"} and (before is None or r.revision < before)
    ]
    return good[-1] if good else None


def prune(api: Any, namespace: str, release: str, *, keep: int = KEEP) -> int:
    """Delete the oldest records beyond ``keep``; returns how many were removed."""
    found = load_all(api, namespace, release)
    removed = 0
    for rec in found[: max(0, len(found) - keep)]:
        try:
            raw.delete(api, "prune deploy record", f"{_maps(namespace)}/{rec.name}")
            removed += 1
        except ApiError as e:
            if e.status != 404:
                raise
    return removed
