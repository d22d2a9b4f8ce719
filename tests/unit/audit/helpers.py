"""Run one rule on an in-memory file."""

from __future__ import annotations

import hashlib

from sophia_platform.audit.model import Finding
from sophia_platform.audit.rules import all_rules
from sophia_platform.audit.source import SourceFile, file_kind


def source(path: str, text: str) -> SourceFile:
    raw = text.encode()
    return SourceFile(
        path, text, file_kind(path, text[:200]), len(raw), hashlib.sha1(raw).hexdigest()
    )


def run(rule_id: str, path: str, text: str) -> list[Finding]:
    rule = all_rules()[rule_id]
    file = source(path, text)
    return list(rule.check(file)) if rule.wants(file) else []
