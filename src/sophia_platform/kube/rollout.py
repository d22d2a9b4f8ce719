"""Watch the workloads of a release roll out, and fail fast on pods that will never be ready.

Helm's own ``--wait`` waits for the whole timeout even when a pod is in CrashLoopBackOff
(helm#7429). Here every poll looks at the pods of each workload's *current* revision; a pod
stuck in a failure state for longer than a grace period ends the wait at once.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from sophia_platform.kube import raw
from sophia_platform.kube.client import ApiError

NAME_LABEL = "app.kubernetes.io/name"
INSTANCE_LABEL = "app.kubernetes.io/instance"
# Container waiting reasons that do not heal by waiting.
FAILING_REASONS = frozenset(
    {
        "CrashLoopBackOff",
        "ImagePullBackOff",
        "ErrImagePull",
        "InvalidImageName",
        "CreateContainerConfigError",
        "CreateContainerError",
        "RunContainerError",
    }
)


@dataclass(frozen=True)
class ServiceProgress:
    """One workload's rollout: desired, updated, ready and available replicas."""

    name: str
    kind: str
    desired: int
    updated: int
    ready: int
    available: int
    done: bool
    note: str = ""


@dataclass(frozen=True)
class PodProblem:
    """A pod of the current revision in a failure state."""

    service: str
    pod: str
    reason: str
    message: str


@dataclass(frozen=True)
class RolloutSnapshot:
    """The state of every workload at one poll."""

    elapsed: float
    services: tuple[ServiceProgress, ...]
    problems: tuple[PodProblem, ...] = ()
    api_error: str | None = None

    @property
    def done(self) -> bool:
        """True once every workload is fully rolled out."""
        return bool(self.services) and all(s.done for s in self.services)


@dataclass(frozen=True)
class PodFailure:
    """Why the rollout was stopped: the pod, its reason, recent events and log lines."""

    service: str
    pod: str
    reason: str
    message: str
    events: tuple[str, ...] = ()
    logs: tuple[str, ...] = ()


@dataclass(frozen=True)
class RolloutOutcome:
    """How a watch ended."""

    ok: bool
    elapsed: float
    last: RolloutSnapshot
    failure: PodFailure | None = None
    timed_out: bool = False
    interrupted: str | None = None  # why the caller stopped the watch (e.g. the lock was lost)


def _selector(release: str) -> str:
    return f"{INSTANCE_LABEL}={release}"


def _deployment_progress(dep: Any) -> ServiceProgress:
    spec_replicas = dep.spec.replicas if dep.spec.replicas is not None else 1
    st = dep.status
    observed = (st.observed_generation or 0) >= (dep.metadata.generation or 0)
    updated, ready = st.updated_replicas or 0, st.ready_replicas or 0
    available, total = st.available_replicas or 0, st.replicas or 0
    done = observed and updated == ready == available == total == spec_replicas
    if spec_replicas == 0:
        done = observed and total == 0
    note = ""
    for cond in st.conditions or []:
        if cond.type == "Progressing" and cond.reason == "ProgressDeadlineExceeded":
            note = "progress deadline exceeded"
    name = (dep.metadata.labels or {}).get(NAME_LABEL, dep.metadata.name)
    return ServiceProgress(name, "Deployment", spec_replicas, updated, ready, available, done, note)


def _statefulset_progress(sts: Any) -> ServiceProgress:
    spec_replicas = sts.spec.replicas if sts.spec.replicas is not None else 1
    st = sts.status
    observed = (st.observed_generation or 0) >= (sts.metadata.generation or 0)
    updated, ready = st.updated_replicas or 0, st.ready_replicas or 0
    available = st.available_replicas or 0
    same_revision = st.update_revision is None or st.current_revision == st.update_revision
    done = observed and same_revision and ready == spec_replicas and updated == spec_replicas
    if spec_replicas == 0:
        done = observed and (st.replicas or 0) == 0
    name = (sts.metadata.labels or {}).get(NAME_LABEL, sts.metadata.name)
    return ServiceProgress(name, "StatefulSet", spec_replicas, updated, ready, available, done)


def _current_hashes(deployments: list[Any], replicasets: list[Any]) -> dict[str, str]:
    """Deployment name -> pod-template-hash of its newest ReplicaSet."""
    revision_of = {
        d.metadata.name: (d.metadata.annotations or {}).get("deployment.kubernetes.io/revision")
        for d in deployments
    }
    hashes: dict[str, str] = {}
    for rs in replicasets:
        owner = next(
            (o.name for o in rs.metadata.owner_references or [] if o.kind == "Deployment"), None
        )
        if owner is None or owner not in revision_of:
            continue
        rev = (rs.metadata.annotations or {}).get("deployment.kubernetes.io/revision")
        if rev is not None and rev == revision_of[owner]:
            hashes[owner] = (rs.metadata.labels or {}).get("pod-template-hash", "")
    return hashes


