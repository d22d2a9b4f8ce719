"""The resolver over real layers: overrides, a real secrets directory, env (ESC off here)."""

from pathlib import Path

import pytest

from sophia_platform.config import (
    Config,
    ConfigError,
    InvalidConfigValueError,
    MissingConfigError,
    PlaceholderSecretError,
    SecretValue,
    configure,
    get_bool,
    get_config_value,
    get_int,
    get_url,
    layer_status,
    require,
    set_override,
)

CANARY = "canary-7c1e55aa-zz"


def make(tmp_path: Path, env: dict[str, str] | None = None, **settings: object) -> Config:
    secrets_dir = tmp_path / "secrets"
    secrets_dir.mkdir(exist_ok=True)
    return Config.from_env(environ=env or {}, secrets_dir=secrets_dir, **settings)


def test_first_hit_wins_in_default_order(tmp_path: Path) -> None:
    config = make(tmp_path, {"OPENAI_API_KEY": "sk-env-1234567890"})
    assert config.get("OPENAI_API_KEY").reveal() == "sk-env-1234567890"  # type: ignore[union-attr]
    assert config.source_of("OPENAI_API_KEY") == "env"

    (tmp_path / "secrets" / "OPENAI_API_KEY").write_text("sk-file-1234567890\n")
    config = make(tmp_path, {"OPENAI_API_KEY": "sk-env-1234567890"})
    value = config.get("OPENAI_API_KEY")
    assert value is not None
    assert value.reveal() == "sk-file-1234567890"
    assert value.source == "files"

    config.set_override("openai_api_key", "sk-override-123456")
    assert config.require("OPENAI_API_KEY").reveal() == "sk-override-123456"
    config.remove_override("OPENAI_API_KEY")
    assert config.require("OPENAI_API_KEY").source == "files"


def test_both_env_spellings_map(tmp_path: Path) -> None:
    config = make(tmp_path, {"openai_api_key": "sk-lower-1234567"})
    assert config.require("OPENAI_API_KEY").reveal() == "sk-lower-1234567"
    assert config.require("openai_api_key").reveal() == "sk-lower-1234567"
    config = make(tmp_path, {"OPENAI_API_KEY": "sk-upper-1234567", "openai_api_key": "sk-lower"})
    assert config.require("openai-api-key").reveal() == "sk-upper-1234567"


def test_default_and_missing(tmp_path: Path) -> None:
    config = make(tmp_path)
    assert config.get("NOPE") is None
    value = config.get("NOPE", "fallback")
    assert value.reveal() == "fallback"
    assert value.source == "default"
    given = SecretValue("x1")
    assert config.get("NOPE", given) is given


def test_order_is_configurable(tmp_path: Path) -> None:
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "LOG_LEVEL").write_text("debug")
    env = {"LOG_LEVEL": "info", "SOPHIA_CONFIG_ORDER": "env,files"}
    config = make(tmp_path, env)
    assert [p.name for p in config.providers] == ["env", "files"]
    assert config.require("LOG_LEVEL").reveal() == "info"
    config = make(tmp_path, {"LOG_LEVEL": "info"}, order=("files", "env"))
    assert config.require("LOG_LEVEL").reveal() == "debug"


@pytest.mark.parametrize("order", ["env,bogus", "env,env", "files,,nope"])
def test_bad_order_is_a_config_error(tmp_path: Path, order: str) -> None:
    with pytest.raises(ConfigError) as info:
        make(tmp_path, {"SOPHIA_CONFIG_ORDER": order})
    assert "overrides, files, esc, env" in str(info.value)


def test_require_names_every_layer(tmp_path: Path) -> None:
    config = make(tmp_path, {"SOPHIA_ESC_ENV": "acme/default/prod"})
    with pytest.raises(MissingConfigError) as info:
        config.require("OPENAI_API_KEY")
    message = str(info.value)
    assert message.startswith("OPENAI_API_KEY is not set: looked in overrides")
    for layer in ("overrides", "files", "esc acme/default/prod", "env"):
        assert layer in message
    assert str(tmp_path / "secrets") in message
    assert "openai_api_key" in message
    assert "environmentVariables.OPENAI_API_KEY" in message
    assert "PULUMI_ACCESS_TOKEN is not set" in message  # says why ESC had nothing
    assert info.value.searched and len(info.value.searched) == 4
    assert "\n" not in message


def test_placeholder_guard(tmp_path: Path) -> None:
    config = make(tmp_path, {"OPENAI_API_KEY": "your-api-key-here", "EMPTY": "", "TOKEN": "<t>"})
    with pytest.raises(PlaceholderSecretError) as info:
        config.get("OPENAI_API_KEY")
    assert "OPENAI_API_KEY from env is a placeholder" in str(info.value)
    with pytest.raises(PlaceholderSecretError):
        config.require("TOKEN")
    # An empty optional value is returned (falsy); an empty required one is refused.
    empty = config.get("EMPTY")
    assert empty is not None and not empty
    with pytest.raises(PlaceholderSecretError) as info:
        config.require("EMPTY")
    assert "empty value" in str(info.value)

    relaxed = make(tmp_path, {"OPENAI_API_KEY": "changeme"}, placeholder_guard=False)
    assert relaxed.require("OPENAI_API_KEY").reveal() == "changeme"


def test_placeholder_in_file_layer_names_the_layer(tmp_path: Path) -> None:
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "SLACK_BOT_TOKEN").write_text("xoxb-xxxxxxxxxxxx\n")
    config = make(tmp_path, {"SLACK_BOT_TOKEN": "xoxb-real-123456789"})
    with pytest.raises(PlaceholderSecretError) as info:
        config.require("SLACK_BOT_TOKEN")
    assert info.value.layer == "files"
    assert "xoxb" not in str(info.value)


