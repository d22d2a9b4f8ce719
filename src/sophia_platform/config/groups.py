"""Grouped getters: one typed, frozen object per integration, from the spec's secret names.

The first key of each tuple is the canonical name in ``sophia.yaml``'s secrets manifest
(of the example spec, ``sophia init --example``; a test keeps them in step); later keys are
legacy spellings found in the company's old code, accepted so apps can migrate without
renaming everything at once. Secret fields are ``SecretValue``; plain identifiers (user names,
account ids) are str.
"""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass

from sophia_platform.config.default import default_config
from sophia_platform.config.errors import InvalidConfigValueError, MissingConfigError
from sophia_platform.config.parse import is_url
from sophia_platform.config.resolver import Config
from sophia_platform.config.secret import SecretValue

DOCKER_HUB_USERNAME = ("DOCKER_HUB_USERNAME", "DOCKERHUB_USERNAME")
DOCKER_HUB_ACCESS_TOKEN = ("DOCKER_HUB_ACCESS_TOKEN", "DOCKER_HUB_TOKEN", "DOCKERHUB_TOKEN")
SNOWFLAKE = {
    "account": ("SNOWFLAKE_ACCOUNT",),
    "user": ("SNOWFLAKE_USER", "SNOWFLAKE_USERNAME"),
    "password": ("SNOWFLAKE_PASSWORD",),
    "warehouse": ("SNOWFLAKE_WAREHOUSE",),
    "database": ("SNOWFLAKE_DATABASE",),
    "role": ("SNOWFLAKE_ROLE",),
    "schema": ("SNOWFLAKE_SCHEMA",),
}
DATABASE_URL = ("DATABASE_URL", "POSTGRES_URL", "POSTGRESQL_URL")
REDIS_URL = ("REDIS_URL",)
REDIS_PASSWORD = ("REDIS_PASSWORD",)
LLM_KEYS = {
    "openai": ("OPENAI_API_KEY",),
    "anthropic": ("ANTHROPIC_API_KEY",),
    "openrouter": ("OPENROUTER_API_KEY",),
    "mistral": ("MISTRAL_API_KEY",),
    "groq": ("GROQ_API_KEY",),
    "perplexity": ("PERPLEXITY_API_KEY",),
}
SLACK = {
    "bot_token": ("SLACK_BOT_TOKEN",),
    "app_token": ("SLACK_APP_TOKEN",),
    "signing_secret": ("SLACK_SIGNING_SECRET",),
}
GONG = {
    "access_key": ("GONG_ACCESS_KEY",),
    "access_key_secret": ("GONG_ACCESS_KEY_SECRET", "GONG_SECRET_KEY"),
    "base_url": ("GONG_BASE_URL",),
}
HUBSPOT = {
    "access_token": ("HUBSPOT_ACCESS_TOKEN", "HUBSPOT_API_KEY"),
    "client_secret": ("HUBSPOT_CLIENT_SECRET",),
}


@dataclass(frozen=True)
class DockerHubConfig:
    """Docker Hub credentials for image pushes."""

    username: str
    token: SecretValue


@dataclass(frozen=True)
class SnowflakeConfig:
    """Snowflake connection settings."""

    account: str
    user: str
    password: SecretValue
    warehouse: str
    database: str
    role: str | None = None
    schema: str | None = None


@dataclass(frozen=True)
class DatabaseConfig:
    """The PostgreSQL connection; the URL (with its password) stays redacted."""

    url: SecretValue
    host: str
    port: int
    name: str
    user: str | None


@dataclass(frozen=True)
class RedisConfig:
    """The Redis connection."""

    url: SecretValue
    password: SecretValue | None = None


@dataclass(frozen=True)
class LLMConfig:
    """API keys of the LLM providers that are configured (at least one)."""

    keys: dict[str, SecretValue]

    def key(self, provider: str) -> SecretValue | None:
        """Return the key of ``provider`` (``"openai"``, ``"anthropic"``...), or None."""
        return self.keys.get(provider)

    @property
    def providers(self) -> list[str]:
        """The providers with a key, in preference order."""
        return list(self.keys)


@dataclass(frozen=True)
class SlackConfig:
    """Slack bot credentials."""

    bot_token: SecretValue
    signing_secret: SecretValue
    app_token: SecretValue | None = None


@dataclass(frozen=True)
class GongConfig:
    """Gong API credentials."""

    access_key: SecretValue
    access_key_secret: SecretValue
    base_url: str = "https://api.gong.io"


