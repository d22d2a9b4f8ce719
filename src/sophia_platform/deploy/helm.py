"""Helm command lines, built as argv lists, and :func:`run`, the one way helm is executed.

Every builder returns ``list[str]`` so tests can assert the exact command; :func:`run` hands it
to :mod:`sophia_platform.runner` with the environment helm needs (its own ``HELM_*`` settings
and ``KUBECONFIG``; nothing else of ours). The chart is always deployed without ``--wait``:
Sophia watches the rollout itself and fails fast (helm#7429).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sophia_platform import runner

# helm reads its directories and drivers from HELM_*; the cluster from KUBECONFIG.
INHERIT = ("HELM_*", "KUBECONFIG")


def run(argv: Sequence[str], *, timeout: float) -> runner.Completed[str]:
    """Run a helm command built here; failures raise ``RunError`` with helm's last stderr line."""
    return runner.run(
        argv,
        timeout=timeout,
        inherit=INHERIT,
        missing_hint="run scripts/setup or set SOPHIA_HELM_BIN",
    )


@dataclass(frozen=True)
class HelmTarget:
    """Where a release lives: the helm binary, kubeconfig, context, namespace and release name."""

    helm: Path
    context: str
    namespace: str
    release: str
    kubeconfig: Path | None = None

    def globals(self) -> list[str]:
        """Return the flags that pin every command to this cluster and namespace."""
        flags = ["--kube-context", self.context, "--namespace", self.namespace]
        if self.kubeconfig is not None:
            flags += ["--kubeconfig", str(self.kubeconfig)]
        return flags


def lint(helm: Path, chart: Path, values: Path) -> list[str]:
    """``helm lint --strict`` of the chart with generated values."""
    return [str(helm), "lint", str(chart), "--strict", "--values", str(values)]


def template(t: HelmTarget, chart: Path, values: Path, *, validate: bool = False) -> list[str]:
    """Render the manifests locally (``--validate`` asks the API server)."""
    argv = [str(t.helm), "template", t.release, str(chart), "--values", str(values)]
    argv += t.globals()
    if validate:
        argv.append("--validate")
    return argv


def template_offline(
    helm: Path, release: str, namespace: str, chart: Path, values: Path
) -> list[str]:
    """Render the manifests without any cluster: no kube context, no server lookups."""
    return [str(helm), "template", release, str(chart), "--values", str(values), "-n", namespace]


def upgrade_install(
    t: HelmTarget, chart: Path, values: Path, *, timeout_s: int, description: str
) -> list[str]:
    """Install or upgrade the release; returns once objects are applied."""
    return [
        str(t.helm),
        "upgrade",
        "--install",
        t.release,
        str(chart),
        "--values",
        str(values),
        "--reset-values",
        "--history-max",
        "30",
        "--timeout",
        f"{timeout_s}s",
        "--description",
        description,
        *t.globals(),
    ]


def rollback(t: HelmTarget, revision: int, *, timeout_s: int) -> list[str]:
    """Roll the release back to ``revision`` (a new revision with that one's manifest)."""
    return [
        str(t.helm),
        "rollback",
        t.release,
        str(revision),
        "--timeout",
        f"{timeout_s}s",
        "--history-max",
        "30",
        *t.globals(),
    ]


def uninstall(t: HelmTarget, *, timeout_s: int) -> list[str]:
    """Remove a release whose first install failed (what ``--atomic`` does)."""
    return [str(t.helm), "uninstall", t.release, "--timeout", f"{timeout_s}s", *t.globals()]


def history(t: HelmTarget) -> list[str]:
    """List the release's revisions as JSON."""
    return [str(t.helm), "history", t.release, "--output", "json", "--max", "100", *t.globals()]


def get_manifest(t: HelmTarget, revision: int | None = None) -> list[str]:
    """Print the manifest of a revision (default: the current one)."""
    argv = [str(t.helm), "get", "manifest", t.release, *t.globals()]
    return argv if revision is None else [*argv, "--revision", str(revision)]
