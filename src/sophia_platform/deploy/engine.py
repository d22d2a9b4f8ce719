"""Deploy and roll back a release: preflight, lock, helm, fail-fast watch, automatic rollback.

The engine returns typed results and reports progress through an :class:`Observer`; it never
prints. Helm is run without ``--wait``: :mod:`sophia_platform.kube.rollout` watches instead and
stops at the first pod that will never become ready.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from sophia_platform import runner
from sophia_platform.deploy import helm, preflight, records, releases
from sophia_platform.deploy.preflight import Preflight
from sophia_platform.deploy.target import Target, chart_dir, resolve
from sophia_platform.deploy.values import render_values, values_file
from sophia_platform.errors import CheckFailed, ExternalError, UsageError
from sophia_platform.kube import lease
from sophia_platform.kube.client import ApiError, call, connect
from sophia_platform.kube.rollout import PodFailure, RolloutOutcome, RolloutSnapshot, watch
from sophia_platform.spec import Spec

DEFAULT_RUNTIME_CLASS = "nvidia"
HELM_GRACE_S = 60  # helm itself only applies objects; this bounds a hung API server


class Observer(Protocol):
    """What the engine reports while it works (the CLI renders it)."""

    def phase(self, text: str) -> None:
        """Report that a step started."""

    def checked(self, result: Preflight) -> None:
        """Report the preflight verdict."""

    def rollout(self, snapshot: RolloutSnapshot) -> None:
        """Report one poll of the rollout."""


class SilentObserver:
    """An observer that ignores everything (tests, --json)."""

    def phase(self, text: str) -> None:
        """Ignore."""

    def checked(self, result: Preflight) -> None:
        """Ignore."""

    def rollout(self, snapshot: RolloutSnapshot) -> None:
        """Ignore."""


@dataclass(frozen=True)
class DeployOptions:
    """How to deploy."""

    image_tag: str | None = None
    dry_run: bool = False
    timeout_s: int = 300
    grace_s: float = 10.0
    lock_wait_s: float = 0.0
    lock_ttl_s: int = 120
    recover: bool = False
    overrides: Mapping[str, Any] = field(default_factory=dict)
    kubeconfig: Path | None = None


@dataclass
class DeployResult:
    """What a deploy or rollback did."""

    env: str
    release: str
    namespace: str
    action: str
    outcome: str  # succeeded | failed | rolled-back | dry-run
    revision: int | None = None
    previous_revision: int | None = None
    rolled_back_to: int | None = None
    duration_s: float = 0.0
    images: dict[str, str] = field(default_factory=dict)
    checks: list[preflight.Check] = field(default_factory=list)
    failure: PodFailure | None = None
    objects: list[str] = field(default_factory=list)
    changes: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)


class PreflightRefused(CheckFailed):
    """Preflight found a reason not to deploy; nothing was changed."""

    def __init__(self, result: Preflight) -> None:
        first = result.refusals[0]
        more = f" (and {len(result.refusals) - 1} more)" if len(result.refusals) > 1 else ""
        super().__init__(f"preflight refused: {first.name}: {first.detail}{more}")
        self.preflight = result


class DeployFailed(CheckFailed):
    """The rollout failed; the release was rolled back (details in ``result``)."""

    def __init__(self, message: str, result: DeployResult) -> None:
        super().__init__(message, hint="see the pod events above; fix and deploy again")
        self.result = result


def images_of(values: Mapping[str, Any]) -> dict[str, str]:
    """Service -> image tag from chart values."""
    services = values.get("services") or {}
    return {name: str((svc.get("image") or {}).get("tag", "")) for name, svc in services.items()}


def ensure_namespace(api: Any, namespace: str) -> None:
    """Create the namespace if it does not exist."""
    from kubernetes import client

    core = client.CoreV1Api(api)
    try:
        call("read namespace", core.read_namespace, namespace)
    except ApiError as e:
        if e.status != 404:
            raise
        body = client.V1Namespace(metadata=client.V1ObjectMeta(name=namespace))
        try:
            call("create namespace", core.create_namespace, body)
        except ApiError as e2:
            if e2.status != 409:
                raise


def _reachable(api: Any, target: Target) -> None:
    from kubernetes import client

    call(f"reach cluster of context {target.context}", client.VersionApi(api).get_code)


def _runtime_class(values: Mapping[str, Any]) -> str | None:
    gpu = (values.get("global") or {}).get("gpu") or {}
    name = gpu.get("runtimeClassName", DEFAULT_RUNTIME_CLASS)
    return str(name) if name else None


def _good_revision(api: Any, target: Target, before: int | None) -> int | None:
    """Find the newest good revision: from deploy records, else helm's deployed one."""
    found = records.last_good(
        records.load_all(api, target.namespace, target.release), before=before
    )
    if found is not None:
        return found.revision
    live = releases.deployed(api, target.namespace, target.release)
    if live is not None and (before is None or live.revision < before):
        return live.revision
    return None


