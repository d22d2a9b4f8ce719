"""``trace``: the lineage of one secret, layer by layer, down to the pods that run it.

GitHub (name known, updated when) → ESC (present, fingerprint) → each Kubernetes Secret that
holds it (present, fingerprint, changed when) → the pods that reference those Secrets, and
whether each started before the last change (running a stale value: restart it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sophia_platform.errors import InputError
from sophia_platform.secrets.digest import fingerprint
from sophia_platform.secrets.manifest import Manifest
from sophia_platform.secrets.providers.base import Provider


@dataclass(frozen=True)
class Hop:
    """One layer of the lineage."""

    layer: str
    status: str
    where: str
    fingerprint: str | None  # 12 hex digits of the value's sha256, never the value
    updated: datetime | None


@dataclass(frozen=True)
class PodHop:
    """A pod that consumes the secret."""

    pod: str
    secrets: tuple[str, ...]
    started: datetime | None
    stale: bool  # started before the Secret last changed: needs a restart


@dataclass
class TraceReport:
    """The whole lineage of one secret."""

    name: str
    environment: str
    services: tuple[str, ...]
    hops: list[Hop] = field(default_factory=list)
    pods: list[PodHop] = field(default_factory=list)
    consistent: bool = True  # every layer with a fingerprint agrees


def trace(
    name: str, manifest: Manifest, providers: dict[str, Provider], environment: str
) -> TraceReport:
    """Follow ``name`` through every given layer (in the order given)."""
    entry = manifest.entries.get(name)
    if entry is None:
        known = ", ".join(sorted(manifest.entries)[:5])
        raise InputError(f"{name!r} is not in the secrets manifest (e.g. {known})")
    report = TraceReport(name=name, environment=environment, services=entry.services)
    for layer, provider in providers.items():
        presence = provider.inventory()[name]
        report.hops.append(
            Hop(
                layer,
                presence.status,
                presence.where,
                fingerprint(presence.digest),
                presence.updated,
            )
        )
        if layer == "kubernetes" and entry.kube_secrets:
            report.pods = _pods(provider, set(entry.kube_secrets))
    prints = {h.fingerprint for h in report.hops if h.fingerprint}
    report.consistent = len(prints) <= 1
    return report


def _pods(provider: Provider, secrets: set[str]) -> list[PodHop]:
    from sophia_platform.secrets.providers.kubernetes import KubernetesProvider

    assert isinstance(provider, KubernetesProvider)
    changed = provider.secret_changed_at()
    hops: list[PodHop] = []
    for pod, started, used in provider.pods_using(secrets):
        last = max((c for s in used if (c := changed.get(s)) is not None), default=None)
        stale = bool(started and last and started < last)
        hops.append(PodHop(pod, tuple(sorted(used)), started, stale))
    return hops
