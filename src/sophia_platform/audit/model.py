"""The audit's result types: :class:`Finding`, :class:`ScanStats`, :class:`AuditResult`.

These are the contract the cleanup and the reporters consume:

* ``Finding.path`` is repo-relative and POSIX (``services/api/config.py``).
* ``line``/``column`` are 1-based; ``end_column`` is exclusive, as in SARIF, so the flagged
  text is ``lines[line - 1][column - 1 : end_column - 1]`` when ``line == end_line``. Columns
  count Unicode code points of the decoded line. File-level findings (``compose-file``,
  ``duplicate-file``, ``redundant-workflow``) point at line 1, column 1.
* ``fingerprint`` is stable across runs and line moves and never contains a secret value.
* ``data`` carries rule-specific facts for the cleanup, all strings:

  ============================  ===============================================================
  rule                          data keys
  ============================  ===============================================================
  ``hardcoded-ip``              ``address``, ``version`` ("4"/"6"), ``key`` (context name such
                                as ``REDIS_HOST``, may be ""), ``port`` (may be ""), ``kind``
                                (file kind: python, shell, yaml, env, json, toml, docs, ...),
                                ``context`` (dotted use: ``redis.host`` in YAML, a table
                                row's first cell in docs, else the key; may be "")
  ``compose-file``              ``services`` (comma-separated names), ``flavour`` (compose|stack)
  ``swarm-reference``           ``construct`` (e.g. ``docker stack deploy``, ``placement``),
                                ``kind`` (file kind, as for ``hardcoded-ip``)
  ``redundant-workflow``        ``group`` (purpose, e.g. ``secret-sync``), ``canonical`` (path),
                                ``members`` (comma-separated paths of the whole group)
  ``duplicate-file``            ``group`` (id), ``canonical`` (path), ``similarity`` ("1.00"),
                                ``exact`` ("true"/"false")
  ``placeholder-secret``        ``key`` (the secret-like name), ``kind``
  ``committed-secret``          ``key`` (name, may be ""), ``type`` (e.g. ``github-token``),
                                ``secret_fingerprint`` (``sha256:`` + 16 hex; never the value)
  ============================  ===============================================================
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any


class Severity(StrEnum):
    """How bad a finding is; the values are SARIF ``level`` values."""

    ERROR = "error"
    WARNING = "warning"
    NOTE = "note"


@dataclass(frozen=True, slots=True)
class Finding:
    """One piece of tech debt at one place in the repository."""

    rule_id: str
    path: str
    line: int
    column: int
    end_line: int
    end_column: int
    message: str
    severity: Severity
    fingerprint: str
    data: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping (the shape of ``sophia audit --format json``)."""
        return {
            "rule_id": self.rule_id,
            "path": self.path,
            "line": self.line,
            "column": self.column,
            "end_line": self.end_line,
            "end_column": self.end_column,
            "message": self.message,
            "severity": self.severity.value,
            "fingerprint": self.fingerprint,
            "data": dict(self.data),
        }


@dataclass(frozen=True, slots=True)
class SkippedFile:
    """A file the scanner did not read, and why (binary, too-large, unreadable, missing)."""

    path: str
    reason: str


@dataclass(slots=True)
class ScanStats:
    """What the scan cost."""

    files_scanned: int = 0
    bytes_scanned: int = 0
    duration_s: float = 0.0
    files_listed: int = 0
    git_aware: bool = True
    skipped: list[SkippedFile] = field(default_factory=list)

    def skipped_by_reason(self) -> dict[str, int]:
        """How many files were skipped per reason."""
        return dict(Counter(s.reason for s in self.skipped))


@dataclass(frozen=True, slots=True)
class Metrics:
    """The summary line, mapped onto the company's success metrics."""

    deployment_methods: tuple[str, ...]
    secret_sync_workflows: int
    hardcoded_ips: int
    distinct_ips: int
    compose_files: int
    duplicate_files: int

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping."""
        return {
            "deployment_methods": list(self.deployment_methods),
            "deployment_method_count": len(self.deployment_methods),
            "secret_sync_workflows": self.secret_sync_workflows,
            "hardcoded_ips": self.hardcoded_ips,
            "distinct_ips": self.distinct_ips,
            "compose_files": self.compose_files,
            "duplicate_files": self.duplicate_files,
        }


@dataclass(slots=True)
class AuditResult:
    """Findings after suppression, plus what was suppressed and what the scan cost."""

    root: Path
    findings: list[Finding]
    stats: ScanStats
    metrics: Metrics
    suppressed: dict[str, int] = field(default_factory=dict)
    rules: tuple[str, ...] = ()  # the rules that ran, in report order
    # Repository-wide rules that did not run because only part of the repository was scanned.
    skipped_rules: tuple[str, ...] = ()

    def by_rule(self) -> dict[str, list[Finding]]:
        """Findings grouped by rule id, in :attr:`rules` order (empty rules omitted)."""
        groups: dict[str, list[Finding]] = {}
        for rule_id in self.rules:
            hits = [f for f in self.findings if f.rule_id == rule_id]
            if hits:
                groups[rule_id] = hits
        return groups

    def counts(self) -> dict[str, int]:
        """Finding count per rule id, every selected rule present."""
        counter = Counter(f.rule_id for f in self.findings)
        return {rule_id: counter.get(rule_id, 0) for rule_id in self.rules}
