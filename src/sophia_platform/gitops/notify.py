"""The push trigger: ask Flux to reconcile every GitRepository that watches a pushed URL.

Run by the ``post-receive`` hook of the development git server's repositories
(``python -m sophia_platform.gitops.notify URL``), with the loop's ``KUBECONFIG``. It sets
``reconcile.fluxcd.io/requestedAt`` on the matching GitRepositories and on the HelmReleases
built from them — what a notification-controller ``Receiver`` does for a GitHub webhook in a
real cluster. Without it Flux only notices a push at the next poll (``spec.interval``).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from sophia_platform.devcluster.kubeconfig import CONTEXT
from sophia_platform.gitops import engines
from sophia_platform.gitops.layout import FLUX_NAMESPACE
from sophia_platform.kube import raw
from sophia_platform.kube.client import connect, kubeconfig_path


def watchers(api: Any, url: str) -> list[str]:
    """Names of the GitRepositories (in flux-system) whose URL is ``url``."""
    path = f"/apis/source.toolkit.fluxcd.io/v1/namespaces/{FLUX_NAMESPACE}/gitrepositories"
    items = raw.get(api, "list GitRepositories", path).items or []
    return [i.metadata.name for i in items if (i.spec.url or "").rstrip("/") == url.rstrip("/")]


def notify(api: Any, url: str) -> list[str]:
    """Request a reconcile of each watcher (and its HelmRelease of the same name)."""
    names = watchers(api, url)
    for name in names:
        engines.request_reconcile(api, "flux", name)
    return names


def main(argv: list[str] | None = None) -> int:
    """Hook entry point: never fails the push (the poll interval still applies)."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        sys.stderr.write("usage: python -m sophia_platform.gitops.notify URL\n")
        return 2
    sys.stdin.read()  # "<old> <new> <ref>" lines when run as the hook itself; any push counts
    try:
        kubeconfig: Path | None = kubeconfig_path(None)
        api = connect(kubeconfig, CONTEXT)
        names = notify(api, args[0])
    except Exception as e:
        sys.stderr.write(f"sophia: could not ask Flux to reconcile: {e}\n")
        return 0
    if names:
        sys.stderr.write(f"sophia: asked Flux to reconcile {', '.join(names)}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
