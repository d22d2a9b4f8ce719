"""The plan/diff engine: names only, changes detected by digest, never a value.

A plan is built from a source snapshot (validated against the manifest: missing, empty and
placeholder secrets refuse the sync) and a target's desired/current addresses. It is plain data
that can be printed, saved as JSON and re-checked — it holds no secret value and no digest.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from sophia_platform.config import SecretValue
from sophia_platform.secrets.digest import value_digest
from sophia_platform.secrets.manifest import Manifest
from sophia_platform.secrets.providers.base import Snapshot, TargetState, classify

Action = Literal["add", "change", "remove", "unchanged", "orphaned"]


@dataclass(frozen=True)
class PlanEntry:
    """One address in the target and what the sync does to it."""

    address: str
    action: Action
    note: str = ""


@dataclass(frozen=True)
class Problem:
    """A manifest secret the source cannot provide properly."""

    name: str
    status: str  # missing / empty / placeholder
    required: bool
    blocking: bool


@dataclass
class SyncPlan:
    """What a sync will do, by name only."""

    source: str
    target: str
    environment: str
    entries: list[PlanEntry] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)  # source names not in the manifest
    ignored: list[str] = field(default_factory=list)
    revision: str | None = None  # target revision the plan was made against
    prune: bool = False
    creates: list[str] = field(default_factory=list)  # what the apply makes first ("namespace x")

    def names(self, action: Action) -> list[str]:
        """Addresses with ``action``, sorted."""
        return sorted(e.address for e in self.entries if e.action == action)

    @property
    def blocked(self) -> bool:
        """True if a problem refuses the sync."""
        return any(p.blocking for p in self.problems)

    @property
    def changes(self) -> list[PlanEntry]:
        """Entries that write something."""
        return [e for e in self.entries if e.action in ("add", "change", "remove")]

    def summary(self) -> dict[str, int]:
        """Counts per action."""
        counts = {a: 0 for a in ("add", "change", "remove", "unchanged", "orphaned")}
        for entry in self.entries:
            counts[entry.action] += 1
        return counts


def validate_source(
    snapshot: Snapshot, manifest: Manifest, *, allow_missing: bool
) -> tuple[Snapshot, list[Problem]]:
    """Drop unusable values from a snapshot and list the problems they are.

    Missing, empty or placeholder values are never written. A required one always blocks;
    an optional one blocks unless ``allow_missing``.
    """
    problems: list[Problem] = []
    usable: dict[str, SecretValue] = {}
    for name, entry in sorted(manifest.entries.items()):
        status = classify(snapshot.values.get(name))
        if status == "present":
            usable[name] = snapshot.values[name]
            continue
        blocking = entry.required or not allow_missing
        problems.append(Problem(name, status, entry.required, blocking))
    unmanaged = {k: v for k, v in snapshot.unmanaged.items() if classify(v) == "present"}
    return Snapshot(usable, unmanaged, list(snapshot.ignored)), problems


def diff(desired: dict[str, SecretValue], state: TargetState, *, prune: bool) -> list[PlanEntry]:
    """Compare desired addresses with the target's digests."""
    entries: list[PlanEntry] = []
    for address in sorted(desired):
        if address not in state.digests:
            entries.append(PlanEntry(address, "add"))
            continue
        current = state.digests[address]
        if current is None:
            entries.append(PlanEntry(address, "change", "replaces a non-literal value"))
        elif current != value_digest(desired[address].reveal()):
            entries.append(PlanEntry(address, "change"))
        else:
            entries.append(PlanEntry(address, "unchanged"))
    for address in sorted(state.prunable - set(desired)):
        if address in state.digests:
            entries.append(PlanEntry(address, "remove" if prune else "orphaned"))
    return entries
