"""The process-wide default :class:`Config` behind ``get_config_value()`` and friends.

Built on first use from the environment (never at import), replaced with :func:`configure`,
dropped with :func:`reset_config` (tests). Code that prefers explicit context can build its
own ``Config.from_env(...)`` and pass it around instead.
"""

from __future__ import annotations

import threading
from collections.abc import Collection, Mapping
from typing import Any, overload

from sophia_platform.config.providers.base import LayerStatus
from sophia_platform.config.resolver import Config
from sophia_platform.config.secret import SecretValue

_default: Config | None = None
_lock = threading.Lock()


def default_config() -> Config:
    """Return the process-wide config, building it from the environment on first use."""
    global _default
    config = _default
    if config is None:
        with _lock:
            if _default is None:
                _default = Config.from_env()
            config = _default
    return config


def configure(
    config: Config | None = None, *, environ: Mapping[str, str] | None = None, **settings: Any
) -> Config:
    """Replace the default config: pass a Config, or settings (``order=``, ``esc_env=``...)."""
    global _default
    new = config if config is not None else Config.from_env(environ, **settings)
    with _lock:
        _default = new
    return new


def reset_config() -> None:
    """Forget the default config; the next call rebuilds it from the environment."""
    global _default
    with _lock:
        _default = None


@overload
def get_config_value(key: str) -> SecretValue | None: ...
@overload
def get_config_value(key: str, default: str | SecretValue) -> SecretValue: ...
@overload
def get_config_value(key: str, default: None) -> SecretValue | None: ...


def get_config_value(key: str, default: str | SecretValue | None = None) -> SecretValue | None:
    """Return ``key`` from the first layer that has it (overrides, files, ESC, env), or default."""
    return (_default or default_config()).get(key, default)


def require(key: str) -> SecretValue:
    """Return ``key``'s real value or raise, naming every layer that was searched."""
    return (_default or default_config()).require(key)


def get_int(key: str, default: int | None = None) -> int | None:
    """Return ``key`` as an int, else ``default``."""
    return (_default or default_config()).get_int(key, default)


def get_bool(key: str, default: bool | None = None) -> bool | None:
    """Return ``key`` as a bool, else ``default``."""
    return (_default or default_config()).get_bool(key, default)


def get_url(
    key: str, default: str | None = None, *, schemes: Collection[str] | None = None
) -> SecretValue | None:
    """Return ``key`` as a validated URL (redacted), else ``default``."""
    return (_default or default_config()).get_url(key, default, schemes=schemes)


def set_override(key: str, value: str | SecretValue) -> None:
    """Set an explicit override in the default config (first layer)."""
    default_config().set_override(key, value)


def remove_override(key: str) -> None:
    """Remove an explicit override from the default config."""
    default_config().remove_override(key)


def preload(wait: float = 0.0) -> bool:
    """Start opening ESC now (at app start), waiting up to ``wait`` seconds; True if loaded."""
    return default_config().preload(wait)


def check_layers() -> list[LayerStatus]:
    """Return layer statuses; raise LayerError naming the first failed layer (readiness)."""
    return default_config().check_layers()


def layer_status() -> list[LayerStatus]:
    """Return each layer's status in lookup order (for health endpoints and diagnostics)."""
    return default_config().layers()
