"""The rollback verb: back to a good revision through the environment's ReleaseSource.

Works for any :class:`~.source.ReleaseSource` (Helm's, or a GitOps engine's): what is deployed
and its history come from the source, the rollback itself is ``source.rollback``; the lock,
the record and the fail-fast watch are the same actions a deploy uses.
"""

from __future__ import annotations

import time

from sophia_platform.deploy import actions
from sophia_platform.deploy.results import (
    DeployFailed,
    DeployOptions,
    DeployResult,
    Observer,
    Outcome,
)
from sophia_platform.deploy.source import latest
from sophia_platform.errors import UsageError
from sophia_platform.spec import Spec


def rollback(
    spec: Spec, env: str | None, to_revision: int | None, opts: DeployOptions, observer: Observer
) -> DeployResult:
    """Roll back to ``to_revision`` (default: the previous good one), then watch it."""
    ctx = actions.open_context(spec, env, opts, observer)
    t = ctx.target
    stored = ctx.source.history()
    current = latest(stored)
    if current is None:
        raise UsageError(
            f"release {t.release} is not installed in {t.namespace}; nothing to roll back"
        )
    history = {r.revision: r for r in stored}
    target_rev = (
        to_revision
        if to_revision is not None
        else actions.good_revision(ctx, before=current.revision)
    )
    if target_rev is None or target_rev not in history:
        known = ", ".join(str(r) for r in sorted(history)) or "none"
        raise UsageError(
            f"no revision {target_rev} to roll back to; stored revisions: {known}",
            hint="see `sophia history`",
        )
    result = DeployResult(t.env, t.release, t.namespace, "rollback", Outcome.DRY_RUN)
    result.previous_revision = current.revision
    result.rolled_back_to = target_rev
    now_images = actions.images_of(current.values)
    then_images = actions.images_of(history[target_rev].values)
    result.images = then_images
    result.changes = {
        name: (now_images.get(name), then_images.get(name))
        for name in sorted(set(now_images) | set(then_images))
        if now_images.get(name) != then_images.get(name)
    }
    if opts.dry_run:
        return result
    with actions.locked(ctx, "rollback"):
        actions.stop_if_lock_lost(ctx, result)
        done = actions.rollback(ctx, target_rev, reason=f"rolled back to revision {target_rev}")
        result.revision = done.revision
        actions.stop_if_lock_lost(ctx, result, done.record, done.rollout.interrupted)
        result.duration_s = round(time.monotonic() - ctx.started, 2)
        if done.rollout.ok:
            result.outcome = Outcome.SUCCEEDED
            return result
        result.outcome = Outcome.FAILED
        result.failure = done.rollout.failure
        message = actions.failure_message(done.rollout, ctx)
        result.message = f"rollback to revision {target_rev} did not become ready: {message}"
        raise DeployFailed(result.message, result)
