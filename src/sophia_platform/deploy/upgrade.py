"""The deploy verb: preflight, lock, recover, install/upgrade, fail-fast watch, automatic undo.

Made of the actions in :mod:`.actions`; returns a :class:`~.results.DeployResult` or raises
``PreflightRefused`` (exit 1, nothing changed), ``DeployFailed`` (exit 1, rolled back or
uninstalled) or ``LockLost`` (exit 3, stopped waiting, release left as helm applied it).
Helm runs without ``--wait``: :mod:`sophia_platform.kube.rollout` watches instead and stops
at the first pod that will never become ready.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from sophia_platform.deploy import actions, diff, preflight, records
from sophia_platform.deploy.results import (
    DeployFailed,
    DeployOptions,
    DeployResult,
    LockLost,
    Observer,
    Outcome,
    PreflightRefused,
    StepKind,
)
from sophia_platform.deploy.target import chart_dir
from sophia_platform.deploy.values import render_values, values_file
from sophia_platform.errors import ExternalError
from sophia_platform.kube.namespaces import ensure_namespace, namespace_exists
from sophia_platform.spec import Spec

DEFAULT_RUNTIME_CLASS = "nvidia"


def _runtime_class(values: Mapping[str, Any]) -> str | None:
    gpu = (values.get("global") or {}).get("gpu") or {}
    name = gpu.get("runtimeClassName", DEFAULT_RUNTIME_CLASS)
    return str(name) if name else None


def deploy(spec: Spec, env: str | None, opts: DeployOptions, observer: Observer) -> DeployResult:
    """Preflight, then install/upgrade the release and watch it; roll back if it fails."""
    ctx = actions.open_context(spec, env, opts, observer)
    source = actions.helm_source(ctx)
    t = ctx.target
    draft = render_values(spec, t.env, image_tag=opts.image_tag, overrides=opts.overrides)
    ctx.step(StepKind.PREFLIGHT)
    pre = preflight.run(
        spec,
        ctx.api,
        t,
        image_tag=opts.image_tag,
        runtime_class=_runtime_class(draft),
        recover=opts.recover,
    )
    observer.checked(pre)
    if not pre.ok:
        raise PreflightRefused(pre)
    values = render_values(
        spec,
        t.env,
        image_tag=opts.image_tag,
        secret_hashes=pre.secret_hashes,
        overrides=opts.overrides,
    )
    result = DeployResult(
        t.env, t.release, t.namespace, "deploy", Outcome.DRY_RUN, checks=pre.checks
    )
    result.images = actions.images_of(values)
    chart = chart_dir()
    with values_file(values) as values_path:
        if opts.dry_run:
            rendered = source.render(chart, values_path, timeout_s=opts.timeout_s)
            result.objects = _objects(rendered)
            result.plan = diff.compare(spec, t, ctx.api, rendered).objects  # one render, once
            if not namespace_exists(ctx.api, t.namespace):
                result.namespace_created = True
                ctx.step(StepKind.NAMESPACE_MISSING)
            return result
        if ensure_namespace(ctx.api, t.namespace):
            result.namespace_created = True
            ctx.step(StepKind.NAMESPACE)
        with actions.locked(ctx, "deploy"):
            if pre.pending_revision is not None:
                actions.recover(ctx, source, pre.pending_revision)
            good = actions.good_revision(ctx, before=None)
            result.previous_revision = good
            actions.stop_if_lock_lost(ctx, result)
            try:
                result.revision = actions.upgrade(ctx, source, chart, values_path)
            except ExternalError:
                # helm may have applied part of the release: put the last good one back.
                result.revision = actions.latest_revision(ctx)
                if good is not None and result.revision not in (None, good):
                    actions.stop_if_lock_lost(ctx, result)
                    _undo(ctx, source, result, good)
                raise
            rec = actions.record(ctx, "deploy", result.revision, result.images)
            ctx.step(StepKind.WATCH, revision=result.revision)
            outcome = actions.watch_rollout(ctx)
            actions.stop_if_lock_lost(ctx, result, rec, outcome.interrupted)
            if outcome.ok:
                actions.close(ctx, rec, Outcome.SUCCEEDED)
                records.prune(ctx.api, t.namespace, t.release)
                result.outcome = Outcome.SUCCEEDED
                result.duration_s = round(time.monotonic() - ctx.started, 2)
                return result
            message = actions.failure_message(outcome, ctx)
            result.failure = outcome.failure
            actions.stop_if_lock_lost(ctx, result, rec)
            try:
                _undo(ctx, source, result, good)
            except LockLost:
                actions.close(ctx, rec, Outcome.FAILED, message)
                raise
            rec_outcome = Outcome.ROLLED_BACK if result.rolled_back_to else Outcome.FAILED
            actions.close(ctx, rec, rec_outcome, message)
            result.duration_s = round(time.monotonic() - ctx.started, 2)
            where = (
                f"; rolled back to revision {result.rolled_back_to}"
                if result.rolled_back_to
                else ""
            )
            result.message = f"deploy of revision {result.revision} failed: {message}{where}"
            raise DeployFailed(result.message, result)


def _undo(ctx: actions.Context, source: Any, result: DeployResult, good: int | None) -> None:
    """Roll back to ``good`` (or uninstall) and put the outcome on ``result``."""
    done = actions.undo(ctx, source, result.revision, good)
    if done is None:
        result.outcome = Outcome.FAILED
        return
    actions.stop_if_lock_lost(ctx, result, done.record, done.rollout.interrupted)
    result.rolled_back_to = good
    result.outcome = Outcome.ROLLED_BACK if done.rollout.ok else Outcome.FAILED


def _objects(manifest: str) -> list[str]:
    """``Kind/name`` of every object in a multi-document manifest."""
    from sophia_platform.deploy.releases import manifest_objects

    return [
        f"{doc['kind']}/{(doc.get('metadata') or {}).get('name', '?')}"
        for doc in manifest_objects(manifest)
    ]
