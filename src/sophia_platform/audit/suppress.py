"""Inline suppression comments: ``sophia: ignore[rule-id, other-id]`` or bare ``sophia: ignore``.

A comment suppresses matching findings on its own line, and on the next line when the comment
stands alone on its line.
"""

from __future__ import annotations

import re

from sophia_platform.audit.literals import anchored
from sophia_platform.audit.source import SourceFile

_MARK = anchored(re.compile(r"sophia:\s*ignore(?:\[(?P<rules>[\w\s,\-]*)\])?"))
ALL = "*"


def inline_ignores(file: SourceFile) -> dict[int, frozenset[str]]:
    """1-based line -> rule ids ignored there (``*`` = all) for one file; {} when none."""
    if not file.has("sophia:"):
        return {}
    ignores: dict[int, set[str]] = {}
    for match in file.finditer(_MARK):
        line, _ = file.position(match.start())
        listed = match.group("rules")
        rules = {r.strip() for r in listed.split(",") if r.strip()} if listed else {ALL}
        ignores.setdefault(line, set()).update(rules)
        text = file.line_text(line).lstrip()
        if text.startswith(("#", "//", "--", "<!--", ";", "/*", "*")):
            ignores.setdefault(line + 1, set()).update(rules)
    return {line: frozenset(rules) for line, rules in ignores.items()}


def is_ignored(ignores: dict[int, frozenset[str]], line: int, rule_id: str) -> bool:
    """Whether the ignores of a file cover a finding of ``rule_id`` on ``line``."""
    rules = ignores.get(line)
    return rules is not None and (rule_id in rules or ALL in rules)
