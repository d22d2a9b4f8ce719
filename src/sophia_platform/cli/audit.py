"""``sophia audit [PATH]``: scan a repository for deployment tech debt and report it."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from sophia_platform.cli import output
from sophia_platform.errors import CheckFailed, InputError

if TYPE_CHECKING:
    from collections.abc import Callable

    from sophia_platform.audit.model import AuditResult, Finding

app = typer.Typer(help="Scan a repository for deployment tech debt.")

_STYLE = {"error": "bold red", "warning": "yellow", "note": "cyan"}


def _rule_set(value: str | None, option: str) -> frozenset[str] | None:
    from sophia_platform.audit import RULE_IDS

    if value is None:
        return None
    names = {v.strip() for v in value.split(",") if v.strip()}
    if names & {"any", "all"}:
        return frozenset(RULE_IDS)
    unknown = sorted(names - set(RULE_IDS))
    if unknown or not names:
        bad = unknown[0] if unknown else "(empty)"
        levels = "any, note, warning, error" if option == "--fail-on" else "any"
        raise InputError(
            f"{option}: unknown rule {bad}; use {levels}, or some of {', '.join(RULE_IDS)}"
        )
    return frozenset(names)


_LEVELS = {"note": 0, "warning": 1, "error": 2}


def _failing(value: str) -> Callable[[Finding], bool]:
    """Which findings make the audit exit 1: a severity threshold, or rule ids."""
    level = _LEVELS.get(value.strip().lower())
    if level is not None:
        return lambda f: _LEVELS[f.severity.value] >= level
    names = _rule_set(value, "--fail-on")
    return lambda f: names is None or f.rule_id in names


@app.command()
def audit(
    ctx: typer.Context,
    paths: Annotated[
        list[Path] | None,
        typer.Argument(
            help="Repository (or folder in it) to scan; or files, as a pre-commit hook passes."
        ),
    ] = None,
    fmt: Annotated[
        str, typer.Option("--format", "-f", help="table | concise | json | sarif | markdown.")
    ] = "table",
    since: Annotated[
        str | None,
        typer.Option("--since", help="Only files changed since this git ref (merge base)."),
    ] = None,
    changed: Annotated[
        bool, typer.Option("--changed", help="Only files changed since HEAD (and new ones).")
    ] = False,
    out: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the report to a file.")
    ] = None,
    all_files: Annotated[
        bool, typer.Option("--all-files", help="Also scan files that git ignores.")
    ] = False,
    rules: Annotated[
        str | None, typer.Option("--rules", help="Only run these rules (comma-separated).")
    ] = None,
    fail_on: Annotated[
        str,
        typer.Option(
            "--fail-on",
            help="Exit 1 when findings remain at or above this: any | note | warning | error, "
            "or rule ids (comma-separated).",
        ),
    ] = "any",
    exit_zero: Annotated[
        bool, typer.Option("--exit-zero", help="Report only: exit 0 even with findings.")
    ] = False,
    baseline: Annotated[
        Path | None, typer.Option("--baseline", help="Suppress findings recorded in this file.")
    ] = None,
    write_baseline: Annotated[
        Path | None,
        typer.Option("--write-baseline", help="Record the current findings as the baseline."),
    ] = None,
    config: Annotated[
        Path | None, typer.Option("--config", help="Audit config (default ./.sophia-audit.yml).")
    ] = None,
    max_file_size: Annotated[
        int, typer.Option("--max-file-size", help="Skip files larger than this many bytes.")
    ] = 1_000_000,
    jobs: Annotated[
        int, typer.Option("--jobs", "-j", help="Worker processes (0 = auto: 2 on big repos).")
    ] = 0,
    max_rows: Annotated[
        int, typer.Option("--max-rows", help="Rows per rule in the table (0 = all).")
    ] = 20,
    json_out: Annotated[bool, typer.Option("--json", help="Same as --format json.")] = False,
) -> None:
    """Scan a repository for deployment tech debt (exit 1 when findings remain, see --fail-on)."""
    from sophia_platform.audit import ScanOptions, scan
    from sophia_platform.audit import baseline as baselines
    from sophia_platform.audit.reporters import FORMATS, REPORTERS

    if hasattr(ctx.obj, "quick_exit"):  # the scan's heap is not torn down at exit
        ctx.obj.quick_exit = True
    fmt = "json" if output.wants_json(json_out) else fmt
    if jobs < 0:
        raise InputError(f"--jobs {jobs}: use 0 (auto) or a positive number of processes")
    if fmt not in FORMATS:
        raise InputError(f"--format {fmt}: unknown format; use one of {', '.join(FORMATS)}")
    if since is not None and changed:
        raise InputError("--since and --changed: give one (--changed is --since HEAD)")
    selected = _rule_set(rules, "--rules")
    failing = _failing(fail_on)
    path, only = _targets(paths or [])
    if write_baseline is not None and (only is not None or since is not None or changed):
        raise InputError("--write-baseline records the whole repository; drop the files/--since")
    options = ScanOptions(
        only=only,
        since="HEAD" if changed else since,
        config_baseline=write_baseline is None,
        all_files=all_files,
        max_file_bytes=max_file_size,
        rules=selected,
        config_path=config,
        baseline=baselines.load_baseline(baseline) if baseline is not None else None,
        jobs=jobs,
    )
    result = scan(path, options)
    # Files named on the command line (a pre-commit hook) are the part asked for: no note.
    if result.skipped_rules and only is None and fmt in ("table", "concise"):
        output.err_console().print(
            f"note: scanned {result.stats.files_listed} file(s), not the whole repository; "
            f"not run: {', '.join(result.skipped_rules)} (repository-wide rules)"
        )
    if write_baseline is not None:
        count = baselines.write_baseline(write_baseline, result.findings)
        output.err_console().print(f"wrote {count} finding(s) to baseline {write_baseline}")
    if fmt == "table":
        _table(result, max_rows, out)
    else:
        _write(REPORTERS[fmt](result), out)
    hits = [f for f in result.findings if failing(f)]
    if hits and not exit_zero:
        which = ", ".join(sorted({f.rule_id for f in hits}))
        raise CheckFailed(f"{len(hits)} finding(s) for --fail-on {fail_on} ({which})")


def _targets(paths: list[Path]) -> tuple[Path, tuple[Path, ...] | None]:
    """What to scan: one folder (the whole of it), or a part of the repository (files)."""
    if not paths:
        return Path(), None
    if len(paths) == 1 and paths[0].is_dir():
        return paths[0], None
    for path in paths:
        if not path.exists() and not path.is_symlink():
            raise InputError(f"{path}: no such file or directory; pass files in the repository")
    # The folder holding them all: in git the scan's root is its top level either way.
    anchor = Path(os.path.commonpath([os.path.abspath(p.parent) for p in paths]))
    return anchor, tuple(paths)


def _write(text: str, out: Path | None) -> None:
    if out is None:
        typer.echo(text, nl=False)
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    output.err_console().print(f"report written to {out}")


def _table(result: AuditResult, max_rows: int, out: Path | None) -> None:
    # Rich tables are imported only for this format: JSON/SARIF runs in CI start faster.
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from sophia_platform.audit.reporters import table

    report = table.build(result, max_rows)
    console = output.console()
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        console = Console(file=out.open("w", encoding="utf-8"), width=160, no_color=True)
    counts = Table(title="sophia audit", show_lines=False)
    counts.add_column("rule")
    counts.add_column("findings", justify="right")
    for rule_id, count in report.counts.items():
        counts.add_row(rule_id, str(count), style=None if count else "dim")
    console.print(counts)
    for group in report.groups:
        detail = Table(
            title=f"{group.rule_id} ({group.count}) — {group.title}", title_justify="left"
        )
        detail.add_column("location", overflow="fold")
        detail.add_column("message", overflow="fold")
        for row in group.rows:
            detail.add_row(row.location, Text(row.message, style=_STYLE.get(row.severity, "")))
        if group.count > len(group.rows):
            detail.add_row("…", f"{group.count - len(group.rows)} more (use --max-rows 0)")
        console.print(detail)
    console.print(Text("Summary: ", style="bold") + Text(report.summary))
    console.print(Text(report.footer, style="dim"))
    if out is not None:
        console.file.close()
        output.err_console().print(f"report written to {out}")
