"""The engines as the cluster shows them: read their objects' conditions, nudge, suspend.

Flux: the environment's ``GitRepository`` (what was fetched) and ``HelmRelease`` (what was
applied, from ``status.history``, whose chart version carries the commit as ``+<sha12>``
with ``reconcileStrategy: Revision``). Argo CD: the ``Application``'s sync and health status.
Both are modelled the way Flux models itself: Ready, a reason, a message, a revision.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sophia_platform.gitops.layout import ARGOCD_NAMESPACE, FLUX_NAMESPACE, Engine
from sophia_platform.kube import raw
from sophia_platform.kube.client import ApiError, call

SOURCE_PATH = "/apis/source.toolkit.fluxcd.io/v1/namespaces/{ns}/gitrepositories/{name}"
RELEASE_PATH = "/apis/helm.toolkit.fluxcd.io/v2/namespaces/{ns}/helmreleases/{name}"
APPLICATION_PATH = "/apis/argoproj.io/v1alpha1/namespaces/{ns}/applications/{name}"
REQUESTED_AT = "reconcile.fluxcd.io/requestedAt"
ARGO_REFRESH = "argocd.argoproj.io/refresh"


@dataclass(frozen=True)
class ObjectState:
    """One engine object: found or not, Ready, why, and the revision it reports."""

    kind: str
    name: str
    found: bool
    ready: bool = False
    reason: str = ""
    message: str = ""
    suspended: bool = False
    revision: str | None = None  # fetched (source) or applied (release), a full or short sha
    attempted: str | None = None
    stalled: bool = False
    observed_current: bool = True  # status reflects the latest spec generation
    ready_since: str | None = None  # the Ready condition's lastTransitionTime (ISO 8601)

    def line(self) -> str:
        """One line per object, Flux style: ``Kind/name Ready=... reason: message``."""
        if not self.found:
            return f"{self.kind}/{self.name} not found"
        state = "Ready" if self.ready else "NotReady"
        extra = " (suspended)" if self.suspended else ""
        tail = f" {self.reason}: {self.message}" if self.reason or self.message else ""
        return f"{self.kind}/{self.name} {state}{extra}{tail}"


@dataclass(frozen=True)
class EngineState:
    """The engine objects of one environment."""

    engine: Engine
    source: ObjectState
    release: ObjectState
    history: list[dict[str, Any]] = field(default_factory=list)  # newest first


def _condition(obj: Any, kind: str) -> Any:
    return next((c for c in (obj.status.conditions or []) if c.type == kind), None)


def revision_sha(revision: str | None) -> str | None:
    """``main@sha1:<sha>`` (or a bare sha) -> ``<sha>``."""
    if not revision:
        return None
    return revision.rsplit(":", 1)[-1] if ":" in revision else revision.rsplit("@", 1)[-1]


def chart_version_sha(version: str | None) -> str | None:
    """``0.1.0+<sha12>`` (HelmRelease history with reconcileStrategy Revision) -> ``<sha12>``."""
    if not version or "+" not in version:
        return None
    # source-controller appends ".<HelmChart generation>": 0.1.0+3350e36177cd.1
    return version.rsplit("+", 1)[1].split(".", 1)[0]


def _get(api: Any, what: str, path: str) -> Any | None:
    try:
        return raw.get(api, what, path)
    except ApiError as e:
        if e.status == 404:
            return None
        raise


MESSAGE_MAX = 400


def one_line(message: str) -> str:
    """The first line of a controller's message, capped (Helm's can run to pages)."""
    first = message.strip().splitlines()[0] if message.strip() else ""
    more = len(message.strip().splitlines()) > 1
    if len(first) > MESSAGE_MAX:
        return first[: MESSAGE_MAX - 1] + "…"
    return first + (" (and more)" if more else "")


def _state(kind: str, name: str, obj: Any | None) -> ObjectState:
    if obj is None:
        return ObjectState(kind, name, found=False, message=f"{kind} {name} does not exist")
    ready = _condition(obj, "Ready")
    stalled = _condition(obj, "Stalled")
    generation = obj.metadata.generation
    observed = obj.status.observed_generation if obj.status else None
    return ObjectState(
        kind=kind,
        name=name,
        found=True,
        ready=bool(ready and ready.status == "True"),
        reason=str(ready.reason or "") if ready else "Progressing",
        message=one_line(str(ready.message or "")) if ready else "not reconciled yet",
        suspended=bool(obj.spec.suspend),
        stalled=bool(stalled and stalled.status == "True"),
        observed_current=generation is None or observed == generation,
        ready_since=(str(ready.last_transition_time or "") or None) if ready else None,
    )


def read_flux(api: Any, name: str) -> EngineState:
    """Read the environment's GitRepository and HelmRelease."""
    src_obj = _get(api, "read GitRepository", SOURCE_PATH.format(ns=FLUX_NAMESPACE, name=name))
    rel_obj = _get(api, "read HelmRelease", RELEASE_PATH.format(ns=FLUX_NAMESPACE, name=name))
    source = _state("GitRepository", name, src_obj)
    if src_obj is not None and src_obj.status and src_obj.status.artifact:
        source = _with(source, revision=revision_sha(src_obj.status.artifact.revision))
    release = _state("HelmRelease", name, rel_obj)
    history: list[dict[str, Any]] = []
    if rel_obj is not None and rel_obj.status:
        history = [h.to_dict() for h in rel_obj.status.history or []]
        deployed = next((h for h in history if h.get("status") == "deployed"), None)
        applied = chart_version_sha(deployed.get("chartVersion")) if deployed else None
        attempted = chart_version_sha(rel_obj.status.last_attempted_revision)
        release = _with(release, revision=applied, attempted=attempted)
    return EngineState("flux", source, release, history)


