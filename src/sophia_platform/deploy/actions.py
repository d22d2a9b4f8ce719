"""The small actions the deploy verbs are made of: install/upgrade, rollback, recover, undo.

Each action does one thing to one release over a :class:`~.source.ReleaseSource` (Helm's, for
the writes only ``sophia deploy`` makes), reports a :class:`~.results.Step`, keeps the deploy
records, and returns what happened. :func:`open_context` connects (once, explicitly — nothing
connects in a constructor); :func:`locked` holds the environment's deploy lock, and every wait
under it stops when the lock is lost (:func:`stop_if_lock_lost`).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sophia_platform.deploy import records
from sophia_platform.deploy.helm_source import HelmReleaseSource
from sophia_platform.deploy.results import (
    Action,
    DeployOptions,
    DeployResult,
    LockLost,
    Observer,
    Outcome,
    Step,
    StepKind,
)
from sophia_platform.deploy.source import ReleaseSource, current, latest, release_source
from sophia_platform.deploy.target import Target, resolve
from sophia_platform.errors import UsageError
from sophia_platform.kube import lease, raw
from sophia_platform.kube.client import ApiError, connect
from sophia_platform.kube.rollout import RolloutOutcome, watch
from sophia_platform.spec import Spec


@dataclass
class Context:
    """One command's connection: the target, its API client and release source, the options."""

    spec: Spec
    target: Target
    api: Any
    source: ReleaseSource
    opts: DeployOptions
    observer: Observer
    user: str
    started: float
    lock: lease.HeldLock | None = None

    def step(self, kind: StepKind, **facts: Any) -> None:
        """Report a step of this release."""
        t = self.target
        self.observer.step(Step(kind, release=t.release, namespace=t.namespace, **facts))


def open_context(spec: Spec, env: str | None, opts: DeployOptions, observer: Observer) -> Context:
    """Resolve the environment, connect to its cluster and check that it answers."""
    target = resolve(spec, env, kubeconfig=opts.kubeconfig)
    api = connect(target.kubeconfig, target.context)
    raw.get(api, f"reach cluster of context {target.context}", "/version")
    return Context(
        spec,
        target,
        api,
        release_source(target, api),
        opts,
        observer,
        user=lease.default_holder(with_pid=False),
        started=time.monotonic(),
    )


def helm_source(ctx: Context) -> HelmReleaseSource:
    """The Helm release a deploy writes; an environment a GitOps engine manages has none."""
    if not isinstance(ctx.source, HelmReleaseSource):
        raise UsageError(
            f"environment {ctx.target.env} is deployed by {ctx.source.kind}, not sophia deploy",
            hint="push to the branch it follows; `sophia status` and `sophia rollback` work",
        )
    return ctx.source


def images_of(values: Mapping[str, Any]) -> dict[str, str]:
    """Service -> image tag from chart values."""
    services = values.get("services") or {}
    return {name: str((svc.get("image") or {}).get("tag", "")) for name, svc in services.items()}


# -- the lock ---------------------------------------------------------------------------------
@contextmanager
def locked(ctx: Context, what: str) -> Iterator[lease.HeldLock]:
    """Take the environment's deploy lock (waiting ``lock_wait_s``) and hold it for the block."""
    t = ctx.target
    holder = lease.default_holder()
    message = f"{what} {t.env} by {ctx.user}"
    ctx.step(StepKind.LOCK)
    lease.acquire(
        ctx.api,
        t.namespace,
        holder,
        message,
        ttl_s=ctx.opts.lock_ttl_s,
        wait_s=ctx.opts.lock_wait_s,
        on_wait=lambda info: ctx.step(StepKind.LOCK_WAIT, holder=info.holder),
    )
    with lease.HeldLock(ctx.api, t.namespace, holder, message, ctx.opts.lock_ttl_s) as held:
        ctx.lock = held
        try:
            yield held
        finally:
            ctx.lock = None


def lock_lost(ctx: Context) -> str | None:
    """Why the lock held by this command was lost (None: held, or no lock taken)."""
    return ctx.lock.why_lost() if ctx.lock is not None else None


def stop_if_lock_lost(
    ctx: Context,
    result: DeployResult,
    rec: records.DeployRecord | None = None,
    reason: str | None = None,
) -> None:
    """Raise :class:`LockLost` (closing ``rec``) when the lock is gone; else do nothing.

    Nothing more is changed: the release stays at the revision helm last applied (helm had
    finished: it is never interrupted mid-operation, so nothing is left pending-*), and no
    automatic rollback runs, because whoever holds the lock now may be deploying.
    """
    why = reason or lock_lost(ctx)
    if why is None:
        return
    t = ctx.target
    at = f"revision {result.revision}" if result.revision else "its previous revision"
    message = (
        f"the deploy lock of {t.namespace} was lost ({why}); stopped waiting, the release "
        f"is left at {at}, rollout not confirmed and nothing rolled back"
    )
    result.outcome = Outcome.LOCK_LOST
    result.message = message
    result.duration_s = round(time.monotonic() - ctx.started, 2)
    if rec is not None:
        # On an API error the record stays "running"; history shows it unfinished.
        with contextlib.suppress(ApiError):
            close(ctx, rec, Outcome.FAILED, message)
    raise LockLost(message, result)


def watch_rollout(ctx: Context) -> RolloutOutcome:
    """Wait for the release's workloads, failing fast; stops at once when the lock is lost."""
    t = ctx.target
    return watch(
        ctx.api,
        t.namespace,
        t.release,
        timeout_s=ctx.opts.timeout_s,
        grace_s=ctx.opts.grace_s,
        on_update=ctx.observer.rollout,
        interrupt=lambda: lock_lost(ctx),
    )