@dataclass(frozen=True)
class HubSpotConfig:
    """HubSpot private-app credentials."""

    access_token: SecretValue
    client_secret: SecretValue | None = None


def get_docker_hub_config(config: Config | None = None) -> DockerHubConfig:
    """Return Docker Hub credentials; raise naming the layers if one is missing."""
    c = config or default_config()
    return DockerHubConfig(
        username=c.require_any(DOCKER_HUB_USERNAME).reveal(),
        token=c.require_any(DOCKER_HUB_ACCESS_TOKEN),
    )


def get_snowflake_config(config: Config | None = None) -> SnowflakeConfig:
    """Return Snowflake settings (role and schema optional)."""
    c = config or default_config()
    return SnowflakeConfig(
        account=c.require_any(SNOWFLAKE["account"]).reveal(),
        user=c.require_any(SNOWFLAKE["user"]).reveal(),
        password=c.require_any(SNOWFLAKE["password"]),
        warehouse=c.require_any(SNOWFLAKE["warehouse"]).reveal(),
        database=c.require_any(SNOWFLAKE["database"]).reveal(),
        role=_plain(c.get_any(SNOWFLAKE["role"])),
        schema=_plain(c.get_any(SNOWFLAKE["schema"])),
    )


def get_database_config(config: Config | None = None) -> DatabaseConfig:
    """Return the PostgreSQL connection parsed from ``DATABASE_URL``."""
    c = config or default_config()
    url = c.require_any(DATABASE_URL)
    schemes = {"postgres", "postgresql", "postgresql+psycopg", "postgresql+asyncpg"}
    if not is_url(url.reveal(), schemes):
        key, layer = url.key or "DATABASE_URL", url.source or "?"
        raise InvalidConfigValueError(key, layer, "a postgres URL")
    parts = urllib.parse.urlsplit(url.reveal())
    return DatabaseConfig(
        url=url,
        host=parts.hostname or "localhost",
        port=parts.port or 5432,
        name=parts.path.lstrip("/") or "postgres",
        user=urllib.parse.unquote(parts.username) if parts.username else None,
    )


def get_redis_config(config: Config | None = None) -> RedisConfig:
    """Return the Redis connection from ``REDIS_URL`` (and ``REDIS_PASSWORD`` if set)."""
    c = config or default_config()
    url = c.require_any(REDIS_URL)
    if not is_url(url.reveal(), {"redis", "rediss", "unix"}):
        raise InvalidConfigValueError(url.key or "REDIS_URL", url.source or "?", "a redis URL")
    return RedisConfig(url=url, password=c.get_any(REDIS_PASSWORD))


def get_llm_config(config: Config | None = None) -> LLMConfig:
    """Return the configured LLM provider keys; raise if there is none at all."""
    c = config or default_config()
    keys = {name: value for name, aliases in LLM_KEYS.items() if (value := c.get_any(aliases))}
    if not keys:
        first = LLM_KEYS["openai"][0]
        others = ", ".join(aliases[0] for aliases in list(LLM_KEYS.values())[1:])
        try:
            c.require(first)
        except MissingConfigError as exc:
            raise MissingConfigError(f"no LLM key: {first} (or {others})", exc.searched) from None
    return LLMConfig(keys=keys)


def get_slack_config(config: Config | None = None) -> SlackConfig:
    """Return Slack credentials (the app-level token is optional)."""
    c = config or default_config()
    return SlackConfig(
        bot_token=c.require_any(SLACK["bot_token"]),
        signing_secret=c.require_any(SLACK["signing_secret"]),
        app_token=c.get_any(SLACK["app_token"]),
    )


def get_gong_config(config: Config | None = None) -> GongConfig:
    """Return Gong credentials."""
    c = config or default_config()
    base_url = c.get_any(GONG["base_url"])
    return GongConfig(
        access_key=c.require_any(GONG["access_key"]),
        access_key_secret=c.require_any(GONG["access_key_secret"]),
        base_url=base_url.reveal() if base_url else GongConfig.base_url,
    )


def get_hubspot_config(config: Config | None = None) -> HubSpotConfig:
    """Return HubSpot credentials."""
    c = config or default_config()
    return HubSpotConfig(
        access_token=c.require_any(HUBSPOT["access_token"]),
        client_secret=c.get_any(HUBSPOT["client_secret"]),
    )


def _plain(value: SecretValue | None) -> str | None:
    return value.reveal() if value else None