def read_argocd(api: Any, name: str) -> EngineState:
    """Read the environment's Application (its sync status stands for both source and release)."""
    obj = _get(api, "read Application", APPLICATION_PATH.format(ns=ARGOCD_NAMESPACE, name=name))
    if obj is None:
        missing = ObjectState("Application", name, found=False, message="Application not found")
        return EngineState("argocd", missing, missing)
    status = obj.status
    sync = status.sync if status else None
    health = status.health if status else None
    op = status.operation_state if status else None
    synced = bool(sync and sync.status == "Synced")
    healthy = bool(health and health.status == "Healthy")
    automated = obj.spec.sync_policy.automated if obj.spec.sync_policy else None
    message = one_line((op.message if op else "") or (health.message if health else "") or "")
    source = ObjectState(
        "Application",
        name,
        found=True,
        ready=synced,
        reason=str(sync.status if sync else "Unknown"),
        message=str(message),
        suspended=automated is None,
        revision=sync.revision if sync else None,
    )
    release = ObjectState(
        "Application",
        name,
        found=True,
        ready=synced and healthy,
        reason=str(health.status if health else "Unknown"),
        message=str(message),
        suspended=automated is None,
        revision=sync.revision if synced and sync else None,
        attempted=op.sync_result.revision if op and op.sync_result else None,
    )
    history = [h.to_dict() for h in reversed(status.history or [])] if status else []
    return EngineState("argocd", source, release, history)


def read(api: Any, engine: Engine, name: str) -> EngineState:
    """Read one environment's engine objects."""
    return read_flux(api, name) if engine == "flux" else read_argocd(api, name)


def _with(state: ObjectState, **changes: Any) -> ObjectState:
    from dataclasses import replace

    return replace(state, **changes)


# (group, version, plural, namespace) of each engine's objects, in the order they are patched.
_OBJECTS: dict[str, list[tuple[str, str, str, str, str]]] = {
    "flux": [
        ("GitRepository", "source.toolkit.fluxcd.io", "v1", "gitrepositories", FLUX_NAMESPACE),
        ("HelmRelease", "helm.toolkit.fluxcd.io", "v2", "helmreleases", FLUX_NAMESPACE),
    ],
    "argocd": [("Application", "argoproj.io", "v1alpha1", "applications", ARGOCD_NAMESPACE)],
}


def _patch(api: Any, verb: str, engine: Engine, name: str, body: dict[str, Any]) -> None:
    """Merge-patch every object of the engine for this environment."""
    from kubernetes import client

    custom = client.CustomObjectsApi(api)
    for kind, group, version, plural, ns in _OBJECTS[engine]:
        call(
            f"{verb} {kind}/{name}",
            custom.patch_namespaced_custom_object,
            group,
            version,
            ns,
            plural,
            name,
            body,
        )


def now_stamp() -> str:
    """An RFC 3339 timestamp, the value Flux expects in ``requestedAt``."""
    return datetime.now(UTC).isoformat(timespec="microseconds")


def request_reconcile(api: Any, engine: Engine, name: str) -> str:
    """Ask the engine to reconcile now; returns the token written."""
    stamp = now_stamp()
    key, value = (REQUESTED_AT, stamp) if engine == "flux" else (ARGO_REFRESH, "normal")
    _patch(api, "annotate", engine, name, {"metadata": {"annotations": {key: value}}})
    return stamp


def set_suspended(api: Any, engine: Engine, name: str, suspended: bool) -> None:
    """Suspend or resume the engine for this environment."""
    if engine == "flux":
        _patch(api, "suspend", engine, name, {"spec": {"suspend": suspended}})
        return
    # Argo CD has no suspend field: auto-sync off is its suspend (argo-cd#2441).
    automated: Any = None if suspended else {"prune": True, "selfHeal": True}
    _patch(api, "suspend", engine, name, {"spec": {"syncPolicy": {"automated": automated}}})


def warnings(api: Any, engine: Engine, name: str, limit: int = 3) -> list[str]:
    """The newest Warning events of the engine's objects, one line each."""
    ns = FLUX_NAMESPACE if engine == "flux" else ARGOCD_NAMESPACE
    path = f"/api/v1/namespaces/{ns}/events"
    try:
        found = raw.get(api, "list events", path, fieldSelector=f"involvedObject.name={name}")
    except ApiError:
        return []
    items = [e for e in found.items or [] if e.type == "Warning"]
    items.sort(key=lambda e: str(e.last_timestamp or e.event_time or ""))
    return [
        f"{e.involved_object.kind}/{name} {e.reason}: {one_line(str(e.message or ''))}"
        for e in items[-limit:]
    ]
