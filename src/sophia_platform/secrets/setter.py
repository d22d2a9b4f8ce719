"""``set``: store one secret value in the local store or GitHub (sealed box)."""

from __future__ import annotations

from sophia_platform.config import SecretValue
from sophia_platform.errors import InputError, UsageError
from sophia_platform.secrets.providers import REGISTRY, provider_class
from sophia_platform.secrets.providers.base import ProviderContext, classify


def set_secret(
    ctx: ProviderContext,
    name: str,
    value: SecretValue,
    *,
    to: str = "local",
    include_unmanaged: bool = False,
    dry_run: bool = False,
) -> str:
    """Validate and write one value; returns "set", "unchanged" or "valid (dry run)"."""
    managed = name in ctx.manifest.entries
    if not managed and not include_unmanaged:
        raise InputError(
            f"{name!r} is not in the secrets manifest",
            hint="add it under secrets: in sophia.yaml, or pass --include-unmanaged",
        )
    status = classify(value)
    if status != "present":
        raise InputError(f"refusing to store {name}: the value is {status}")
    cls = provider_class(to)
    if not cls.settable:
        settable = ", ".join(k for k in REGISTRY if provider_class(k).settable)
        raise UsageError(f"'set' writes to {settable}, not {to!r}; use 'sync' for {to}")
    if dry_run:
        return "valid (dry run)"
    with cls(ctx) as provider:
        return "set" if provider.set_value(name, value) else "unchanged"


def generate_missing(ctx: ProviderContext, *, dry_run: bool = False) -> list[str]:
    """Store a random value for every manifest secret the local store lacks; return the names.

    For local development and demos only: a production-like environment is refused (its values
    belong in GitHub/ESC, not made up). Stored values are kept, so a re-run changes nothing.
    """
    import secrets as random_source

    from sophia_platform.secrets.providers.local import LocalProvider
    from sophia_platform.spec import is_production

    if is_production(ctx.env_name):
        raise UsageError(
            f"refusing to generate values for {ctx.env_name!r}: a production environment's "
            "secrets are set, not made up",
            hint="use `sophia secrets set NAME ENV` with the real value",
        )
    provider = LocalProvider(ctx)
    with provider:
        values = provider.load()
        missing = sorted(n for n in ctx.manifest.entries if n not in values)
        if missing and not dry_run:
            # 32 url-safe characters: never a placeholder, never shown.
            fresh = {n: SecretValue(random_source.token_urlsafe(24)) for n in missing}
            provider.save({**values, **fresh})
    return missing
