"""The small interface every audit rule implements.

A :class:`Rule` looks at one decoded file at a time (``check``). A :class:`CorpusRule` needs
the whole repository (duplicates, redundant workflows): it condenses each file into a small
summary (``summarize``) and decides once every file was seen (``judge``). Adding a rule is one
module with one subclass and one line in :mod:`sophia_platform.audit.rules`.
"""

from __future__ import annotations

import hashlib
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from sophia_platform.audit.model import Finding, Severity
from sophia_platform.audit.source import SourceFile

_SPACE = re.compile(r"\s+")


def fingerprint(*parts: str) -> str:
    """A stable, short, non-reversible id of a finding built from its identifying parts."""
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8", "surrogatepass")).hexdigest()
    return digest[:24]


def normalise_line(text: str) -> str:
    """A line with its whitespace collapsed: the part of a fingerprint that survives moves."""
    return _SPACE.sub(" ", text.strip())


@dataclass(frozen=True, slots=True)
class RepoContext:
    """What a corpus rule may know about the repository besides file summaries."""

    root: Path
    canonical: dict[str, str] = field(default_factory=dict)  # group/purpose -> preferred path
    commit_times: Callable[[list[str]], dict[str, int]] = lambda paths: {}
    spec_text: str = ""  # the repository's sophia.yaml, where a canonical workflow may be named


HELP_URI = "https://github.com/ai-cherry/sophia-platform/blob/main/README.md"
"""Where the rules are documented; each rule's ``help_uri`` is an anchor in it."""


class Rule(ABC):
    """One kind of tech debt. Subclasses declare metadata and implement :meth:`check`.

    Everything other parts read about a rule lives on its class: the scanner (``kinds``,
    ``in_archive``, ``order``), the reporters (``title``, ``help``, ``help_uri``, ``tags``,
    ``security_severity``, ``precision``; :meth:`descriptor` is its SARIF form), the cleanup
    (``fixed_by_cleanup``, ``manual_step``) and the tests' fixtures. Adding a rule is one module
    in this package with one subclass; the registry (:mod:`sophia_platform.audit.rules`) finds it.
    """

    id: ClassVar[str]
    name: ClassVar[str]  # PascalCase, for SARIF ``rule.name``
    title: ClassVar[str]  # one sentence: what is flagged
    help: ClassVar[str]  # why it matters and how to fix it (Markdown allowed)
    severity: ClassVar[Severity] = Severity.WARNING
    order: ClassVar[int] = 100  # report order (lower first), then id
    file_level: ClassVar[bool] = False  # one finding per file (line 1), not per line
    tags: ClassVar[tuple[str, ...]] = ("maintainability",)  # SARIF ``properties.tags``
    # GitHub code scanning ranks security alerts by this (0.0-10.0); None: not a security rule.
    security_severity: ClassVar[str | None] = None
    precision: ClassVar[str] = "high"  # SARIF/CodeQL: very-high | high | medium | low
    fixed_by_cleanup: ClassVar[bool] = False  # `sophia cleanup` fixes its findings
    # What a person does about a finding the cleanup does not fix (rewriting prose is not
    # safe): the cleanup plan lists such findings with this step. None: nothing to list.
    manual_step: ClassVar[str | None] = None
    # Judges files against each other, so a scan of some files only (--since) skips it.
    needs_whole_repo: ClassVar[bool] = False
    kinds: ClassVar[frozenset[str] | None] = None  # file kinds to look at; None = all but lock
    # Also check archived files (archive/): moving a file there retires it, but a credential
    # in it is still committed until someone rotates it and removes it.
    in_archive: ClassVar[bool] = False

    @classmethod
    def help_uri(cls) -> str:
        """The rule's section of the README."""
        return f"{HELP_URI}#{cls.id}"

    @classmethod
    def descriptor(cls) -> dict[str, Any]:
        """The rule as a SARIF 2.1.0 ``reportingDescriptor``."""
        properties: dict[str, Any] = {
            "tags": ["sophia", *cls.tags],
            "precision": cls.precision,
            "problem.severity": "recommendation"
            if cls.severity is Severity.NOTE
            else (cls.severity.value),
        }
        if cls.security_severity is not None:
            properties["security-severity"] = cls.security_severity
        return {
            "id": cls.id,
            "name": cls.name,
            "shortDescription": {"text": cls.title},
            "fullDescription": {"text": cls.title},
            "help": {"text": cls.help.replace("`", ""), "markdown": cls.help},
            "helpUri": cls.help_uri(),
            "defaultConfiguration": {"level": cls.severity.value},
            "properties": properties,
        }

    def wants(self, file: SourceFile) -> bool:
        """Whether :meth:`check` should see this file (by default: its kind)."""
        if self.kinds is None:
            return file.kind != "lock"
        return file.kind in self.kinds

    def check(self, file: SourceFile) -> Iterable[Finding]:
        """Findings in one file."""
        return ()

    def at(
        self,
        file: SourceFile,
        start: int,
        end: int,
        message: str,
        *,
        basis: str,
        data: dict[str, str] | None = None,
    ) -> Finding:
        """Build a finding for ``file.text[start:end]``; ``basis`` names it in the fingerprint."""
        line, column = file.position(start)
        end_line, end_column = file.position(end)
        return Finding(
            rule_id=self.id,
            path=file.path,
            line=line,
            column=column,
            end_line=end_line,
            end_column=end_column,
            message=message,
            severity=self.severity,
            fingerprint=fingerprint(self.id, file.path, basis),
            data=data or {},
        )

    def whole_file(self, path: str, message: str, data: dict[str, str]) -> Finding:
        """A file-level finding (line 1, column 1)."""
        return Finding(
            rule_id=self.id,
            path=path,
            line=1,
            column=1,
            end_line=1,
            end_column=1,
            message=message,
            severity=self.severity,
            fingerprint=fingerprint(self.id, path),
            data=data,
        )


class CorpusRule(Rule):
    """A rule that compares files with each other (or reports repository-wide facts)."""

    needs_whole_repo = True

    @abstractmethod
    def summarize(self, file: SourceFile) -> Any | None:
        """A small picklable summary of one file, or None when the file is irrelevant."""

    @abstractmethod
    def judge(self, summaries: Sequence[tuple[str, Any]], ctx: RepoContext) -> Iterable[Finding]:
        """Findings over all (path, summary) pairs."""

    def facts(self, summaries: Sequence[tuple[str, Any]]) -> dict[str, list[str]]:
        """Repository facts for the summary metrics (e.g. deployment methods seen)."""
        return {}
