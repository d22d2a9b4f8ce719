"""``secrets generate``: random values for what the local store lacks, never for production."""

from __future__ import annotations

from pathlib import Path

import pytest

from sophia_platform.config import SecretValue
from sophia_platform.errors import UsageError
from sophia_platform.secrets.providers.base import ProviderContext
from sophia_platform.secrets.providers.local import LocalProvider
from sophia_platform.secrets.session import provider_context
from sophia_platform.secrets.setter import generate_missing
from sophia_platform.spec import load_spec


def _ctx(tmp_path: Path, spec_path: Path, env: str) -> ProviderContext:
    environ = {"SOPHIA_SECRETS_KEY_FILE": str(tmp_path / "key")}
    options = {"local_dir": str(tmp_path / "store")}
    return provider_context(load_spec(spec_path), env, options=options, environ=environ)


def test_generates_every_missing_name_keeps_stored_ones_and_is_idempotent(
    tmp_path: Path, example_spec_path: Path
) -> None:
    ctx = _ctx(tmp_path, example_spec_path, "local")
    LocalProvider(ctx).set_value("OPENAI_API_KEY", SecretValue("sk-canary-kept-value-0001"))
    names = generate_missing(ctx)
    stored = LocalProvider(ctx).load()
    assert "OPENAI_API_KEY" not in names
    assert set(stored) == set(load_spec(example_spec_path).secrets)
    assert stored["OPENAI_API_KEY"].reveal() == "sk-canary-kept-value-0001"
    assert len({v.reveal() for v in stored.values()}) == len(stored)  # all different
    assert generate_missing(ctx) == []


def test_dry_run_writes_nothing(tmp_path: Path, example_spec_path: Path) -> None:
    ctx = _ctx(tmp_path, example_spec_path, "local")
    assert generate_missing(ctx, dry_run=True)
    assert not (tmp_path / "store").exists() or not any((tmp_path / "store").iterdir())


def test_production_is_refused(tmp_path: Path, example_spec_path: Path) -> None:
    ctx = _ctx(tmp_path, example_spec_path, "production")
    with pytest.raises(UsageError, match="production"):
        generate_missing(ctx)
