"""TOML: an address inside a string becomes ``${NAME}``; a placeholder string becomes ``""``."""

from __future__ import annotations

import tomllib
from typing import ClassVar

from sophia_platform.cleanup.rewriters.base import (
    Rewrite,
    Rewriter,
    Site,
    quoted_span,
    span_edit,
    split_lines,
)


class TomlRewriter(Rewriter):
    """``host = "10.0.0.5"`` → ``host = "${NODE_AI_CORE_HOST}"``."""

    kinds: ClassVar[frozenset[str]] = frozenset({"toml"})

    def rewrite(self, text: str, sites: list[Site]) -> Rewrite:
        """Replace inside quoted strings; refuse bare values (TOML has no bare strings)."""
        lines = split_lines(text)
        out = Rewrite()
        for site in sites:
            if quoted_span(lines[site.line - 1], site) is None and site.kind == "secret":
                out.skipped.append((site, "placeholder is not a quoted TOML string"))
                continue
            new = "${" + site.name + "}" if site.kind == "host" else ""
            out.edits.append(span_edit(lines, site, new))
        return out

    def check(self, original: str, rewritten: str) -> str | None:
        """The rewrite must still load when the original did."""
        try:
            tomllib.loads(original)
        except tomllib.TOMLDecodeError:
            return None
        try:
            tomllib.loads(rewritten)
        except tomllib.TOMLDecodeError:
            return "the rewritten TOML would not load"
        return None
