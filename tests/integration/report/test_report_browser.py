"""The HTML report in a real browser: headless Debian Chromium driven by Playwright."""

from __future__ import annotations

from pathlib import Path

import pytest

from sophia_platform.report import Options, Sampling, build
from sophia_platform.report.render import render_html
from tests.fixtures.debt_history import SPEC, STEPS, Step, commit
from tests.fixtures.debt_history import build as build_history
from tests.plugins.browser import Browser, artifacts_dir

pytestmark = pytest.mark.integration


@pytest.fixture
def page_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "sophia-ai"
    build_history(root)
    commit(root, Step("add sophia.yaml", {"sophia.yaml": SPEC}, day=6), 1_767_800_000)
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "no-kubeconfig"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    report = build(root, Options(), sampling=Sampling(), cache_dir=tmp_path / "cache")
    path = tmp_path / "report.html"
    path.write_text(render_html(report), encoding="utf-8")
    return path


def _points(polyline: str) -> int:
    return len(polyline.split())


def test_report_loads_offline_with_every_chart_and_table(browser: Browser, page_file: Path) -> None:
    opened = browser.open(page_file)
    page = opened.page
    try:
        assert opened.console_errors == [] and opened.page_errors == []
        assert opened.foreign_requests == []
        commits = len(STEPS) + 1
        charts = page.locator("figure.chart")
        ids = [charts.nth(i).get_attribute("data-chart") for i in range(charts.count())]
        assert ids == [
            "burndown-hardcoded-ip",
            "burndown-compose-file",
            "burndown-swarm-reference",
            "burndown-docs-retired-deploy",  # docs/deploy.md instructs `docker stack deploy`
            "metric-trends",
        ]
        for chart_id in ids:
            lines = page.locator(f"#{chart_id} polyline")
            for i in range(lines.count()):
                line = lines.nth(i)
                assert _points(line.get_attribute("points") or "") == commits
                assert line.get_attribute("data-points") == str(commits)
            assert page.locator(f"#{chart_id} circle").count() == commits * lines.count()
            assert page.locator(f"#{chart_id} svg").bounding_box()["height"] > 100
        assert page.locator("#metric-trends polyline").count() == 6
        # The burn-down's values, as drawn: y of each marker falls as the debt falls.
        marks = page.locator("#burndown-hardcoded-ip circle title")
        values = [marks.nth(i).text_content().rsplit(": ", 1)[1] for i in range(marks.count())]
        assert values == ["2", "3", "2", "2", "1", "0", "0"]

        def cell(table: str, row: str, column: int) -> str:
            text = page.locator(f"#{table} tr[data-id='{row}'] > *").nth(column).inner_text()
            return text.strip()

        assert cell("metrics", "hardcoded-ips", 1) == "0"
        assert cell("metrics", "deployment-methods", 1) == "1"
        assert cell("metrics", "deployment-time", 1) == "unknown"
        assert cell("dod", "dod-zero-hardcoded", 0) == "pass"
        assert cell("checklists", "deploy-services-healthy", 0) == "unknown"
        assert page.locator("#dod tbody tr").count() == 5
        assert page.locator("#history tbody tr").count() == commits
        page.screenshot(path=str(artifacts_dir() / "report.png"), full_page=True)
    finally:
        page.close()


def test_dark_scheme_and_print(browser: Browser, page_file: Path) -> None:
    light = browser.open(page_file, color_scheme="light")
    dark = browser.open(page_file, color_scheme="dark")
    try:
        background = "getComputedStyle(document.body).backgroundColor"
        assert light.page.evaluate(background) == "rgb(255, 255, 255)"
        assert dark.page.evaluate(background) == "rgb(13, 17, 23)"
        dark.page.screenshot(path=str(artifacts_dir() / "report-dark.png"), full_page=True)
        light.page.emulate_media(media="print")
        pdf = light.page.pdf(format="A4", print_background=True)
        assert pdf.startswith(b"%PDF-") and len(pdf) > 10_000
        (artifacts_dir() / "report.pdf").write_bytes(pdf)
        assert light.foreign_requests == [] and dark.foreign_requests == []
    finally:
        light.page.close()
        dark.page.close()
