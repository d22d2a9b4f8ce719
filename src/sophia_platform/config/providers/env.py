"""Last layer before the default: environment variables, ``NAME`` or ``name``."""

from __future__ import annotations

import os
from collections.abc import Mapping

from sophia_platform.config.keys import Key
from sophia_platform.config.providers.base import LayerStatus


class EnvProvider:
    """Reads ``OPENAI_API_KEY`` or, failing that, ``openai_api_key`` from the environment."""

    name = "env"

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        # os.environ is read live on every lookup, so a value exported later is seen.
        self._environ = os.environ if environ is None else environ
        # A miss in os.environ costs ~0.8 us (it encodes the key and raises KeyError inside
        # .get); POSIX CPython keeps the real mapping in os.environ._data (bytes -> bytes),
        # where a miss is a plain dict probe. Used read-only, with the public path as fallback.
        data = getattr(self._environ, "_data", None)
        self._raw: dict[bytes, bytes] | None = (
            data
            if self._environ is os.environ and os.name == "posix" and isinstance(data, dict)
            else None
        )
        self._encoded: dict[str, tuple[bytes, bytes]] = {}

    def lookup(self, key: Key) -> str | None:
        """Return the variable's value, upper-case spelling first."""
        raw = self._raw
        if raw is not None:
            names = self._encoded.get(key.name)
            if names is None:
                names = (os.fsencode(key.name), os.fsencode(key.lower))
                self._encoded[key.name] = names
            value = raw.get(names[0])
            if value is None:
                value = raw.get(names[1])
            return None if value is None else os.fsdecode(value)
        environ = self._environ
        found = environ.get(key.name)
        if found is None:
            found = environ.get(key.lower)
        return found

    def searched(self, key: Key) -> str:
        """Describe the lookup."""
        return f"env (variables {key.name}, {key.lower})"

    def status(self) -> LayerStatus:
        """Return ok: the environment is always available."""
        return LayerStatus(self.name, "ok")
