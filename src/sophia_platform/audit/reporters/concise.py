"""``--format concise``: one ``path:line: rule-id: message`` line per finding.

The compiler-style form editors and pre-commit show: sorted by path and line, so one file's
findings stay together. Messages never hold a secret value (rules show a fingerprint).
"""

from __future__ import annotations

from sophia_platform.audit.model import AuditResult


def render(result: AuditResult) -> str:
    """One line per finding, each ending in a newline ("" when there is none)."""
    findings = sorted(result.findings, key=lambda f: (f.path, f.line, f.column, f.rule_id))
    return "".join(f"{f.path}:{f.line}: {f.rule_id}: {f.message}\n" for f in findings)
