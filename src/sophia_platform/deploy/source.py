"""The release source: what is deployed, its history, and how to roll back.

``status``, ``history``, ``diff`` and ``rollback`` read an environment's release only through
this interface, so an environment deployed by a GitOps engine answers them as well as one
deployed by ``sophia deploy``. The first implementation is :class:`~.helm_source.HelmReleaseSource`
(Helm's own storage: one Secret per revision). A second one (a GitOps engine) is one module
implementing :class:`ReleaseSource` plus one line in :data:`SOURCES`; which one an environment
uses is ``Target.engine`` (see ``deploy/target.py``).

The interface is deliberately small:

- :meth:`ReleaseSource.history` — every stored revision, oldest first (``current`` and
  ``latest`` are derived from it, so one read answers both);
- :meth:`ReleaseSource.rollback` — make ``revision`` what is deployed again and return the
  number of the revision that results (Helm writes a new one; a GitOps engine reverts a commit).

Waiting for the rollout, locking and deploy records are not the source's business: the deploy
actions do them the same way whichever source answered.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from sophia_platform.deploy.target import Target

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


class ReleaseSource(Protocol):
    """One release of one environment, whatever deployed it."""

    kind: str  # "helm", or a GitOps engine's name
    namespace: str
    release: str

    def history(self) -> list[Revision]:
        """Every stored revision, oldest first (empty: never installed)."""

    def rollback(self, revision: int, *, timeout_s: int) -> int:
        """Make ``revision`` the deployed one again; return the resulting revision number."""


def current(history: list[Revision]) -> Revision | None:
    """The revision that is live (status ``deployed``), if any."""
    live = [r for r in history if r.status == DEPLOYED]
    return live[-1] if live else None


def latest(history: list[Revision]) -> Revision | None:
    """The newest revision, whatever its status."""
    return history[-1] if history else None


# kind -> factory(target, api client). One line per implementation.
SourceFactory = Callable[["Target", Any], ReleaseSource]


def _helm(target: Target, api: Any) -> ReleaseSource:
    from sophia_platform.deploy.helm_source import HelmReleaseSource

    return HelmReleaseSource(target, api)


SOURCES: dict[str, SourceFactory] = {"helm": _helm}


def release_source(target: Target, api: Any) -> ReleaseSource:
    """The release source of ``target`` (``target.engine`` picks the implementation)."""
    from sophia_platform.errors import UsageError

    factory = SOURCES.get(target.engine)
    if factory is None:
        known = ", ".join(sorted(SOURCES))
        raise UsageError(
            f"environment {target.env}: unknown deploy engine {target.engine!r}",
            hint=f"known: {known}",
        )
    return factory(target, api)
