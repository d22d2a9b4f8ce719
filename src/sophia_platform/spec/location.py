"""Which ``sophia.yaml`` a command reads (importing nothing heavy: every command asks)."""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_NAME = "sophia.yaml"


def resolve_spec_path(path: Path | None = None) -> Path:
    """The spec file to use: the given path, ``$SOPHIA_SPEC``, or ``./sophia.yaml``."""
    if path is not None:
        return path
    env = os.environ.get("SOPHIA_SPEC")
    return Path(env) if env else Path(DEFAULT_NAME)
