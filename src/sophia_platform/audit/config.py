"""``.sophia-audit.yml``: what to skip, what to allow, which copy is canonical.

Example (every key optional)::

    version: 1
    exclude: ["vendor/**"]          # never read these files
    allow:
      paths: ["docs/history/**"]    # findings here are suppressed (every rule)
      values: ["10.8.0.1", "sha256:1f2e3d4c5b6a7988"]  # an address, a secret fingerprint or a key
      rules:
        hardcoded-ip: {paths: ["docs/network.md"], values: []}
    canonical:
      secret-sync: .github/workflows/sync-secrets.yml   # the copy redundant-workflow keeps
    default_excludes: true          # also skip archive/** (what `sophia cleanup` archived)

Globs use ``fnmatch`` semantics on repo-relative POSIX paths (``*`` crosses folders); a
pattern ending in ``/`` matches everything under that folder.
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from sophia_platform.audit.model import RULE_IDS, Finding
from sophia_platform.errors import InputError

CONFIG_FILE = ".sophia-audit.yml"
ARCHIVE_DIR = "archive"
DEFAULT_EXCLUDES = (f"{ARCHIVE_DIR}/",)
_VALUE_KEYS = ("address", "secret_fingerprint", "key")


class Allow(BaseModel):
    """Paths and values whose findings are accepted."""

    model_config = ConfigDict(extra="forbid")
    paths: list[str] = Field(default_factory=list)
    values: list[str] = Field(default_factory=list)


class AllowList(Allow):
    """The global allow list plus per-rule ones."""

    rules: dict[str, Allow] = Field(default_factory=dict)


class AuditConfig(BaseModel):
    """The parsed ``.sophia-audit.yml``."""

    model_config = ConfigDict(extra="forbid")
    version: int = 1
    exclude: list[str] = Field(default_factory=list)
    allow: AllowList = Field(default_factory=AllowList)
    canonical: dict[str, str] = Field(default_factory=dict)
    default_excludes: bool = True

    def excluded(self, path: str) -> bool:
        """Whether a file must not be read at all."""
        if path == CONFIG_FILE:
            return True  # the allow list itself names the values it allows
        patterns = [*self.exclude, *(DEFAULT_EXCLUDES if self.default_excludes else ())]
        return any(matches(path, p) for p in patterns)

    def allows(self, finding: Finding) -> bool:
        """Whether the allow list accepts a finding."""
        scopes: list[Allow] = [self.allow]
        per_rule = self.allow.rules.get(finding.rule_id)
        if per_rule is not None:
            scopes.append(per_rule)
        values = {finding.data.get(k, "") for k in _VALUE_KEYS} - {""}
        for scope in scopes:
            if any(matches(finding.path, p) for p in scope.paths):
                return True
            if values.intersection(scope.values):
                return True
        return False


def matches(path: str, pattern: str) -> bool:
    """Glob match of a repo-relative path (``dir/`` matches the folder's contents)."""
    if pattern.endswith("/"):
        return path.startswith(pattern)
    return fnmatchcase(path, pattern)


def load_config(root: Path, path: Path | None = None) -> AuditConfig:
    """Load ``path`` (default: ``ROOT/.sophia-audit.yml`` if it exists, else defaults)."""
    file = path if path is not None else root / CONFIG_FILE
    if not file.exists():
        if path is not None:
            raise InputError(f"{file}: no such audit config; create it or drop --config")
        return AuditConfig()
    try:
        raw = YAML(typ="safe").load(file.read_text(encoding="utf-8"))
    except (OSError, YAMLError, UnicodeDecodeError) as exc:
        raise InputError(f"{file}: cannot read audit config ({type(exc).__name__})") from exc
    try:
        config = AuditConfig.model_validate(raw or {})
    except ValidationError as exc:
        first = exc.errors()[0]
        where = "/".join(str(p) for p in first["loc"])
        raise InputError(f"{file}: {where}: {first['msg']}") from exc
    unknown = set(config.allow.rules) - set(RULE_IDS)
    if unknown:
        raise InputError(
            f"{file}: allow/rules: unknown rule {sorted(unknown)[0]}; "
            f"use one of {', '.join(RULE_IDS)}"
        )
    return config
