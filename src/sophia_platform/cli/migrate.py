"""``sophia migrate compose``: docker-compose files → ``services:`` of ``sophia.yaml``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.syntax import Syntax
from rich.table import Table

from sophia_platform.cli import output, params

app = typer.Typer(no_args_is_help=True, help="Convert docker-compose into sophia.yaml.")

_COMPOSE_NAMES = ("docker-compose*.y*ml", "compose*.y*ml", "*.compose.y*ml")


@app.callback()
def _group() -> None:
    """Migrate other deployment descriptions into sophia.yaml."""


@app.command()
def compose(
    files: Annotated[list[Path] | None, typer.Argument(help="Compose files (default: ./)")] = None,
    spec: Annotated[Path | None, typer.Option(help="sophia.yaml to merge into")] = None,
    env_file: Annotated[
        Path | None, typer.Option(help="Variables for ${VAR} (default: .env beside each file)")
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show the diff only")] = False,
    json_out: Annotated[bool, typer.Option("--json", help="Print the report as JSON")] = False,
) -> None:
    """Convert compose services into one sophia.yaml; report every key not converted."""
    from sophia_platform.cleanup.compose.migrate import migrate_compose

    spec_path = params.spec_path(spec)
    paths = files or _discover(Path.cwd())
    report = migrate_compose(paths, spec_path, dry_run=dry_run, env_file=env_file)
    if output.wants_json(json_out):
        output.emit_json(report)
        return
    _render(report, dry_run)


def _discover(folder: Path) -> list[Path]:
    found = {p for pattern in _COMPOSE_NAMES for p in folder.glob(pattern) if p.is_file()}
    return sorted(found)


def _render(report: object, dry_run: bool) -> None:
    from sophia_platform.cleanup.compose.migrate import MigrationReport

    assert isinstance(report, MigrationReport)
    out = output.console()
    table = Table(title=f"services from {len(report.files)} compose file(s)")
    for column in ("service", "image", "port", "gpu", "storage", "secrets", "from"):
        table.add_column(column)
    for name, fields in report.services.items():
        cells = (
            name,
            f"{fields.get('image')}:{fields.get('tag') or '-'}",
            str(fields.get("port") or "-"),
            str(fields.get("gpu") or "-"),
            str(fields.get("storage") or "-"),
            ", ".join(fields.get("secrets", [])) or "-",
            ", ".join(report.sources.get(name, [])),
        )
        table.add_row(*(escape(cell) for cell in cells))
    out.print(table)
    if report.unconverted:
        out.print(f"[yellow]{len(report.unconverted)} key(s) not converted:[/]")
        for item in report.unconverted:
            out.print(
                escape(f"  {item.file}:{item.line}: {item.service}: {item.key}: {item.reason}")
            )
    for conflict in report.conflicts:
        detail = (
            f"{conflict.service}.{conflict.field}: kept {conflict.kept} "
            f"({conflict.kept_from}), not {conflict.other} ({conflict.other_from})"
        )
        out.print(f"[yellow]conflict[/] {escape(detail)}")
    for line in report.notes + report.warnings:
        out.print(escape(f"note: {line}"))
    for line in report.follow_ups:
        out.print(f"[yellow]follow-up[/] {escape(line)}")
    if dry_run and report.diff:
        out.print(Syntax(report.diff, "diff", theme="ansi_dark"))
    verb = "would change" if dry_run else "wrote" if report.written else "no change to"
    out.print(
        escape(f"{verb} {report.spec_path}; {len(report.secrets_added)} secret(s) referenced")
    )
