"""Layer 1: explicit overrides set by the application itself (or by tests)."""

from __future__ import annotations

import threading
from collections.abc import Mapping

from sophia_platform.config.keys import Key, parse_key
from sophia_platform.config.providers.base import LayerStatus


class OverridesProvider:
    """Values the application sets in code; copy-on-write so readers never take the lock."""

    name = "overrides"

    def __init__(self, values: Mapping[str, str] | None = None) -> None:
        self._lock = threading.Lock()
        self._values: dict[str, str] = {}
        for key, value in (values or {}).items():
            self.set(key, value)

    def set(self, key: str, value: str) -> None:
        """Override ``key`` with ``value`` (a str or anything with ``.reveal()``)."""
        reveal = getattr(value, "reveal", None)
        text = reveal() if callable(reveal) else value
        if not isinstance(text, str):
            raise TypeError(f"override for {key} must be a str")
        name = parse_key(key).name
        with self._lock:
            self._values = {**self._values, name: text}

    def remove(self, key: str) -> None:
        """Drop the override for ``key`` if there is one."""
        name = parse_key(key).name
        with self._lock:
            self._values = {k: v for k, v in self._values.items() if k != name}

    def lookup(self, key: Key) -> str | None:
        """Return the override for ``key``."""
        return self._values.get(key.name)

    def searched(self, key: Key) -> str:
        """Describe the lookup."""
        return f"overrides ({len(self._values)} set, none for {key.name})"

    def status(self) -> LayerStatus:
        """Return ok: overrides are always available."""
        return LayerStatus(self.name, "ok", f"{len(self._values)} set")
