"""Wait for an environment to converge on a commit, and record GitOps deploys.

``wait_for`` polls the engine's objects and the rollout until the release applied the commit
and every service is ready; it fails fast (like ``sophia deploy``) on a pod that will never
become ready, a release the engine gave up on, or a source it cannot fetch. ``sync_records``
turns the HelmRelease's history into the same deploy records ``sophia deploy`` writes — who
(the commit's author), which commit, which image tags, the outcome and the push-to-ready
time — so ``sophia history`` and the migration report read one source for both paths.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sophia_platform.deploy import records, releases
from sophia_platform.errors import SophiaError
from sophia_platform.gitops import engines, repo
from sophia_platform.gitops.engines import EngineState
from sophia_platform.gitops.layout import Engine
from sophia_platform.gitops.status import same_commit
from sophia_platform.kube import rollout
from sophia_platform.kube.client import ApiError
from sophia_platform.kube.rollout import PodFailure, RolloutSnapshot

# HelmRelease Ready reasons after which the engine will not get there on its own.
GAVE_UP = frozenset({"InstallFailed", "UpgradeFailed", "RollbackSucceeded", "UninstallSucceeded"})
# ...of which these mean it has remediated (put the previous release back, or removed it).
REMEDIATED = frozenset({"RollbackSucceeded", "UninstallSucceeded"})
# A failed install/upgrade is remediated at once when remediation is on; a watcher waiting for
# the remediation stops after this long without one (remediation off, or retries exhausted).
REMEDIATION_WAIT_S = 20.0
SOURCE_GRACE_S = 20.0


@dataclass(frozen=True)
class Frame:
    """One poll of a wait: the engine's objects and the rollout."""

    elapsed: float
    state: EngineState
    rollout: RolloutSnapshot | None


@dataclass(frozen=True)
class Converged:
    """How a wait ended."""

    ok: bool
    commit: str
    elapsed: float
    state: EngineState
    message: str = ""
    failure: PodFailure | None = None
    helm_revision: int | None = None


def _helm_revision(state: EngineState, commit: str) -> int | None:
    for snap in state.history:
        if same_commit(engines.chart_version_sha(snap.get("chartVersion")), commit):
            return int(snap.get("version") or 0) or None
    return None


def _gave_up(state: EngineState, commit: str) -> str | None:
    rel = state.release
    if not rel.found:
        return None
    tried = same_commit(rel.attempted, commit)
    if tried and not rel.ready and (rel.stalled or rel.reason in GAVE_UP):
        return f"{rel.kind}/{rel.name} {rel.reason}: {rel.message}"
    return None


class _Settle:
    """When a watcher that waits for the engine's remediation (not fail-fast) may stop."""

    def __init__(self, fail_fast: bool) -> None:
        self.fail_fast = fail_fast
        self.failed_since: float | None = None

    def done(self, state: EngineState, gave_up: str | None) -> bool:
        if gave_up is None:
            self.failed_since = None
            return False
        rel = state.release
        if self.fail_fast or rel.stalled or rel.reason in REMEDIATED:
            return True
        self.failed_since = self.failed_since or time.monotonic()
        return time.monotonic() - self.failed_since >= REMEDIATION_WAIT_S


