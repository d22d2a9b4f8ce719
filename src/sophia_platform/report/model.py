"""The report as data: one pydantic model that the html, md and json renderers all read.

``sophia report --format json`` is exactly :class:`Report` (``model_dump_json``), and its JSON
Schema ships as ``report/report.schema.json`` (``sophia report --schema`` prints it).
Statuses are ``pass`` / ``fail`` / ``unknown``; unknown always carries the reason (a source
that could not be read), and a number that could not be computed is ``null``, never 0.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

REPORT_SCHEMA_VERSION = 1

Status = Literal["pass", "fail", "unknown"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Evidence(_Model):
    """One fact behind a status: where it comes from and what it says."""

    source: str = Field(description="audit | spec | cluster | records | secrets | gitops | git")
    detail: str
    location: str | None = Field(default=None, description="path[:line] in the repository")


class Metric(_Model):
    """One row of the plan's success-metrics table."""

    id: str
    title: str
    baseline: str = Field(description="where the plan says the company started")
    target: float
    unit: str = ""
    value: float | None = Field(description="the current value; null when unknown")
    status: Status
    reason: str = ""
    proxy: str = Field(description="how the value is measured")
    evidence: list[Evidence] = Field(default_factory=list)
    fix: str = Field(default="", description="the command that moves it toward the target")


class Check(_Model):
    """One Definition-of-Done item or daily-checklist line."""

    id: str
    group: str = Field(description="dod | secret-health | deployment-health | documentation-health")
    title: str
    status: Status
    reason: str
    evidence: list[Evidence] = Field(default_factory=list)
    fix: str = ""


class Progress(_Model):
    """A progress counter of the plan ("Services migrated 3/15")."""

    id: str
    title: str
    done: int | None
    total: int | None
    status: Status
    reason: str = ""
    definition: str


class SourceState(_Model):
    """Whether a source of the report could be read."""

    name: str
    available: bool
    detail: str


class HistoryPoint(_Model):
    """The repository's debt at one commit of the branch."""

    commit: str
    time: int = Field(description="committer time, Unix seconds")
    subject: str
    counts: dict[str, int] = Field(description="unsuppressed findings per audit rule")
    metrics: dict[str, int] = Field(
        description="deployment_methods, secret_sync_workflows, hardcoded_ips, distinct_ips, "
        "compose_files, duplicate_files, manual_steps, files"
    )


class HistoryStats(_Model):
    """What computing the history cost."""

    commits_in_branch: int
    points: int
    blobs_scanned: int = Field(description="distinct (path, blob) pairs scanned in this run")
    blobs_cached: int = Field(description="(path, blob) pairs answered from the cache")
    commits_cached: int
    duration_s: float
    cache: str = Field(description="where the cache lives")
    ruleset: str


class History(_Model):
    """The burn-down: one point per sampled commit, oldest first."""

    rules: list[str]
    points: list[HistoryPoint]
    stats: HistoryStats


class DeployPoint(_Model):
    """One deploy record of the environment."""

    revision: int
    action: str
    outcome: str
    started_at: str
    duration_s: float | None
    git_sha: str | None


class Report(_Model):
    """The migration report."""

    schema_version: int = REPORT_SCHEMA_VERSION
    generated_at: str
    project: str | None
    repository: str
    commit: str | None
    environment: str | None
    sources: list[SourceState]
    metrics: list[Metric]
    dod: list[Check]
    checklists: list[Check]
    progress: list[Progress]
    deploys: list[DeployPoint] = Field(default_factory=list)
    history: History | None = None

    def failing(self, what: Literal["dod", "metrics"]) -> list[str]:
        """Titles of the items that are not passing (for ``--fail-on``)."""
        rows = self.dod if what == "dod" else self.metrics
        return [row.title for row in rows if row.status != "pass"]
