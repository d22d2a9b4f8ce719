"""The per-file pass of a scan: read each file once, run every file rule, collect summaries.

It is a plain function over picklable inputs so that a scan can split the file list across
worker processes (``ScanOptions.jobs``) and merge the passes in order.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sophia_platform.audit.config import AuditConfig
from sophia_platform.audit.model import Finding, SkippedFile
from sophia_platform.audit.rules import CorpusRule, all_rules
from sophia_platform.audit.rules.base import Rule
from sophia_platform.audit.source import SourceFile
from sophia_platform.audit.suppress import inline_ignores
from sophia_platform.audit.vendored import Scope
from sophia_platform.audit.walker import read_source, source_from_bytes


@dataclass
class FilePass:
    """What the per-file pass produced for a run of files."""

    findings: list[Finding] = field(default_factory=list)
    summaries: dict[str, list[tuple[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    ignores: dict[str, dict[int, frozenset[str]]] = field(default_factory=dict)
    skipped: list[SkippedFile] = field(default_factory=list)
    files: int = 0
    bytes: int = 0

    def reorder(self, index: dict[str, int]) -> None:
        """Put everything in the order of ``index`` (path -> position in the listing).

        Each file is passed by one worker, in order, so a stable sort by path position gives
        what one sequential pass over the listing gives.
        """

        def at(path: str) -> int:
            return index.get(path, len(index))

        self.findings.sort(key=lambda f: at(f.path))
        for rows in self.summaries.values():
            rows.sort(key=lambda row: at(row[0]))
        self.ignores = dict(sorted(self.ignores.items(), key=lambda item: at(item[0])))
        self.skipped.sort(key=lambda s: at(s.path))

    def merge(self, other: FilePass) -> None:
        """Append another pass (:meth:`reorder` puts the whole back in listing order)."""
        self.findings.extend(other.findings)
        for rule_id, rows in other.summaries.items():
            self.summaries[rule_id].extend(rows)
        self.ignores.update(other.ignores)
        self.skipped.extend(other.skipped)
        self.files += other.files
        self.bytes += other.bytes


def run_pass(
    root: Path,
    paths: list[str],
    config: AuditConfig,
    rule_ids: tuple[str, ...],
    max_bytes: int,
    scope: Scope | None = None,
) -> FilePass:
    """Read ``paths`` under ``root`` and run the selected rules' per-file work."""
    readers = ((rel, _reader(root, rel, max_bytes)) for rel in paths)
    return pass_files(readers, config, rule_ids, scope)


def pass_sources(
    files: Iterable[tuple[str, bytes]],
    config: AuditConfig,
    rule_ids: tuple[str, ...],
    max_bytes: int,
    scope: Scope | None = None,
) -> FilePass:
    """The per-file pass over (path, bytes) pairs that never touch the disk (e.g. git blobs).

    ``scope`` decides which files are vendored or generated; the default, from ``config``,
    knows virtualenvs by their folder names only (``Scope.of`` also finds them by their
    ``pyvenv.cfg`` when the whole listing is known).
    """
    return pass_files(
        ((rel, functools.partial(source_from_bytes, rel, raw, max_bytes)) for rel, raw in files),
        config,
        rule_ids,
        scope,
    )


def pass_files(
    files: Iterable[tuple[str, Callable[[], SourceFile | SkippedFile]]],
    config: AuditConfig,
    rule_ids: tuple[str, ...],
    scope: Scope | None = None,
) -> FilePass:
    """Run the per-file pass over (path, read) pairs; ``read`` is called only when needed.

    Vendored and generated files (:mod:`.vendored`) are skipped before anything else, even
    in ``archive/``: no rule reads them and the cleanup never touches them.
    """
    rules = RuleSet.of(rule_ids)
    if scope is None:
        scope = Scope(enabled=config.vendored, include=config.include)
    out = FilePass()
    for rel, read in files:
        place = placement(rel, config, scope, archive_rules=bool(rules.archive))
        if place != "live":
            out.skipped.append(SkippedFile(rel, place))
            if place == "archived" and not isinstance(item := read(), SkippedFile):
                check_source(item, rules, out, archived=True)
            continue
        item = read()
        if isinstance(item, SkippedFile):
            out.skipped.append(item)
            continue
        if scope.generated(rel, item.text):
            out.skipped.append(SkippedFile(rel, "generated"))
            continue
        out.files += 1
        out.bytes += item.size
        check_source(item, rules, out)
    return out


def placement(rel: str, config: AuditConfig, scope: Scope, *, archive_rules: bool) -> str:
    """How the per-file pass treats a path by its name alone.

    ``live`` (read by every rule), ``archived`` (read only by ``in_archive`` rules), or the
    reason it is skipped unread: ``vendored``, ``generated``, ``excluded``. Content can still
    make a live file ``generated`` once read (:meth:`Scope.generated`).
    """
    why = scope.reason(rel)
    if why is not None:
        return why
    if config.excluded(rel):
        return "archived" if archive_rules and config.archived(rel) else "excluded"
    return "live"


@dataclass(frozen=True)
class RuleSet:
    """The selected rules, split the way the per-file pass uses them."""

    file_rules: tuple[Rule, ...]
    corpus_rules: tuple[CorpusRule, ...]
    archive: tuple[Rule, ...]  # file rules that also read archived files

    @classmethod
    def of(cls, rule_ids: tuple[str, ...]) -> RuleSet:
        """Fresh instances of the rules named by ``rule_ids``."""
        rules = [rule for rule_id, rule in all_rules().items() if rule_id in rule_ids]
        file_rules = tuple(r for r in rules if not isinstance(r, CorpusRule))
        return cls(
            file_rules,
            tuple(r for r in rules if isinstance(r, CorpusRule)),
            tuple(r for r in file_rules if r.in_archive),
        )


def check_source(
    item: SourceFile, rules: RuleSet, out: FilePass, *, archived: bool = False
) -> None:
    """Run every rule's per-file work on one decoded file, appending to ``out``.

    An archived file (``archive/``) is read only by the ``in_archive`` rules and summarised
    for no corpus rule: moving a file there retires it.
    """
    for rule in rules.archive if archived else rules.file_rules:
        if rule.wants(item):
            out.findings.extend(rule.check(item))
    if not archived:
        for corpus in rules.corpus_rules:
            summary = corpus.summarize(item)
            if summary is not None:
                out.summaries[corpus.id].append((item.path, summary))
    marks = inline_ignores(item)
    if marks:
        out.ignores[item.path] = marks


def _reader(root: Path, rel: str, max_bytes: int) -> Callable[[], SourceFile | SkippedFile]:
    return functools.partial(read_source, root, rel, max_bytes)
