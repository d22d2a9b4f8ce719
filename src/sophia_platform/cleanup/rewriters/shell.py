"""Shell: an address becomes ``${NAME}`` (closing and reopening single quotes around it)."""

from __future__ import annotations

from typing import ClassVar

from sophia_platform.cleanup.rewriters.base import Rewrite, Rewriter, Site, span_edit, split_lines


def in_single_quotes(line: str, column: int) -> bool:
    """True when ``column`` of ``line`` is inside a single-quoted shell word."""
    state = ""
    escaped = False
    for char in line[:column]:
        if escaped:
            escaped = False
        elif char == "\\" and state != "'":
            escaped = True
        elif char == "'" and state in ("", "'"):
            state = "" if state else "'"
        elif char == '"' and state in ("", '"'):
            state = "" if state else '"'
    return state == "'"


class ShellRewriter(Rewriter):
    """``ssh root@10.0.0.5`` → ``ssh root@${NODE_AI_CORE_HOST}``."""

    kinds: ClassVar[frozenset[str]] = frozenset({"shell"})

    def rewrite(self, text: str, sites: list[Site]) -> Rewrite:
        """Replace each site with a variable expansion."""
        lines = split_lines(text)
        out = Rewrite()
        for site in sites:
            line = lines[site.line - 1]
            ref = "${" + site.name + "}"
            new = f"'\"{ref}\"'" if in_single_quotes(line, site.start) else ref
            out.edits.append(span_edit(lines, site, new))
        return out
