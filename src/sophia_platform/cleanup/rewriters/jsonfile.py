"""JSON: an address inside a string becomes ``${NAME}``; a placeholder string becomes ``""``."""

from __future__ import annotations

import json
from typing import ClassVar

from sophia_platform.cleanup.plan import TextEdit
from sophia_platform.cleanup.rewriters.base import Site, SiteRewriter, reference, span_edit


class JsonRewriter(SiteRewriter):
    """``"host": "10.0.0.5"`` → ``"host": "${NODE_AI_CORE_HOST}"``."""

    kinds: ClassVar[frozenset[str]] = frozenset({"json"})

    def edit(self, lines: list[str], site: Site) -> TextEdit:
        """Replace inside the string literal, keeping its quotes."""
        return span_edit(lines, site, reference(site.name) if site.kind == "host" else "")

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
