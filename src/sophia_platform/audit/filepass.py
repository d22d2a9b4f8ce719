"""The per-file pass of a scan: read each file once, run every file rule, collect summaries.

It is a plain function over picklable inputs so that a scan can split the file list across
worker processes (``ScanOptions.jobs``) and merge the passes in order.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sophia_platform.audit.config import AuditConfig
from sophia_platform.audit.model import Finding, SkippedFile
from sophia_platform.audit.rules import CorpusRule, all_rules
from sophia_platform.audit.rules.base import Rule
from sophia_platform.audit.suppress import inline_ignores
from sophia_platform.audit.walker import read_source


@dataclass
class FilePass:
    """What the per-file pass produced for a run of files."""

    findings: list[Finding] = field(default_factory=list)
    summaries: dict[str, list[tuple[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    ignores: dict[str, dict[int, frozenset[str]]] = field(default_factory=dict)
    skipped: list[SkippedFile] = field(default_factory=list)
    files: int = 0
    bytes: int = 0

    def merge(self, other: FilePass) -> None:
        """Append another pass (over files listed after this one's)."""
        self.findings.extend(other.findings)
        for rule_id, rows in other.summaries.items():
            self.summaries[rule_id].extend(rows)
        self.ignores.update(other.ignores)
        self.skipped.extend(other.skipped)
        self.files += other.files
        self.bytes += other.bytes


def run_pass(
    root: Path, paths: list[str], config: AuditConfig, rule_ids: tuple[str, ...], max_bytes: int
) -> FilePass:
    """Read ``paths`` under ``root`` and run the selected rules' per-file work."""
    rules = [rule for rule_id, rule in all_rules().items() if rule_id in rule_ids]
    file_rules = [r for r in rules if not isinstance(r, CorpusRule)]
    corpus_rules = [r for r in rules if isinstance(r, CorpusRule)]
    archive_rules = [r for r in file_rules if r.in_archive]
    out = FilePass()
    for rel in paths:
        if config.excluded(rel):
            if archive_rules and config.archived(rel):
                _archived(root, rel, max_bytes, archive_rules, out)
            else:
                out.skipped.append(SkippedFile(rel, "excluded"))
            continue
        item = read_source(root, rel, max_bytes)
        if isinstance(item, SkippedFile):
            out.skipped.append(item)
            continue
        out.files += 1
        out.bytes += item.size
        for rule in file_rules:
            if rule.wants(item):
                out.findings.extend(rule.check(item))
        for corpus in corpus_rules:
            summary = corpus.summarize(item)
            if summary is not None:
                out.summaries[corpus.id].append((rel, summary))
        marks = inline_ignores(item)
        if marks:
            out.ignores[rel] = marks
    return out


def _archived(root: Path, rel: str, max_bytes: int, rules: list[Rule], out: FilePass) -> None:
    """An archived file: counted as skipped ("archived"), read only by ``in_archive`` rules."""
    out.skipped.append(SkippedFile(rel, "archived"))
    item = read_source(root, rel, max_bytes)
    if isinstance(item, SkippedFile):
        return
    for rule in rules:
        if rule.wants(item):
            out.findings.extend(rule.check(item))
    marks = inline_ignores(item)
    if marks:
        out.ignores[rel] = marks
