"""The config library applications import: ordered layers, first hit wins, values redacted.

    from sophia_platform.config import get_config_value, require
    api_key = require("OPENAI_API_KEY")          # SecretValue; str() is redacted
    client = OpenAI(api_key=api_key.reveal())

Layers, in the default order (``SOPHIA_CONFIG_ORDER``): explicit overrides, files mounted from
Kubernetes Secrets (``SOPHIA_SECRETS_DIR``), Pulumi ESC (``SOPHIA_ESC_ENV``), environment
variables, then the caller's default. Importing this package is cheap and does no I/O: it
pulls in no kubernetes, typer, rich, pydantic or httpx; the layers are built on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sophia_platform.config.default import (
    check_layers,
    configure,
    default_config,
    get_bool,
    get_config_value,
    get_int,
    get_url,
    layer_status,
    preload,
    remove_override,
    require,
    reset_config,
    set_override,
)
from sophia_platform.config.errors import (
    ConfigError,
    InvalidConfigValueError,
    LayerError,
    MissingConfigError,
    PlaceholderSecretError,
)
from sophia_platform.config.placeholder import is_placeholder, placeholder_reason
from sophia_platform.config.providers.base import LayerStatus
from sophia_platform.config.resolver import Config
from sophia_platform.config.secret import REDACTED, SecretValue

if TYPE_CHECKING:
    from sophia_platform.config.groups import (
        DatabaseConfig,
        DockerHubConfig,
        GongConfig,
        HubSpotConfig,
        LLMConfig,
        RedisConfig,
        SlackConfig,
        SnowflakeConfig,
        get_database_config,
        get_docker_hub_config,
        get_gong_config,
        get_hubspot_config,
        get_llm_config,
        get_redis_config,
        get_slack_config,
        get_snowflake_config,
    )

# The grouped getters (dataclasses) load on first access to keep ``import`` cheap.
_LAZY_GROUPS = frozenset(
    {
        "DatabaseConfig",
        "DockerHubConfig",
        "GongConfig",
        "HubSpotConfig",
        "LLMConfig",
        "RedisConfig",
        "SlackConfig",
        "SnowflakeConfig",
        "get_database_config",
        "get_docker_hub_config",
        "get_gong_config",
        "get_hubspot_config",
        "get_llm_config",
        "get_redis_config",
        "get_slack_config",
        "get_snowflake_config",
    }
)


def __getattr__(name: str) -> Any:
    if name in _LAZY_GROUPS:
        from sophia_platform.config import groups

        return getattr(groups, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "REDACTED",
    "Config",
    "ConfigError",
    "DatabaseConfig",
    "DockerHubConfig",
    "GongConfig",
    "HubSpotConfig",
    "InvalidConfigValueError",
    "LLMConfig",
    "LayerError",
    "LayerStatus",
    "MissingConfigError",
    "PlaceholderSecretError",
    "RedisConfig",
    "SecretValue",
    "SlackConfig",
    "SnowflakeConfig",
    "check_layers",
    "configure",
    "default_config",
    "get_bool",
    "get_config_value",
    "get_database_config",
    "get_docker_hub_config",
    "get_gong_config",
    "get_hubspot_config",
    "get_int",
    "get_llm_config",
    "get_redis_config",
    "get_slack_config",
    "get_snowflake_config",
    "get_url",
    "is_placeholder",
    "layer_status",
    "placeholder_reason",
    "preload",
    "remove_override",
    "require",
    "reset_config",
    "set_override",
]