def wait_for(
    api: Any,
    engine: Engine,
    name: str,
    namespace: str,
    release: str,
    commit: str,
    *,
    timeout_s: float = 300.0,
    grace_s: float = 10.0,
    poll_s: float = 0.5,
    on_update: Callable[[Frame], None] | None = None,
    fail_fast: bool = True,
) -> Converged:
    """Poll until ``commit`` is applied and ready, or a failure that will not heal.

    ``fail_fast`` stops at the first pod that stays failing for ``grace_s`` (what a deploy
    does); without it the failing pod is kept and the wait goes on until the engine itself
    gives up and remediates (what a watcher of a push wants to see): it rolled back, or the
    failure stood for :data:`REMEDIATION_WAIT_S` without one.
    """
    start = time.monotonic()
    source_broken_since: float | None = None
    problems_since: dict[tuple[str, str], float] = {}
    seen_failure: PodFailure | None = None
    settle = _Settle(fail_fast)
    while True:
        elapsed = time.monotonic() - start
        state = engines.read(api, engine, name)
        try:
            snap: RolloutSnapshot | None = rollout.poll(api, namespace, release, elapsed)
        except ApiError:
            snap = None
        if on_update is not None:
            on_update(Frame(elapsed, state, snap))
        applied = same_commit(state.release.revision, commit)
        if applied and state.release.ready and snap is not None and snap.done:
            return Converged(
                True, commit, elapsed, state, helm_revision=_helm_revision(state, commit)
            )
        gave_up = _gave_up(state, commit)
        if settle.done(state, gave_up) and gave_up:
            failure = _first_failure(api, namespace, snap) or seen_failure
            return Converged(False, commit, elapsed, state, gave_up, failure)
        if state.source.found and not state.source.ready and state.source.message:
            source_broken_since = source_broken_since or time.monotonic()
            if time.monotonic() - source_broken_since > SOURCE_GRACE_S:
                msg = f"{state.source.kind}/{state.source.name}: {state.source.message}"
                return Converged(False, commit, elapsed, state, msg)
        else:
            source_broken_since = None
        if snap is not None and same_commit(state.release.attempted, commit):
            now = time.monotonic()
            keys = {(p.pod, p.reason) for p in snap.problems}
            problems_since = {k: v for k, v in problems_since.items() if k in keys}
            for p in snap.problems:
                if now - problems_since.setdefault((p.pod, p.reason), now) < grace_s:
                    continue
                if not fail_fast:
                    seen_failure = seen_failure or rollout.describe_failure(api, namespace, p)
                    continue
                failure = rollout.describe_failure(api, namespace, p)
                msg = f"{p.service}: pod {p.pod} is {p.reason} ({p.message or 'no message'})"
                return Converged(False, commit, elapsed, state, msg, failure)
        if elapsed >= timeout_s:
            what = "applied" if applied else f"applied (engine is at {state.release.revision})"
            return Converged(
                False,
                commit,
                elapsed,
                state,
                f"{commit[:12]} not {what} and ready after {timeout_s:.0f}s",
                seen_failure,
            )
        time.sleep(poll_s)


def _first_failure(api: Any, namespace: str, snap: RolloutSnapshot | None) -> PodFailure | None:
    if snap is None or not snap.problems:
        return None
    return rollout.describe_failure(api, namespace, snap.problems[0])


def _iso_to_unix(text: str | None) -> float | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def _outcome(helm: releases.Revision | None, snapshot_status: str) -> str:
    """Succeeded | failed | running, from Helm's record of the revision (Flux's as fallback)."""
    status = helm.status if helm is not None else snapshot_status
    if status in releases.PENDING:
        return "running"
    failed = helm is not None and " failed" in helm.description
    return "failed" if status == "failed" or failed else "succeeded"


def _ready_time(state: EngineState, short: str | None, index: int) -> float | None:
    """When the newest revision became ready: the HelmRelease's Ready transition, if it is."""
    rel = state.release
    if index != 0 or not rel.ready or not same_commit(rel.revision, short):
        return None
    return _iso_to_unix(rel.ready_since)


def started_at(commit: repo.Commit, pushed: int | None) -> str:
    """When a GitOps deploy started: the push, else the commit (ISO 8601 UTC)."""
    return datetime.fromtimestamp(pushed or commit.committed_at, UTC).isoformat(timespec="seconds")


def _remediated_to(
    history: list[dict[str, Any]], index: int, helm_rev: releases.Revision | None
) -> int | None:
    """The revision an engine-made rollback restored (None: this revision is a deploy).

    Helm describes a rollback as ``Rollback to N``; the history says the same when an older
    snapshot has this one's chart version (the same commit, applied again).
    """
    if helm_rev is not None and helm_rev.description.startswith("Rollback to "):
        number = helm_rev.description.removeprefix("Rollback to ").split()[0]
        if number.isdigit():
            return int(number)
    version = history[index].get("chartVersion")
    older = [h for h in history[index + 1 :] if h.get("chartVersion") == version]
    return int(older[0].get("version") or 0) or None if older else None


