"""``sophia init | validate | show | schema``: commands about ``sophia.yaml`` itself."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from sophia_platform.cli import params
from sophia_platform.cli.output import console, emit_json, wants_json
from sophia_platform.cli.params import JsonOpt
from sophia_platform.errors import InputError, UsageError

init_app = typer.Typer(add_completion=False)
validate_app = typer.Typer(add_completion=False)
show_app = typer.Typer(add_completion=False)
schema_app = typer.Typer(add_completion=False)

PathArg = Annotated[
    Path | None,
    typer.Argument(help="sophia.yaml to read (default: --spec, $SOPHIA_SPEC or ./sophia.yaml)."),
]


@validate_app.command()
def validate(path: PathArg = None, json_output: JsonOpt = False) -> None:
    """Validate sophia.yaml and print every problem with file:line:column (exit 2 if any)."""
    from sophia_platform.spec import validate_file

    result = validate_file(params.spec_path(path))
    if wants_json(json_output):
        emit_json({"file": str(result.path), "ok": result.ok, "problems": result.problems})
    elif result.ok and result.spec is not None:
        spec = result.spec
        console().print(
            f"[green]ok[/] {result.path}: {len(spec.environments)} environments, "
            f"{len(spec.nodes)} nodes, {len(spec.services)} services, {len(spec.secrets)} secrets"
        )
    else:
        for problem in result.problems:
            typer.echo(problem.format(), err=True)
    if not result.ok:
        count = len(result.problems)
        raise InputError(f"{result.path}: {count} problem{'s' if count != 1 else ''} found")


@show_app.command()
def show(path: PathArg = None, json_output: JsonOpt = False) -> None:
    """Summarise the spec: environments, nodes, services and the secrets each consumes."""
    from sophia_platform.spec import load_spec
    from sophia_platform.spec.summary import summarise

    summary = summarise(load_spec(params.spec_path(path)))
    if wants_json(json_output):
        emit_json(summary)
        return
    from sophia_platform.cli.spec_render import summary_tree

    console().print(summary_tree(summary))


@schema_app.command()
def schema(
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to this file instead of stdout.")
    ] = None,
) -> None:
    """Print the JSON Schema of sophia.yaml, for editor autocompletion."""
    from sophia_platform.spec.schema import json_schema

    text = json.dumps(json_schema(), indent=2) + "\n"
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        console().print(f"wrote {output}")


@init_app.command()
def init(
    path: Annotated[Path, typer.Argument(help="Where to write the starter.")] = Path("sophia.yaml"),
    project: Annotated[str, typer.Option(help="Project name (a DNS label).")] = "my-platform",
    example: Annotated[
        bool,
        typer.Option("--example", help="Write the whole Sophia AI platform (15 services) instead."),
    ] = False,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print instead of writing.")] = False,
) -> None:
    """Write a commented starter sophia.yaml (refuses to overwrite without --force)."""
    if example:
        from sophia_platform.resources import example_spec_path

        text = example_spec_path().read_text(encoding="utf-8")
    else:
        from sophia_platform.spec.starter import starter_text

        text = starter_text(project)
    if dry_run:
        typer.echo(text, nl=False)
        return
    if path.exists() and not force:
        if path.read_text(encoding="utf-8", errors="replace") == text:
            console().print(f"{path} is already up to date; nothing to do")
            return
        raise UsageError(f"{path} exists", hint="pass --force to overwrite it")
    path.write_text(text, encoding="utf-8")
    console().print(f"wrote {path}; next: edit it, then `sophia validate {path}`")
