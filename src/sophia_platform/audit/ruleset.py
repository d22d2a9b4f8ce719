"""The rule-set version: one string that changes whenever what a scan finds could change.

Caches of per-file results (the report's history keeps one per git blob) are keyed by it.
It is a digest of the audit package's own source (rules, scanner, decoding, suppression), so
no one has to remember to bump it: editing a rule invalidates every cached result. The
reporters are left out, since they only format findings.
"""

from __future__ import annotations

import functools
import hashlib
from importlib import resources
from importlib.abc import Traversable

_SKIPPED_DIRS = frozenset({"reporters", "__pycache__"})


def _sources(folder: Traversable, prefix: str = "") -> list[tuple[str, Traversable]]:
    found: list[tuple[str, Traversable]] = []
    for entry in folder.iterdir():
        name = prefix + entry.name
        if entry.is_dir():
            if entry.name not in _SKIPPED_DIRS:
                found.extend(_sources(entry, name + "/"))
        elif entry.name.endswith(".py"):
            found.append((name, entry))
    return found


@functools.cache  # a digest of files that cannot change while the process runs
def ruleset_version() -> str:
    """``rules-`` and 16 hex digits identifying the audit's rules and scanner as installed."""
    digest = hashlib.sha256()
    for name, entry in sorted(_sources(resources.files("sophia_platform.audit"))):
        digest.update(name.encode() + b"\0" + entry.read_bytes() + b"\0")
    return "rules-" + digest.hexdigest()[:16]
