"""The local encrypted store, the toJSON(secrets) reader and the plan engine, end to end."""

from __future__ import annotations

import json
import os
import stat

import pytest
from cryptography.fernet import Fernet

from sophia_platform.config import SecretValue
from sophia_platform.errors import InputError
from sophia_platform.secrets.providers.github_actions import GithubActionsProvider
from sophia_platform.secrets.providers.local import LocalProvider
from sophia_platform.secrets.sync import SyncOptions, run


def payload(values: dict[str, str], **extra: str) -> dict[str, str]:
    return {"ALL_SECRETS": json.dumps({**values, "github_token": "ghs_run", **extra})}


def test_local_store_is_encrypted_0600_and_atomic(make_ctx, values, tmp_path) -> None:
    ctx = make_ctx()
    store = LocalProvider(ctx)
    store.save({k: SecretValue(v) for k, v in values.items()})
    assert stat.S_IMODE(store.store.stat().st_mode) == 0o600
    assert stat.S_IMODE(store.key_file.stat().st_mode) == 0o600
    raw = store.store.read_bytes()
    assert all(v.encode() not in raw for v in values.values())
    assert [p.name for p in store.store.parent.iterdir()] == [store.store.name]  # no temp left
    assert {k: v.reveal() for k, v in LocalProvider(ctx).load().items()} == values


def test_local_key_from_env_and_wrong_key(make_ctx, values) -> None:
    key = Fernet.generate_key().decode()
    ctx = make_ctx({"SOPHIA_SECRETS_KEY": key})
    LocalProvider(ctx).save({"OPENAI_API_KEY": SecretValue(values["OPENAI_API_KEY"])})
    other = make_ctx({"SOPHIA_SECRETS_KEY": Fernet.generate_key().decode()})
    with pytest.raises(InputError, match="cannot be decrypted") as info:
        LocalProvider(other).load()
    assert values["OPENAI_API_KEY"] not in str(info.value)


def test_local_key_file_too_open_is_refused(make_ctx, values) -> None:
    ctx = make_ctx()
    store = LocalProvider(ctx)
    store.save({"OPENAI_API_KEY": SecretValue(values["OPENAI_API_KEY"])})
    os.chmod(store.key_file, 0o644)
    with pytest.raises(InputError, match="chmod 600"):
        LocalProvider(ctx).load()


def test_actions_payload_to_local_plans_names_only(make_ctx, values) -> None:
    ctx = make_ctx(payload(values, UNRELATED="x-unrelated-1"))
    result = run(
        GithubActionsProvider(ctx), LocalProvider(ctx), "dev", SyncOptions(), dry_run=False
    )
    plan = result.plan
    assert plan.names("add") == sorted(values)
    assert plan.unknown == ["UNRELATED"]
    assert plan.ignored == ["github_token"]
    stored = LocalProvider(ctx).load()
    assert set(stored) == set(values)  # unknown names are not written
    rerun = run(GithubActionsProvider(ctx), LocalProvider(ctx), "dev", SyncOptions(), dry_run=False)
    assert rerun.plan.names("unchanged") == sorted(values)
    assert rerun.applied is not None and rerun.applied.written == 0


def test_include_unmanaged_writes_unknown_names(make_ctx, values) -> None:
    ctx = make_ctx(payload(values, UNRELATED="x-unrelated-1"))
    run(
        GithubActionsProvider(ctx),
        LocalProvider(ctx),
        "dev",
        SyncOptions(include_unmanaged=True),
        dry_run=False,
    )
    assert "UNRELATED" in LocalProvider(ctx).load()


@pytest.mark.parametrize(
    ("name", "value", "status"),
    [
        ("OPENAI_API_KEY", None, "missing"),
        ("DATABASE_URL", "", "empty"),
        ("SHARED_TOKEN", "changeme", "placeholder"),
        ("GROUPED_KEY", "${{ secrets.X }}", "placeholder"),
    ],
)
def test_required_problems_refuse_and_write_nothing(make_ctx, values, name, value, status) -> None:
    bad = dict(values)
    if value is None:
        bad.pop(name)
    else:
        bad[name] = value
    ctx = make_ctx(payload(bad))
    result = run(
        GithubActionsProvider(ctx), LocalProvider(ctx), "dev", SyncOptions(), dry_run=False
    )
    assert result.plan.blocked
    assert [(p.name, p.status) for p in result.plan.problems] == [(name, status)]
    assert result.applied is None
    assert not LocalProvider(ctx).store.exists()


def test_allow_missing_downgrades_optional_only(make_ctx, values) -> None:
    partial = {k: v for k, v in values.items() if k != "OPTIONAL_KEY"}
    ctx = make_ctx(payload(partial))
    strict = run(GithubActionsProvider(ctx), LocalProvider(ctx), "dev", SyncOptions(), dry_run=True)
    assert strict.plan.blocked
    lenient = run(
        GithubActionsProvider(ctx),
        LocalProvider(ctx),
        "dev",
        SyncOptions(allow_missing=True),
        dry_run=False,
    )
    assert not lenient.plan.blocked
    assert set(LocalProvider(ctx).load()) == set(partial)


def test_changed_and_pruned(make_ctx, values) -> None:
    ctx = make_ctx(payload(values))
    run(GithubActionsProvider(ctx), LocalProvider(ctx), "dev", SyncOptions(), dry_run=False)
    changed = dict(values, OPENAI_API_KEY="CANARY-rotated-0001")
    changed.pop("OPTIONAL_KEY")
    ctx2 = make_ctx(payload(changed))
    keep = run(
        GithubActionsProvider(ctx2),
        LocalProvider(ctx2),
        "dev",
        SyncOptions(allow_missing=True),
        dry_run=False,
    )
    assert keep.plan.names("change") == ["OPENAI_API_KEY"]
    assert keep.plan.names("orphaned") == ["OPTIONAL_KEY"]
    assert "OPTIONAL_KEY" in LocalProvider(ctx2).load()
    pruned = run(
        GithubActionsProvider(ctx2),
        LocalProvider(ctx2),
        "dev",
        SyncOptions(allow_missing=True, prune=True),
        dry_run=False,
    )
    assert pruned.plan.names("remove") == ["OPTIONAL_KEY"]
    assert "OPTIONAL_KEY" not in LocalProvider(ctx2).load()


@pytest.mark.parametrize(
    ("raw", "message"),
    [("{not json", "not valid JSON"), ("[1, 2]", "JSON object"), ('{"A": 1}', "not strings")],
)
def test_malformed_payload(make_ctx, raw, message) -> None:
    ctx = make_ctx({"ALL_SECRETS": raw})
    with pytest.raises(InputError, match=message):
        GithubActionsProvider(ctx).read()


def test_missing_payload_variable(make_ctx) -> None:
    with pytest.raises(InputError, match="ALL_SECRETS is not set"):
        GithubActionsProvider(make_ctx()).read()


def test_github_names_match_case_insensitively(make_ctx, values) -> None:
    ctx = make_ctx({"ALL_SECRETS": json.dumps({"openai_api_key": values["OPENAI_API_KEY"]})})
    snapshot = GithubActionsProvider(ctx).read()
    assert snapshot.values["OPENAI_API_KEY"].reveal() == values["OPENAI_API_KEY"]
