"""TOML: an address inside a string becomes ``${NAME}``; a placeholder string becomes ``""``."""

from __future__ import annotations

import tomllib
from typing import ClassVar

from sophia_platform.cleanup.plan import TextEdit
from sophia_platform.cleanup.rewriters.base import (
    Site,
    SiteRewriter,
    quoted_span,
    reference,
    span_edit,
)


class TomlRewriter(SiteRewriter):
    """``host = "10.0.0.5"`` → ``host = "${NODE_AI_CORE_HOST}"``."""

    kinds: ClassVar[frozenset[str]] = frozenset({"toml"})

    def edit(self, lines: list[str], site: Site) -> TextEdit | str:
        """Replace inside quoted strings; refuse bare values (TOML has no bare strings)."""
        if quoted_span(lines[site.line - 1], site) is None and site.kind == "secret":
            return "placeholder is not a quoted TOML string"
        return span_edit(lines, site, reference(site.name) if site.kind == "host" else "")

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
