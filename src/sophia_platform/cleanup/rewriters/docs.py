"""Docs: an address becomes the variable name in backticks (``${NAME}`` inside code).

An old deploy command (Swarm, compose) becomes the one deploy path from
:mod:`sophia_platform.cleanup.deploy_commands` (``docker stack deploy -c x.yml app`` →
``./deploy.sh deploy <env>``), the rest of the line kept; one with no equivalent becomes
that table's note.
"""

from __future__ import annotations

from typing import ClassVar

from sophia_platform.cleanup import deploy_commands
from sophia_platform.cleanup.plan import TextEdit
from sophia_platform.cleanup.rewriters.base import (
    Rewrite,
    Rewriter,
    Site,
    SiteKind,
    reference,
    rewrite_commands_first,
    split_lines,
)

DOCS_ENV = " <env>"


def fenced_lines(lines: list[str]) -> set[int]:
    """1-based numbers of lines inside fenced code blocks."""
    inside: set[int] = set()
    fence = ""
    for number, line in enumerate(lines, 1):
        stripped = line.lstrip()
        marker = stripped[:3]
        if marker in ("```", "~~~"):
            fence = "" if fence == marker else fence or marker
            continue
        if fence:
            inside.add(number)
    return inside


class DocsRewriter(Rewriter):
    """``the API runs on 10.0.0.5`` → ``the API runs on `NODE_AI_CORE_HOST```."""

    kinds: ClassVar[frozenset[str]] = frozenset({"docs"})
    site_kinds: ClassVar[frozenset[SiteKind]] = frozenset({"host", "secret", "command"})

    def rewrite(self, text: str, sites: list[Site]) -> Rewrite:
        """Name the key instead of the address; the one deploy path instead of old commands."""
        lines = split_lines(text)
        fenced = fenced_lines(lines)

        def in_code(site: Site) -> bool:
            return site.line in fenced or lines[site.line - 1][: site.start].count("`") % 2 == 1

        def command(site: Site) -> tuple[TextEdit | None, str]:
            edit = _command_edit(lines[site.line - 1], site, in_code(site), site.line in fenced)
            return edit, "no replacement for this command; edit it by hand"

        def value(site: Site) -> str:
            return reference(site.name) if in_code(site) else f"`{site.name}`"

        return rewrite_commands_first(lines, sites, command, value)


def _command_edit(line: str, site: Site, in_code: bool, fenced: bool) -> TextEdit | None:
    found = deploy_commands.replacement(line, site.start, DOCS_ENV, prose=not in_code)
    if found is None:
        return None
    start, end = found.start, found.end
    if found.new is not None:
        new = found.new if in_code else f"`{found.new}`"
    elif fenced:
        new = f"# {found.note}"
    else:
        # Inline code: the note replaces the whole code span, backticks included.
        if in_code and start > 0 and line[start - 1] == "`" and line[end : end + 1] == "`":
            start, end = start - 1, end + 1
        new = f"({found.note})"
    return TextEdit(site.line, start, end, line[start:end], new)
