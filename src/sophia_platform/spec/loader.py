"""Load ``sophia.yaml`` safely and report every problem with ``file:line:column``.

The loader refuses what a config file should never be (huge, binary, an alias bomb, several
documents), keeps the position of every key and value while turning ruamel's round-trip nodes
into plain data, validates with the pydantic model, runs the cross-checks, and reports all
problems at once.
"""

from __future__ import annotations

import copy
import difflib
import types
import typing
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, Node, SequenceNode

from sophia_platform.errors import InputError, SpecError
from sophia_platform.spec.checks import cross_check
from sophia_platform.spec.location import DEFAULT_NAME, resolve_spec_path
from sophia_platform.spec.model import Spec
from sophia_platform.spec.problems import Loc, Problem, format_loc

MAX_BYTES = 2 * 1024 * 1024
MAX_EXPANDED_NODES = 200_000

Positions = dict[Loc, tuple[int, int]]


@dataclass
class LoadResult:
    """What validation found: the spec (when valid) and every problem."""

    path: Path
    spec: Spec | None
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when the file is valid."""
        return self.spec is not None and not self.problems


def load_spec(path: Path | None = None) -> Spec:
    """Load and validate a spec, raising :class:`SpecError` listing every problem."""
    result = validate_file(resolve_spec_path(path))
    if not result.ok or result.spec is None:
        raise SpecError([p.format() for p in result.problems], source=str(result.path))
    return result.spec


def validate_file(path: Path) -> LoadResult:
    """Read, parse and validate one file; unreadable input raises :class:`InputError`."""
    text = _read_text(path)
    return validate_text(text, path)


def validate_text(text: str, path: Path) -> LoadResult:
    """Validate YAML text as if read from ``path``."""
    shown = str(path)
    data, key_pos, value_pos = _parse(text, shown)
    if not isinstance(data, dict):
        kind = "empty" if data is None else type(data).__name__
        problem = Problem(shown, 1, 1, (), f"the top level must be a mapping, got {kind}")
        return LoadResult(path, None, [problem])
    problems: list[Problem] = []
    dropped: set[str] = set()
    try:
        spec = Spec.model_validate(data)
    except ValidationError as exc:
        problems = [_from_pydantic(err, shown, key_pos, value_pos) for err in exc.errors()]
        # Still report the cross-check problems: validate again without the broken entries.
        partial = _without_broken_entries(data, exc.errors(), dropped)
        try:
            spec = Spec.model_validate(partial)
        except ValidationError:
            return LoadResult(path, None, _sorted(problems))
    problems += [
        p.at(shown, *_position(p.loc, key_pos, value_pos, prefer_key=False))
        for p in cross_check(spec, ignore=dropped)
    ]
    if problems:
        return LoadResult(path, None, _sorted(problems))
    spec._source_path = path
    return LoadResult(path, spec, [])


_SECTIONS = ("environments", "nodes", "services", "secrets")


def _without_broken_entries(
    data: dict[str, Any], errors: list[Any], dropped: set[str]
) -> dict[str, Any] | None:
    """A copy of ``data`` without the named entries that failed (None if that cannot help).

    The names of dropped entries are added to ``dropped`` so that cross-checks can avoid
    reporting consequences of the removal (an "unknown service" that is merely broken).
    """
    partial = copy.deepcopy(data)
    for err in errors:
        loc = list(err["loc"])
        if len(loc) < 2 or loc[0] not in _SECTIONS:
            return None
        section = partial.get(loc[0])
        if isinstance(section, dict):
            section.pop(loc[1], None)
        dropped.add(f"{loc[0]}.{loc[1]}")
    return partial


def _sorted(problems: list[Problem]) -> list[Problem]:
    return sorted(problems, key=lambda p: (p.line, p.column, format_loc(p.loc)))


def _read_text(path: Path) -> str:
    if not path.exists():
        raise InputError(
            f"{path}: no such file (looked for {path.absolute()})",
            hint="run `sophia init` to write a starter, or pass --spec PATH",
        )
    if path.is_dir():
        candidate = path / DEFAULT_NAME
        if candidate.is_file():
            return _read_text(candidate)
        raise InputError(f"{path}: is a directory, not a sophia.yaml file")
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise InputError(
            f"{path}: is {size / 1_000_000:.1f} MB; a sophia.yaml is at most "
            f"{MAX_BYTES // (1024 * 1024)} MiB — is this the right file?"
        )
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror}") from exc
    if b"\x00" in raw:
        raise InputError(f"{path}: is a binary file, not YAML")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: is not UTF-8 text (byte {exc.start})") from exc


def _parse(text: str, shown: str) -> tuple[Any, Positions, Positions]:
    # One parse: compose (for the alias check), then construct from the same node (the
    # round-trip constructor keeps positions) — parsing twice cost a third of `sophia status`.
    yaml = YAML(typ="rt")
    try:
        nodes = list(yaml.compose_all(text))
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problem = exc.problem or exc.context or "malformed YAML"
        raise InputError(f"{shown}:{line}:{col}: malformed YAML: {problem}") from exc
    except (YAMLError, RecursionError, ValueError) as exc:
        raise InputError(f"{shown}: malformed YAML: {type(exc).__name__}") from exc
    if len(nodes) > 1:
        raise InputError(f"{shown}: has {len(nodes)} YAML documents; a spec is one document")
    if nodes and nodes[0] is not None:
        _refuse_alias_bombs(nodes[0], shown)
    try:
        data = yaml.constructor.construct_document(nodes[0]) if nodes and nodes[0] else None
    except (YAMLError, RecursionError, ValueError) as exc:
        raise InputError(f"{shown}: malformed YAML: {type(exc).__name__}") from exc
    key_pos: Positions = {}
    value_pos: Positions = {}
    plain = _to_plain(data, (), key_pos, value_pos)
    return plain, key_pos, value_pos


def _refuse_alias_bombs(root: Node, shown: str) -> None:
    """Refuse documents whose aliases expand past a sane size (billion laughs) or loop."""
    sizes: dict[int, int] = {}
    visiting: set[int] = set()

    def size(node: Node) -> int:
        ident = id(node)
        if ident in sizes:
            return sizes[ident]
        if ident in visiting:
            raise InputError(f"{shown}: a YAML alias refers to itself; refusing")
        visiting.add(ident)
        total = 1
        if isinstance(node, MappingNode):
            total += sum(size(k) + size(v) for k, v in node.value)
        elif isinstance(node, SequenceNode):
            total += sum(size(item) for item in node.value)
        visiting.discard(ident)
        if total > MAX_EXPANDED_NODES:
            raise InputError(
                f"{shown}: YAML aliases expand to more than {MAX_EXPANDED_NODES:,} nodes; "
                "refusing (an alias bomb?)"
            )
        sizes[ident] = total
        return total

    size(root)


def _to_plain(node: Any, loc: Loc, key_pos: Positions, value_pos: Positions) -> Any:
    if isinstance(node, CommentedMap):
        out: dict[str, Any] = {}
        for key, value in node.items():
            skey = key if isinstance(key, str) else str(key)
            child = (*loc, skey)
            kl = node.lc.key(key)
            vl = node.lc.value(key)
            key_pos[child] = (kl[0] + 1, kl[1] + 1)
            value_pos[child] = (vl[0] + 1, vl[1] + 1)
            out[skey] = _to_plain(value, child, key_pos, value_pos)
        return out
    if isinstance(node, CommentedSeq):
        items = []
        for index, value in enumerate(node):
            child = (*loc, index)
            il = node.lc.item(index)
            key_pos[child] = value_pos[child] = (il[0] + 1, il[1] + 1)
            items.append(_to_plain(value, child, key_pos, value_pos))
        return items
    if isinstance(node, bool):
        return bool(node)
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    if isinstance(node, str):
        return str(node)
    if isinstance(node, (datetime, date)):
        return node.isoformat()
    return node


def _position(
    loc: Loc, key_pos: Positions, value_pos: Positions, *, prefer_key: bool
) -> tuple[int, int]:
    """The position of a location, or of its nearest ancestor that exists in the file."""
    probe = loc
    first = True
    while probe:
        table = key_pos if (prefer_key or not first) else value_pos
        if probe in table:
            return table[probe]
        probe = probe[:-1]
        first = False
    return (1, 1)


def _from_pydantic(err: Any, shown: str, key_pos: Positions, value_pos: Positions) -> Problem:
    loc: Loc = tuple(err["loc"])
    kind = err["type"]
    message = str(err["msg"]).removeprefix("Value error, ")
    hint = None
    if kind == "extra_forbidden":
        name = str(loc[-1])
        allowed = _allowed_keys(loc[:-1])
        message = f"unknown key {name!r}"
        close = difflib.get_close_matches(name, allowed, n=1, cutoff=0.6)
        if close:
            hint = f"did you mean {close[0]!r}?"
        elif allowed:
            hint = "allowed keys: " + ", ".join(sorted(allowed))
    elif kind == "missing":
        message = "is required"
    line, col = _position(
        loc, key_pos, value_pos, prefer_key=kind in {"extra_forbidden", "missing"}
    )
    return Problem(shown, line, col, loc, message, hint)


def _allowed_keys(loc: Loc) -> list[str]:
    """The field names of the model found at ``loc`` (walking dict values and lists)."""
    current: Any = Spec
    for part in loc:
        current = _unwrap(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            info = current.model_fields.get(str(part))
            if info is None:
                return []
            current = info.annotation
        elif typing.get_origin(current) in (dict, list):
            args = typing.get_args(current)
            current = args[-1] if args else Any
        else:
            return []
    current = _unwrap(current)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return list(current.model_fields)
    return []


def _unwrap(annotation: Any) -> Any:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        members = [a for a in typing.get_args(annotation) if a is not type(None)]
        return members[0] if len(members) == 1 else annotation
    return annotation
