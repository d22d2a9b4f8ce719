"""``gitops status``: is the environment at the branch head, and is it healthy.

Three revisions tell the story (kustomize-controller#837, "which commit is live"): the commit at
the head of the branch (asked of the git server), the one the engine fetched, and the one it
applied. With Ready conditions of the source and the release and the per-service rollout view
of ``sophia status``, one typed :class:`GitOpsStatus` answers it; the report reads the same.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sophia_platform.deploy import records
from sophia_platform.deploy.status import collect
from sophia_platform.deploy.target import resolve
from sophia_platform.errors import ExternalError, UsageError
from sophia_platform.gitops import engines, repo
from sophia_platform.gitops.layout import Engine, Layout, object_name
from sophia_platform.gitops.tree import load_yaml
from sophia_platform.kube import rollout
from sophia_platform.kube.client import ApiError, connect
from sophia_platform.spec import Spec


@dataclass(frozen=True)
class TreeInfo:
    """What the committed tree says about an environment: engine, repository, branch."""

    env: str
    engine: Engine
    repo_url: str
    branch: str
    root: str
    name: str


@dataclass
class GitOpsStatus:
    """Everything ``gitops status`` reports (``--json`` emits exactly this)."""

    env: str
    engine: str
    namespace: str
    name: str
    repo_url: str
    branch: str
    branch_revision: str | None
    source_revision: str | None
    applied_revision: str | None
    attempted_revision: str | None
    ready: bool
    suspended: bool
    at_head: bool
    healthy: bool
    message: str
    objects: list[str] = field(default_factory=list)
    services: list[dict[str, Any]] = field(default_factory=list)
    events: list[str] = field(default_factory=list)
    deploy: dict[str, Any] | None = None  # the deploy record of the applied revision

    @property
    def ok(self) -> bool:
        """At the branch head, Ready, and every service healthy."""
        return self.at_head and self.ready and self.healthy

    def to_dict(self) -> dict[str, Any]:
        """The JSON form."""
        return {**asdict(self), "ok": self.ok}


def tree_info(spec: Spec, env: str, checkout: Path, root: str = "kubernetes") -> TreeInfo:
    """Read the environment's engine, repository URL and branch from the committed tree."""
    layout = Layout(env, root)
    engine = layout.detect(checkout)
    if engine is None:
        raise UsageError(
            f"{env} is not GitOps-managed in {checkout} (no {layout.env_dir}/flux or "
            f"{layout.env_dir}/argocd)",
            hint=f"run `sophia gitops init {env} --engine flux --repo-url URL`",
        )
    folder = checkout / layout.engine_dir(engine)
    if engine == "flux":
        doc = load_yaml((folder / "gitrepository.yaml").read_text(encoding="utf-8"))
        url, branch = doc["spec"]["url"], doc["spec"]["ref"]["branch"]
    else:
        doc = load_yaml((folder / "application.yaml").read_text(encoding="utf-8"))
        url, branch = doc["spec"]["source"]["repoURL"], doc["spec"]["source"]["targetRevision"]
    return TreeInfo(env, engine, str(url), str(branch), root, doc["metadata"]["name"])


def is_managed(spec: Spec, env: str, checkout: Path | None, root: str = "kubernetes") -> bool:
    """Tell whether the checkout's tree puts ``env`` under a GitOps engine."""
    return checkout is not None and Layout(env, root).detect(checkout) is not None


def same_commit(a: str | None, b: str | None) -> bool:
    """Full and 12-character shas of one commit compare equal."""
    if not a or not b:
        return False
    n = min(len(a), len(b))
    return n >= 7 and a[:n] == b[:n]


def _events(api: Any, namespace: str, release: str) -> list[str]:
    """Events of the first failing pod (what a never-ready release shows)."""
    snap = rollout.poll(api, namespace, release)
    if not snap.problems:
        notes = [f"{s.name}: {s.note}" for s in snap.services if not s.done and s.note]
        return notes[:8]
    failure = rollout.describe_failure(api, namespace, snap.problems[0])
    head = f"{failure.service}: pod {failure.pod} is {failure.reason}"
    return [head, *failure.events]


def _failed_record(
    api: Any, namespace: str, release: str, commit: str | None
) -> records.DeployRecord | None:
    """The deploy record of a failed attempt at ``commit`` (the waiter saw why it failed)."""
    if not commit:
        return None
    found = [
        r
        for r in records.load_all(api, namespace, release)
        if r.outcome == "failed" and same_commit(r.git_sha, commit)
    ]
    return found[-1] if found else None


