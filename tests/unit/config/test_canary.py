"""Canary values through every layer and every error path: never in any output."""

import logging
from pathlib import Path

import pytest

from sophia_platform.config import (
    Config,
    ConfigError,
    get_database_config,
    get_docker_hub_config,
)

CANARIES = {
    "OVERRIDE_SECRET": "canary-override-6b1f9e",
    "FILE_SECRET": "canary-file-0c4d2a",
    "ENV_SECRET": "canary-env-93e7f1",
    "DOCKER_HUB_ACCESS_TOKEN": "canary-hub-5a5a11",
    "DATABASE_URL": "postgresql://u:canary-dbpass-77f0@db:5432/app",
    "BAD_INT": "canary-int-1d2c",
    "BAD_URL": "canary-url-8e8e not a url",
}


def test_no_canary_in_any_output(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    (tmp_path / "FILE_SECRET").write_text(CANARIES["FILE_SECRET"])
    env = {k: v for k, v in CANARIES.items() if k not in ("OVERRIDE_SECRET", "FILE_SECRET")}
    env["DOCKER_HUB_USERNAME"] = "scoobyjava15"
    env["PLACEHOLDER"] = "your-canary-key-here"
    config = Config.from_env(
        environ={**env, "SOPHIA_ESC_ENV": "acme/default/prod", "PULUMI_ACCESS_TOKEN": "pul-canary"},
        secrets_dir=tmp_path,
        esc_url="http://127.0.0.1:9/api/esc",  # nothing listens: the ESC layer fails
        esc_timeout=0.5,
        esc_retries=1,
    )
    config.set_override("OVERRIDE_SECRET", CANARIES["OVERRIDE_SECRET"])
    outputs: list[str] = []
    for key in ("OVERRIDE_SECRET", "FILE_SECRET", "ENV_SECRET"):
        value = config.require(key)
        assert value.reveal() == CANARIES[key]
        outputs += [str(value), repr(value), f"{value}", f"{value!r:>30}", value.fingerprint()]
    outputs += [repr(get_docker_hub_config(config)), repr(get_database_config(config))]
    for bad in (
        lambda: config.get_int("BAD_INT"),
        lambda: config.get_url("BAD_URL"),
        lambda: config.get("PLACEHOLDER"),
        lambda: config.require("NOT_ANYWHERE"),
    ):
        with pytest.raises(ConfigError) as info:
            bad()
        outputs += [str(info.value), repr(info.value), repr(info.value.args)]
    outputs += [str(s) for s in config.layers()]
    outputs.append(caplog.text)
    text = "\n".join(outputs)
    assert "esc" in text  # the layer statuses are in there
    for canary in [*CANARIES.values(), "pul-canary", "your-canary-key-here"]:
        assert canary not in text
        for word in canary.split():
            assert not (word.startswith("canary") and word in text)
