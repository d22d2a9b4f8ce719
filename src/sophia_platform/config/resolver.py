"""The resolver: ordered layers, first hit wins, values wrapped as ``SecretValue``.

The hot path is a loop of dict lookups: keys are parsed once and cached, every layer answers
from memory, and the ``SecretValue`` built for a (key, layer, value) is reused while the value
stays the same, so the placeholder check runs once per distinct value, not once per call.
"""

from __future__ import annotations

import threading
from collections.abc import Collection, Mapping, Sequence
from typing import Any, overload

from sophia_platform.config.errors import (
    ConfigError,
    InvalidConfigValueError,
    LayerError,
    MissingConfigError,
    PlaceholderSecretError,
)
from sophia_platform.config.keys import Key, parse_key
from sophia_platform.config.parse import is_url, parse_bool, parse_int
from sophia_platform.config.placeholder import placeholder_reason
from sophia_platform.config.providers.base import LayerStatus, Provider
from sophia_platform.config.secret import SecretValue

_CACHE_LIMIT = 4096


class Config:
    """A set of ordered layers answering ``get``/``require``; safe to share between threads."""

    def __init__(self, providers: Sequence[Provider], *, placeholder_guard: bool = True) -> None:
        self._providers = tuple(providers)
        self._guard = placeholder_guard
        self._keys: dict[str, Key] = {}
        self._wrapped: dict[str, tuple[str, str, SecretValue]] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **settings: Any) -> Config:
        """Build the layers from ``SOPHIA_*`` variables (see settings.py); kwargs override them."""
        from sophia_platform.config.providers import build_providers
        from sophia_platform.config.settings import settings_from_env

        resolved = settings_from_env(environ, **settings)
        return cls(build_providers(resolved), placeholder_guard=resolved.placeholder_guard)

    @property
    def providers(self) -> tuple[Provider, ...]:
        """The layers, in lookup order."""
        return self._providers

    # -- lookups ----------------------------------------------------------------------------

    @overload
    def get(self, key: str) -> SecretValue | None: ...
    @overload
    def get(self, key: str, default: str | SecretValue) -> SecretValue: ...
    @overload
    def get(self, key: str, default: None) -> SecretValue | None: ...

    def get(self, key: str, default: str | SecretValue | None = None) -> SecretValue | None:
        """Return the first layer's value for ``key``, else ``default`` (None if not given)."""
        parsed = self._keys.get(key)
        if parsed is None:
            parsed = self._parse(key)
        for provider in self._providers:
            raw = provider.lookup(parsed)
            if raw is not None:
                return self._wrap(key, parsed, provider.name, raw, required=False)
        if default is None or isinstance(default, SecretValue):
            return default
        cached = self._wrapped.get(key)
        if cached is not None and cached[0] == "default" and cached[1] == default:
            return cached[2]
        value = SecretValue(default, key=parsed.name, source="default")
        self._remember(key, "default", default, value)
        return value

    def require(self, key: str) -> SecretValue:
        """Return ``key``'s value; raise naming every layer searched if none has a real one."""
        parsed = self._keys.get(key) or self._parse(key)
        for provider in self._providers:
            raw = provider.lookup(parsed)
            if raw is not None:
                return self._wrap(key, parsed, provider.name, raw, required=True)
        raise MissingConfigError(parsed.name, [p.searched(parsed) for p in self._providers])

    def get_any(self, keys: Sequence[str]) -> SecretValue | None:
        """Return the value of the first of ``keys`` (a name and its aliases) that is set."""
        for key in keys:
            value = self.get(key)
            if value is not None:
                return value
        return None

    def require_any(self, keys: Sequence[str]) -> SecretValue:
        """Like :meth:`require` for a name and its aliases; the error names all of them."""
        for key in keys:
            if self.source_of(key) is not None:
                return self.require(key)
        first = self._keys.get(keys[0]) or self._parse(keys[0])
        label = first.name
        if len(keys) > 1:
            label += " (or " + ", ".join(parse_key(k).name for k in keys[1:]) + ")"
        raise MissingConfigError(label, [p.searched(first) for p in self._providers])

    def source_of(self, key: str) -> str | None:
        """Name the layer that answers ``key`` (``"files"``, ``"esc"``...), or None."""
        parsed = self._keys.get(key) or self._parse(key)
        for provider in self._providers:
            if provider.lookup(parsed) is not None:
                return provider.name
        return None

    def get_int(self, key: str, default: int | None = None) -> int | None:
        """Return ``key`` as an int, else ``default``; a non-integer value raises."""
        value = self.get(key)
        if value is None:
            return default
        number = parse_int(value.reveal())
        if number is None:
            raise InvalidConfigValueError(_name(value, key), _source(value), "an integer")
        return number

    def get_bool(self, key: str, default: bool | None = None) -> bool | None:
        """Return ``key`` as a bool (true/false, 1/0, yes/no, on/off), else ``default``."""
        value = self.get(key)
        if value is None:
            return default
        flag = parse_bool(value.reveal())
        if flag is None:
            raise InvalidConfigValueError(
                _name(value, key), _source(value), "a boolean (true/false, 1/0, yes/no, on/off)"
            )
        return flag

    def get_url(
        self,
        key: str,
        default: str | None = None,
        *,
        schemes: Collection[str] | None = None,
    ) -> SecretValue | None:
        """Return ``key`` as a validated absolute URL (kept redacted: URLs carry passwords)."""
        value = self.get(key, default)
        if value is None:
            return None
        if not is_url(value.reveal(), schemes):
            allowed = f" with scheme {'/'.join(sorted(schemes))}" if schemes else ""
            raise InvalidConfigValueError(_name(value, key), _source(value), f"a URL{allowed}")
        return value

    # -- overrides and diagnostics ----------------------------------------------------------

    def set_override(self, key: str, value: str | SecretValue) -> None:
        """Set an explicit override (the ``overrides`` layer must be in the order)."""
        self._overrides().set(key, value)

    def remove_override(self, key: str) -> None:
        """Remove an explicit override."""
        self._overrides().remove(key)

    def layers(self) -> list[LayerStatus]:
        """Return each layer's status, in lookup order."""
        return [provider.status() for provider in self._providers]

    def preload(self, wait: float = 0.0) -> bool:
        """Start loading remote layers (ESC) now; wait up to ``wait`` s; True if all loaded."""
        loaded = True
        for provider in self._providers:
            wait_until_loaded = getattr(provider, "wait_until_loaded", None)
            if callable(wait_until_loaded):
                loaded = bool(wait_until_loaded(wait)) and loaded
        return loaded

    def check_layers(self) -> list[LayerStatus]:
        """Return the statuses, raising LayerError for the first layer that failed."""
        statuses = self.layers()
        for status in statuses:
            if status.state == "failed":
                raise LayerError(status.layer, status.detail)
        return statuses

    # -- internals --------------------------------------------------------------------------

    def _parse(self, key: str) -> Key:
        try:
            parsed = parse_key(key)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
        if len(self._keys) < _CACHE_LIMIT:
            self._keys[key] = parsed
        return parsed

    def _wrap(self, key: str, parsed: Key, layer: str, raw: str, *, required: bool) -> SecretValue:
        cached = self._wrapped.get(key)
        if cached is not None and cached[0] == layer and cached[1] == raw:
            if required and not raw and self._guard:
                raise PlaceholderSecretError(parsed.name, layer, "empty value")
            return cached[2]
        if self._guard and (raw or required):
            reason = placeholder_reason(raw)
            if reason is not None:
                raise PlaceholderSecretError(parsed.name, layer, reason)
        value = SecretValue(raw, key=parsed.name, source=layer)
        self._remember(key, layer, raw, value)
        return value

    def _remember(self, key: str, layer: str, raw: str, value: SecretValue) -> None:
        with self._lock:
            if len(self._wrapped) >= _CACHE_LIMIT:
                self._wrapped.clear()
            self._wrapped[key] = (layer, raw, value)

    def _overrides(self) -> Any:
        for provider in self._providers:
            if provider.name == "overrides":
                return provider
        raise ConfigError(
            "the overrides layer is not enabled",
            hint="add 'overrides' to SOPHIA_CONFIG_ORDER",
        )


def _name(value: SecretValue, key: str) -> str:
    return value.key or key


def _source(value: SecretValue) -> str:
    return value.source or "default"
