"""``sophia migrate compose``: many compose files → one ``services:`` section of ``sophia.yaml``.

Services that appear in several files are merged (first file wins on a disagreement, and the
disagreement is reported); services already in ``sophia.yaml`` keep their values (the spec is
the source of truth) and only gain what they lack. The result is validated with the spec model
before anything is written.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sophia_platform.cleanup.compose.convert import (
    Converted,
    Unconverted,
    convert_service,
    top_level_unconverted,
)
from sophia_platform.cleanup.compose.loader import load_compose
from sophia_platform.cleanup.spec_validation import validate_document
from sophia_platform.cleanup.specfile import Conflict, SpecDocument, merge_fields
from sophia_platform.errors import InputError, SpecError


@dataclass
class MigrationReport:
    """What the migration did or would do. Secret values never appear here."""

    spec_path: str
    files: list[str]
    services: dict[str, dict[str, Any]] = field(default_factory=dict)
    sources: dict[str, list[str]] = field(default_factory=dict)
    renamed: dict[str, str] = field(default_factory=dict)
    secrets_added: dict[str, str] = field(default_factory=dict)
    unconverted: list[Unconverted] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    follow_ups: list[str] = field(default_factory=list)
    changed: bool = False
    written: bool = False
    diff: str = ""


def migrate_compose(
    files: list[Path],
    spec_path: Path,
    *,
    root: Path | None = None,
    dry_run: bool = False,
    env_file: Path | None = None,
) -> MigrationReport:
    """Convert ``files`` and merge them into ``spec_path`` (written unless ``dry_run``)."""
    if not files:
        raise InputError("no compose files given; pass FILES or run in a folder that has them")
    base = root or spec_path.parent
    report = MigrationReport(str(spec_path), [_shown(f, base) for f in files])
    merged = _convert_all(files, base, env_file, report)
    doc = SpecDocument.load(spec_path, create_for=base)
    services = doc.section("services")
    for name, conv in merged.items():
        if name in services and isinstance(services[name], dict):
            report.conflicts += merge_fields(
                services[name],
                copy.deepcopy(conv.fields),
                service=name,
                kept_from=spec_path.name,
                other_from=conv.source,
            )
        else:
            services[name] = copy.deepcopy(conv.fields)
        report.services[name] = conv.fields
    secrets = doc.section("secrets")
    for secret, description in sorted(report.secrets_added.items()):
        if secret not in secrets:
            secrets[secret] = {"required": True, "description": description}
    report.secrets_added = {k: v for k, v in report.secrets_added.items() if k in secrets}
    errors, follow_ups = validate_document(doc)
    if errors:
        raise SpecError([f"migrated sophia.yaml would be invalid: {e}" for e in errors])
    report.follow_ups = follow_ups
    report.changed = doc.changed()
    report.diff = doc.diff()
    if report.changed and not dry_run:
        doc.write()
        report.written = True
    return report


def _convert_all(
    files: list[Path], base: Path, env_file: Path | None, report: MigrationReport
) -> dict[str, Converted]:
    from sophia_platform.cleanup.compose.interpolate import read_dotenv

    merged: dict[str, Converted] = {}
    for path in files:
        variables = read_dotenv(env_file) if env_file else None
        loaded = load_compose(path, variables)
        report.warnings += loaded.warnings
        report.unconverted += top_level_unconverted(loaded, _shown(path, base))
        for svc in loaded.services.values():
            conv = convert_service(svc, base)
            report.unconverted += conv.unconverted
            report.notes += [f"{conv.source}: {conv.compose_name}: {n}" for n in conv.notes]
            report.secrets_added.update(conv.secrets)
            if conv.name != conv.compose_name:
                report.renamed[conv.compose_name] = conv.name
            report.sources.setdefault(conv.name, []).append(conv.source)
            if conv.name in merged:
                first = merged[conv.name]
                report.conflicts += merge_fields(
                    first.fields,
                    conv.fields,
                    service=conv.name,
                    kept_from=first.source,
                    other_from=conv.source,
                )
            else:
                merged[conv.name] = conv
    return merged


def _shown(path: Path, base: Path) -> str:
    try:
        return path.resolve().relative_to(base.resolve()).as_posix()
    except ValueError:
        return str(path)
