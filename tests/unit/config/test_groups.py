import pytest
from ruamel.yaml import YAML

from sophia_platform.config import (
    Config,
    InvalidConfigValueError,
    MissingConfigError,
    PlaceholderSecretError,
    get_database_config,
    get_docker_hub_config,
    get_gong_config,
    get_hubspot_config,
    get_llm_config,
    get_redis_config,
    get_slack_config,
    get_snowflake_config,
    groups,
)
from sophia_platform.resources import example_spec_path

CANARY = "canary-51f0-groups"
EXAMPLE_SPEC = example_spec_path()


def env_config(env: dict[str, str]) -> Config:
    return Config.from_env(environ=env, order=("env",))


def test_docker_hub() -> None:
    config = env_config({"DOCKER_HUB_USERNAME": "scoobyjava15", "DOCKER_HUB_ACCESS_TOKEN": CANARY})
    hub = get_docker_hub_config(config)
    assert hub.username == "scoobyjava15"
    assert hub.token.reveal() == CANARY
    assert CANARY not in repr(hub) and CANARY not in str(hub)


def test_docker_hub_legacy_alias_and_missing_message() -> None:
    hub = get_docker_hub_config(
        env_config({"DOCKERHUB_USERNAME": "u1", "DOCKERHUB_TOKEN": "dckr_pat_abc123456"})
    )
    assert hub.username == "u1"
    with pytest.raises(MissingConfigError) as info:
        get_docker_hub_config(env_config({"DOCKER_HUB_USERNAME": "u1"}))
    message = str(info.value)
    assert message.startswith(
        "DOCKER_HUB_ACCESS_TOKEN (or DOCKER_HUB_TOKEN, DOCKERHUB_TOKEN) is not set: looked in env"
    )


def test_snowflake() -> None:
    env = {
        "SNOWFLAKE_ACCOUNT": "acme-x1",
        "SNOWFLAKE_USER": "svc",
        "SNOWFLAKE_PASSWORD": CANARY,
        "SNOWFLAKE_WAREHOUSE": "COMPUTE_WH",
        "SNOWFLAKE_DATABASE": "SOPHIA",
    }
    snow = get_snowflake_config(env_config(env))
    assert (snow.account, snow.user, snow.warehouse, snow.database) == (
        "acme-x1",
        "svc",
        "COMPUTE_WH",
        "SOPHIA",
    )
    assert snow.role is None and snow.schema is None
    assert CANARY not in repr(snow)


def test_database_and_redis() -> None:
    env = {
        "DATABASE_URL": f"postgresql://sophia:{CANARY}@postgres:5433/sophia_db",
        "REDIS_URL": "redis://redis:6379/0",
        "REDIS_PASSWORD": "redis-pw-123456",
    }
    db = get_database_config(env_config(env))
    assert (db.host, db.port, db.name, db.user) == ("postgres", 5433, "sophia_db", "sophia")
    assert CANARY not in repr(db)
    redis = get_redis_config(env_config(env))
    assert redis.url.reveal() == "redis://redis:6379/0"
    assert redis.password is not None
    with pytest.raises(InvalidConfigValueError) as info:
        get_database_config(env_config({"DATABASE_URL": f"mysql://x:{CANARY}@h/db"}))
    assert "DATABASE_URL from env is not a postgres URL" in str(info.value)
    assert CANARY not in str(info.value)


def test_llm() -> None:
    llm = get_llm_config(env_config({"ANTHROPIC_API_KEY": "sk-ant-123456789", "GROQ_API_KEY": ""}))
    assert llm.providers == ["anthropic"]  # an empty optional key does not count
    assert llm.key("anthropic") is not None
    assert llm.key("openai") is None
    with pytest.raises(MissingConfigError) as info:
        get_llm_config(env_config({}))
    assert str(info.value).startswith("no LLM key: OPENAI_API_KEY (or ANTHROPIC_API_KEY")


def test_slack_gong_hubspot() -> None:
    env = {
        "SLACK_BOT_TOKEN": "xoxb-1234-5678-abcdef",
        "SLACK_SIGNING_SECRET": "8f7e6d5c4b3a",
        "GONG_ACCESS_KEY": "gong-ak-123456",
        "GONG_ACCESS_KEY_SECRET": "gong-sk-123456",
        "HUBSPOT_ACCESS_TOKEN": "pat-na1-123456789",
    }
    config = env_config(env)
    slack = get_slack_config(config)
    assert slack.app_token is None
    assert get_gong_config(config).base_url == "https://api.gong.io"
    assert get_hubspot_config(config).client_secret is None


def test_placeholders_are_refused_in_groups() -> None:
    config = env_config({"DOCKER_HUB_USERNAME": "u1", "DOCKER_HUB_ACCESS_TOKEN": "changeme"})
    with pytest.raises(PlaceholderSecretError) as info:
        get_docker_hub_config(config)
    assert info.value.key == "DOCKER_HUB_ACCESS_TOKEN"


def _group_key_tuples() -> list[tuple[str, ...]]:
    found: list[tuple[str, ...]] = []
    for value in vars(groups).values():
        if isinstance(value, tuple) and value and all(isinstance(v, str) for v in value):
            found.append(value)
        elif isinstance(value, dict):
            found += [v for v in value.values() if isinstance(v, tuple)]
    return found


def test_canonical_names_match_the_example_spec() -> None:
    # The first name of every group key is the canonical one: it must be declared in the
    # example spec's secrets manifest (or config), so the getters read what the pipeline writes.
    doc = YAML(typ="safe").load(EXAMPLE_SPEC.read_text())
    declared = set(doc.get("secrets", {})) | set(doc.get("config", {}) or {})
    optional_extras = {"SNOWFLAKE_SCHEMA"}  # optional here and not used by the example
    canonical = {names[0] for names in _group_key_tuples()}
    assert len(canonical) >= 20
    assert canonical - declared <= optional_extras
