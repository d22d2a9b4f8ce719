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

import contextlib
import functools
import hashlib
import json
import os
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sophia_platform.atomicfile import write_atomic
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
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{file}: cannot read audit config ({type(exc).__name__})") from exc
    return config_from_text(text, str(file))


def config_from_text(text: str, shown: str = CONFIG_FILE) -> AuditConfig:
    """The config in ``text`` (a ``.sophia-audit.yml`` read from disk or a git blob).

    Parsing and validating (ruamel, pydantic) cost more start-up time than the pre-commit
    hook's whole scan, so a validated config is kept in the user's cache, keyed by its text
    and this module's schema: the next run with the same file imports neither library.
    """
    key = _cache_key(text)
    cached = _cached(key)
    if cached is not None:
        return cached
    from sophia_platform.audit.config_schema import parse_text  # deferred: see above

    config = _runtime(parse_text(text, shown), shown)
    _store(key, config)
    return config


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "sophia-platform" / "audit-config"


@functools.cache
def _schema_digest() -> bytes:
    """What makes a cached config stale besides its text: the schema, this module, the rules."""
    digest = hashlib.sha256(",".join(RULE_IDS).encode())
    for name in ("config.py", "config_schema.py"):
        digest.update(resources.files("sophia_platform.audit").joinpath(name).read_bytes())
    return digest.digest()


def _cache_key(text: str) -> str:
    digest = hashlib.sha256(_schema_digest())
    digest.update(text.encode("utf-8", "surrogatepass"))
    return digest.hexdigest()[:32]


def _cached(key: str) -> AuditConfig | None:
    try:
        data = json.loads((_cache_dir() / f"{key}.json").read_text(encoding="utf-8"))
        return AuditConfig(
            exclude=tuple(data["exclude"]),
            allow=_allow(data["allow"]["paths"], data["allow"]["values"]),
            allow_rules={k: _allow(v["paths"], v["values"]) for k, v in data["rules"].items()},
            canonical=dict(data["canonical"]),
            default_excludes=bool(data["default_excludes"]),
            vendored=bool(data["vendored"]),
            include=tuple(data["include"]),
            baseline=data["baseline"],
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None  # no entry, or one this version cannot read: parse the file again


def _store(key: str, config: AuditConfig) -> None:
    def allow(item: Allow) -> dict[str, list[str]]:
        return {"paths": list(item.paths), "values": sorted(item.values)}

    data = {
        "exclude": list(config.exclude),
        "allow": allow(config.allow),
        "rules": {k: allow(v) for k, v in config.allow_rules.items()},
        "canonical": config.canonical,
        "default_excludes": config.default_excludes,
        "vendored": config.vendored,
        "include": list(config.include),
        "baseline": config.baseline,
    }
    with contextlib.suppress(OSError):  # a read-only or full cache costs the next run a parse
        write_atomic(_cache_dir() / f"{key}.json", json.dumps(data).encode(), parents=True)


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
