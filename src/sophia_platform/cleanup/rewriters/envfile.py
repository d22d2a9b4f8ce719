"""Env files: an address becomes ``${NAME}``; a placeholder secret loses its value."""

from __future__ import annotations

from typing import ClassVar

from sophia_platform.cleanup.plan import TextEdit
from sophia_platform.cleanup.rewriters.base import (
    Site,
    SiteRewriter,
    quoted_edit,
    reference,
    span_edit,
)


class EnvRewriter(SiteRewriter):
    """``REDIS_HOST=10.0.0.7`` → ``REDIS_HOST=${REDIS_HOST}``; ``KEY=changeme`` → ``KEY=``."""

    kinds: ClassVar[frozenset[str]] = frozenset({"env"})

    def edit(self, lines: list[str], site: Site) -> TextEdit:
        """Replace an address with a reference; empty a placeholder value (quotes too)."""
        if site.kind == "host":
            return span_edit(lines, site, reference(site.name))
        return quoted_edit(lines, site, "")
