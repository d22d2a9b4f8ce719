"""The github-api provider against the local GitHub server (real HTTP, real sealed boxes)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest

from sophia_platform.config import SecretValue
from sophia_platform.errors import ExternalError, UsageError
from sophia_platform.secrets.providers.base import ProviderContext, Snapshot
from sophia_platform.secrets.providers.github_api import GithubApiProvider
from sophia_platform.secrets.sync import SyncOptions, run
from tests.servers.github import GithubServer

pytestmark = pytest.mark.integration


def provider(
    make_ctx: Callable[..., ProviderContext],
    gh: GithubServer,
    token: str = "gh-admin",
    **options: str,
) -> GithubApiProvider:
    opts = {"github_org": "acme", **options}
    return GithubApiProvider(make_ctx({"GITHUB_TOKEN": token}, github_api_url=gh.url, **opts))


def test_sealed_box_round_trip_and_idempotent_names(make_ctx, github, values) -> None:
    p = provider(make_ctx, github)
    snapshot = Snapshot({k: SecretValue(v) for k, v in values.items()})
    from sophia_platform.secrets.sync import apply, prepare

    class Source:
        kind = "test"
        ctx = p.ctx

        def read(self) -> Snapshot:
            return snapshot

        def request_count(self) -> int:
            return 0

    prepared = prepare(Source(), p, "dev", SyncOptions())  # type: ignore[arg-type]
    assert prepared.plan.names("add") == sorted(values)
    result = apply(prepared)
    assert result.written == len(values)
    org = github.state.orgs["acme"]
    # The server decrypted exactly what we sent, with its private key.
    assert org.plaintext == values
    # Values can never be read back; a re-plan can only know names.
    again = prepare(Source(), p, "dev", SyncOptions())  # type: ignore[arg-type]
    assert again.plan.names("change") == sorted(values)
    with pytest.raises(UsageError, match="never returns secret values"):
        p.read()


def test_pagination_lists_every_secret(make_ctx, github) -> None:
    org = github.state.orgs["acme"]
    for i in range(250):
        github.state.seed(org, f"S_{i:03}")
    p = provider(make_ctx, github)
    assert len(p.list_secrets()) == 250
    assert p.request_count() == 3  # 100 + 100 + 50
    inventory = p.inventory()
    assert {row.status for row in inventory.values()} == {"missing"}


def test_inventory_reports_update_time(make_ctx, github) -> None:
    github.state.seed(github.state.orgs["acme"], "OPENAI_API_KEY", "2026-03-04T05:06:07Z")
    row = provider(make_ctx, github).inventory()["OPENAI_API_KEY"]
    assert row.status == "present"
    assert row.updated is not None and row.updated.year == 2026


def test_403_names_the_scope(make_ctx, github) -> None:
    p = provider(make_ctx, github, token="gh-repo-only")
    with pytest.raises(ExternalError, match="admin:org"):
        p.list_secrets()


def test_401_bad_token(make_ctx, github) -> None:
    with pytest.raises(ExternalError, match="401"):
        provider(make_ctx, github, token="nope").list_secrets()


def test_404_unknown_org(make_ctx, github) -> None:
    with pytest.raises(ExternalError, match="404"):
        provider(make_ctx, github, github_org="ghost").list_secrets()


def test_429_and_5xx_are_retried(make_ctx, github) -> None:
    github.state.fail_next(429, 1, **{"Retry-After": "0"})
    github.state.fail_next(502, 1)
    p = provider(make_ctx, github)
    p.http.policy = replace(p.http.policy, backoff=0.01)
    assert p.list_secrets() == {}
    assert p.request_count() == 3


def test_5xx_gives_up_with_a_clear_error(make_ctx, github) -> None:
    github.state.fail_next(503, 10)
    p = provider(make_ctx, github)
    p.http.policy = replace(p.http.policy, backoff=0.01)
    with pytest.raises(ExternalError, match="HTTP 503"):
        p.list_secrets()


def test_repo_level_and_local_to_github_sync(make_ctx, github, values, tmp_path) -> None:
    from sophia_platform.secrets.providers.local import LocalProvider

    ctx = make_ctx({"GITHUB_TOKEN": "gh-admin"}, github_api_url=github.url, github_repo="acme/app")
    local = LocalProvider(ctx)
    local.save({k: SecretValue(v) for k, v in values.items()})
    result = run(local, GithubApiProvider(ctx), "dev", SyncOptions(), dry_run=False)
    assert result.applied is not None and result.applied.written == len(values)
    assert github.state.repos["acme/app"].plaintext == values