def _push_found_later(rec: records.DeployRecord, commit: repo.Commit, pushed: int | None) -> bool:
    """Restart a record's clock at the push once the pushing checkout reports it."""
    if rec.pushed_at is not None or pushed is None or rec.duration_s is None:
        return False
    rec.duration_s = round(max(0.0, rec.duration_s - (pushed - commit.committed_at)), 2)
    rec.pushed_at = rec.started_at = started_at(commit, pushed)
    return True


def sync_records(
    api: Any,
    state: EngineState,
    checkout: Path,
    *,
    env: str,
    namespace: str,
    release: str,
    root: str = "kubernetes",
    ready_at: float | None = None,
    branch: str = "main",
) -> list[records.DeployRecord]:
    """Write a deploy record for each revision in the engine's history that has none yet.

    The clock starts at the push: when this checkout pushed the commit (git's reflog of
    ``origin/BRANCH``), else at the commit's time (an upper bound: it was pushed later). It
    stops at ``ready_at`` (unix time) when a waiter saw the newest revision ready, else at the
    HelmRelease's Ready transition when it is ready at that revision, else at the revision's
    ``lastDeployed``. Finished records are left as written, except that a push time found
    later (the pushing checkout runs ``gitops status``) corrects the duration.
    """
    if state.engine != "flux" or not state.history:
        return []
    existing = {r.revision: r for r in records.load_all(api, namespace, release)}
    stored = {r.revision: r for r in releases.revisions(api, namespace, release)}
    written = []
    for index, snap in enumerate(state.history):
        version = int(snap.get("version") or 0)
        short = engines.chart_version_sha(snap.get("chartVersion"))
        old = existing.get(version)
        ours = old is not None and old.action in {"gitops", "rollback"}
        if old is not None and not (ours and same_commit(old.git_sha, short)):
            # The record of an earlier life of the release (helm-driven, then uninstalled):
            # Helm numbers revisions from 1 again, so this revision's record is written anew.
            old = None
        commit = repo.commit_info(checkout, short) if short else None
        if commit is None:
            continue  # a revision made from a commit this checkout does not have
        pushed = repo.pushed_at(checkout, commit.sha, branch)
        outcome = _outcome(stored.get(version), str(snap.get("status")))
        if old is not None and old.finished_at and (old.outcome == outcome or index > 0):
            if _push_found_later(old, commit, pushed):
                records.save(api, namespace, old)
                written.append(old)
            continue
        helm_rev = stored.get(version)
        kept_failed = old is not None and old.outcome == "failed"
        if kept_failed and helm_rev is not None and helm_rev.status != "deployed":
            continue  # a waiter saw it fail; Helm's later "superseded" does not undo that
        try:
            images = repo.tags_at(checkout, commit.sha, env, root=root)
        except SophiaError:
            images = {}
        rec = old or records.DeployRecord(
            release=release,
            environment=env,
            revision=version,
            action="gitops",
            user=f"{commit.author} <{commit.email}>",
            started_at=started_at(commit, pushed),
            git_sha=commit.sha,
            images=images,
        )
        if pushed is not None:
            rec.pushed_at = rec.started_at = started_at(commit, pushed)
        done_at = ready_at if index == 0 and ready_at else None
        done_at = done_at or _ready_time(state, short, index)
        done_at = done_at or _iso_to_unix(snap.get("lastDeployed"))
        rec.outcome = outcome
        subject = commit.subject.replace(repo.SKIP_CI, "").strip()
        rec.message = f"{subject} (applied by {state.release.kind}/{state.release.name})"
        rec.finished_at = records.utcnow()
        back_to = _remediated_to(state.history, index, helm_rev)
        if back_to is not None:
            # The engine's own rollback of a failed upgrade: not a deploy of this commit, so
            # no push-to-ready time (the report's deployment-time metric skips it).
            rec.action, rec.rolled_back_to, rec.duration_s = "rollback", back_to, None
            rec.message = f"{state.release.kind} remediation: back to revision {back_to}"
        elif done_at is not None:
            rec.duration_s = round(max(0.0, done_at - (pushed or commit.committed_at)), 2)
        records.save(api, namespace, rec)
        written.append(rec)
    return written