class _Session:
    """One command's connection: target, api client, helm target, observer, options."""

    def __init__(
        self, spec: Spec, env: str | None, opts: DeployOptions, observer: Observer
    ) -> None:
        self.spec, self.opts, self.observer = spec, opts, observer
        self.target = resolve(spec, env, kubeconfig=opts.kubeconfig)
        self.api = connect(self.target.kubeconfig, self.target.context)
        _reachable(self.api, self.target)
        self.helm = self.target.helm()
        self.chart = chart_dir()
        self.user = lease.default_holder(with_pid=False)
        self.started = time.monotonic()

    def run_helm(self, argv: list[str]) -> runner.Completed[str]:
        return helm.run(argv, timeout=self.opts.timeout_s + HELM_GRACE_S)

    def watch(self) -> RolloutOutcome:
        return watch(
            self.api,
            self.target.namespace,
            self.target.release,
            timeout_s=self.opts.timeout_s,
            grace_s=self.opts.grace_s,
            on_update=self.observer.rollout,
        )

    def latest_revision(self) -> int | None:
        found = releases.latest(self.api, self.target.namespace, self.target.release)
        return found.revision if found else None

    def record(self, action: str, revision: int, images: dict[str, str]) -> records.DeployRecord:
        rec = records.DeployRecord(
            release=self.target.release,
            environment=self.target.env,
            revision=revision,
            action=action,
            user=self.user,
            started_at=records.utcnow(),
            git_sha=records.git_sha(
                self.spec.source_path.parent if self.spec.source_path else None
            ),
            images=images,
        )
        records.save(self.api, self.target.namespace, rec)
        return rec

    def close(
        self,
        rec: records.DeployRecord,
        outcome: str,
        message: str = "",
        *,
        since: float | None = None,
    ) -> None:
        started = self.started if since is None else since
        rec.finish(outcome, message, started=started, now=time.monotonic())
        records.save(self.api, self.target.namespace, rec)

    @contextmanager
    def locked(self, what: str) -> Iterator[None]:
        holder = lease.default_holder()
        message = f"{what} {self.target.env} by {self.user}"
        self.observer.phase(f"taking the deploy lock of {self.target.namespace}")
        lease.acquire(
            self.api,
            self.target.namespace,
            holder,
            message,
            ttl_s=self.opts.lock_ttl_s,
            wait_s=self.opts.lock_wait_s,
            on_wait=lambda info: self.observer.phase(f"waiting for the lock held by {info.holder}"),
        )
        with lease.HeldLock(self.api, self.target.namespace, holder, message, self.opts.lock_ttl_s):
            yield

    def recover(self, pending: int) -> None:
        """Clear a release stuck in pending-*: mark that revision failed (helm#8987)."""
        self.observer.phase(f"recovering: revision {pending} is stuck; marking it failed")
        t = self.target
        reason = f"marked failed by sophia deploy --recover ({self.user})"
        releases.mark_failed(self.api, t.namespace, t.release, pending, reason)
        found = records.load_all(self.api, t.namespace, t.release)
        rec = next((r for r in found if r.revision == pending), None)
        if rec is None:
            rec = self.record("deploy", pending, {})
        rec.outcome, rec.message = "failed", f"was stuck pending; {reason}"
        records.save(self.api, t.namespace, rec)

    def undo(self, failed_rev: int | None, good: int | None, result: DeployResult) -> None:
        """Do what --atomic does: back to ``good``, or remove a release that never worked."""
        t = self.target.helm(self.helm.helm)
        if good is None:
            self.observer.phase("first install failed: uninstalling the release")
            self.run_helm(helm.uninstall(t, timeout_s=self.opts.timeout_s))
            result.outcome = "failed"
            return
        self.observer.phase(f"rolling back to revision {good}")
        since = time.monotonic()
        self.run_helm(helm.rollback(t, good, timeout_s=self.opts.timeout_s))
        stored = releases.revisions(self.api, self.target.namespace, self.target.release)
        rev = stored[-1].revision if stored else (failed_rev or 0) + 1
        restored = next((r for r in stored if r.revision == good), None)
        rec = self.record("rollback", rev, images_of(restored.values) if restored else {})
        back = self.watch()
        self.close(
            rec,
            "succeeded" if back.ok else "failed",
            f"automatic rollback after revision {failed_rev} failed",
            since=since,
        )
        result.rolled_back_to = good
        result.outcome = "rolled-back" if back.ok else "failed"


def _failure_message(outcome: RolloutOutcome, timeout_s: int) -> str:
    if outcome.failure is not None:
        f = outcome.failure
        return f"{f.service}: pod {f.pod} is {f.reason} ({f.message or 'no message'})"
    pending = [s.name for s in outcome.last.services if not s.done]
    return f"not ready after {timeout_s}s: {', '.join(pending) or 'unknown'}"


