"""The config layers, and the registry that builds them from settings (one line per layer)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from sophia_platform.config.providers.base import LayerStatus, Provider

if TYPE_CHECKING:
    from sophia_platform.config.settings import ConfigSettings


def _overrides(settings: ConfigSettings) -> Provider:
    from sophia_platform.config.providers.overrides import OverridesProvider

    return OverridesProvider(settings.overrides)


def _files(settings: ConfigSettings) -> Provider:
    from sophia_platform.config.providers.files import FilesProvider

    return FilesProvider(
        settings.secrets_dir,
        explicit=settings.secrets_dir_explicit,
        recheck_seconds=settings.secrets_recheck,
    )


def _esc(settings: ConfigSettings) -> Provider:
    from sophia_platform.config.providers.esc import EscProvider

    return EscProvider(
        settings.esc_env,
        settings.esc_token,
        base_url=settings.esc_url,
        ttl=settings.esc_ttl,
        startup_timeout=settings.esc_timeout,
        request_timeout=settings.esc_request_timeout,
        attempts=settings.esc_retries,
        backoff=settings.esc_backoff,
        groups=settings.esc_groups,
        paths=settings.esc_paths,
    )


def _env(settings: ConfigSettings) -> Provider:
    from sophia_platform.config.providers.env import EnvProvider

    return EnvProvider(settings.environ)


PROVIDERS: dict[str, Callable[[ConfigSettings], Provider]] = {
    "overrides": _overrides,
    "files": _files,
    "esc": _esc,
    "env": _env,
}


def build_providers(settings: ConfigSettings) -> list[Provider]:
    """Build the layers named in ``settings.order``, in that order."""
    return [PROVIDERS[name](settings) for name in settings.order]


__all__ = ["PROVIDERS", "LayerStatus", "Provider", "build_providers"]
