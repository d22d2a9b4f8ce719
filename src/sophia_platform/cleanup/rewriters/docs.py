"""Docs: an address becomes the variable name in backticks (``${NAME}`` inside code)."""

from __future__ import annotations

from typing import ClassVar

from sophia_platform.cleanup.rewriters.base import Rewrite, Rewriter, Site, span_edit, split_lines


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

    def rewrite(self, text: str, sites: list[Site]) -> Rewrite:
        """Name the key instead of the address."""
        lines = split_lines(text)
        fenced = fenced_lines(lines)
        out = Rewrite()
        for site in sites:
            line = lines[site.line - 1]
            in_code = site.line in fenced or line[: site.start].count("`") % 2 == 1
            new = "${" + site.name + "}" if in_code else f"`{site.name}`"
            out.edits.append(span_edit(lines, site, new))
        return out
