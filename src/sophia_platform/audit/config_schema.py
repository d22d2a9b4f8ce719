"""The schema of ``.sophia-audit.yml`` (pydantic), and its parser with path-naming errors."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from sophia_platform.errors import InputError


class RawAllow(BaseModel):
    """``allow`` / ``allow.rules.<rule>``: paths (globs) and values."""

    model_config = ConfigDict(extra="forbid")
    paths: list[str] = Field(default_factory=list)
    values: list[str] = Field(default_factory=list)


class RawAllowList(RawAllow):
    """The global allow list plus per-rule ones."""

    rules: dict[str, RawAllow] = Field(default_factory=dict)


class RawAuditConfig(BaseModel):
    """The file as written."""

    model_config = ConfigDict(extra="forbid")
    version: int = 1
    exclude: list[str] = Field(default_factory=list)
    allow: RawAllowList = Field(default_factory=RawAllowList)
    canonical: dict[str, str] = Field(default_factory=dict)
    default_excludes: bool = True
    vendored: bool = True  # skip vendored and generated files (see audit.vendored)
    include: list[str] = Field(default_factory=list)  # vendored/generated paths to scan anyway
    baseline: str | None = None


def parse_text(text: str, file: str) -> RawAuditConfig:
    """Validate a config's text (from disk or a git blob); errors name ``file`` and the key."""
    try:
        raw = YAML(typ="safe").load(text)
    except YAMLError as exc:
        raise InputError(f"{file}: cannot read audit config ({type(exc).__name__})") from exc
    try:
        config = RawAuditConfig.model_validate(raw or {})
    except ValidationError as exc:
        first = exc.errors()[0]
        where = "/".join(str(p) for p in first["loc"])
        raise InputError(f"{file}: {where}: {first['msg']}") from exc
    if config.version != 1:
        raise InputError(f"{file}: version: unsupported version {config.version}; use 1")
    return config
