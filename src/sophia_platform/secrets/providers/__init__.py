"""Secret providers: one module each, registered by one line in :data:`REGISTRY`."""

from __future__ import annotations

from sophia_platform.secrets.providers.base import Provider, ProviderContext

# kind -> "module:class"; imported lazily so the kubernetes client loads only when used.
REGISTRY: dict[str, str] = {
    "github-actions": "sophia_platform.secrets.providers.github_actions:GithubActionsProvider",
    "github-api": "sophia_platform.secrets.providers.github_api:GithubApiProvider",
    "esc": "sophia_platform.secrets.providers.esc:EscProvider",
    "kubernetes": "sophia_platform.secrets.providers.kubernetes:KubernetesProvider",
    "local": "sophia_platform.secrets.providers.local:LocalProvider",
}


def create(kind: str, ctx: ProviderContext) -> Provider:
    """Instantiate the provider registered as ``kind``."""
    import importlib

    from sophia_platform.errors import UsageError

    target = REGISTRY.get(kind)
    if target is None:
        raise UsageError(f"unknown secrets provider {kind!r}; choose one of {', '.join(REGISTRY)}")
    module_name, _, cls_name = target.partition(":")
    cls: type[Provider] = getattr(importlib.import_module(module_name), cls_name)
    return cls(ctx)


__all__ = ["REGISTRY", "Provider", "ProviderContext", "create"]
