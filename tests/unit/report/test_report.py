"""The "now" report on a real repository without a cluster, and its three formats."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest

from sophia_platform.cli.main import main
from sophia_platform.report import Options, Report, Sampling, build
from sophia_platform.report.markdown import render_markdown
from sophia_platform.report.render import render_html, render_json, schema_text, shipped_schema
from tests.fixtures.debt_history import SPEC, STEPS, Step, commit
from tests.fixtures.debt_history import build as build_history

WORKFLOW = """\
name: deploy by hand
on: workflow_dispatch
jobs:
  deploy:
    runs-on: ubuntu-latest
    steps:
      - run: helm upgrade --install sophia charts/sophia-platform
"""


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "repo"
    build_history(root, STEPS[:2])  # two IPs in settings, one in the guide, compose, swarm
    commit(
        root,
        Step(
            "spec and a dispatch-only deploy",
            {"sophia.yaml": SPEC, ".github/workflows/deploy.yml": WORKFLOW},
        ),
        1_767_600_000,
    )
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "no-such-kubeconfig"))
    monkeypatch.setenv("SOPHIA_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("PULUMI_ACCESS_TOKEN", raising=False)
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    return root


def _by_id(rows: list) -> dict:  # type: ignore[type-arg]
    return {row.id: row for row in rows}


def test_metrics_dod_checklists_without_a_cluster(repo: Path) -> None:
    report = build(repo, Options())
    metrics = _by_id(report.metrics)
    assert metrics["hardcoded-ips"].value == 3 and metrics["hardcoded-ips"].status == "fail"
    assert {e.location for e in metrics["hardcoded-ips"].evidence} == {
        "app/settings.py:1",
        "app/settings.py:2",
        "docs/deploy.md:3",
    }
    assert metrics["deployment-methods"].value == 2  # docker-compose + kubernetes (the spec)
    assert metrics["secret-sync-workflows"].value == 0
    # The repository part alone fails the target; the cluster part stays unknown, never 0.
    manual = metrics["manual-steps"]
    assert manual.status == "fail" and manual.value == 3
    assert "no cluster reachable" in manual.reason
    assert metrics["deployment-time"].value is None
    assert metrics["deployment-time"].status == "unknown"
    assert "no cluster reachable" in metrics["deployment-time"].reason

    dod = _by_id(report.dod)
    assert dod["dod-push-main"].status == "fail"
    assert "docker-compose" in dod["dod-push-main"].reason
    assert dod["dod-zero-hardcoded"].status == "fail"
    assert dod["dod-zero-duplicates"].status == "pass"
    assert dod["dod-zero-manual"].status == "fail"

    checks = _by_id(report.checklists)
    for row in ("deploy-services-healthy", "deploy-no-drift", "deploy-last-ok"):
        assert checks[row].status == "unknown"
        assert checks[row].reason.startswith("unknown (no cluster reachable")
    assert checks["docs-kubernetes-only"].status == "fail"
    assert checks["secrets-layers"].status == "unknown"

    progress = _by_id(report.progress)
    assert progress["services-migrated"].done is None
    assert progress["services-migrated"].total == 2  # api, worker (spec ∪ compose services)
    assert progress["workflows-unified"].done == 0 and progress["workflows-unified"].total == 1
    assert (progress["docs-updated"].done, progress["docs-updated"].total) == (1, 2)
    gates = progress["quality-gates"]
    assert gates.total == len(report.dod) + len(report.checklists)
    assert gates.done == sum(c.status == "pass" for c in [*report.dod, *report.checklists])


def test_json_is_valid_against_the_shipped_schema(repo: Path) -> None:
    assert shipped_schema() == schema_text(), (
        "regenerate: sophia report --schema > src/sophia_platform/report/report.schema.json"
    )
    report = build(repo, Options(), sampling=Sampling())
    doc = json.loads(render_json(report))
    jsonschema.validate(doc, json.loads(shipped_schema()))
    assert Report.model_validate(doc) == report
    assert [p["counts"]["hardcoded-ip"] for p in doc["history"]["points"]] == [2, 3, 3]


def test_markdown_has_the_table_and_sparklines(repo: Path) -> None:
    text = render_markdown(build(repo, Options(), sampling=Sampling()))
    assert "| Hardcoded IPs | 3 | 0 | 50+ | ❌ fail |" in text
    assert "| Deployment time | unknown | 180 s | 15 min | ❔ unknown |" in text
    assert re.search(r"\| hardcoded-ip \| 2 \| 3 \| `[▁-█]{3}` \|", text)
    assert "### Definition of Done" in text and "### Daily checklist" in text


def test_html_is_self_contained(repo: Path) -> None:
    page = render_html(build(repo, Options(), sampling=Sampling()))
    assert "<script" not in page and "<link" not in page
    assert not re.search(r"""(?:src|href)\s*=""", page)
    assert re.findall(r"https?://[^\s\"'<>]+", page) == ["http://www.w3.org/2000/svg"] * page.count(
        "<svg"
    )
    assert "prefers-color-scheme: dark" in page and "@media print" in page
    assert 'data-chart="burndown-hardcoded-ip"' in page


def test_cli_fail_on_and_out(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "r.md"
    assert main(["report", "--repo", str(repo), "--out", str(out), "--fail-on", "dod"]) == 1
    assert "| Hardcoded IPs |" in out.read_text()
    assert "--fail-on dod: not passing" in capsys.readouterr().err
    assert main(["report", "--repo", str(repo), "--format", "xml"]) == 2
    assert main(["report", "--repo", str(repo), "--fail-on", "nothing"]) == 2
    assert main(["report", "--schema"]) == 0
    assert json.loads(capsys.readouterr().out)["title"] == "Report"


def test_the_documentation_checklist_is_answered_by_the_docs_rules(repo: Path) -> None:
    checks = _by_id(build(repo, Options()).checklists)
    assert checks["docs-secret-names"].status == "pass"  # no doc names an undeclared secret
    assert checks["docs-no-conflicts"].status == "pass"  # production: ./deploy.sh only
    commit(
        repo,
        Step(
            "a second production guide",
            {"docs/prod.md": "## Production\n\nSet OPENAI_APIKEY_TOKEN, then `vercel --prod`.\n"},
        ),
        1_767_700_000,
    )
    checks = _by_id(build(repo, Options()).checklists)
    names, conflicts = checks["docs-secret-names"], checks["docs-no-conflicts"]
    assert names.status == "fail" and [e.location for e in names.evidence] == ["docs/prod.md:3"]
    assert "docs-secret-name" in names.reason
    assert conflicts.status == "fail"
    assert [e.location for e in conflicts.evidence] == ["docs/prod.md:3"]
    assert checks["docs-kubernetes-only"].status == "fail"


def test_cli_env_is_the_positional_and_path_the_repo_option(
    repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert main(["report", "local", "--repo", str(repo), "--format", "json", "--no-cluster"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["environment"] == "local"
    assert "deprecated" not in captured.err
    # The old forms still work, each with a warning: PATH as the argument, --env ENV.
    assert main(["report", str(repo), "--env", "local", "--format", "json", "--no-cluster"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["environment"] == "local"
    assert f"use --repo {repo}" in captured.err and "--env is deprecated" in captured.err
    monkeypatch.chdir(repo.parent)  # a bare directory name that is a git repository
    assert main(["report", repo.name, "--format", "json", "--no-cluster"]) == 0
    assert json.loads(capsys.readouterr().out)["repository"] == repo.name
    # An environment the spec lacks is bad input, not a path; a path with --repo is refused.
    assert main(["report", "nowhere", "--repo", str(repo), "--no-cluster"]) == 2
    assert main(["report", str(repo), "--repo", str(repo)]) == 2