def _pod_problem(pod: Any, service: str) -> PodProblem | None:
    st = pod.status
    if st is None:
        return None
    for cs in [*(st.init_container_statuses or []), *(st.container_statuses or [])]:
        waiting = cs.state.waiting if cs.state is not None else None
        if waiting is not None and waiting.reason in FAILING_REASONS:
            return PodProblem(service, pod.metadata.name, waiting.reason, waiting.message or "")
        terminated = cs.state.terminated if cs.state is not None else None
        if terminated is not None and (cs.restart_count or 0) >= 2 and terminated.exit_code:
            reason = "CrashLoopBackOff"
            return PodProblem(
                service, pod.metadata.name, reason, f"exit code {terminated.exit_code}"
            )
    for cond in st.conditions or []:
        if (
            cond.type == "PodScheduled"
            and cond.status == "False"
            and cond.reason == "Unschedulable"
        ):
            return PodProblem(service, pod.metadata.name, "Unschedulable", cond.message or "")
    return None


def _is_current(pod: Any, hashes: dict[str, str], sts_revisions: dict[str, str]) -> bool:
    labels = pod.metadata.labels or {}
    owner = next((o for o in pod.metadata.owner_references or []), None)
    if owner is None:
        return False
    if owner.kind == "ReplicaSet":
        deployment = owner.name.rsplit("-", 1)[0]
        current = hashes.get(deployment)
        return current is None or labels.get("pod-template-hash") == current
    if owner.kind == "StatefulSet":
        current = sts_revisions.get(owner.name)
        return current is None or labels.get("controller-revision-hash") == current
    return True


def poll(
    api: Any,
    namespace: str,
    release: str,
    elapsed: float = 0.0,
    *,
    notes: dict[str, str] | None = None,
) -> RolloutSnapshot:
    """One look at every workload and the pods of its current revision.

    ``notes`` (service -> its latest event) skips reading the namespace's events, which is
    the costliest list on a busy namespace; the watch reads them only every few seconds.
    """
    sel = _selector(release)
    apps = f"/apis/apps/v1/namespaces/{namespace}"
    deps = raw.get(api, "list deployments", f"{apps}/deployments", labelSelector=sel).items or []
    stss = raw.get(api, "list statefulsets", f"{apps}/statefulsets", labelSelector=sel).items or []
    rss = raw.get(api, "list replicasets", f"{apps}/replicasets", labelSelector=sel).items or []
    pods_path = f"/api/v1/namespaces/{namespace}/pods"
    pods = raw.get(api, "list pods", pods_path, labelSelector=sel).items or []
    hashes = _current_hashes(deps, rss)
    sts_revisions = {
        s.metadata.name: s.status.update_revision for s in stss if s.status.update_revision
    }
    services = [_deployment_progress(d) for d in deps]
    services += [_statefulset_progress(s) for s in stss]
    problems = []
    for pod in pods:
        if pod.metadata.deletion_timestamp is not None:
            continue
        if not _is_current(pod, hashes, sts_revisions):
            continue
        problem = _pod_problem(pod, (pod.metadata.labels or {}).get(NAME_LABEL, "?"))
        if problem is not None:
            problems.append(problem)
    services.sort(key=lambda s: s.name)
    pending = [s.name for s in services if not s.done]
    latest = (
        {n: notes[n] for n in pending if n in notes}
        if notes is not None
        else _latest_events(api, namespace, pending)
    )
    services = [
        replace(s, note=latest[s.name]) if s.name in latest and not s.note else s for s in services
    ]
    return RolloutSnapshot(elapsed, tuple(services), tuple(problems))


def _event_time(ev: Any) -> str:
    stamp = ev.last_timestamp or ev.event_time or ev.metadata.creation_timestamp
    return stamp.isoformat() if stamp is not None else ""


