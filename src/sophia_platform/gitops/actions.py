"""What ``gitops reconcile | suspend | resume`` and a GitOps ``rollback`` do to an environment.

A rollback goes through git: a helm rollback behind the engine's back is undone at its next
sync (argo-cd#5351; Flux likewise re-applies the HelmRelease). So the values file of the last
good revision (from the deploy records) is committed on top of the branch, pushed, the engine
is asked to reconcile, and the rollout is watched with the same fail-fast rules as a deploy.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sophia_platform.deploy import records, releases
from sophia_platform.deploy.target import Target, resolve
from sophia_platform.errors import CheckFailed, UsageError
from sophia_platform.gitops import converge, engines, repo
from sophia_platform.gitops.converge import Converged, Frame
from sophia_platform.gitops.status import TreeInfo, same_commit, tree_info
from sophia_platform.kube.client import connect
from sophia_platform.spec import Spec


@dataclass
class Context:
    """One command's view of a GitOps environment: tree, target, API client."""

    spec: Spec
    env: str
    checkout: Path
    info: TreeInfo
    target: Target
    api: Any

    @classmethod
    def open(
        cls, spec: Spec, env: str, checkout: Path, *, root: str, kubeconfig: Path | None
    ) -> Context:
        """Read the tree and connect to the environment's cluster."""
        info = tree_info(spec, env, checkout, root)
        target = resolve(spec, env, kubeconfig=kubeconfig)
        return cls(spec, env, checkout, info, target, connect(target.kubeconfig, target.context))

    def wait(
        self,
        commit: str,
        *,
        timeout_s: float,
        grace_s: float,
        on_update: Callable[[Frame], None],
        fail_fast: bool = True,
    ) -> Converged:
        """Watch the engine and the rollout until ``commit`` is live (or fails)."""
        return converge.wait_for(
            self.api,
            self.info.engine,
            self.info.name,
            self.target.namespace,
            self.target.release,
            commit,
            timeout_s=timeout_s,
            grace_s=grace_s,
            on_update=on_update,
            fail_fast=fail_fast,
        )

    def record(self, ready_at: float | None = None) -> list[records.DeployRecord]:
        """Bring the deploy records up to date with the engine's history."""
        state = engines.read(self.api, self.info.engine, self.info.name)
        return converge.sync_records(
            self.api,
            state,
            self.checkout,
            env=self.env,
            namespace=self.target.namespace,
            release=self.target.release,
            root=self.info.root,
            ready_at=ready_at,
            branch=self.info.branch,
        )

    def record_failure(self, commit: str, message: str) -> None:
        """Keep why ``commit`` failed (the pod and its reason): Flux's rollback removes the pods.

        The engine may still be mid-upgrade (Helm's revision pending), so the record is made
        here when the history has none for the commit yet.
        """
        t = self.target
        found = records.load_all(self.api, t.namespace, t.release)
        rec = next((r for r in reversed(found) if same_commit(r.git_sha, commit)), None)
        if rec is None:
            latest = releases.latest(self.api, t.namespace, t.release)
            info = repo.commit_info(self.checkout, commit)
            if latest is None or info is None or commit[:12] not in latest.chart:
                return
            pushed = repo.pushed_at(self.checkout, info.sha, self.info.branch)
            started = converge.started_at(info, pushed)
            rec = records.DeployRecord(
                release=t.release,
                environment=self.env,
                revision=latest.revision,
                action="gitops",
                user=f"{info.author} <{info.email}>",
                started_at=started,
                git_sha=info.sha,
                images=repo.tags_at(self.checkout, info.sha, self.env, root=self.info.root),
                pushed_at=started if pushed is not None else None,
            )
        rec.outcome, rec.message, rec.finished_at = "failed", message, records.utcnow()
        records.save(self.api, t.namespace, rec)


@dataclass
class ReconcileResult:
    """What ``gitops reconcile`` did."""

    env: str
    engine: str
    commit: str | None
    requested_at: str
    outcome: str  # succeeded | failed | requested
    duration_s: float = 0.0
    message: str = ""
    events: list[str] = field(default_factory=list)


def _fail(result: ReconcileResult, conv: Converged) -> None:
    result.outcome = "failed"
    result.message = conv.message
    if conv.failure is not None:
        result.events = [
            f"{conv.failure.service}: pod {conv.failure.pod} is {conv.failure.reason}",
            *conv.failure.events,
        ]


def reconcile(
    ctx: Context,
    *,
    wait: bool = True,
    request: bool = True,
    fail_fast: bool = True,
    timeout_s: float = 300.0,
    grace_s: float = 10.0,
    on_update: Callable[[Frame], None] = lambda _frame: None,
) -> ReconcileResult:
    """Ask the engine to reconcile now; with ``wait``, until the branch head is live.

    Without ``request`` nothing is asked of the engine: the wait only watches it take the
    branch head (a push already triggered it); ``fail_fast`` as in :func:`converge.wait_for`.
    """
    head = repo.remote_head(ctx.checkout, ctx.info.repo_url, ctx.info.branch)
    stamp = engines.request_reconcile(ctx.api, ctx.info.engine, ctx.info.name) if request else ""
    result = ReconcileResult(ctx.env, ctx.info.engine, head, stamp, "requested")
    if not wait or head is None:
        return result
    conv = ctx.wait(
        head, timeout_s=timeout_s, grace_s=grace_s, on_update=on_update, fail_fast=fail_fast
    )
    result.duration_s = round(conv.elapsed, 2)
    if conv.ok:
        result.outcome = "succeeded"
        ctx.record(ready_at=time.time())
        return result
    _fail(result, conv)
    ctx.record()
    why = conv.message
    if conv.failure is not None and conv.failure.pod not in why:
        why = f"{result.events[0]}; {why}"  # the engine's words name no pod: keep which one
    ctx.record_failure(head, why)
    return result


