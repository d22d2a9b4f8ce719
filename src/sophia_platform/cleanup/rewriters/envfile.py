"""Env files: an address becomes ``${NAME}``; a placeholder secret loses its value."""

from __future__ import annotations

from typing import ClassVar

from sophia_platform.cleanup.plan import TextEdit
from sophia_platform.cleanup.rewriters.base import (
    Rewrite,
    Rewriter,
    Site,
    quoted_span,
    span_edit,
    split_lines,
)


class EnvRewriter(Rewriter):
    """``REDIS_HOST=10.0.0.7`` → ``REDIS_HOST=${REDIS_HOST}``; ``KEY=changeme`` → ``KEY=``."""

    kinds: ClassVar[frozenset[str]] = frozenset({"env"})

    def rewrite(self, text: str, sites: list[Site]) -> Rewrite:
        """Replace addresses with references and empty placeholder values."""
        lines = split_lines(text)
        out = Rewrite()
        for site in sites:
            if site.kind == "host":
                out.edits.append(span_edit(lines, site, "${" + site.name + "}"))
                continue
            line = lines[site.line - 1]
            start, end = quoted_span(line, site) or (site.start, site.end)
            out.edits.append(TextEdit(site.line, start, end, line[start:end], ""))
        return out
