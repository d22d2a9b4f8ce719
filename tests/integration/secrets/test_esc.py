"""The esc provider against the local ESC server: one PATCH, If-Match, unmanaged keys kept."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from ruamel.yaml import YAML

from sophia_platform.config.http import ConflictError
from sophia_platform.errors import ExternalError
from sophia_platform.secrets.providers.esc import EscProvider
from sophia_platform.secrets.providers.github_actions import GithubActionsProvider
from sophia_platform.secrets.sync import SyncOptions, apply, prepare, run
from tests.servers.esc import EscServer
from tests.servers.esc_admin import DefinitionHandler, DefinitionState

pytestmark = pytest.mark.integration
REF = "acme-org/default/acme-dev"
EXISTING = """\
# Owned by the platform team: keep this comment.
imports:
  - base
values:
  region: eu-west-1  # not a secret
  other_team_key:
    fn::secret: keep-me-unmanaged-1
  db:
    host: db.internal
"""


@pytest.fixture
def esc() -> Iterator[EscServer]:
    state = DefinitionState()
    state.add_environment("acme-org/default/base", {"imported": "from-base"})
    state.add_environment(REF)
    state.set_text(REF, EXISTING)
    with EscServer(state, DefinitionHandler) as server:
        yield server


def decrypted(esc: EscServer) -> dict[str, Any]:
    state = esc.state
    assert isinstance(state, DefinitionState)
    env = state.environment(*REF.split("/"))
    return YAML(typ="safe").load(state.decrypted_text(env))  # type: ignore[no-any-return]


def env_for(esc: EscServer, values: dict[str, str]) -> dict[str, str]:
    return {
        "PULUMI_ACCESS_TOKEN": esc.token,
        "PULUMI_BACKEND_URL": esc.backend_url,
        "ALL_SECRETS": json.dumps({k: v for k, v in values.items()}),
    }


def test_sync_is_one_patch_and_preserves_unmanaged(make_ctx, esc, values) -> None:
    ctx = make_ctx(env_for(esc, values))
    state = esc.state
    assert isinstance(state, DefinitionState)
    result = run(GithubActionsProvider(ctx), EscProvider(ctx), "dev", SyncOptions(), dry_run=False)
    assert result.plan.names("add") == [
        "db.url",
        "grouped_key",
        "openai_api_key",
        "optional_key",
        "shared_token",
    ]
    assert state.count("patch") == 1
    text = state.texts[REF]
    assert "# Owned by the platform team: keep this comment." in text
    assert "# not a secret" in text
    assert all(v not in text for v in values.values())  # stored as ciphertext
    doc = YAML(typ="safe").load(
        state.decrypted_text(state.environments[("acme-org", "default", "acme-dev")])
    )
    assert doc["imports"] == ["base"]
    assert doc["values"]["other_team_key"] == {"fn::secret": "keep-me-unmanaged-1"}
    assert doc["values"]["db"] == {
        "host": "db.internal",
        "url": {"fn::secret": values["DATABASE_URL"]},
    }
    assert doc["values"]["openai_api_key"] == {"fn::secret": values["OPENAI_API_KEY"]}
    # Resolved reads (what apps and the next sync see) agree.
    snapshot = EscProvider(ctx).read()
    assert {k: v.reveal() for k, v in snapshot.values.items()} == values
    assert "region" in snapshot.unmanaged and "imported" in snapshot.unmanaged
    # Re-running changes nothing and writes nothing.
    again = run(GithubActionsProvider(ctx), EscProvider(ctx), "dev", SyncOptions(), dry_run=False)
    assert again.plan.changes == []
    assert state.count("patch") == 1


def test_changed_by_digest(make_ctx, esc, values) -> None:
    ctx = make_ctx(env_for(esc, values))
    run(GithubActionsProvider(ctx), EscProvider(ctx), "dev", SyncOptions(), dry_run=False)
    rotated = dict(values, SHARED_TOKEN="CANARY-rotated-7")
    ctx2 = make_ctx(env_for(esc, rotated))
    result = run(
        GithubActionsProvider(ctx2), EscProvider(ctx2), "dev", SyncOptions(), dry_run=False
    )
    assert result.plan.names("change") == ["shared_token"]
    assert len(result.plan.names("unchanged")) == 4


def test_concurrent_edit_is_refused_no_lost_update(make_ctx, esc, values) -> None:
    ctx = make_ctx(env_for(esc, values))
    state = esc.state
    assert isinstance(state, DefinitionState)
    prepared = prepare(GithubActionsProvider(ctx), EscProvider(ctx), "dev", SyncOptions())
    # Someone edits the environment between our plan and our apply.
    state.set_text(REF, EXISTING + "  added_by_someone: hello\n")
    with pytest.raises(ConflictError, match="changed since the plan") as info:
        apply(prepared)
    assert all(v not in str(info.value) for v in values.values())
    doc = YAML(typ="safe").load(
        state.decrypted_text(state.environments[("acme-org", "default", "acme-dev")])
    )
    assert doc["values"]["added_by_someone"] == "hello"
    assert "openai_api_key" not in doc["values"]


def test_retries_then_succeeds_and_401_is_clear(make_ctx, esc, values) -> None:
    ctx = make_ctx(env_for(esc, values))
    esc.state.fail(503, 1, "get")
    esc.state.fail(429, 1, "patch", headers={"Retry-After": "0"})
    provider = EscProvider(ctx)
    provider.client.http.policy = replace(provider.client.http.policy, backoff=0.01)
    result = run(GithubActionsProvider(ctx), provider, "dev", SyncOptions(), dry_run=False)
    assert result.applied is not None and result.applied.written == 5
    bad = make_ctx({**env_for(esc, values), "PULUMI_ACCESS_TOKEN": "wrong"})
    with pytest.raises(ExternalError, match="401"):
        EscProvider(bad).read()


def test_unknown_environment_is_404(make_ctx, esc, values) -> None:
    ctx = make_ctx(env_for(esc, values), esc_environment="acme-org/default/nope")
    with pytest.raises(ExternalError, match=r"404.*esc env init"):
        EscProvider(ctx).state()


def test_403_names_the_permission(make_ctx, esc, values) -> None:
    esc.state.fail(403, 1, "get")
    with pytest.raises(ExternalError, match=r"403.*'write'"):
        EscProvider(make_ctx(env_for(esc, values))).state()


def test_inventory_and_revision_time(make_ctx, esc, values) -> None:
    ctx = make_ctx(env_for(esc, values))
    run(GithubActionsProvider(ctx), EscProvider(ctx), "dev", SyncOptions(), dry_run=False)
    rows = EscProvider(ctx).inventory()
    assert rows["OPENAI_API_KEY"].status == "present"
    assert rows["OPENAI_API_KEY"].updated is not None
    assert rows["DATABASE_URL"].where == "values.db.url"


def test_include_unmanaged_writes_unknown_names_lower_cased(make_ctx, esc, values) -> None:
    env = env_for(esc, values)
    env["ALL_SECRETS"] = json.dumps({**values, "EXTRA_ONE": "CANARY-extra-esc"})
    ctx = make_ctx(env)
    plain = run(GithubActionsProvider(ctx), EscProvider(ctx), "dev", SyncOptions(), dry_run=False)
    assert plain.plan.unknown == ["EXTRA_ONE"]
    assert "extra_one" not in decrypted(esc)["values"]
    wide = run(
        GithubActionsProvider(ctx),
        EscProvider(ctx),
        "dev",
        SyncOptions(include_unmanaged=True),
        dry_run=False,
    )
    assert wide.plan.names("add") == ["extra_one"]
    assert decrypted(esc)["values"]["extra_one"] == {"fn::secret": "CANARY-extra-esc"}
