"""``--format sarif``: SARIF 2.1.0 for GitHub code scanning.

Paths are repo-relative ``artifactLocation.uri`` values (percent-encoded, ``uriBaseId``
``%SRCROOT%``), regions are 1-based with ``columnKind`` ``unicodeCodePoints``, every rule
carries its metadata and help, and each result has a ``partialFingerprints`` entry built
from the move-stable audit fingerprint. No secret value is ever included.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from sophia_platform import __version__
from sophia_platform.audit.model import AuditResult, Finding
from sophia_platform.audit.rules import RULES

# The OASIS schema's own id (errata01), which the tests validate against.
SARIF_SCHEMA = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)


def rule_descriptors(rule_ids: tuple[str, ...]) -> list[dict[str, Any]]:
    """SARIF ``reportingDescriptor`` objects for the selected rules (from the rule classes)."""
    return [cls.descriptor() for cls in RULES if cls.id in rule_ids]


def _region(finding: Finding) -> dict[str, int]:
    region = {"startLine": finding.line}
    if finding.end_column > finding.column or finding.end_line > finding.line:
        region |= {
            "startColumn": finding.column,
            "endLine": finding.end_line,
            "endColumn": finding.end_column,
        }
    return region


def _result(finding: Finding, index: dict[str, int]) -> dict[str, Any]:
    return {
        "ruleId": finding.rule_id,
        "ruleIndex": index[finding.rule_id],
        "level": finding.severity.value,
        "message": {"text": finding.message},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {
                        "uri": quote(finding.path, safe="/"),
                        "uriBaseId": "%SRCROOT%",
                    },
                    "region": _region(finding),
                }
            }
        ],
        "partialFingerprints": {"sophiaAuditFingerprint/v1": finding.fingerprint},
        "properties": dict(finding.data),
    }


def _invocation(result: AuditResult) -> dict[str, Any]:
    invocation: dict[str, Any] = {"executionSuccessful": True}
    if result.skipped_rules:
        # A part of the repository (--since, named files): say so where code scanning shows it.
        text = (
            f"Scanned {result.stats.files_listed} file(s), not the whole repository; "
            f"repository-wide rules not run: {', '.join(result.skipped_rules)}."
        )
        invocation["toolExecutionNotifications"] = [{"level": "note", "message": {"text": text}}]
    return invocation


def document(result: AuditResult) -> dict[str, Any]:
    """Build the SARIF log (one run)."""
    rules = rule_descriptors(result.rules)
    index = {rule["id"]: i for i, rule in enumerate(rules)}
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "sophia-audit",
                        "version": __version__,
                        "semanticVersion": __version__,
                        "rules": rules,
                    }
                },
                "columnKind": "unicodeCodePoints",
                "invocations": [_invocation(result)],
                "results": [_result(f, index) for f in result.findings],
                "properties": {
                    "summary": result.metrics.to_dict(),
                    "rulesNotRun": list(result.skipped_rules),
                },
            }
        ],
    }


def render(result: AuditResult) -> str:
    """Render the SARIF log as JSON text."""
    return json.dumps(document(result), indent=2) + "\n"
