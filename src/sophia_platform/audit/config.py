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
    vendored: true                  # skip vendored/generated files (node_modules/, venvs, ...)
    include: ["vendor/our-fork/**"] # ...but scan these ones (see sophia_platform.audit.vendored)
    baseline: .sophia-audit-baseline.json   # accepted findings (also used by the pre-commit hook)

Globs use ``fnmatch`` semantics on repo-relative POSIX paths (``*`` crosses folders); a
pattern ending in ``/`` matches everything under that folder.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sophia_platform.audit.model import Finding
from sophia_platform.audit.rules import RULE_IDS
from sophia_platform.errors import InputError

if TYPE_CHECKING:
    from sophia_platform.audit.config_schema import RawAuditConfig

CONFIG_FILE = ".sophia-audit.yml"
ARCHIVE_DIR = "archive"
DEFAULT_EXCLUDES = (f"{ARCHIVE_DIR}/",)
_VALUE_KEYS = ("address", "secret_fingerprint", "key")


@dataclass(frozen=True, slots=True)
class Allow:
    """Paths and values whose findings are accepted."""

    paths: tuple[str, ...] = ()
    values: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class AuditConfig:
    """The runtime form of ``.sophia-audit.yml`` (validated by :mod:`.config_schema`)."""

    exclude: tuple[str, ...] = ()
    allow: Allow = Allow()
    allow_rules: dict[str, Allow] = field(default_factory=dict)
    canonical: dict[str, str] = field(default_factory=dict)
    default_excludes: bool = True
    vendored: bool = True
    include: tuple[str, ...] = ()
    baseline: str | None = None  # repo-relative path of the baseline every scan applies

    def excluded(self, path: str) -> bool:
        """Whether a file must not be read at all."""
        if path == CONFIG_FILE:
            return True  # the allow list itself names the values it allows
        patterns = (*self.exclude, *(DEFAULT_EXCLUDES if self.default_excludes else ()))
        return any(matches(path, p) for p in patterns)

    def archived(self, path: str) -> bool:
        """Whether a file is excluded only for being in ``archive/`` (still read for secrets)."""
        return (
            self.default_excludes
            and any(matches(path, p) for p in DEFAULT_EXCLUDES)
            and not any(matches(path, p) for p in self.exclude)
        )

    def allows(self, finding: Finding) -> bool:
        """Whether the allow list accepts a finding."""
        scopes = [self.allow]
        per_rule = self.allow_rules.get(finding.rule_id)
        if per_rule is not None:
            scopes.append(per_rule)
        values = {finding.data.get(k, "") for k in _VALUE_KEYS} - {""}
        for scope in scopes:
            if any(matches(finding.path, p) for p in scope.paths):
                return True
            if values & scope.values:
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
    # Imported here: parsing and validation (ruamel, pydantic) cost start-up time that a
    # repository without a config file should not pay.
    from sophia_platform.audit.config_schema import parse

    return _runtime(parse(file), file)


def config_from_text(text: str, shown: str = CONFIG_FILE) -> AuditConfig:
    """The config in ``text`` (a ``.sophia-audit.yml`` read from a git blob, say)."""
    from sophia_platform.audit.config_schema import parse_text

    return _runtime(parse_text(text, shown), shown)


def _runtime(raw: RawAuditConfig, file: Path | str) -> AuditConfig:
    unknown = set(raw.allow.rules) - set(RULE_IDS)
    if unknown:
        raise InputError(
            f"{file}: allow/rules: unknown rule {sorted(unknown)[0]}; "
            f"use one of {', '.join(RULE_IDS)}"
        )
    return AuditConfig(
        exclude=tuple(raw.exclude),
        allow=_allow(raw.allow.paths, raw.allow.values),
        allow_rules={k: _allow(v.paths, v.values) for k, v in raw.allow.rules.items()},
        canonical=dict(raw.canonical),
        default_excludes=raw.default_excludes,
        vendored=raw.vendored,
        include=tuple(raw.include),
        baseline=raw.baseline,
    )


def _allow(paths: list[str], values: list[Any]) -> Allow:
    return Allow(tuple(paths), frozenset(str(v) for v in values))