def test_typed_helpers(tmp_path: Path) -> None:
    env = {
        "PORT": "8080",
        "BAD_PORT": "80a",
        "DEBUG": "Yes",
        "BAD_BOOL": "maybe",
        "DATABASE_URL": f"postgresql://u:{CANARY}@db:5432/app",
        "BAD_URL": f"not a url {CANARY}",
    }
    config = make(tmp_path, env)
    assert config.get_int("PORT") == 8080
    assert config.get_int("MISSING", 3) == 3
    assert config.get_bool("DEBUG") is True
    assert config.get_bool("MISSING", False) is False
    url = config.get_url("DATABASE_URL", schemes={"postgresql"})
    assert url is not None and url.reveal().endswith("/app")
    assert CANARY not in str(url)
    assert config.get_url("MISSING") is None
    for call, expected in [
        (lambda: config.get_int("BAD_PORT"), "an integer"),
        (lambda: config.get_bool("BAD_BOOL"), "a boolean"),
        (lambda: config.get_url("BAD_URL"), "a URL"),
        (lambda: config.get_url("DATABASE_URL", schemes={"redis"}), "scheme redis"),
    ]:
        with pytest.raises(InvalidConfigValueError) as info:
            call()
        assert expected in str(info.value)
        assert "from env" in str(info.value)
        assert CANARY not in str(info.value)
        assert "80a" not in str(info.value)


def test_invalid_key_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        make(tmp_path).get("not a key")


def test_module_level_functions_use_the_default_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOPHIA_SECRETS_DIR", str(tmp_path))
    monkeypatch.setenv("SOPHIA_TEST_PORT", "9000")
    monkeypatch.setenv("SOPHIA_TEST_FLAG", "off")
    monkeypatch.setenv("SOPHIA_TEST_URL", "redis://redis:6379/0")
    (tmp_path / "SOPHIA_TEST_SECRET").write_text("from-a-file-123")
    assert require("SOPHIA_TEST_SECRET").source == "files"
    assert get_int("SOPHIA_TEST_PORT") == 9000
    assert get_bool("SOPHIA_TEST_FLAG") is False
    assert get_url("SOPHIA_TEST_URL") is not None
    assert get_config_value("SOPHIA_TEST_MISSING") is None
    set_override("SOPHIA_TEST_PORT", "9001")
    assert get_int("SOPHIA_TEST_PORT") == 9001
    assert [s.layer for s in layer_status()] == ["overrides", "files", "esc", "env"]
    # configure() swaps in an explicit config.
    configure(make(tmp_path, {"SOPHIA_TEST_PORT": "1"}, order=("env",)))
    assert get_int("SOPHIA_TEST_PORT") == 1


def test_override_needs_the_overrides_layer(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        make(tmp_path, order=("env",)).set_override("A", "b")


def test_env_is_read_live(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = Config.from_env(order=("env",))
    assert config.get("SOPHIA_TEST_LIVE") is None
    monkeypatch.setenv("SOPHIA_TEST_LIVE", "one-value")
    assert config.require("SOPHIA_TEST_LIVE").reveal() == "one-value"
    monkeypatch.setenv("SOPHIA_TEST_LIVE", "another-value")
    assert config.require("SOPHIA_TEST_LIVE").reveal() == "another-value"


def test_layer_status_without_esc(tmp_path: Path) -> None:
    statuses = {s.layer: s for s in make(tmp_path).layers()}
    assert statuses["esc"].state == "not configured"
    assert "SOPHIA_ESC_ENV" in statuses["esc"].detail
    assert statuses["files"].state == "ok"
    missing = Config.from_env(environ={}, secrets_dir=tmp_path / "absent").layers()
    assert {s.layer: s.state for s in missing}["files"] == "failed"


def test_esc_paths_and_token_file_settings(tmp_path: Path) -> None:
    from sophia_platform.config.settings import settings_from_env

    (tmp_path / "PULUMI_ACCESS_TOKEN").write_text("pul-from-a-file\n")
    settings = settings_from_env(
        {
            "SOPHIA_ESC_ENV": "acme/default/prod",
            "SOPHIA_SECRETS_DIR": str(tmp_path),
            "SOPHIA_ESC_PATHS": "openai_api_key=llm.openai, REDIS_URL=redis.url",
            "SOPHIA_ESC_GROUPS": "sophia, secrets",
            "PULUMI_BACKEND_URL": "https://pulumi.acme.io",
        }
    )
    assert settings.esc_paths == {"OPENAI_API_KEY": "llm.openai", "REDIS_URL": "redis.url"}
    assert settings.esc_groups == ("sophia", "secrets")
    assert settings.esc_url == "https://pulumi.acme.io/api/esc"
    assert settings.esc_token is not None
    assert settings.esc_token.reveal() == "pul-from-a-file"
    assert settings.esc_token.source == "files"
    assert "pul-from-a-file" not in repr(settings)
    with pytest.raises(ConfigError) as info:
        settings_from_env({"SOPHIA_ESC_PATHS": "OPENAI_API_KEY"})
    assert "NAME=path" in str(info.value)
    for name, bad in [("SOPHIA_ESC_TIMEOUT", "soon"), ("SOPHIA_ESC_TTL", "-1")]:
        with pytest.raises(ConfigError) as info:
            settings_from_env({name: bad})
        assert name in str(info.value)
