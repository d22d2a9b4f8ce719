"""Audit reporters: the only writers of report formats. Each returns text or a structure.

``REPORTERS`` maps ``--format`` names to functions ``(AuditResult) -> str``; the table format
is a structure (:func:`table.build`) that the CLI renders with Rich.
"""

from __future__ import annotations

from collections.abc import Callable

from sophia_platform.audit.model import AuditResult
from sophia_platform.audit.reporters import concise, json_report, markdown, sarif

REPORTERS: dict[str, Callable[[AuditResult], str]] = {
    "concise": concise.render,
    "json": json_report.render,
    "sarif": sarif.render,
    "markdown": markdown.render,
}
FORMATS: tuple[str, ...] = ("table", *REPORTERS)

__all__ = ["FORMATS", "REPORTERS"]
