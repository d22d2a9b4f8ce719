"""The report as GitHub Markdown: for a PR comment or ``$GITHUB_STEP_SUMMARY``."""

from __future__ import annotations

from sophia_platform.report.charts import sparkline
from sophia_platform.report.model import Check, HistoryPoint, Metric, Report

ICON = {"pass": "✅ pass", "fail": "❌ fail", "unknown": "❔ unknown"}
# Which history series shows the trend of a metric.
TREND = {
    "deployment-methods": "deployment_methods",
    "secret-sync-workflows": "secret_sync_workflows",
    "hardcoded-ips": "hardcoded_ips",
    "manual-steps": "manual_steps",
}


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _value(metric: Metric) -> str:
    if metric.value is None:
        return "unknown"
    return f"{metric.value:g}{(' ' + metric.unit) if metric.unit else ''}"


def _trend(points: list[HistoryPoint], key: str) -> str:
    values = [float(p.metrics.get(key, 0)) for p in points]
    return f"`{sparkline(values)}` {values[0]:g} → {values[-1]:g}" if values else ""


def _checks(rows: list[Check]) -> list[str]:
    lines = ["| | item | why | fix |", "| --- | --- | --- | --- |"]
    for row in rows:
        fix = f"`{_cell(row.fix)}`" if row.fix else ""
        lines.append(f"| {ICON[row.status]} | {_cell(row.title)} | {_cell(row.reason)} | {fix} |")
    return lines


def render_markdown(report: Report) -> str:
    """The tables of the report and a compact trend (sparklines) of its history."""
    points = report.history.points if report.history else []
    where = report.project or report.repository
    commit = f" at `{report.commit[:12]}`" if report.commit else ""
    env = f" ({report.environment})" if report.environment else ""
    out = [f"## Migration report: {where}{env}{commit}", ""]
    header = "| metric | now | target | was | status |" + (" trend |" if points else "")
    out += [header, "|" + " --- |" * (6 if points else 5)]
    for m in report.metrics:
        row = (
            f"| {m.title} | {_value(m)} | {m.target:g}{(' ' + m.unit) if m.unit else ''} "
            f"| {m.baseline} | {ICON[m.status]} |"
        )
        if points:
            row += f" {_trend(points, TREND[m.id])} |" if m.id in TREND else " |"
        out.append(row)
    out += ["", "### Definition of Done", "", *_checks(report.dod)]
    out += ["", "### Daily checklist", "", *_checks(report.checklists)]
    out += ["", "### Progress", "", "| counter | done | status |", "| --- | --- | --- |"]
    for p in report.progress:
        done = (p.reason or "unknown") if p.done is None else f"{p.done}/{p.total}"
        why = f" — {_cell(p.reason)}" if p.done is not None and p.status == "unknown" else ""
        out.append(f"| {p.title} | {done}{why} | {ICON[p.status]} |")
    if report.history and points:
        out += _burndown(report.history.rules, points)
    durations = [d.duration_s for d in report.deploys if d.duration_s is not None]
    if durations:
        out += [
            "",
            f"Deploy durations (last {len(durations)}, seconds): `{sparkline(durations)}` "
            f"{durations[0]:g} → {durations[-1]:g}",
        ]
    unknown = [s for s in report.sources if not s.available]
    if unknown:
        out += ["", "<sub>Not read: " + "; ".join(f"{s.name} ({s.detail})" for s in unknown)]
        out[-1] += "</sub>"
    return "\n".join(out) + "\n"


def _burndown(rules: list[str], points: list[HistoryPoint]) -> list[str]:
    first, last = points[0], points[-1]
    out = [
        "",
        f"### Burn-down over {len(points)} commits",
        "",
        "| rule | first | now | trend |",
        "| --- | --- | --- | --- |",
    ]
    for rule in rules:
        series = [float(p.counts.get(rule, 0)) for p in points]
        if not any(series):
            continue
        out.append(
            f"| {rule} | {first.counts.get(rule, 0)} | {last.counts.get(rule, 0)} "
            f"| `{sparkline(series)}` |"
        )
    return out
