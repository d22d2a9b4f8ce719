"""A new secrets provider is one module and one registry line: flows, layers, options, set."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from sophia_platform.config import SecretValue
from sophia_platform.errors import UsageError
from sophia_platform.secrets import providers
from sophia_platform.secrets.providers import create, flows, layers
from sophia_platform.secrets.session import configured_layers, opened_layers, provider_context
from sophia_platform.secrets.setter import set_secret
from sophia_platform.secrets.sync import SyncOptions, check_flow, run
from tests.unit.secrets.dotenv_provider import DotenvProvider
from tests.unit.secrets.test_manifest import small_spec

CANARY = "CANARY-registry-8c1f02"


@pytest.fixture(autouse=True)
def registered(monkeypatch: pytest.MonkeyPatch) -> None:
    # the one line a new provider adds
    monkeypatch.setitem(
        providers.REGISTRY, "dotenv", "tests.unit.secrets.dotenv_provider:DotenvProvider"
    )


def test_the_built_in_providers_declare_the_documented_flows_and_order() -> None:
    assert [cls.kind for cls in layers()] == ["local", "github-api", "esc", "kubernetes", "dotenv"]
    assert ("github-actions", "esc") in flows() and ("esc", "kubernetes") in flows()
    assert ("dotenv", "local") in flows()
    check_flow("dotenv", "local")
    with pytest.raises(UsageError, match=r"cannot sync dotenv -> esc; supported: .*dotenv->local"):
        check_flow("dotenv", "esc")
    with pytest.raises(UsageError, match="unknown secrets provider 'nope'"):
        check_flow("nope", "local")


def test_typed_options_come_from_the_option_then_the_environment(tmp_path: Path) -> None:
    spec = small_spec()
    from_env = provider_context(spec, "dev", environ={"SOPHIA_DOTENV": str(tmp_path / "a.env")})
    provider = create("dotenv", from_env)
    assert isinstance(provider, DotenvProvider)
    assert provider.options.dotenv_path == str(tmp_path / "a.env") and provider.options.uppercase
    explicit = provider_context(
        spec,
        "dev",
        options={"dotenv_path": str(tmp_path / "b.env"), "kubeconfig": "for-another-provider"},
        environ={"SOPHIA_DOTENV": str(tmp_path / "a.env")},
    )
    assert create("dotenv", explicit).options.dotenv_path == str(tmp_path / "b.env")


def test_sync_check_and_set_work_for_the_new_layer(tmp_path: Path) -> None:
    spec = small_spec()
    dotenv = tmp_path / "secrets.env"
    dotenv.write_text(f"A_KEY={CANARY}-a\nSHARED={CANARY}-s\nGROUPED={CANARY}-g\n")
    environ = {
        "SOPHIA_DOTENV": str(dotenv),
        "SOPHIA_SECRETS_KEY": Fernet.generate_key().decode(),
        "HOME": str(tmp_path),
    }
    ctx = provider_context(
        spec, "dev", options={"local_dir": str(tmp_path / "store")}, environ=environ
    )
    assert "dotenv" in configured_layers(ctx) and "local" not in configured_layers(ctx)

    with create("dotenv", ctx) as source, create("local", ctx) as target:
        result = run(source, target, "dev", SyncOptions(allow_missing=True), dry_run=False)
    assert result.applied is not None and result.applied.written == 3
    assert CANARY not in repr(result)

    assert configured_layers(ctx)[:1] == ["local"]  # the store exists now
    with opened_layers(ctx, ["dotenv", "local"]) as opened:
        assert list(opened) == ["local", "dotenv"]  # flow order, from the classes
        rows = {layer: p.inventory()["A_KEY"].digest for layer, p in opened.items()}
    assert rows["local"] == rows["dotenv"]

    assert set_secret(ctx, "UNUSED", SecretValue(f"{CANARY}-u"), to="dotenv") == "set"
    assert f"UNUSED={CANARY}-u" in dotenv.read_text()
    with pytest.raises(UsageError, match="'set' writes to github-api, local, dotenv, not 'esc'"):
        set_secret(ctx, "UNUSED", SecretValue(f"{CANARY}-u"), to="esc")
