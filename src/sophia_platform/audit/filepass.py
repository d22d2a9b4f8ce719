"""The per-file pass of a scan: read each file once, run every file rule, collect summaries.

It is a plain function over picklable inputs so that a scan can split the file list across
worker processes (``ScanOptions.jobs``) and merge the passes in order.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from sophia_platform.audit.config import AuditConfig
from sophia_platform.audit.model import Finding, SkippedFile
from sophia_platform.audit.rules import CorpusRule, all_rules
from sophia_platform.audit.source import SourceFile
from sophia_platform.audit.suppress import inline_ignores
from sophia_platform.audit.vendored import Scope
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


class Pass:
    """The selected rules, ready to look at files one by one (see :meth:`source`)."""

    def __init__(self, config: AuditConfig, rule_ids: tuple[str, ...], scope: Scope) -> None:
        rules = [rule for rule_id, rule in all_rules().items() if rule_id in rule_ids]
        self.config = config
        self.scope = scope
        self.file_rules = [r for r in rules if not isinstance(r, CorpusRule)]
        self.corpus_rules = [r for r in rules if isinstance(r, CorpusRule)]
        self.archive_rules = [r for r in self.file_rules if r.in_archive]
        self.out = FilePass()

    def out_of_scope(self, rel: str) -> str | None:
        """Why a path is not read by every rule (excluded, archived, vendored), else None."""
        vendored = self.scope.reason(rel)
        if vendored is not None:
            return vendored
        if self.config.excluded(rel):
            return "archived" if self.config.archived(rel) else "excluded"
        return None

    def visit(self, rel: str, read: Callable[[], SourceFile | SkippedFile]) -> None:
        """One listed file: skipped when out of scope, else ``read()`` and checked.

        An archived file is counted as skipped, but read by ``in_archive`` rules: a
        credential in it is still committed until someone rotates and removes it.
        """
        why = self.out_of_scope(rel)
        if why is None:
            self.source(read())
            return
        self.out.skipped.append(SkippedFile(rel, why))
        if why == "archived" and self.archive_rules:
            self.source(read(), archived=True)

    def source(self, item: SourceFile | SkippedFile, *, archived: bool = False) -> None:
        """Run the rules over one read file (or record why it was skipped)."""
        out = self.out
        if isinstance(item, SkippedFile):
            if not archived:
                out.skipped.append(item)
            return
        rel = item.path
        if self.scope.generated(rel, item.text):
            if not archived:
                out.skipped.append(SkippedFile(rel, "generated"))
            return
        rules = self.archive_rules if archived else self.file_rules
        if not archived:
            out.files += 1
            out.bytes += item.size
        for rule in rules:
            if rule.wants(item):
                out.findings.extend(rule.check(item))
        if not archived:
            for corpus in self.corpus_rules:
                summary = corpus.summarize(item)
                if summary is not None:
                    out.summaries[corpus.id].append((rel, summary))
        marks = inline_ignores(item)
        if marks:
            out.ignores[rel] = marks


def run_pass(
    root: Path,
    paths: list[str],
    config: AuditConfig,
    rule_ids: tuple[str, ...],
    max_bytes: int,
    scope: Scope | None = None,
) -> FilePass:
    """Read ``paths`` under ``root`` and run the selected rules' per-file work."""
    work = Pass(config, rule_ids, scope or Scope(enabled=False))
    for rel in paths:
        work.visit(rel, partial(read_source, root, rel, max_bytes))
    return work.out
