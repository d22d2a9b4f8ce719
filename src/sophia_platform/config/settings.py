"""Stage one of the config library's own configuration: read settings from the environment.

Kept apart from the providers (python-semantic-release's two stages): this module only turns
``SOPHIA_*`` / ``PULUMI_*`` variables into a frozen :class:`ConfigSettings`; the registry in
:mod:`sophia_platform.config.providers` turns settings into layers.

Variables:
  SOPHIA_CONFIG_ORDER      layer order, default ``overrides,files,esc,env``
  SOPHIA_SECRETS_DIR       mounted-secrets directory, default /var/run/secrets/sophia (if present)
  SOPHIA_SECRETS_RECHECK   seconds between directory re-stats, default 2
  SOPHIA_ESC_ENV           ESC environment ``org/project/env``; unset = ESC layer off
  PULUMI_ACCESS_TOKEN      token for ESC
  PULUMI_BACKEND_URL       Pulumi Cloud URL, default https://api.pulumi.com (``/api/esc`` appended)
  SOPHIA_ESC_TTL           seconds ESC values are cached before a background refresh, default 300
  SOPHIA_ESC_TIMEOUT       longest an app waits for ESC at startup, seconds, default 5
  SOPHIA_ESC_REQUEST_TIMEOUT  per-request timeout, default 5
  SOPHIA_ESC_RETRIES       attempts per request on 5xx/timeouts, default 3
  SOPHIA_ESC_GROUPS        comma list of top-level ESC objects to also search (``sophia,secrets``)
  SOPHIA_ESC_PATHS         explicit ESC paths, ``NAME=path`` comma list (the spec's secrets.*.esc)

In a pod the ESC token may also be a mounted secret: when PULUMI_ACCESS_TOKEN is not in the
environment, ``$SOPHIA_SECRETS_DIR/PULUMI_ACCESS_TOKEN`` is used (read once, on first use).
  SOPHIA_CONFIG_PLACEHOLDER_GUARD  ``0`` turns the placeholder guard off (default on)
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from sophia_platform.config.errors import ConfigError
from sophia_platform.config.secret import SecretValue

DEFAULT_ORDER = ("overrides", "files", "esc", "env")
DEFAULT_SECRETS_DIR = Path("/var/run/secrets/sophia")


@dataclass(frozen=True)
class ConfigSettings:
    """Everything that shapes the layers; built once, never changed (replace() for variants)."""

    order: tuple[str, ...] = DEFAULT_ORDER
    overrides: Mapping[str, str] = field(default_factory=dict)
    secrets_dir: Path | None = None
    secrets_dir_explicit: bool = False
    secrets_recheck: float = 2.0
    esc_env: str | None = None
    esc_token: SecretValue | None = None
    esc_url: str | None = None
    esc_ttl: float = 300.0
    esc_timeout: float = 5.0
    esc_request_timeout: float = 5.0
    esc_retries: int = 3
    esc_backoff: float = 0.25
    esc_groups: tuple[str, ...] = ()
    esc_paths: Mapping[str, str] = field(default_factory=dict)
    placeholder_guard: bool = True
    environ: Mapping[str, str] | None = None  # None = the live os.environ

    def with_changes(self, **changes: Any) -> ConfigSettings:
        """Return a copy with some fields changed."""
        return replace(self, **changes)


def settings_from_env(environ: Mapping[str, str] | None = None, **changes: Any) -> ConfigSettings:
    """Read the settings from ``environ`` (default os.environ); keyword arguments win."""
    from sophia_platform.config.esc_ref import base_url_from_backend

    env = os.environ if environ is None else environ
    secrets_dir_var = env.get("SOPHIA_SECRETS_DIR")
    secrets_dir = Path(secrets_dir_var) if secrets_dir_var else DEFAULT_SECRETS_DIR
    token = env.get("PULUMI_ACCESS_TOKEN")
    token_source = "env"
    if not token and env.get("SOPHIA_ESC_ENV"):
        token, token_source = _token_file(changes.get("secrets_dir") or secrets_dir), "files"
    settings = ConfigSettings(
        order=_order(env.get("SOPHIA_CONFIG_ORDER")),
        secrets_dir=secrets_dir,
        secrets_dir_explicit=bool(secrets_dir_var),
        secrets_recheck=_number(env, "SOPHIA_SECRETS_RECHECK", 2.0),
        esc_env=env.get("SOPHIA_ESC_ENV") or None,
        esc_token=SecretValue(token, key="PULUMI_ACCESS_TOKEN", source=token_source)
        if token
        else None,
        esc_url=base_url_from_backend(env.get("PULUMI_BACKEND_URL")),
        esc_ttl=_number(env, "SOPHIA_ESC_TTL", 300.0),
        esc_timeout=_number(env, "SOPHIA_ESC_TIMEOUT", 5.0),
        esc_request_timeout=_number(env, "SOPHIA_ESC_REQUEST_TIMEOUT", 5.0),
        esc_retries=int(_number(env, "SOPHIA_ESC_RETRIES", 3, minimum=1)),
        esc_groups=_names(env.get("SOPHIA_ESC_GROUPS", "")),
        esc_paths=_paths(env.get("SOPHIA_ESC_PATHS", "")),
        placeholder_guard=env.get("SOPHIA_CONFIG_PLACEHOLDER_GUARD", "1") not in ("0", "false"),
        environ=environ,
    )
    if changes.get("secrets_dir") is not None:
        changes.setdefault("secrets_dir_explicit", True)
    if "order" in changes and changes["order"] is not None:
        changes["order"] = _order(",".join(changes["order"]))
    return replace(settings, **{k: v for k, v in changes.items() if v is not None})


def _order(text: str | None) -> tuple[str, ...]:
    if not text:
        return DEFAULT_ORDER
    from sophia_platform.config.providers import PROVIDERS

    names = tuple(part.strip() for part in text.split(",") if part.strip())
    unknown = [n for n in names if n not in PROVIDERS]
    if unknown or len(set(names)) != len(names):
        raise ConfigError(
            f"config layer order {text!r} is invalid",
            hint=f"use a comma list of distinct layers from: {', '.join(PROVIDERS)}",
        )
    return names


def _token_file(directory: Path) -> str | None:
    try:
        text = (Path(directory) / "PULUMI_ACCESS_TOKEN").read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    return text.strip() or None


def _paths(text: str) -> dict[str, str]:
    from sophia_platform.config.keys import parse_key

    paths: dict[str, str] = {}
    for item in _names(text):
        name, sep, path = item.partition("=")
        try:
            if not sep or not path.strip():
                raise ValueError(item)
            paths[parse_key(name).name] = path.strip()
        except ValueError:
            raise ConfigError(
                f"SOPHIA_ESC_PATHS entry {item!r} is not NAME=path",
                hint="write e.g. SOPHIA_ESC_PATHS=OPENAI_API_KEY=llm.openai,REDIS_URL=redis.url",
            ) from None
    return paths


def _names(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


def _number(env: Mapping[str, str], name: str, default: float, *, minimum: float = 0.0) -> float:
    text = env.get(name)
    if text is None or not text.strip():
        return default
    try:
        value = float(text)
    except ValueError:
        raise ConfigError(f"{name} must be a number of seconds or a count") from None
    if value < minimum or value != value:
        raise ConfigError(f"{name} must be at least {minimum:g}")
    return value