# -- records ----------------------------------------------------------------------------------
def record(
    ctx: Context, action: str, revision: int, images: dict[str, str]
) -> records.DeployRecord:
    """Open the deploy record of ``revision`` (outcome ``running``)."""
    source_dir = ctx.spec.source_path.parent if ctx.spec.source_path else None
    rec = records.DeployRecord(
        release=ctx.target.release,
        environment=ctx.target.env,
        revision=revision,
        action=action,
        user=ctx.user,
        started_at=records.utcnow(),
        git_sha=records.git_sha(source_dir),
        images=images,
    )
    records.save(ctx.api, ctx.target.namespace, rec)
    return rec


def close(
    ctx: Context,
    rec: records.DeployRecord,
    outcome: Outcome,
    message: str = "",
    *,
    since: float | None = None,
) -> None:
    """Close a deploy record with its outcome and duration."""
    started = ctx.started if since is None else since
    rec.finish(str(outcome), message, started=started, now=time.monotonic())
    records.save(ctx.api, ctx.target.namespace, rec)


def good_revision(ctx: Context, *, before: int | None) -> int | None:
    """The newest good revision: from deploy records, else the source's deployed one."""
    t = ctx.target
    found = records.last_good(records.load_all(ctx.api, t.namespace, t.release), before=before)
    if found is not None:
        return found.revision
    live = current(ctx.source.history())
    if live is not None and (before is None or live.revision < before):
        return live.revision
    return None


def latest_revision(ctx: Context) -> int | None:
    """The number of the newest revision (None: never installed)."""
    newest = latest(ctx.source.history())
    return newest.revision if newest is not None else None


# -- the actions ------------------------------------------------------------------------------
def recover(ctx: Context, source: HelmReleaseSource, pending: int) -> None:
    """Clear a release stuck in pending-*: mark that revision failed (helm#8987)."""
    ctx.step(StepKind.RECOVER, revision=pending, action=Action.RECOVER)
    t = ctx.target
    reason = f"marked failed by sophia deploy --recover ({ctx.user})"
    source.mark_failed(pending, reason)
    found = records.load_all(ctx.api, t.namespace, t.release)
    rec = next((r for r in found if r.revision == pending), None)
    if rec is None:
        rec = record(ctx, "deploy", pending, {})
    rec.outcome, rec.message = str(Outcome.FAILED), f"was stuck pending; {reason}"
    records.save(ctx.api, t.namespace, rec)


def upgrade(ctx: Context, source: HelmReleaseSource, chart: Path, values: Path) -> int:
    """Install (first time) or upgrade the release; return the revision helm wrote."""
    action = Action.INSTALL if latest_revision(ctx) is None else Action.UPGRADE
    ctx.step(StepKind.APPLY, action=action)
    source.upgrade(
        chart,
        values,
        timeout_s=ctx.opts.timeout_s,
        description=f"sophia deploy by {ctx.user}",
    )
    return latest_revision(ctx) or 0


@dataclass(frozen=True)
class RollbackDone:
    """What a rollback action did: the revision it wrote, its record, how its rollout went.

    When the rollout watch was interrupted (the lock was lost) the record is left open for the
    verb to close through :func:`stop_if_lock_lost`.
    """

    revision: int
    rollout: RolloutOutcome
    record: records.DeployRecord


def rollback(ctx: Context, to: int, *, reason: str, automatic: bool = False) -> RollbackDone:
    """Make revision ``to`` deployed again, record it, and watch it roll out."""
    previous = latest_revision(ctx)
    ctx.step(StepKind.ROLLBACK, revision=previous, to=to, automatic=automatic)
    since = time.monotonic()
    revision = ctx.source.rollback(to, timeout_s=ctx.opts.timeout_s)
    restored = next((r for r in ctx.source.history() if r.revision == to), None)
    rec = record(ctx, "rollback", revision, images_of(restored.values) if restored else {})
    back = watch_rollout(ctx)
    if back.interrupted is None:
        outcome = Outcome.SUCCEEDED if back.ok else Outcome.FAILED
        close(ctx, rec, outcome, reason if back.ok else failure_message(back, ctx), since=since)
    return RollbackDone(revision, back, rec)


def uninstall(ctx: Context, source: HelmReleaseSource) -> None:
    """Remove a release whose first install never worked."""
    ctx.step(StepKind.UNINSTALL, action=Action.UNINSTALL)
    source.uninstall(timeout_s=ctx.opts.timeout_s)


def undo(
    ctx: Context, source: HelmReleaseSource, failed: int | None, good: int | None
) -> RollbackDone | None:
    """What ``--atomic`` does: back to ``good`` (returned), or remove a never-working release."""
    if good is None:
        uninstall(ctx, source)
        return None
    return rollback(
        ctx, good, reason=f"automatic rollback after revision {failed} failed", automatic=True
    )


def failure_message(outcome: RolloutOutcome, ctx: Context) -> str:
    """Why a rollout did not succeed, in one line."""
    if outcome.failure is not None:
        f = outcome.failure
        return f"{f.service}: pod {f.pod} is {f.reason} ({f.message or 'no message'})"
    pending = [s.name for s in outcome.last.services if not s.done]
    return f"not ready after {ctx.opts.timeout_s}s: {', '.join(pending) or 'unknown'}"
