"""``sophia audit``: find deployment tech debt in a repository.

Public API (the cleanup and the CLI use only this)::

    from sophia_platform.audit import scan, ScanOptions, AuditResult, Finding, RULE_IDS

    result: AuditResult = scan(Path("repo"), ScanOptions(rules=frozenset({"hardcoded-ip"})))
    result.root        # the git top level (Finding.path is relative to it)
    result.findings    # list[Finding], suppressions applied, sorted by rule, path, line
    result.stats       # ScanStats: files_scanned, bytes_scanned, duration_s, skipped
    result.metrics     # Metrics: deployment_methods, secret_sync_workflows, hardcoded_ips, ...

Without a directory walk (files from git blobs, say), the scan is two halves::

    done = pass_sources([(path, raw_bytes), ...], config, rule_ids, max_bytes)  # per file
    result = conclude(done, RepoContext(root, ...), rule_ids, config, ScanOptions(), stats)

and :func:`ruleset_version` names the rules as installed (a key for caches of results).

See :mod:`sophia_platform.audit.model` for the meaning of every ``Finding`` field and the
per-rule ``data`` keys, :mod:`.config` for ``.sophia-audit.yml`` and :mod:`.baseline` for
baseline files. Rules live in :mod:`.rules` (one module each); reporters in :mod:`.reporters`.
"""

from __future__ import annotations

from sophia_platform.audit.config import ARCHIVE_DIR, CONFIG_FILE, AuditConfig, load_config
from sophia_platform.audit.filepass import FilePass, pass_sources
from sophia_platform.audit.model import (
    AuditResult,
    Finding,
    Metrics,
    ScanStats,
    Severity,
    SkippedFile,
)
from sophia_platform.audit.rules import RULE_IDS, RepoContext
from sophia_platform.audit.ruleset import ruleset_version
from sophia_platform.audit.scanner import ScanOptions, conclude, scan

__all__ = [
    "ARCHIVE_DIR",
    "CONFIG_FILE",
    "RULE_IDS",
    "AuditConfig",
    "AuditResult",
    "FilePass",
    "Finding",
    "Metrics",
    "RepoContext",
    "ScanOptions",
    "ScanStats",
    "Severity",
    "SkippedFile",
    "conclude",
    "load_config",
    "pass_sources",
    "ruleset_version",
    "scan",
]