def _refresh_records(
    api: Any,
    state: engines.EngineState,
    checkout: Path,
    info: TreeInfo,
    namespace: str,
    release: str,
) -> records.DeployRecord | None:
    """Write the records of applied revisions that have none; the newest GitOps record.

    So ``history`` and the report's deployment-time metric read one source however the
    deploy was observed (a waiter, or this status). Credentials that may read but not write
    ConfigMaps leave the records as they are: status still answers.
    """
    from sophia_platform.gitops.converge import sync_records

    try:
        sync_records(
            api, state, checkout, env=info.env, namespace=namespace, release=release,
            root=info.root, branch=info.branch,
        )  # fmt: skip
    except ApiError as e:
        if e.status not in (401, 403):
            raise
    found = [r for r in records.load_all(api, namespace, release) if r.action == "gitops"]
    return found[-1] if found else None


def _record_view(rec: records.DeployRecord | None, applied: str | None) -> dict[str, Any] | None:
    if rec is None or not same_commit(rec.git_sha, applied):
        return None
    keys = ("revision", "user", "git_sha", "images", "outcome", "pushed_at", "duration_s")
    return {k: getattr(rec, k) for k in keys}


def collect_status(
    spec: Spec,
    env: str,
    checkout: Path,
    *,
    root: str = "kubernetes",
    kubeconfig: Path | None = None,
) -> GitOpsStatus:
    """Read the branch head, the engine's objects and the services of ``env``."""
    info = tree_info(spec, env, checkout, root)
    target = resolve(spec, env, kubeconfig=kubeconfig)
    api = connect(target.kubeconfig, target.context)
    state = engines.read(api, info.engine, info.name or object_name(spec, env))
    problems: list[str] = []
    try:
        branch_rev = repo.remote_head(checkout, info.repo_url, info.branch)
    except ExternalError as e:
        branch_rev = None
        problems.append(f"cannot read {info.branch} of {info.repo_url}: {e.message}")
    source_rev = state.source.revision
    applied = state.release.revision
    if branch_rev and source_rev and same_commit(source_rev, branch_rev):
        source_rev = branch_rev
    if applied and source_rev and same_commit(applied, source_rev):
        applied = source_rev
    env_status = collect(spec, env, kubeconfig=kubeconfig)
    services = [asdict(s) for s in env_status.services]
    healthy = all(s.healthy for s in env_status.services) and bool(env_status.services)
    ready = state.source.ready and state.release.ready
    for obj in (state.source, state.release):
        if not obj.ready and obj.message and obj.message not in problems:
            problems.append(f"{obj.kind}/{obj.name}: {obj.message}")
    at_head = same_commit(applied, branch_rev)
    if branch_rev and not at_head:
        problems.append(
            f"applied {(applied or 'nothing')[:12]}, branch {info.branch} is at {branch_rev[:12]}"
        )
    unhealthy = [s.name for s in env_status.services if not s.healthy]
    if unhealthy:
        problems.append(f"unhealthy: {', '.join(unhealthy)}")
    events = _events(api, target.namespace, target.release) if unhealthy else []
    if not state.release.ready:
        events += engines.warnings(api, info.engine, info.name)
    applied_record = _refresh_records(api, state, checkout, info, target.namespace, target.release)
    failed = _failed_record(api, target.namespace, target.release, state.release.attempted)
    if failed and not same_commit(applied, state.release.attempted):
        sha = (failed.git_sha or "")[:12]
        events.append(f"revision {failed.revision} ({sha}) failed: {failed.message}")
    objects = [state.source.line()]
    if state.release is not state.source:
        objects.append(state.release.line())
    return GitOpsStatus(
        env=env,
        engine=info.engine,
        namespace=target.namespace,
        name=info.name,
        repo_url=info.repo_url,
        branch=info.branch,
        branch_revision=branch_rev,
        source_revision=source_rev,
        applied_revision=applied,
        attempted_revision=state.release.attempted,
        ready=ready,
        suspended=state.source.suspended or state.release.suspended,
        at_head=at_head,
        healthy=healthy,
        message="; ".join(problems) or "applied the branch head; every service ready",
        objects=objects,
        services=services,
        events=events,
        deploy=_record_view(applied_record, applied),
    )
