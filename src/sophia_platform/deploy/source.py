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
from typing import TYPE_CHECKING, Any, Protocol

from sophia_platform.deploy.revision import Revision, current, latest

if TYPE_CHECKING:
    from sophia_platform.deploy.target import Target

__all__ = ["SOURCES", "ReleaseSource", "Revision", "current", "latest", "release_source"]


class ReleaseSource(Protocol):
    """One release of one environment, whatever deployed it."""

    kind: str  # "helm", or a GitOps engine's name
    namespace: str
    release: str

    def history(self) -> list[Revision]:
        """Every stored revision, oldest first (empty: never installed)."""

    def rollback(self, revision: int, *, timeout_s: int) -> int:
        """Make ``revision`` the deployed one again; return the resulting revision number."""


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
