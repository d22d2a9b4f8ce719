"""``sophia audit``: find deployment tech debt in a repository.

Public API (the cleanup and the CLI use only this)::

    from sophia_platform.audit import scan, ScanOptions, AuditResult, Finding, RULE_IDS

    result: AuditResult = scan(Path("repo"), ScanOptions(rules=frozenset({"hardcoded-ip"})))
    result.root        # the git top level (Finding.path is relative to it)
    result.findings    # list[Finding], suppressions applied, sorted by rule, path, line
    result.stats       # ScanStats: files_scanned, bytes_scanned, duration_s, skipped
    result.metrics     # Metrics: deployment_methods, secret_sync_workflows, hardcoded_ips, ...

    # Blobs without a checkout (e.g. one commit of a history); cache by RULESET_VERSION:
    result = scan_files([("deploy.sh", b"ssh root@10.0.0.5 ..."), ...], ScanOptions())

See :mod:`sophia_platform.audit.model` for the meaning of every ``Finding`` field and the
per-rule ``data`` keys, :mod:`.config` for ``.sophia-audit.yml`` and :mod:`.baseline` for
baseline files. Rules live in :mod:`.rules` (one module each); reporters in :mod:`.reporters`.
"""

from __future__ import annotations

from sophia_platform.audit.config import ARCHIVE_DIR, CONFIG_FILE, AuditConfig, load_config
from sophia_platform.audit.model import (
    AuditResult,
    Finding,
    Metrics,
    ScanStats,
    Severity,
    SkippedFile,
)
from sophia_platform.audit.rules import RULE_IDS, RULESET_VERSION
from sophia_platform.audit.scanner import ScanOptions, scan, scan_files

__all__ = [
    "ARCHIVE_DIR",
    "CONFIG_FILE",
    "RULESET_VERSION",
    "RULE_IDS",
    "AuditConfig",
    "AuditResult",
    "Finding",
    "Metrics",
    "ScanOptions",
    "ScanStats",
    "Severity",
    "SkippedFile",
    "load_config",
    "scan",
    "scan_files",
]
