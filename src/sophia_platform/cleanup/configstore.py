"""Where the cleanup puts the values it takes out of code (addresses): the local config store.

One small function pair so the backing store can change in one place. Today: a 0600 JSON file
in the repository's ignored state folder (``.sophia/config.json``); values never go back into
tracked files.
"""

from __future__ import annotations

import json
from pathlib import Path

from sophia_platform.cleanup.specfile import write_atomic

STORE_PATH = ".sophia/config.json"


def read_values(root: Path) -> dict[str, str]:
    """The stored configuration values (empty when there is no store yet)."""
    path = root / STORE_PATH
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {str(k): str(v) for k, v in raw.items()} if isinstance(raw, dict) else {}


def write_values(root: Path, values: dict[str, str]) -> None:
    """Merge ``values`` into the store (atomic write, mode 0600)."""
    merged = {**read_values(root), **values}
    data = json.dumps(dict(sorted(merged.items())), indent=2).encode() + b"\n"
    write_atomic(root / STORE_PATH, data, mode=0o600)
