"""Building providers for one environment of one spec: the glue the CLI and tests share."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sophia_platform.errors import UsageError
from sophia_platform.secrets.manifest import Manifest
from sophia_platform.secrets.providers import create
from sophia_platform.secrets.providers.base import Provider, ProviderContext

if TYPE_CHECKING:
    from sophia_platform.spec import Spec

# The order layers are shown in by check and trace: the direction secrets flow.
LAYER_ORDER = ("local", "github-api", "esc", "kubernetes")


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
    """Layers this environment is set up for, judged without contacting anything."""
    env = ctx.environ
    layers: list[str] = []
    local_dir = ctx.option("local_dir") or env.get("SOPHIA_LOCAL_SECRETS_DIR")
    store = Path(local_dir or ctx.root / ".sophia" / "secrets") / f"{ctx.env_name}.fernet"
    if store.exists():
        layers.append("local")
    has_gh_target = (
        ctx.option("github_org") or ctx.option("github_repo") or env.get("SOPHIA_GITHUB_ORG")
    )
    if has_gh_target and (env.get("GITHUB_TOKEN") or env.get("GH_TOKEN")):
        layers.append("github-api")
    if ctx.environment.esc and env.get("PULUMI_ACCESS_TOKEN"):
        layers.append("esc")
    kubeconfig = ctx.option("kubeconfig") or env.get("KUBECONFIG")
    if (
        ctx.option("api_client") is not None
        or kubeconfig
        or (Path.home() / ".kube/config").exists()
    ):
        layers.append("kubernetes")
    return layers


@contextmanager
def opened_layers(ctx: ProviderContext, layers: list[str] | None) -> Iterator[dict[str, Provider]]:
    """Providers for ``layers`` (default: the configured ones), closed when the block ends."""
    chosen = layers or configured_layers(ctx)
    if not chosen:
        raise UsageError("no secrets layer is configured for this environment; pass --layers")
    providers = open_layers(ctx, chosen)
    try:
        yield providers
    finally:
        for provider in providers.values():
            provider.close()


def open_layers(ctx: ProviderContext, layers: list[str]) -> dict[str, Provider]:
    """Providers for ``layers``, in flow order."""
    unknown = [layer for layer in layers if layer not in LAYER_ORDER]
    if unknown:
        raise UsageError(f"unknown layer {unknown[0]!r}; choose from {', '.join(LAYER_ORDER)}")
    return {layer: create(layer, ctx) for layer in LAYER_ORDER if layer in layers}
