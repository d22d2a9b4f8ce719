"""Where the cleanup puts the values it takes out of code (addresses): the local config store.

One file per key under the repository's ignored state folder, ``.sophia/config/NAME`` (mode
0600) — the same layout as Kubernetes Secrets mounted as files, so an application run locally
with ``SOPHIA_SECRETS_DIR=.sophia/config`` reads them through ``get_config_value``. Values never
go back into tracked files. The encrypted secrets store is not used for these: its key file
lives outside the repository, and cleanup never writes outside the repository.
"""

from __future__ import annotations

import re
from pathlib import Path

STORE_DIR = ".sophia/config"
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def store_path(name: str) -> str:
    """The repo-relative file that holds one key."""
    if not _NAME.match(name):
        raise ValueError(f"{name!r} is not a config key")
    return f"{STORE_DIR}/{name}"


def read_values(root: Path) -> dict[str, str]:
    """The stored configuration values (empty when there is no store yet)."""
    folder = root / STORE_DIR
    if not folder.is_dir():
        return {}
    values: dict[str, str] = {}
    for path in sorted(folder.iterdir()):
        if path.is_file() and not path.is_symlink() and _NAME.match(path.name):
            values[path.name] = path.read_text(encoding="utf-8").rstrip("\r\n")
    return values