def _latest_events(api: Any, namespace: str, services: list[str]) -> dict[str, str]:
    """Service -> its newest event ("reason: message"), for the live view's event column."""
    if not services:
        return {}
    path = f"/api/v1/namespaces/{namespace}/events"
    events = raw.get(api, "list events", path).items or []
    # Longest name first, so "mcp-github" does not claim the events of "mcp-github-sync".
    names = sorted(services, key=len, reverse=True)
    newest: dict[str, tuple[str, str]] = {}
    for ev in events:
        obj = (ev.involved_object.name if ev.involved_object else None) or ""
        owner = next((n for n in names if obj == n or obj.startswith(n + "-")), None)
        if owner is None:
            continue
        when = _event_time(ev)
        if owner not in newest or when >= newest[owner][0]:
            text = f"{ev.reason or ''}: {ev.message or ''}".strip(": ")
            newest[owner] = (when, text[:70])
    return {name: text for name, (_, text) in newest.items()}


def describe_failure(
    api: Any, namespace: str, problem: PodProblem, log_lines: int = 20
) -> PodFailure:
    """Collect the failing pod's recent events and last log lines (best effort)."""
    events: list[str] = []
    logs: list[str] = []
    base = f"/api/v1/namespaces/{namespace}"
    try:
        selector = f"involvedObject.name={problem.pod}"
        found = raw.get(api, "list events", f"{base}/events", fieldSelector=selector).items or []
        for ev in sorted(found, key=lambda e: str(e.last_timestamp or e.event_time or ""))[-8:]:
            events.append(f"{ev.type or ''} {ev.reason or ''}: {ev.message or ''}".strip())
    except ApiError:
        events.append("(events unavailable)")
    try:
        text = raw.text(
            api, "read logs", f"{base}/pods/{problem.pod}/log", tailLines=str(log_lines)
        )
        logs = [line for line in text.splitlines() if line][-log_lines:]
    except ApiError:
        logs = ["(no logs: the container never ran or the node serves none)"]
    return PodFailure(
        problem.service, problem.pod, problem.reason, problem.message, tuple(events), tuple(logs)
    )


@dataclass
class _Tracker:
    first_seen: dict[tuple[str, str], float] = field(default_factory=dict)

    def overdue(
        self, problems: tuple[PodProblem, ...], now: float, grace_s: float
    ) -> PodProblem | None:
        keys = {(p.pod, p.reason) for p in problems}
        self.first_seen = {k: v for k, v in self.first_seen.items() if k in keys}
        for p in problems:
            started = self.first_seen.setdefault((p.pod, p.reason), now)
            if now - started >= grace_s:
                return p
        return None


def watch(
    api: Any,
    namespace: str,
    release: str,
    *,
    timeout_s: float,
    grace_s: float = 10.0,
    poll_s: float = 1.0,
    events_every_s: float = 3.0,
    api_outage_s: float = 90.0,
    on_update: Callable[[RolloutSnapshot], None] | None = None,
    interrupt: Callable[[], str | None] | None = None,
) -> RolloutOutcome:
    """Poll until every workload is rolled out, a pod fails beyond ``grace_s``, or timeout.

    An unreachable API server (a restart mid-deploy) is tolerated for ``api_outage_s``.
    ``interrupt`` is asked before every poll; a reason ends the watch at once (not ok).
    Polls are ``poll_s`` apart (helm's own --wait polls every 2 s) and read events every
    ``events_every_s``: on the 2-core control plane every poll costs the rollout CPU.
    """
    start = time.monotonic()
    events_at = float("-inf")
    tracker = _Tracker()
    outage_since: float | None = None
    last = RolloutSnapshot(0.0, ())
    while True:
        now = time.monotonic()
        elapsed = now - start
        reason = interrupt() if interrupt is not None else None
        if reason is not None:
            return RolloutOutcome(False, elapsed, last, interrupted=reason)
        try:
            fresh = now - events_at >= events_every_s
            notes = None if fresh else {sv.name: sv.note for sv in last.services if sv.note}
            last = poll(api, namespace, release, elapsed, notes=notes)
            events_at = now if fresh else events_at
            outage_since = None
        except ApiError as e:
            if e.status is not None and e.status < 500:
                raise
            outage_since = outage_since if outage_since is not None else now
            if now - outage_since > api_outage_s:
                raise
            last = RolloutSnapshot(elapsed, last.services, last.problems, api_error=e.message)
        if on_update is not None:
            on_update(last)
        if last.api_error is None:
            if last.done:
                return RolloutOutcome(True, elapsed, last)
            stuck = tracker.overdue(last.problems, now, grace_s)
            if stuck is not None:
                failure = describe_failure(api, namespace, stuck)
                return RolloutOutcome(False, elapsed, last, failure=failure)
        if elapsed >= timeout_s:
            return RolloutOutcome(False, elapsed, last, timed_out=True)
        time.sleep(poll_s)
