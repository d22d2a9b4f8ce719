"""Fixtures of the secrets integration tests: a small spec, canary values, provider contexts."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from sophia_platform.secrets.providers.base import ProviderContext
from sophia_platform.secrets.session import provider_context
from sophia_platform.spec import Spec
from tests.servers.github import GithubServer

SPEC_YAML = """\
project: acme
registry: docker.io/acme
environments:
  dev: {context: sophia-local, namespace: acme-dev, esc: acme-org/default/acme-dev}
services:
  api: {image: api, port: 8000, secrets: [OPENAI_API_KEY, DATABASE_URL, SHARED_TOKEN]}
  worker: {image: worker, secrets: [SHARED_TOKEN, GROUPED_KEY]}
secrets:
  OPENAI_API_KEY: {description: OpenAI key}
  DATABASE_URL: {esc: db.url}
  SHARED_TOKEN: {}
  GROUPED_KEY: {kubernetes: {secret: common-secrets}}
  OPTIONAL_KEY: {required: false}
"""


def canary() -> str:
    """A value that must never show up anywhere but the intended stores."""
    return f"CANARY-{uuid.uuid4().hex}"


@pytest.fixture
def spec_file(tmp_path: Path) -> Path:
    path = tmp_path / "sophia.yaml"
    path.write_text(SPEC_YAML, encoding="utf-8")
    return path


@pytest.fixture
def spec(spec_file: Path) -> Spec:
    from sophia_platform.spec import load_spec

    return load_spec(spec_file)


@pytest.fixture
def values() -> dict[str, str]:
    return {
        n: canary()
        for n in ("OPENAI_API_KEY", "DATABASE_URL", "SHARED_TOKEN", "GROUPED_KEY", "OPTIONAL_KEY")
    }


@pytest.fixture
def make_ctx(spec: Spec, tmp_path: Path) -> Callable[..., ProviderContext]:
    def make(environ: dict[str, str] | None = None, **options: Any) -> ProviderContext:
        env = {"XDG_CONFIG_HOME": str(tmp_path / "config"), **(environ or {})}
        return provider_context(spec, "dev", options=options, environ=env)

    return make


@pytest.fixture
def github() -> Iterator[GithubServer]:
    with GithubServer() as server:
        server.state.add_token("gh-admin", "admin:org", "repo")
        server.state.add_token("gh-repo-only", "repo")
        server.state.add_org("acme")
        server.state.add_repo("acme/app")
        yield server
