"""The one small interface every config layer implements."""

from __future__ import annotations

from typing import Literal, NamedTuple, Protocol

from sophia_platform.config.keys import Key

LayerState = Literal["ok", "not configured", "loading", "failed"]


class LayerStatus(NamedTuple):
    """How a layer is doing, for messages and ``sophia``'s diagnostics (never holds values)."""

    layer: str
    state: LayerState
    detail: str = ""

    def __str__(self) -> str:
        return f"{self.layer}: {self.state}" + (f" ({self.detail})" if self.detail else "")


class Provider(Protocol):
    """A config layer: answers lookups from memory, says where it looked and how it is doing."""

    name: str

    def lookup(self, key: Key) -> str | None:
        """Return the raw value of ``key`` in this layer, or None; must be fast and never raise."""
        ...

    def searched(self, key: Key) -> str:
        """Describe where this layer looked for ``key`` (names, paths, state), without values."""
        ...

    def status(self) -> LayerStatus:
        """Return the layer's current state."""
        ...