def await_head(
    ctx: Context,
    *,
    timeout_s: float = 300.0,
    grace_s: float = 10.0,
    on_update: Callable[[Frame], None] = lambda _frame: None,
) -> ReconcileResult:
    """Watch the engine take the branch head, until ready or until it gives up and remediates."""
    return reconcile(
        ctx,
        request=False,
        fail_fast=False,
        timeout_s=timeout_s,
        grace_s=grace_s,
        on_update=on_update,
    )


def set_suspended(ctx: Context, suspended: bool, *, dry_run: bool = False) -> bool:
    """Suspend or resume; returns whether anything changed."""
    state = engines.read(ctx.api, ctx.info.engine, ctx.info.name)
    if not state.release.found:
        raise CheckFailed(
            f"{state.release.kind}/{ctx.info.name} is not in the cluster",
            hint="apply the tree first (flux bootstrap or kubectl apply -k)",
        )
    current = state.source.suspended or state.release.suspended
    if current == suspended and state.source.suspended == state.release.suspended:
        return False
    if not dry_run:
        engines.set_suspended(ctx.api, ctx.info.engine, ctx.info.name, suspended)
    return True


@dataclass
class RollbackPlan:
    """Which commit's values a GitOps rollback restores."""

    env: str
    current: str | None
    target: str
    target_revision: int | None
    changes: dict[str, tuple[str, str]] = field(default_factory=dict)


def _good_commit(ctx: Context, to: str | None) -> tuple[str, int | None]:
    ctx.record()
    found = records.load_all(ctx.api, ctx.target.namespace, ctx.target.release)
    # What the branch says now is what is being rolled back (the engine may already have
    # remediated to an older revision: that one is then the good one to restore).
    current = repo.remote_head(ctx.checkout, ctx.info.repo_url, ctx.info.branch)
    if to is not None:
        if to.isdigit():
            rec = next((r for r in found if r.revision == int(to) and r.action == "gitops"), None)
            if rec is None or rec.git_sha is None:
                known = ", ".join(str(r.revision) for r in found if r.git_sha) or "none"
                raise UsageError(f"no GitOps deploy record for revision {to}; known: {known}")
            return rec.git_sha, rec.revision
        return repo.head(ctx.checkout, to), None
    # Only GitOps deploys: a record of a helm deploy names a commit of wherever it ran from.
    good = [
        r
        for r in found
        if r.action == "gitops"
        and r.outcome in {"succeeded", "recovered"}
        and r.git_sha
        and not same_commit(r.git_sha, current)
    ]
    if not good:
        raise UsageError(
            f"no earlier good GitOps revision of {ctx.env} to roll back to",
            hint="see `sophia history`, or pass --to COMMIT",
        )
    latest = good[-1]
    return str(latest.git_sha), latest.revision


def rollback(
    ctx: Context,
    to: str | None,
    *,
    dry_run: bool = False,
    push: bool = True,
    timeout_s: float = 300.0,
    grace_s: float = 10.0,
    on_update: Callable[[Frame], None] = lambda _frame: None,
) -> tuple[RollbackPlan, repo.CommitResult, ReconcileResult | None]:
    """Commit the good revision's values on top of the branch, push, reconcile, wait."""
    target, revision = _good_commit(ctx, to)
    state = engines.read(ctx.api, ctx.info.engine, ctx.info.name)
    commit = repo.restore_values(
        ctx.checkout,
        ctx.env,
        target,
        root=ctx.info.root,
        reason=f"sophia rollback (was {(state.release.revision or '?')[:12]})",
        push=push,
        dry_run=dry_run,
    )
    plan = RollbackPlan(ctx.env, state.release.revision, target, revision, commit.changes)
    if dry_run or commit.commit is None or not push:
        return plan, commit, None
    return plan, commit, reconcile(ctx, timeout_s=timeout_s, grace_s=grace_s, on_update=on_update)


def break_glass(ctx: Context) -> bool:
    """Suspend the engine so a helm deploy is not undone at its next sync."""
    return set_suspended(ctx, True)


def engine_documents(checkout: Path, info: TreeInfo) -> list[dict[str, Any]]:
    """The engine objects of the committed tree (what ``flux bootstrap --path`` applies)."""
    from sophia_platform.gitops.layout import Layout
    from sophia_platform.gitops.tree import load_yaml

    folder = checkout / Layout(info.env, info.root).engine_dir(info.engine)
    docs = []
    for path in sorted(folder.glob("*.yaml")):
        doc = load_yaml(path.read_text(encoding="utf-8"))
        if isinstance(doc, dict) and doc.get("kind") != "Kustomization":
            docs.append(doc)
    return docs


def bootstrap(ctx: Context, *, dry_run: bool = False) -> list[str]:
    """Apply the tree's engine objects to the cluster (the engine itself must be installed)."""
    from sophia_platform.kube.apply import apply
    from sophia_platform.kube.apply import dry_run as server_dry_run

    docs = engine_documents(ctx.checkout, ctx.info)
    if dry_run:
        results = server_dry_run(ctx.api, "", docs)
        errors = [f"{r.kind}/{r.name}: {r.error}" for r in results if r.error]
        if errors:
            raise CheckFailed(f"the API server refuses {errors[0]}")
        return [f"{r.kind}/{r.name}" for r in results]
    return apply(ctx.api, docs)
