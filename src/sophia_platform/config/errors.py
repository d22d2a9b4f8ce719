"""Errors raised by the config library.

They derive from :mod:`sophia_platform.errors` (a tiny, dependency-free module) so the CLI's one
handler maps them to exit codes like every other error. Messages name keys and layers, never
values.
"""

from __future__ import annotations

from sophia_platform.errors import ExternalError, InputError


class ConfigError(InputError):
    """Base of the config library's errors: a setting is missing, malformed or a placeholder."""


class MissingConfigError(ConfigError):
    """A required key was found in no layer; the message names every layer that was searched."""

    def __init__(self, key: str, searched: list[str]) -> None:
        where = "; ".join(searched) if searched else "no layers are configured"
        super().__init__(
            f"{key} is not set: looked in {where}",
            hint=f"set {key} in one of these layers (first hit wins, in this order)",
        )
        self.key = key
        self.searched = searched


class PlaceholderSecretError(ConfigError):
    """A layer holds a placeholder (changeme, xxx…, <token>, empty) instead of a real value."""

    def __init__(self, key: str, layer: str, reason: str) -> None:
        super().__init__(
            f"{key} from {layer} is a placeholder ({reason}), not a real value",
            hint=f"store the real value of {key} in {layer}, or remove it there",
        )
        self.key = key
        self.layer = layer
        self.reason = reason


class InvalidConfigValueError(ConfigError):
    """A value exists but does not parse as the requested type (int, bool, URL)."""

    def __init__(self, key: str, layer: str, expected: str) -> None:
        super().__init__(
            f"{key} from {layer} is not {expected}",
            hint=f"fix the value of {key} in {layer}",
        )
        self.key = key
        self.layer = layer
        self.expected = expected


class LayerError(ConfigError):
    """A layer (ESC, the secrets directory) could not be read; says which and why."""

    exit_status = ExternalError.exit_status

    def __init__(self, layer: str, reason: str, *, hint: str | None = None) -> None:
        super().__init__(f"config layer {layer} failed: {reason}", hint=hint)
        self.layer = layer
        self.reason = reason
