"""The rewriter interface: one module per language turns flagged spans into text edits.

A rewriter gets a file's text and the :class:`Site` s to fix (a host address to replace with a
config lookup, a placeholder secret to remove, or an old deploy command to replace with the one
deploy path) and returns edits plus the sites it refused; ``site_kinds`` says which of those it
knows, the planner reports the others as not fixed.
:meth:`Rewriter.check` then says whether the rewritten file is still valid for its language;
the planner drops the whole file's rewrite when it is not.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import ClassVar, Literal

from sophia_platform.cleanup.plan import TextEdit, split_lines

__all__ = [
    "Rewrite",
    "Rewriter",
    "Site",
    "SiteKind",
    "SiteRewriter",
    "commands_first",
    "quoted_edit",
    "quoted_span",
    "reference",
    "replaced",
    "rewrite_commands_first",
    "span_edit",
    "split_lines",
]

SiteKind = Literal["host", "secret", "command"]


@dataclass(frozen=True)
class Site:
    """A flagged span on one line (0-based, end exclusive) and the key that replaces it.

    ``host``: an address, ``name`` its config key; ``secret``: a placeholder, ``name`` the
    secret's name; ``command``: an old deploy command, ``name`` the audit's construct.
    """

    line: int
    start: int
    end: int
    text: str
    name: str
    kind: SiteKind


@dataclass
class Rewrite:
    """Edits for one file, and the sites that could not be rewritten (with the reason)."""

    edits: list[TextEdit] = field(default_factory=list)
    skipped: list[tuple[Site, str]] = field(default_factory=list)


class Rewriter(ABC):
    """Rewrites one language; ``kinds`` are the audit's file kinds it handles."""

    kinds: ClassVar[frozenset[str]]
    site_kinds: ClassVar[frozenset[SiteKind]] = frozenset({"host", "secret"})  # what it fixes

    @abstractmethod
    def rewrite(self, text: str, sites: list[Site]) -> Rewrite:
        """Edits that replace every site it can."""

    def check(self, original: str, rewritten: str) -> str | None:
        """Why ``rewritten`` is broken (None: fine). Default: no check possible."""
        return None


class SiteRewriter(Rewriter):
    """A rewriter whose edit for one site depends on nothing but that site's line."""

    def rewrite(self, text: str, sites: list[Site]) -> Rewrite:
        """One :meth:`edit` per site, in order."""
        lines = split_lines(text)
        out = Rewrite()
        for site in sites:
            edit = self.edit(lines, site)
            if isinstance(edit, str):
                out.skipped.append((site, edit))
            else:
                out.edits.append(edit)
        return out

    @abstractmethod
    def edit(self, lines: list[str], site: Site) -> TextEdit | str:
        """The edit for ``site``, or why it is left alone."""


def rewrite_commands_first(
    lines: list[str],
    sites: list[Site],
    command: Callable[[Site], tuple[TextEdit | None, str]],
    value: Callable[[Site], str],
) -> Rewrite:
    """Old commands replaced by ``command`` (edit, or None and why), other sites by ``value``.

    Commands go first so an address inside a replaced command goes with it, and a command
    that carries several findings is replaced once.
    """
    out = Rewrite()
    spans: set[tuple[int, int]] = set()
    for site in commands_first(sites):
        if site.kind == "command":
            edit, reason = command(site)
            if edit is None:
                out.skipped.append((site, reason))
            elif (edit.line, edit.start) not in spans:
                spans.add((edit.line, edit.start))
                out.edits.append(edit)
        elif not replaced(out.edits, site):
            out.edits.append(span_edit(lines, site, value(site)))
    return out


def reference(name: str) -> str:
    """The ``${NAME}`` reference that replaces an address."""
    return "${" + name + "}"


def commands_first(sites: list[Site]) -> list[Site]:
    """Sites with old commands first: an address inside a replaced command goes with it."""
    return sorted(sites, key=lambda site: site.kind != "command")


def replaced(edits: list[TextEdit], site: Site) -> bool:
    """True when one of ``edits`` already replaces the text the site points at."""
    return any(e.line == site.line and e.start <= site.start < e.end for e in edits)


def span_edit(lines: list[str], site: Site, new: str) -> TextEdit:
    """An edit replacing exactly the site's span."""
    return TextEdit(
        site.line, site.start, site.end, lines[site.line - 1][site.start : site.end], new
    )


def quoted_edit(lines: list[str], site: Site, new: str) -> TextEdit:
    """An edit replacing the site with ``new``, its quotes too when it is a whole quoted value."""
    line = lines[site.line - 1]
    start, end = quoted_span(line, site) or (site.start, site.end)
    return TextEdit(site.line, start, end, line[start:end], new)


def quoted_span(line: str, site: Site) -> tuple[int, int] | None:
    """The span including surrounding quotes when the site is a whole quoted value."""
    if site.start > 0 and site.end < len(line):
        before, after = line[site.start - 1], line[site.end]
        if before == after and before in "'\"":
            return site.start - 1, site.end + 1
    return None
