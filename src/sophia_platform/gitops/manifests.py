"""The engines' custom resources of one environment, derived from ``sophia.yaml``.

Flux: a ``GitRepository`` watching the branch and a ``HelmRelease`` that installs the chart
from that repository with the environment's committed values file, drift detection on, and
install/upgrade remediation with bounded retries that rolls a failed upgrade back. Argo CD: an
``AppProject`` fencing the repository and the namespace, and an ``Application`` on the same
chart and values file with automated prune and self-heal. Secrets appear only by name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sophia_platform.gitops.layout import (
    ARGOCD_NAMESPACE,
    ENV_LABEL,
    FLUX_NAMESPACE,
    MANAGED_BY,
    Engine,
    Layout,
    object_name,
)
from sophia_platform.spec import Spec

GIT_REPOSITORY_API = "source.toolkit.fluxcd.io/v1"
HELM_RELEASE_API = "helm.toolkit.fluxcd.io/v2"
ARGOCD_API = "argoproj.io/v1alpha1"
IN_CLUSTER = "https://kubernetes.default.svc"


@dataclass(frozen=True)
class TreeOptions:
    """What ``gitops init`` was asked for, beyond the spec."""

    engine: Engine
    repo_url: str
    branch: str = "main"
    root: str = "kubernetes"
    git_secret: str | None = None  # name of the Secret holding git credentials, never its value
    source_interval: str = "1m"
    release_interval: str = "5m"
    timeout: str = "5m"
    retries: int = 3


def _meta(spec: Spec, env: str, name: str, namespace: str) -> dict[str, Any]:
    labels = {ENV_LABEL: env, "sophia.dev/project": spec.project, **MANAGED_BY}
    return {"name": name, "namespace": namespace, "labels": labels}


def git_repository(spec: Spec, env: str, opts: TreeOptions) -> dict[str, Any]:
    """The Flux source: the branch of the repository, polled at ``source_interval``."""
    body: dict[str, Any] = {
        "interval": opts.source_interval,
        "url": opts.repo_url,
        "ref": {"branch": opts.branch},
        "timeout": "60s",
        # Only the chart and this environment's folder matter to the release.
        "ignore": f"/*\n!/{opts.root}/\n",
    }
    if opts.git_secret:
        body["secretRef"] = {"name": opts.git_secret}
    return {
        "apiVersion": GIT_REPOSITORY_API,
        "kind": "GitRepository",
        "metadata": _meta(spec, env, object_name(spec, env), FLUX_NAMESPACE),
        "spec": body,
    }


def helm_release(spec: Spec, env: str, opts: TreeOptions) -> dict[str, Any]:
    """The Flux release: chart and values from the repository, remediated, drift-corrected."""
    layout = Layout(env, opts.root)
    environment = spec.environments[env]
    name = object_name(spec, env)
    remediation = {"retries": opts.retries}
    return {
        "apiVersion": HELM_RELEASE_API,
        "kind": "HelmRelease",
        "metadata": _meta(spec, env, name, FLUX_NAMESPACE),
        "spec": {
            "interval": opts.release_interval,
            "releaseName": spec.release_name(env),
            "targetNamespace": environment.namespace,
            # Helm's release Secrets live next to the workloads, where `sophia status` and
            # `helm history -n <namespace>` look for them.
            "storageNamespace": environment.namespace,
            "timeout": opts.timeout,
            "maxHistory": 10,
            "chart": {
                "spec": {
                    "chart": layout.chart,
                    # Rebuild the chart on every commit, not only when Chart.yaml's version
                    # changes: the values file moves with each image bump.
                    "reconcileStrategy": "Revision",
                    "sourceRef": {
                        "kind": "GitRepository",
                        "name": name,
                        "namespace": FLUX_NAMESPACE,
                    },
                    "valuesFiles": [f"{layout.chart}/values.yaml", layout.values],
                    "interval": opts.source_interval,
                }
            },
            "install": {"createNamespace": True, "remediation": remediation},
            "upgrade": {
                "cleanupOnFail": True,
                "remediation": {
                    **remediation,
                    "strategy": "rollback",
                    "remediateLastFailure": True,
                },
            },
            "rollback": {"cleanupOnFail": True},
            "driftDetection": {"mode": "enabled"},
        },
    }


def flux_kustomization(files: list[str]) -> dict[str, Any]:
    """A kustomize list of the folder's files, so `flux bootstrap --path` applies them all."""
    return {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": files,
    }


def app_project(spec: Spec, env: str, opts: TreeOptions) -> dict[str, Any]:
    """The Argo CD project: this repository only, into this environment's namespace only."""
    namespace = spec.environments[env].namespace
    return {
        "apiVersion": ARGOCD_API,
        "kind": "AppProject",
        "metadata": _meta(spec, env, object_name(spec, env), ARGOCD_NAMESPACE),
        "spec": {
            "description": f"{spec.project} {env}, generated by sophia gitops init",
            "sourceRepos": [opts.repo_url],
            "destinations": [{"server": IN_CLUSTER, "namespace": namespace}],
            # CreateNamespace=true needs the Namespace kind; everything else is namespaced.
            "clusterResourceWhitelist": [{"group": "", "kind": "Namespace"}],
        },
    }


def application(spec: Spec, env: str, opts: TreeOptions) -> dict[str, Any]:
    """The Argo CD application: the chart with the environment's values, auto-synced."""
    layout = Layout(env, opts.root)
    name = object_name(spec, env)
    meta = _meta(spec, env, name, ARGOCD_NAMESPACE)
    # Deleting the Application deletes what it deployed (Argo CD's documented finalizer).
    meta["finalizers"] = ["resources-finalizer.argocd.argoproj.io"]
    # valueFiles are relative to the chart folder: kubernetes/charts/<chart> -> kubernetes/<env>.
    depth = layout.chart.count("/") - opts.root.count("/")
    return {
        "apiVersion": ARGOCD_API,
        "kind": "Application",
        "metadata": meta,
        "spec": {
            "project": name,
            "source": {
                "repoURL": opts.repo_url,
                "targetRevision": opts.branch,
                "path": layout.chart,
                "helm": {
                    "releaseName": spec.release_name(env),
                    "valueFiles": ["../" * depth + f"{env}/values.yaml"],
                },
            },
            "destination": {"server": IN_CLUSTER, "namespace": spec.environments[env].namespace},
            "syncPolicy": {
                "automated": {"prune": True, "selfHeal": True},
                "syncOptions": ["CreateNamespace=true"],
                "retry": {
                    "limit": opts.retries,
                    "backoff": {"duration": "5s", "factor": 2, "maxDuration": "3m"},
                },
            },
            "revisionHistoryLimit": 10,
        },
    }


def engine_objects(spec: Spec, env: str, opts: TreeOptions) -> dict[str, dict[str, Any]]:
    """File name -> object, for the engine's folder of one environment."""
    if opts.engine == "flux":
        objects = {
            "gitrepository.yaml": git_repository(spec, env, opts),
            "helmrelease.yaml": helm_release(spec, env, opts),
        }
        objects["kustomization.yaml"] = flux_kustomization(sorted(objects))
        return objects
    return {
        "appproject.yaml": app_project(spec, env, opts),
        "application.yaml": application(spec, env, opts),
    }
