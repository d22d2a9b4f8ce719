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

    def lookup(self, key: Key) -> str | None:
        """Return the variable's value, upper-case spelling first."""
        environ = self._environ
        value = environ.get(key.name)
        if value is None:
            value = environ.get(key.lower)
        return value

    def searched(self, key: Key) -> str:
        """Describe the lookup."""
        return f"env (variables {key.name}, {key.lower})"

    def status(self) -> LayerStatus:
        """Return ok: the environment is always available."""
        return LayerStatus(self.name, "ok")
