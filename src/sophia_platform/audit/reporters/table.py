"""The default report: findings grouped by rule with counts, as a structure the CLI renders."""

from __future__ import annotations

from dataclasses import dataclass

from sophia_platform.audit.model import AuditResult
from sophia_platform.audit.reporters.summary import summary_line
from sophia_platform.audit.rules import RULES


@dataclass(frozen=True, slots=True)
class Row:
    """One finding as a table row."""

    location: str
    message: str
    severity: str


@dataclass(frozen=True, slots=True)
class RuleGroup:
    """All findings of one rule (``rows`` may be cut to a limit; ``count`` is the total)."""

    rule_id: str
    title: str
    count: int
    rows: list[Row]


@dataclass(frozen=True, slots=True)
class TableReport:
    """Everything the table view shows."""

    groups: list[RuleGroup]
    counts: dict[str, int]
    summary: str
    footer: str


def build(result: AuditResult, max_rows: int = 20) -> TableReport:
    """Group findings by rule, keeping at most ``max_rows`` rows per rule (0 = all)."""
    titles = {cls.id: cls.title for cls in RULES}
    groups = []
    for rule_id, findings in result.by_rule().items():
        shown = findings if max_rows <= 0 else findings[:max_rows]
        rows = [Row(f"{f.path}:{f.line}", f.message, f.severity.value) for f in shown]
        groups.append(RuleGroup(rule_id, titles[rule_id], len(findings), rows))
    stats = result.stats
    skipped = ", ".join(f"{n} {why}" for why, n in sorted(stats.skipped_by_reason().items()))
    suppressed = sum(result.suppressed.values())
    footer = (
        f"{stats.files_scanned} files, {stats.bytes_scanned / 1e6:.1f} MB in "
        f"{stats.duration_s:.2f} s"
        + (f"; skipped {skipped}" if skipped else "")
        + (f"; {suppressed} suppressed" if suppressed else "")
        + ("" if stats.git_aware else "; not a git work tree: every file was read")
    )
    return TableReport(groups, result.counts(), summary_line(result.metrics), footer)
