"""JSON: an address inside a string becomes ``${NAME}``; a placeholder string becomes ``""``."""

from __future__ import annotations

import json
from typing import ClassVar

from sophia_platform.cleanup.rewriters.base import Rewrite, Rewriter, Site, span_edit, split_lines


class JsonRewriter(Rewriter):
    """``"host": "10.0.0.5"`` → ``"host": "${NODE_AI_CORE_HOST}"``."""

    kinds: ClassVar[frozenset[str]] = frozenset({"json"})

    def rewrite(self, text: str, sites: list[Site]) -> Rewrite:
        """Replace inside the string literal, keeping its quotes."""
        lines = split_lines(text)
        out = Rewrite()
        for site in sites:
            new = "${" + site.name + "}" if site.kind == "host" else ""
            out.edits.append(span_edit(lines, site, new))
        return out

    def check(self, original: str, rewritten: str) -> str | None:
        """The rewrite must still load when the original did."""
        try:
            json.loads(original)
        except ValueError:
            return None
        try:
            json.loads(rewritten)
        except ValueError:
            return "the rewritten JSON would not load"
        return None
