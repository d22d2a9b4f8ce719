"""The config library applications import: ordered layers, first hit wins, values redacted.

Importing this package is cheap and does no I/O: it pulls in no kubernetes, typer, rich,
pydantic or httpx, and the layers (mounted secret files, Pulumi ESC, environment) are read on
first use.
"""

from __future__ import annotations

from sophia_platform.config.errors import (
    ConfigError,
    InvalidConfigValueError,
    LayerError,
    MissingConfigError,
    PlaceholderSecretError,
)
from sophia_platform.config.placeholder import is_placeholder, placeholder_reason
from sophia_platform.config.secret import REDACTED, SecretValue

__all__ = [
    "REDACTED",
    "ConfigError",
    "InvalidConfigValueError",
    "LayerError",
    "MissingConfigError",
    "PlaceholderSecretError",
    "SecretValue",
    "is_placeholder",
    "placeholder_reason",
]
