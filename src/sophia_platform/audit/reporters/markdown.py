"""``--format markdown``: a report for pull requests and wikis."""

from __future__ import annotations

from sophia_platform.audit.model import AuditResult
from sophia_platform.audit.reporters.summary import summary_line, targets_met
from sophia_platform.audit.rules import RULES


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render(result: AuditResult) -> str:
    """Render the whole report as GitHub-flavoured Markdown."""
    out = ["# sophia audit", "", f"**Summary:** {summary_line(result.metrics)}", ""]
    out += ["| target | status |", "| --- | --- |"]
    out += [
        f"| {name} | {'met' if ok else 'not met'} |"
        for name, ok in targets_met(result.metrics).items()
    ]
    out += ["", "| rule | findings |", "| --- | ---: |"]
    out += [f"| `{rule}` | {count} |" for rule, count in result.counts().items()]
    titles = {cls.id: cls for cls in RULES}
    for rule_id, findings in result.by_rule().items():
        cls = titles[rule_id]
        out += ["", f"## `{rule_id}` ({len(findings)})", "", cls.title, "", f"> {cls.help}", ""]
        out += ["| location | message |", "| --- | --- |"]
        out += [f"| `{_cell(f.path)}:{f.line}` | {_cell(f.message)} |" for f in findings]
    stats = result.stats
    out += [
        "",
        f"_{stats.files_scanned} files ({stats.bytes_scanned / 1e6:.1f} MB) scanned in "
        f"{stats.duration_s:.2f} s; {len(stats.skipped)} skipped; "
        f"{sum(result.suppressed.values())} suppressed._",
        "",
    ]
    return "\n".join(out)
