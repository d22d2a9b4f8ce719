"""One revision of a release, as every :class:`~.source.ReleaseSource` reports it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

PENDING = frozenset({"pending-install", "pending-upgrade", "pending-rollback"})
DEPLOYED = "deployed"


@dataclass(frozen=True)
class Revision:
    """One revision of a release: its number, status and what it deployed."""

    revision: int
    status: str  # deployed | superseded | failed | pending-* | uninstalled ...
    updated: str
    description: str
    chart: str
    manifest: str = field(repr=False)
    values: dict[str, Any] = field(repr=False)

    @property
    def pending(self) -> bool:
        """True while an operation is (or was, until it crashed) in progress."""
        return self.status in PENDING


def current(history: list[Revision]) -> Revision | None:
    """The revision that is live (status ``deployed``), if any."""
    live = [r for r in history if r.status == DEPLOYED]
    return live[-1] if live else None


def latest(history: list[Revision]) -> Revision | None:
    """The newest revision, whatever its status."""
    return history[-1] if history else None
