"""Where the GitOps tree lives in the user's repository, and what its objects are called.

One layout for both engines, under ``kubernetes/`` (the path the company's plan bootstraps
Flux with)::

    kubernetes/charts/sophia-platform/   the chart (a copy of the one sophia ships)
    kubernetes/<env>/values.yaml         generated values; image tags moved by `gitops set-image`
    kubernetes/<env>/flux/               GitRepository + HelmRelease (+ kustomization.yaml)
    kubernetes/<env>/argocd/             AppProject + Application

An environment is managed by exactly one engine: the folder that exists says which.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from sophia_platform.spec import Spec

Engine = Literal["flux", "argocd"]
ENGINES: tuple[Engine, ...] = ("flux", "argocd")
DEFAULT_PATH = "kubernetes"
DEFAULT_BRANCH = "main"
CHART_NAME = "sophia-platform"
FLUX_NAMESPACE = "flux-system"
ARGOCD_NAMESPACE = "argocd"
ENV_LABEL = "sophia.dev/environment"
MANAGED_BY = {"app.kubernetes.io/managed-by": "sophia"}


@dataclass(frozen=True)
class Layout:
    """Paths (POSIX, relative to the repository root) and object names of one environment."""

    env: str
    root: str = DEFAULT_PATH

    @property
    def chart(self) -> str:
        """The chart folder inside the repository."""
        return f"{self.root}/charts/{CHART_NAME}"

    @property
    def env_dir(self) -> str:
        """The environment's folder."""
        return f"{self.root}/{self.env}"

    @property
    def values(self) -> str:
        """The environment's committed values file."""
        return f"{self.env_dir}/values.yaml"

    def engine_dir(self, engine: Engine) -> str:
        """The folder of one engine's manifests for this environment."""
        return f"{self.env_dir}/{engine}"

    def detect(self, repo: Path) -> Engine | None:
        """Which engine's folder exists in the checkout at ``repo`` (None: not GitOps-managed)."""
        found = [e for e in ENGINES if (repo / self.engine_dir(e)).is_dir()]
        return found[0] if len(found) == 1 else None


def object_name(spec: Spec, env: str) -> str:
    """The name of the GitRepository/HelmRelease/Application of an environment."""
    return f"{spec.project}-{env}"[:63].rstrip("-")