def deploy(spec: Spec, env: str | None, opts: DeployOptions, observer: Observer) -> DeployResult:
    """Preflight, then install/upgrade the release and watch it; roll back if it fails."""
    s = _Session(spec, env, opts, observer)
    t = s.target
    draft = render_values(spec, t.env, image_tag=opts.image_tag, overrides=opts.overrides)
    observer.phase("preflight")
    pre = preflight.run(
        spec,
        s.api,
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
    result = DeployResult(t.env, t.release, t.namespace, "deploy", "dry-run", checks=pre.checks)
    result.images = images_of(values)
    with values_file(values) as values_path:
        if opts.dry_run:
            rendered = s.run_helm(helm.template(t.helm(s.helm.helm), s.chart, values_path))
            result.objects = _objects(rendered.stdout)
            return result
        ensure_namespace(s.api, t.namespace)
        with s.locked("deploy"):
            if pre.pending_revision is not None:
                s.recover(pre.pending_revision)
            good = _good_revision(s.api, t, before=None)
            result.previous_revision = good
            observer.phase(f"helm upgrade --install {t.release} ({t.namespace})")
            argv = helm.upgrade_install(
                t.helm(s.helm.helm),
                s.chart,
                values_path,
                timeout_s=opts.timeout_s,
                description=f"sophia deploy by {s.user}",
            )
            try:
                s.run_helm(argv)
            except ExternalError:
                # helm may have applied part of the release: put the last good one back.
                result.revision = s.latest_revision()
                if good is not None and result.revision not in (None, good):
                    s.undo(result.revision, good, result)
                raise
            result.revision = s.latest_revision() or 0
            rec = s.record("deploy", result.revision, result.images)
            observer.phase(f"waiting for revision {result.revision} to roll out")
            outcome = s.watch()
            if outcome.ok:
                s.close(rec, "succeeded")
                records.prune(s.api, t.namespace, t.release)
                result.outcome = "succeeded"
                result.duration_s = round(time.monotonic() - s.started, 2)
                return result
            message = _failure_message(outcome, opts.timeout_s)
            result.failure = outcome.failure
            s.undo(result.revision, good, result)
            s.close(rec, "rolled-back" if result.rolled_back_to else "failed", message)
            result.duration_s = round(time.monotonic() - s.started, 2)
            where = (
                f"; rolled back to revision {result.rolled_back_to}"
                if result.rolled_back_to
                else ""
            )
            raise DeployFailed(
                f"deploy of revision {result.revision} failed: {message}{where}", result
            )


def _objects(manifest: str) -> list[str]:
    """``Kind/name`` of every object in a multi-document manifest."""
    from ruamel.yaml import YAML

    found = []
    for doc in YAML(typ="safe").load_all(manifest):
        if isinstance(doc, dict) and doc.get("kind"):
            found.append(f"{doc['kind']}/{(doc.get('metadata') or {}).get('name', '?')}")
    return found


def rollback(
    spec: Spec, env: str | None, to_revision: int | None, opts: DeployOptions, observer: Observer
) -> DeployResult:
    """Roll back to ``to_revision`` (default: the previous good one), then watch it."""
    s = _Session(spec, env, opts, observer)
    t = s.target
    current = releases.latest(s.api, t.namespace, t.release)
    if current is None:
        raise UsageError(
            f"release {t.release} is not installed in {t.namespace}; nothing to roll back"
        )
    history = {r.revision: r for r in releases.revisions(s.api, t.namespace, t.release)}
    target_rev = (
        to_revision
        if to_revision is not None
        else _good_revision(s.api, t, before=current.revision)
    )
    if target_rev is None or target_rev not in history:
        known = ", ".join(str(r) for r in sorted(history)) or "none"
        raise UsageError(
            f"no revision {target_rev} to roll back to; stored revisions: {known}",
            hint="see `sophia history`",
        )
    result = DeployResult(t.env, t.release, t.namespace, "rollback", "dry-run")
    result.previous_revision = current.revision
    result.rolled_back_to = target_rev
    now_images, then_images = images_of(current.values), images_of(history[target_rev].values)
    result.images = then_images
    result.changes = {
        name: (now_images.get(name), then_images.get(name))
        for name in sorted(set(now_images) | set(then_images))
        if now_images.get(name) != then_images.get(name)
    }
    observer.phase(f"rollback {t.release}: revision {current.revision} -> {target_rev}")
    for name, (old, new) in result.changes.items():
        observer.phase(f"  {name}: {old or '-'} -> {new or '-'}")
    if not result.changes:
        observer.phase("  no image changes (values or chart only)")
    if opts.dry_run:
        return result
    with s.locked("rollback"):
        s.run_helm(helm.rollback(t.helm(s.helm.helm), target_rev, timeout_s=opts.timeout_s))
        result.revision = s.latest_revision() or current.revision + 1
        rec = s.record("rollback", result.revision, then_images)
        outcome = s.watch()
        result.duration_s = round(time.monotonic() - s.started, 2)
        if outcome.ok:
            s.close(rec, "succeeded", f"rolled back to revision {target_rev}")
            result.outcome = "succeeded"
            return result
        message = _failure_message(outcome, opts.timeout_s)
        s.close(rec, "failed", message)
        result.outcome = "failed"
        result.failure = outcome.failure
        raise DeployFailed(
            f"rollback to revision {target_rev} did not become ready: {message}", result
        )
