"""Secret providers: one module each, registered by one line in :data:`REGISTRY`.

Everything else about a provider (its typed options, its place in the flow, the targets it
syncs to, whether it is configured) is declared on its class, so ``sync``, ``check``, ``trace``
and ``set`` need no list of their own.
"""

from __future__ import annotations

import importlib

from sophia_platform.errors import UsageError
from sophia_platform.secrets.providers.base import Provider, ProviderContext

# kind -> "module:class"; imported lazily so the kubernetes client loads only when used.
REGISTRY: dict[str, str] = {
    "github-actions": "sophia_platform.secrets.providers.github_actions:GithubActionsProvider",
    "github-api": "sophia_platform.secrets.providers.github_api:GithubApiProvider",
    "esc": "sophia_platform.secrets.providers.esc:EscProvider",
    "kubernetes": "sophia_platform.secrets.providers.kubernetes:KubernetesProvider",
    "local": "sophia_platform.secrets.providers.local:LocalProvider",
}


def provider_class(kind: str) -> type[Provider]:
    """The class registered as ``kind`` (its module is imported now)."""
    target = REGISTRY.get(kind)
    if target is None:
        raise UsageError(f"unknown secrets provider {kind!r}; choose one of {', '.join(REGISTRY)}")
    module_name, _, cls_name = target.partition(":")
    cls: type[Provider] = getattr(importlib.import_module(module_name), cls_name)
    return cls


def create(kind: str, ctx: ProviderContext) -> Provider:
    """Instantiate the provider registered as ``kind``."""
    return provider_class(kind)(ctx)


def layers() -> list[type[Provider]]:
    """The providers ``check`` and ``trace`` inspect, in flow order (imports every provider)."""
    classes = [provider_class(kind) for kind in REGISTRY]
    inspected = [c for c in classes if c.flow_order is not None]
    return sorted(inspected, key=lambda c: c.flow_order or 0)


def flows() -> list[tuple[str, str]]:
    """Every documented (source, target) pair of ``sync`` (imports every provider)."""
    return sorted((kind, to) for kind in REGISTRY for to in provider_class(kind).sync_to)


__all__ = ["REGISTRY", "Provider", "ProviderContext", "create", "flows", "layers", "provider_class"]
