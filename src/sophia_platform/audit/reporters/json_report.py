"""``--format json``: every finding plus counts, metrics, stats and suppressions."""

from __future__ import annotations

import json
from typing import Any

from sophia_platform.audit.model import AuditResult

JSON_VERSION = 1


def document(result: AuditResult) -> dict[str, Any]:
    """Build the JSON document (``version`` 1)."""
    stats = result.stats
    return {
        "version": JSON_VERSION,
        "root": str(result.root),
        "summary": result.metrics.to_dict(),
        "counts": result.counts(),
        "suppressed": result.suppressed,
        "stats": {
            "files_listed": stats.files_listed,
            "files_scanned": stats.files_scanned,
            "bytes_scanned": stats.bytes_scanned,
            "duration_s": round(stats.duration_s, 4),
            "git_aware": stats.git_aware,
            "skipped": stats.skipped_by_reason(),
        },
        "findings": [f.to_dict() for f in result.findings],
    }


def render(result: AuditResult) -> str:
    """Render the JSON document as text."""
    return json.dumps(document(result), indent=2) + "\n"
