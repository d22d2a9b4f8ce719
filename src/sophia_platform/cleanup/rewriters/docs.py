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
    commands_first,
    replaced,
    span_edit,
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
        out = Rewrite()
        spans: set[tuple[int, int]] = set()  # one command may carry several findings
        for site in commands_first(sites):
            line = lines[site.line - 1]
            if site.kind != "command" and replaced(out.edits, site):
                continue  # inside a command replaced by the one deploy path
            in_code = site.line in fenced or line[: site.start].count("`") % 2 == 1
            if site.kind == "command":
                edit = _command_edit(line, site, in_code, site.line in fenced)
                if edit is None:
                    out.skipped.append((site, "no replacement for this command; edit it by hand"))
                elif (edit.line, edit.start) not in spans:
                    spans.add((edit.line, edit.start))
                    out.edits.append(edit)
                continue
            new = "${" + site.name + "}" if in_code else f"`{site.name}`"
            out.edits.append(span_edit(lines, site, new))
        return out


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
