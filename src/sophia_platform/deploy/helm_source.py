"""HelmReleaseSource: the release as Helm stores it, and Helm's CLI for every write.

Reads decode Helm's storage Secrets through the API (:mod:`.releases`: no helm process, so
``status`` stays fast). Writes — upgrade/install, rollback, uninstall — run the helm CLI through
:func:`sophia_platform.deploy.helm.run`; the one storage edit Helm has no command for (marking
a revision stuck in ``pending-*`` failed, helm#8987) is done on its Secret.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from sophia_platform import runner
from sophia_platform.deploy import helm, releases
from sophia_platform.deploy.revision import Revision, latest

if TYPE_CHECKING:
    from sophia_platform.deploy.target import Target

# helm only applies objects (no --wait); this bounds a hung API server on top of the timeout.
HELM_GRACE_S = 60


class HelmReleaseSource:
    """One Helm release (``target.release`` in ``target.namespace``)."""

    kind = "helm"

    def __init__(self, target: Target, api: Any, helm_binary: Path | None = None) -> None:
        self.target, self.api = target, api
        self.namespace, self.release = target.namespace, target.release
        self._binary = helm_binary

    @property
    def helm(self) -> helm.HelmTarget:
        """The helm view of the target (the binary is located on first use: reads need none)."""
        ht = self.target.helm(self._binary)
        self._binary = ht.helm
        return ht

    # -- the ReleaseSource interface ------------------------------------------------------------
    def history(self) -> list[Revision]:
        """Every revision in Helm's storage, oldest first."""
        return releases.revisions(self.api, self.namespace, self.release)

    def rollback(self, revision: int, *, timeout_s: int) -> int:
        """``helm rollback`` to ``revision``: a new revision with that one's manifest."""
        self._run(helm.rollback(self.helm, revision, timeout_s=timeout_s), timeout_s)
        newest = latest(self.history())
        return newest.revision if newest is not None else revision

    # -- writes only ``sophia deploy`` makes ------------------------------------------------------
    def upgrade(self, chart: Path, values: Path, *, timeout_s: int, description: str) -> None:
        """``helm upgrade --install`` (no --wait: the deploy watches the rollout itself)."""
        argv = helm.upgrade_install(
            self.helm, chart, values, timeout_s=timeout_s, description=description
        )
        self._run(argv, timeout_s)

    def uninstall(self, *, timeout_s: int) -> None:
        """Remove a release whose first install failed (what ``--atomic`` does)."""
        self._run(helm.uninstall(self.helm, timeout_s=timeout_s), timeout_s)

    def render(self, chart: Path, values: Path, *, timeout_s: int) -> str:
        """``helm template``: the manifests a deploy would apply."""
        done: runner.Completed[str] = self._run(helm.template(self.helm, chart, values), timeout_s)
        return done.stdout

    def mark_failed(self, revision: int, reason: str) -> None:
        """Mark a revision stuck in ``pending-*`` failed, so helm accepts the next operation."""
        releases.mark_failed(self.api, self.namespace, self.release, revision, reason)

    def _run(self, argv: list[str], timeout_s: int) -> runner.Completed[str]:
        return helm.run(argv, timeout=timeout_s + HELM_GRACE_S)
