"""``sophia cleanup plan|apply|undo``: fix the tech debt the audit finds, reversibly."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.syntax import Syntax

from sophia_platform.cli import output, params

app = typer.Typer(no_args_is_help=True, help="Plan, apply and undo tech-debt fixes.")

PathArg = Annotated[Path, typer.Argument(help="Repository (default: the current one)")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output")]
DryRun = Annotated[bool, typer.Option("--dry-run", help="Show what would happen, change nothing")]


def _root(path: Path) -> Path:
    from sophia_platform.cleanup.gitstate import repo_root

    return repo_root(path)


def _spec(root: Path) -> Path | None:
    spec = params.global_spec_path()
    return spec.resolve() if spec is not None else None


@app.command()
def plan(
    path: PathArg = Path("."),
    out: Annotated[Path | None, typer.Option(help="Plan file to write")] = None,
    rules: Annotated[str | None, typer.Option(help="Only these rules (comma-separated)")] = None,
    json_out: JsonOpt = False,
) -> None:
    """Audit, then show exactly what apply will do (diff + moves) and save the plan."""
    from sophia_platform.cleanup.service import parse_rules, plan_repository, save_plan

    root = _root(path)
    result = plan_repository(root, spec_path=_spec(root), rules=parse_rules(rules))
    saved = save_plan(root, result, out)
    if output.wants_json(json_out):
        output.emit_json({"plan_file": str(saved), **_plan_dict(result)})
        return
    _render_plan(result)
    output.console().print(f"plan saved to {saved}; apply it with 'sophia cleanup apply'")


@app.command()
def apply(
    path: PathArg = Path("."),
    plan_file: Annotated[Path | None, typer.Option("--plan", help="Plan file to apply")] = None,
    yes: Annotated[bool, typer.Option("--yes", help="Plan now and apply without review")] = False,
    allow_dirty: Annotated[
        bool, typer.Option("--allow-dirty", help="Run even with uncommitted changes")
    ] = False,
    dry_run: DryRun = False,
    json_out: JsonOpt = False,
) -> None:
    """Apply a plan under a journal (undo restores the tree, even after a crash)."""
    from sophia_platform.cleanup.apply import apply_plan
    from sophia_platform.cleanup.service import load_plan, plan_repository

    root = _root(path)
    if yes and plan_file is None:
        chosen = plan_repository(root, spec_path=_spec(root))
    else:
        chosen = load_plan(root, plan_file)
    result = apply_plan(root, chosen, allow_dirty=allow_dirty, dry_run=dry_run)
    if output.wants_json(json_out):
        output.emit_json(result)
        return
    out = output.console()
    if dry_run:
        _render_plan(chosen)
    for step in result.steps:
        out.print(escape(("would " if dry_run else "") + step))
    if not result.steps:
        out.print(f"nothing to do ({result.already_done} step(s) already applied)")
    elif not dry_run:
        out.print(f"applied {len(result.steps)} step(s); journal {result.journal}")
        out.print("review with 'git status' / 'git diff'; revert with 'sophia cleanup undo'")


@app.command()
def undo(
    path: PathArg = Path("."),
    journal: Annotated[str | None, typer.Option(help="Journal id (default: the newest)")] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Restore files changed since the apply too")
    ] = False,
    dry_run: DryRun = False,
    json_out: JsonOpt = False,
) -> None:
    """Restore every file the last apply touched (also after an interrupted apply)."""
    from sophia_platform.cleanup.apply import undo as run_undo

    root = _root(path)
    result = run_undo(root, journal_id=journal, force=force, dry_run=dry_run)
    if output.wants_json(json_out):
        output.emit_json(result)
        return
    out = output.console()
    if result.journal is None:
        out.print("nothing to undo")
        return
    verb = "would restore" if dry_run else "restored"
    for rel in result.restored:
        out.print(f"{verb} {escape(rel)}")
    out.print(f"{verb} {len(result.restored)} path(s) from journal {result.journal}")


def _plan_dict(plan: object) -> dict[str, object]:
    from dataclasses import asdict

    from sophia_platform.cleanup.plan import Plan

    assert isinstance(plan, Plan)
    data = asdict(plan)
    for op in data["operations"]:
        op.pop("content", None)  # the diff shows it; keeps JSON output short
    return data


def _render_plan(plan: object) -> None:
    from sophia_platform.cleanup.plan import Plan

    assert isinstance(plan, Plan)
    out = output.console()
    moves = [op for op in plan.operations if op.kind == "move"]
    for op in moves:
        out.print(
            f"git mv {escape(op.path)} {escape(op.target or '')}  [dim]# {escape(op.reason)}[/]"
        )
    if plan.diff:
        out.print(Syntax(plan.diff, "diff", theme="ansi_dark", word_wrap=True))
    for skipped in plan.skipped:
        detail = f"{skipped.path}:{skipped.line}: {skipped.rule_id}: {skipped.reason}"
        out.print(f"[yellow]not fixed[/] {escape(detail)}")
    edits = sum(1 for op in plan.operations if op.kind != "move")
    out.print(
        f"{len(moves)} move(s), {edits} file write(s), {len(plan.names)} address(es) → config "
        f"keys, {len(plan.secrets)} secret(s) declared, {len(plan.skipped)} finding(s) not fixed"
    )
