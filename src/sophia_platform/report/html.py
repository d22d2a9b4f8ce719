"""The report as one self-contained HTML file: inline CSS and SVG, no script, no network.

It opens from disk, from a CI artifact or offline; follows the reader's colour scheme
(``prefers-color-scheme``) and prints cleanly (``@media print``). The stylesheet is package
data (``data/report/report.css``), inlined into each page.
"""

from __future__ import annotations

import html
from datetime import UTC, datetime
from importlib import resources

from sophia_platform.report.charts import Series, line_chart
from sophia_platform.report.model import Check, Evidence, Metric, Progress, Report

_TREND_METRICS = (
    ("hardcoded_ips", "hardcoded IPs"),
    ("deployment_methods", "deployment methods"),
    ("secret_sync_workflows", "secret sync workflows"),
    ("manual_steps", "manual steps"),
    ("compose_files", "compose files"),
    ("duplicate_files", "duplicate files"),
)


def _e(text: object) -> str:
    return html.escape(str(text))


def _badge(status: str) -> str:
    return f'<span class="badge {status}">{status}</span>'


def _evidence(rows: list[Evidence]) -> str:
    if not rows:
        return ""
    items = "".join(
        f"<li><span class=src>{_e(r.source)}</span> {_e(r.detail)}"
        + (f" <code>{_e(r.location)}</code>" if r.location else "")
        + "</li>"
        for r in rows
    )
    return f"<details><summary>evidence ({len(rows)})</summary><ul>{items}</ul></details>"


def _metric_row(m: Metric) -> str:
    value = "unknown" if m.value is None else f"{m.value:g}"
    unit = f" {_e(m.unit)}" if m.unit else ""
    return (
        f'<tr data-id="{_e(m.id)}"><th scope=row>{_e(m.title)}</th>'
        f'<td class="num value">{value}{unit if m.value is not None else ""}</td>'
        f'<td class="num">{m.target:g}{unit}</td><td>{_e(m.baseline)}</td>'
        f"<td>{_badge(m.status)}</td><td>{_e(m.reason)}<div class=proxy>{_e(m.proxy)}</div>"
        f"{_evidence(m.evidence)}</td><td><code>{_e(m.fix)}</code></td></tr>"
    )


def _check_rows(rows: list[Check]) -> str:
    return "".join(
        f'<tr data-id="{_e(c.id)}"><td>{_badge(c.status)}</td><th scope=row>{_e(c.title)}</th>'
        f"<td>{_e(c.reason)}{_evidence(c.evidence)}</td><td><code>{_e(c.fix)}</code></td></tr>"
        for c in rows
    )


def _checks_table(title: str, rows: list[Check], table_id: str) -> str:
    return (
        f"<section><h2>{_e(title)}</h2><table id={table_id}><thead><tr><th>status</th>"
        "<th>item</th><th>why</th><th>fix</th></tr></thead>"
        f"<tbody>{_check_rows(rows)}</tbody></table></section>"
    )


def _progress(rows: list[Progress]) -> str:
    items = []
    for p in rows:
        known = p.done is not None and p.total
        share = (p.done or 0) / (p.total or 1) if known else 0.0
        count = "unknown" if p.done is None else f"{p.done}/{p.total}"
        items.append(
            f'<div class="counter" data-id="{_e(p.id)}"><div class="ctitle">{_e(p.title)} '
            f'<span class="count">{count}</span> {_badge(p.status)}</div>'
            f'<div class="bar"><span style="width:{share * 100:.0f}%"></span></div>'
            f"<div class=proxy>{_e(p.definition)}"
            + (f" — {_e(p.reason)}" if p.reason else "")
            + "</div></div>"
        )
    return f"<section><h2>Progress</h2><div class=counters>{''.join(items)}</div></section>"


def _day(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d")


def _history(report: Report) -> str:
    hist = report.history
    if hist is None or not hist.points:
        return ""
    points = hist.points
    labels = [f"{_day(p.time)} {p.commit[:7]}" for p in points]
    rules = [r for r in hist.rules if any(p.counts.get(r, 0) for p in points)]
    charts = [
        line_chart(
            f"burndown-{rule}",
            f"{rule}: findings per commit",
            labels,
            [Series(rule, [float(p.counts.get(rule, 0)) for p in points])],
            target=0,
        )
        for rule in rules
    ]
    trends = line_chart(
        "metric-trends",
        "Success metrics over the history",
        labels,
        [
            Series(name, [float(p.metrics.get(key, 0)) for p in points])
            for key, name in _TREND_METRICS
        ],
    )
    st = hist.stats
    note = (
        f"{st.points} of {st.commits_in_branch} commits; {st.blobs_scanned} blobs scanned, "
        f"{st.blobs_cached} from cache, {st.commits_cached} commits from cache, "
        f"{st.duration_s:.2f} s"
    )
    table = "".join(
        f"<tr><td>{_day(p.time)}</td><td><code>{p.commit[:10]}</code></td><td>{_e(p.subject)}</td>"
        + "".join(f'<td class="num">{p.counts.get(r, 0)}</td>' for r in rules)
        + "</tr>"
        for p in points[-30:][::-1]
    )
    head = "".join(f"<th>{_e(r)}</th>" for r in rules)
    return (
        f"<section><h2>Burn-down</h2><p class=proxy>{_e(note)}</p>"
        f'<div class="charts">{"".join(charts)}{trends}</div>'
        f"<details><summary>latest commits</summary><table id=history><thead><tr><th>day</th>"
        f"<th>commit</th><th>subject</th>{head}</tr></thead><tbody>{table}</tbody></table>"
        "</details></section>"
    )


def _deploys(report: Report) -> str:
    done = [d for d in report.deploys if d.duration_s is not None]
    if not done:
        return ""
    labels = [f"r{d.revision} {d.started_at[:10]}" for d in done]
    chart = line_chart(
        "deploy-durations",
        "Deploy durations (seconds; target 180)",
        labels,
        [Series("duration", [d.duration_s for d in done])],
        target=180,
        unit=" s",
    )
    return f"<section><h2>Deploys</h2><div class=charts>{chart}</div></section>"


def render_html(report: Report) -> str:
    """The whole page."""
    css = resources.files("sophia_platform").joinpath("data", "report", "report.css").read_text()
    title = f"Migration report: {report.project or report.repository}"
    meta = " · ".join(
        _e(x)
        for x in (
            f"environment {report.environment}" if report.environment else "",
            f"commit {report.commit[:12]}" if report.commit else "",
            f"generated {report.generated_at}",
        )
        if x
    )
    sources = "".join(
        f"<li>{_badge('pass' if s.available else 'unknown')} <b>{_e(s.name)}</b> "
        f"{_e(s.detail)}</li>"
        for s in report.sources
    )
    metrics = "".join(_metric_row(m) for m in report.metrics)
    body = (
        f"<header><h1>{_e(title)}</h1><p class=meta>{meta}</p></header>"
        f"<section><h2>Success metrics</h2><table id=metrics><thead><tr><th>metric</th>"
        "<th>now</th><th>target</th><th>was</th><th>status</th><th>how measured</th><th>fix</th>"
        f"</tr></thead><tbody>{metrics}</tbody></table></section>"
        + _checks_table("Definition of Done", report.dod, "dod")
        + _progress(report.progress)
        + _checks_table("Daily checklist", report.checklists, "checklists")
        + _history(report)
        + _deploys(report)
        + f"<section><h2>Sources</h2><ul class=sources>{sources}</ul></section>"
    )
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="color-scheme" content="light dark">'
        f"<title>{_e(title)}</title><style>{css}</style></head><body>{body}</body></html>\n"
    )
