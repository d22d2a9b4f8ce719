"""Baseline files: accepted findings, by fingerprint, in a versioned JSON format.

Format (version 1)::

    {"version": 1, "tool": "sophia audit",
     "findings": [{"fingerprint": "...", "rule_id": "hardcoded-ip", "path": "a/b.py"}]}

Fingerprints are built from the rule, the path and the normalised flagged line (never the
line number), so a baseline survives lines moving. Older formats are upgraded on load by one
function per version in :data:`UPGRADES`; version 0 was a bare list of fingerprints.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sophia_platform.atomicfile import write_text_atomic
from sophia_platform.audit.model import Finding
from sophia_platform.errors import InputError

BASELINE_VERSION = 1


def _upgrade_v0(raw: Any) -> dict[str, Any]:
    return {"version": 1, "findings": [{"fingerprint": str(fp)} for fp in raw]}


UPGRADES: dict[int, Callable[[Any], dict[str, Any]]] = {0: _upgrade_v0}


@dataclass(frozen=True, slots=True)
class Baseline:
    """The set of accepted fingerprints."""

    fingerprints: frozenset[str]

    def __contains__(self, finding: object) -> bool:
        return isinstance(finding, Finding) and finding.fingerprint in self.fingerprints


def load_baseline(path: Path) -> Baseline:
    """Read a baseline file, upgrading older versions."""
    try:
        raw: Any = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise InputError(f"{path}: no such baseline; write one with --write-baseline") from exc
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: not a readable baseline JSON file ({exc})") from exc
    version = 0 if isinstance(raw, list) else raw.get("version") if isinstance(raw, dict) else None
    while isinstance(version, int) and version in UPGRADES:
        raw = UPGRADES[version](raw)
        version = raw.get("version")
    if version != BASELINE_VERSION or not isinstance(raw.get("findings"), list):
        raise InputError(
            f"{path}: unsupported baseline version {version!r}; regenerate it with --write-baseline"
        )
    fps = frozenset(str(item["fingerprint"]) for item in raw["findings"] if "fingerprint" in item)
    return Baseline(fps)


def baseline_document(findings: Iterable[Finding]) -> dict[str, Any]:
    """The JSON document of a baseline accepting ``findings``."""
    rows = sorted(
        ({"fingerprint": f.fingerprint, "rule_id": f.rule_id, "path": f.path} for f in findings),
        key=lambda r: (r["rule_id"], r["path"], r["fingerprint"]),
    )
    return {"version": BASELINE_VERSION, "tool": "sophia audit", "findings": rows}


def write_baseline(path: Path, findings: Iterable[Finding]) -> int:
    """Atomically write a baseline for ``findings``; returns how many it holds."""
    doc = baseline_document(findings)
    # mode 0600 is what the mkstemp-based writer this replaced always produced
    write_text_atomic(path, json.dumps(doc, indent=2) + "\n", mode=0o600, parents=True)
    return len(doc["findings"])
