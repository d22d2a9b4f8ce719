"""`sophia report` against the real local control plane after real deploys.

The cluster rows (services migrated, deployment time, deployment health, Secrets set by
hand) come from the cluster; the Secrets hold canary values that must appear in none of the
three formats.
"""

from __future__ import annotations

import statistics
import subprocess
from pathlib import Path

import pytest

from sophia_platform.deploy import records
from sophia_platform.report import Options, build
from sophia_platform.report.markdown import render_markdown
from sophia_platform.report.render import render_html, render_json
from tests.integration.deploy.conftest import CANARY, DeployEnv
from tests.plugins.browser import Browser, artifacts_dir

pytestmark = pytest.mark.integration


def _commit_spec(root: Path) -> None:
    for args in (
        ["init", "-q", "-b", "main"],
        ["add", "sophia.yaml"],
        ["-c", "user.email=dev@example.com", "-c", "user.name=Dev", "commit", "-qm", "spec"],
    ):
        subprocess.run(["git", *args], cwd=root, check=True)


def test_cluster_rows_after_deploys(
    denv: DeployEnv, monkeypatch: pytest.MonkeyPatch, browser: Browser
) -> None:
    assert denv.deploy().outcome == "succeeded"
    assert denv.deploy(image_tag="1.5.0").outcome == "succeeded"
    root = denv.spec_path.parent
    _commit_spec(root)
    monkeypatch.setenv("KUBECONFIG", str(denv.kubeconfig))
    monkeypatch.delenv("PULUMI_ACCESS_TOKEN", raising=False)
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)

    report = build(root, Options(env="local", kubeconfig=denv.kubeconfig))
    states = {s.name: s.available for s in report.sources}
    assert states["cluster"] and states["secrets"] and states["spec"]

    progress = {p.id: p for p in report.progress}
    services = progress["services-migrated"]
    assert (services.done, services.total, services.status) == (5, 5, "pass")

    recs = records.load_all(denv.api, denv.namespace, "acme")
    assert [r.outcome for r in recs] == ["succeeded", "succeeded"]
    metrics = {m.id: m for m in report.metrics}
    want = round(statistics.median(r.duration_s or 0.0 for r in recs), 1)
    assert metrics["deployment-time"].value == want
    assert metrics["deployment-time"].status == ("pass" if want <= 180 else "fail")
    assert [d.revision for d in report.deploys] == [1, 2]

    # make_env wrote the Secrets by hand, outside the secret flow: each is a manual step.
    hand_set = {"api-secrets", "inference-secrets", "postgres-secrets", "acme-shared"}
    manual = metrics["manual-steps"]
    assert manual.value == len(hand_set) and manual.status == "fail"
    assert {e.detail.split()[1] for e in manual.evidence if e.source == "cluster"} == hand_set

    checks = {c.id: c for c in report.checklists}
    assert checks["deploy-services-healthy"].status == "pass"
    assert checks["deploy-services-healthy"].reason == "5/5 services healthy"
    assert checks["deploy-no-drift"].status == "pass"
    assert checks["deploy-last-ok"].status == "pass"
    assert checks["deploy-last-ok"].reason == "revision 2 deploy: succeeded"
    assert checks["secrets-layers"].status == "pass"

    texts = {
        "md": render_markdown(report),
        "json": render_json(report),
        "html": render_html(report),
    }
    assert "Deploy durations (last 2, seconds)" in texts["md"]
    for fmt, text in texts.items():
        assert CANARY not in text, fmt
    page_file = artifacts_dir() / "report-cluster.html"
    page_file.write_text(texts["html"], encoding="utf-8")
    opened = browser.open(page_file)
    try:
        assert opened.console_errors == [] and opened.foreign_requests == []
        line = opened.page.locator("#deploy-durations polyline")
        assert line.count() == 1 and line.get_attribute("data-points") == "2"
        assert opened.page.locator("#deploy-durations circle").count() == 2
    finally:
        opened.page.close()
