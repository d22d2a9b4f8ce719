"""Building providers for one environment of one spec: the glue the CLI and tests share."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sophia_platform.errors import UsageError
from sophia_platform.secrets.manifest import Manifest
from sophia_platform.secrets.providers import create, layers
from sophia_platform.secrets.providers.base import Provider, ProviderContext

if TYPE_CHECKING:
    from sophia_platform.spec import Spec


def provider_context(
    spec: Spec,
    env_name: str | None,
    *,
    options: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> ProviderContext:
    """A context for ``env_name`` (None: the spec's default environment)."""
    name = env_name or spec.default_environment
    if name not in spec.environments:
        raise UsageError(
            f"unknown environment {name!r}; sophia.yaml defines {', '.join(spec.environments)}"
        )
    root = spec.source_path.parent if spec.source_path else Path.cwd()
    return ProviderContext(
        spec=spec,
        manifest=Manifest.from_spec(spec),
        env_name=name,
        environment=spec.environments[name],
        options=dict(options or {}),
        environ=dict(os.environ if environ is None else environ),
        root=Path(root),
    )


def configured_layers(ctx: ProviderContext) -> list[str]:
    """Layers this environment is set up for (each provider judges, contacting nothing)."""
    return [cls.kind for cls in layers() if cls.configured(ctx)]


@contextmanager
def opened_layers(ctx: ProviderContext, chosen: list[str] | None) -> Iterator[dict[str, Provider]]:
    """Providers for ``chosen`` layers (default: the configured ones), closed when done."""
    chosen = chosen or configured_layers(ctx)
    if not chosen:
        raise UsageError("no secrets layer is configured for this environment; pass --layers")
    providers = open_layers(ctx, chosen)
    try:
        yield providers
    finally:
        for provider in providers.values():
            provider.close()


def open_layers(ctx: ProviderContext, chosen: list[str]) -> dict[str, Provider]:
    """Providers for ``chosen`` layers, in flow order."""
    order = [cls.kind for cls in layers()]
    unknown = [layer for layer in chosen if layer not in order]
    if unknown:
        raise UsageError(f"unknown layer {unknown[0]!r}; choose from {', '.join(order)}")
    return {layer: create(layer, ctx) for layer in order if layer in chosen}
