"""Argo CD: the generated Application and AppProject pass server-side dry-run against Argo CD's
real CRDs (from the github.com/argoproj/argo-cd/v3 module source), on the local control plane.

No Argo CD controller runs here: what is checked is that the API server, with Argo CD's own
OpenAPI schemas, accepts the objects as they are (types, required fields, enums).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from sophia_platform.gitops import tools
from sophia_platform.gitops.actions import engine_documents
from sophia_platform.gitops.devloop import install_crds
from sophia_platform.gitops.layout import ARGOCD_NAMESPACE
from sophia_platform.gitops.manifests import TreeOptions
from sophia_platform.gitops.status import TreeInfo
from sophia_platform.gitops.tree import init
from sophia_platform.kube.apply import apply, dry_run
from sophia_platform.spec import load_spec

from ..deploy.conftest import write_spec

pytestmark = pytest.mark.cluster


def test_application_and_project_pass_server_side_dry_run(
    k8s_cluster: Any, k8s_namespace: str, tmp_path: Path
) -> None:
    docs = []
    for path in tools.crd_files(("argo-cd",)):
        docs += [d for d in YAML(typ="safe").load_all(path.read_text()) if d]
    assert {d["spec"]["names"]["kind"] for d in docs} == {"Application", "AppProject"}
    install_crds(k8s_cluster.api_client, docs)
    apply(
        k8s_cluster.api_client,
        [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ARGOCD_NAMESPACE}}],
    )
    spec = load_spec(write_spec(tmp_path, k8s_namespace))
    opts = TreeOptions(engine="argocd", repo_url="https://git.example.com/acme/platform.git")
    init(spec, "local", opts, tmp_path, dry_run=False)
    info = TreeInfo("local", "argocd", opts.repo_url, "main", "kubernetes", "acme-local")
    objects = engine_documents(tmp_path, info)
    assert sorted(o["kind"] for o in objects) == ["AppProject", "Application"]
    results = dry_run(k8s_cluster.api_client, ARGOCD_NAMESPACE, objects)
    assert [(r.kind, r.error) for r in results] == [(r.kind, None) for r in results]
    app = next(r.desired for r in results if r.kind == "Application")
    assert app is not None
    assert app["spec"]["syncPolicy"]["automated"] == {"prune": True, "selfHeal": True}
    # a broken object is refused by the same schemas (the check has teeth)
    broken = next(o for o in objects if o["kind"] == "Application")
    broken["spec"]["syncPolicy"]["retry"]["limit"] = "many"
    refused = dry_run(k8s_cluster.api_client, ARGOCD_NAMESPACE, [broken])
    assert refused[0].error is not None and "limit" in refused[0].error
