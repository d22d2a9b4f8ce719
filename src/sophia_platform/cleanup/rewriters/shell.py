"""Shell: an address becomes ``${NAME}`` (closing and reopening single quotes around it).

An old deploy command becomes the one deploy path from
:mod:`sophia_platform.cleanup.deploy_commands` (``docker service ls`` → ``./deploy.sh status``),
with no environment argument, so ``sophia`` deploys ``default_environment``. Only a command
that stands on its own is rewritten: one that runs inside another (``ssh host docker ...``,
``sudo``, a quoted string) would now run ``./deploy.sh`` somewhere else, so it is reported. A
command with no equivalent (``docker swarm init``) on a line of its own becomes ``:`` (a no-op,
valid wherever a command is) with the table's note as comment.
"""

from __future__ import annotations

import re
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

# What may precede a command that stands on its own: nothing, or a control operator/keyword.
_COMMAND_POSITION = re.compile(r"(?:^|(?:&&|\|\||[;|({]|\b(?:then|do|else))\s*)$")


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
    site_kinds: ClassVar[frozenset[SiteKind]] = frozenset({"host", "secret", "command"})

    def rewrite(self, text: str, sites: list[Site]) -> Rewrite:
        """Replace each site with a variable expansion, or an old command with ./deploy.sh."""
        lines = split_lines(text)

        def value(site: Site) -> str:
            ref = reference(site.name)
            return f"'\"{ref}\"'" if in_single_quotes(lines[site.line - 1], site.start) else ref

        return rewrite_commands_first(
            lines, sites, lambda site: command_edit(lines[site.line - 1], site), value
        )


def command_edit(line: str, site: Site) -> tuple[TextEdit | None, str]:
    """The edit replacing the old deploy command at ``site``, or why there is none."""
    found = deploy_commands.replacement(line, site.start, "")
    if found is None:
        return None, "no replacement for this command; edit it by hand"
    before = line[: found.start]
    if not _COMMAND_POSITION.search(before.rstrip()) or in_single_quotes(line, found.start):
        return None, "the command runs inside another (ssh, sudo, a string); edit it by hand"
    if before.count('"') % 2 == 1:
        return None, "the command runs inside another (ssh, sudo, a string); edit it by hand"
    new = found.new
    if new is None:
        if before.strip() or line[found.end :].strip():
            return None, f"no single-path equivalent ({found.note}); edit it by hand"
        new = f": # {found.note}"
    return TextEdit(site.line, found.start, found.end, line[found.start : found.end], new), ""
