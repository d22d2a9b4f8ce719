"""``sync``: read a source, plan against a target, refuse on problems, apply.

The flow is the same for every pair of layers; providers only translate addresses. The plan is
returned before anything is written so the CLI can show it (``--dry-run`` stops there).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from sophia_platform.config import SecretValue
from sophia_platform.errors import UsageError
from sophia_platform.secrets.plan import SyncPlan, diff, validate_source
from sophia_platform.secrets.providers import REGISTRY, flows, provider_class
from sophia_platform.secrets.providers.base import ApplyResult, Provider, TargetState


def check_flow(source: str, target: str) -> None:
    """Refuse a pair that is not a documented flow (each source class lists its targets)."""
    if target in REGISTRY and target in provider_class(source).sync_to:
        return
    supported = ", ".join(f"{a}->{b}" for a, b in flows())
    raise UsageError(f"cannot sync {source} -> {target}; supported: {supported}")


@dataclass
class SyncOptions:
    """The knobs of one sync."""

    prune: bool = False
    allow_missing: bool = False
    include_unmanaged: bool = False


@dataclass
class PreparedSync:
    """A plan plus what applying it needs; the values never leave this object."""

    plan: SyncPlan
    source: Provider
    target: Provider
    _desired: dict[str, SecretValue] = field(repr=False)
    _state: TargetState = field(repr=False)


@dataclass(frozen=True)
class SyncResult:
    """What a sync did, for the report (no values)."""

    plan: SyncPlan
    applied: ApplyResult | None
    seconds: float
    requests: dict[str, int]


def prepare(
    source: Provider, target: Provider, env_name: str, options: SyncOptions
) -> PreparedSync:
    """Read the source, validate it against the manifest and diff it with the target."""
    manifest = source.ctx.manifest
    snapshot, problems = validate_source(
        source.read(), manifest, allow_missing=options.allow_missing
    )
    desired = target.desired(snapshot, include_unmanaged=options.include_unmanaged)
    state = target.state()
    plan = SyncPlan(
        source=source.kind,
        target=target.kind,
        environment=env_name,
        entries=diff(desired, state, prune=options.prune),
        problems=problems,
        unknown=[] if options.include_unmanaged else sorted(snapshot.unmanaged),
        ignored=snapshot.ignored,
        revision=state.revision,
        prune=options.prune,
        creates=list(state.creates),
    )
    return PreparedSync(plan, source, target, desired, state)


def apply(prepared: PreparedSync) -> ApplyResult:
    """Apply a prepared plan; the caller has already refused a blocked plan."""
    return prepared.target.apply(prepared.plan, prepared._desired, prepared._state)


def run(
    source: Provider,
    target: Provider,
    env_name: str,
    options: SyncOptions,
    *,
    dry_run: bool,
) -> SyncResult:
    """Plan and (unless dry-run or blocked) apply; the caller turns a blocked plan into exit 1."""
    started = time.perf_counter()
    prepared = prepare(source, target, env_name, options)
    applied = None
    if not dry_run and not prepared.plan.blocked:
        applied = apply(prepared)
    return SyncResult(
        plan=prepared.plan,
        applied=applied,
        seconds=time.perf_counter() - started,
        requests={source.kind: source.request_count(), target.kind: target.request_count()},
    )
