"""Edit ``sophia.yaml`` in place with ruamel.yaml round-trip, so comments and order survive.

Both the compose migration (services, secrets) and the cleanup (config keys, node addresses,
required secrets) write through :class:`SpecDocument`; neither rewrites the file from a model.
"""

from __future__ import annotations

import difflib
import io
import re
from collections.abc import MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError

from sophia_platform.atomicfile import write_text_atomic
from sophia_platform.errors import InputError

_SKELETON = """\
# sophia.yaml: the one source of truth; check it with `sophia validate`.
project: {project}
registry: docker.io/your-org          # images without a registry get this prefix
environments:
  local:
    context: sophia-local
    namespace: {project}
"""


@dataclass(frozen=True)
class Conflict:
    """Two sources disagree on one field; ``kept`` won (values are never secrets)."""

    service: str
    field: str
    kept: str
    other: str
    kept_from: str
    other_from: str


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


def project_name(root: Path) -> str:
    """A DNS-label project name from a folder name."""
    label = re.sub(r"[^a-z0-9-]+", "-", root.resolve().name.lower()).strip("-")
    return label if label and label[0].isalpha() else f"p-{label}".strip("-")


class SpecDocument:
    """A ``sophia.yaml`` loaded for editing; :meth:`text` gives the edited file."""

    def __init__(self, path: Path, original: str, data: CommentedMap) -> None:
        self.path = path
        self.original = original
        self.data = data

    @classmethod
    def load(cls, path: Path, *, create_for: Path | None = None) -> SpecDocument:
        """Load ``path``; when missing and ``create_for`` is given, start from a skeleton."""
        if path.exists():
            try:
                original = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise InputError(f"cannot read {path}: {exc}; check the file") from exc
            text = original
        elif create_for is not None:
            original = ""
            text = _SKELETON.format(project=project_name(create_for))
        else:
            raise InputError(f"{path} not found; run 'sophia init' or pass --spec")
        try:
            data = _yaml().load(text)
        except YAMLError as exc:
            raise InputError(f"{path}: invalid YAML ({exc}); fix it and retry") from exc
        if data is None:
            data = CommentedMap()
        if not isinstance(data, CommentedMap):
            raise InputError(f"{path}: the top level must be a mapping")
        return cls(path, original, data)

    def section(self, key: str) -> CommentedMap:
        """The top-level mapping ``key``, created (block style) when missing."""
        node = self.data.get(key)
        if not isinstance(node, CommentedMap):
            node = CommentedMap()
            self.data[key] = node
        return node

    def text(self) -> str:
        """The edited file."""
        buf = io.StringIO()
        _yaml().dump(self.data, buf)
        return buf.getvalue()

    def diff(self) -> str:
        """A unified diff from the file on disk to the edited file."""
        name = self.path.name
        return "".join(
            difflib.unified_diff(
                self.original.splitlines(keepends=True),
                self.text().splitlines(keepends=True),
                fromfile=f"a/{name}",
                tofile=f"b/{name}",
            )
        )

    def changed(self) -> bool:
        """True when the edited text differs from the file on disk."""
        return self.text() != self.original

    def plain(self) -> dict[str, Any]:
        """The edited document as plain dicts and lists (for validation)."""
        return _plain(self.data)  # type: ignore[no-any-return]

    def write(self) -> None:
        """Write the edited file atomically (same mode as before, else 0644)."""
        write_text_atomic(self.path, self.text(), parents=True)


def merge_fields(
    target: MutableMapping[str, Any],
    incoming: dict[str, Any],
    *,
    service: str,
    kept_from: str,
    other_from: str,
    prefix: str = "",
) -> list[Conflict]:
    """Merge ``incoming`` into ``target``: add what is missing, report what disagrees."""
    conflicts: list[Conflict] = []
    for key, value in incoming.items():
        name = f"{prefix}{key}"
        if key not in target or target[key] is None:
            target[key] = value
        elif isinstance(value, dict) and isinstance(target[key], MutableMapping):
            conflicts += merge_fields(
                target[key],
                value,
                service=service,
                kept_from=kept_from,
                other_from=other_from,
                prefix=f"{name}.",
            )
        elif isinstance(value, list) and key in ("depends_on", "secrets"):
            existing = target[key]
            existing.extend(v for v in value if v not in existing)
        elif _plain(target[key]) != value:
            conflicts.append(
                Conflict(service, name, _show(target[key]), _show(value), kept_from, other_from)
            )
    return conflicts


def _show(value: Any) -> str:
    return str(_plain(value))


def _plain(value: Any) -> Any:
    if isinstance(value, (CommentedMap, dict)):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (CommentedSeq, list)):
        return [_plain(v) for v in value]
    if isinstance(value, str):
        return str(value)
    return value
