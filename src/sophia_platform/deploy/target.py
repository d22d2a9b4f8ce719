"""Which cluster, namespace, release, chart and helm binary a command works on."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sophia_platform import resources
from sophia_platform.deploy.helm import HelmTarget
from sophia_platform.errors import ExternalError, InputError, UsageError
from sophia_platform.kube.client import kubeconfig_path
from sophia_platform.spec.facts import SpecFacts, is_production

if TYPE_CHECKING:
    from sophia_platform.spec import Spec


def chart_dir() -> Path:
    """``$SOPHIA_CHART``, else the chart shipped in the package (``resources.chart_dir``)."""
    override = os.environ.get("SOPHIA_CHART")
    path = Path(override) if override else resources.chart_dir()
    if not (path / "Chart.yaml").is_file():
        raise InputError(
            f"chart not found at {path}",
            hint="unset SOPHIA_CHART to use the chart shipped with sophia-platform",
        )
    return path


def helm_binary() -> Path:
    """Locate the helm binary (the local-cluster build, $SOPHIA_HELM_BIN, or PATH)."""
    from sophia_platform.devcluster import find_tool

    found = find_tool("helm")
    if found is None:
        raise ExternalError("helm not found", hint="run scripts/setup, or set SOPHIA_HELM_BIN")
    return found


@dataclass(frozen=True)
class Target:
    """An environment resolved against sophia.yaml and the local kubeconfig."""

    env: str
    context: str
    namespace: str
    release: str
    kubeconfig: Path | None
    production: bool
    # Which ReleaseSource answers for this environment (deploy/source.py SOURCES): "helm" for
    # an environment `sophia deploy` drives; a GitOps engine's name for one it manages.
    engine: str = "helm"

    def helm(self, helm: Path | None = None) -> HelmTarget:
        """Return the helm view of this target."""
        return HelmTarget(
            helm or helm_binary(), self.context, self.namespace, self.release, self.kubeconfig
        )


def resolve(spec: Spec | SpecFacts, env: str | None, *, kubeconfig: Path | None = None) -> Target:
    """Resolve ``env`` (None: ``default_environment``) into a deploy target.

    ``spec`` may be the :class:`SpecFacts` of a validated spec: what a read command needs.
    """
    name = env or spec.default_environment
    if name not in spec.environments:
        known = ", ".join(spec.environments) or "none"
        raise UsageError(f"unknown environment {name!r}; sophia.yaml defines: {known}")
    environment = spec.environments[name]
    release = environment.release or spec.project
    return Target(
        env=name,
        context=environment.context,
        namespace=environment.namespace,
        release=release,
        kubeconfig=kubeconfig_path(kubeconfig),
        production=is_production(name),
    )
