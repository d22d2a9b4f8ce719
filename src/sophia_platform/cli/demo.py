"""``sophia demo``: the README's runbook, run command by command in a fresh directory.

Every step is a public command line (see :mod:`sophia_platform.runbook`), printed, then run by
bash as its own process, exactly as a user would type it; nothing here calls the core behind
the commands' backs. The cluster is left running to look around unless ``--down``.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Annotated

import typer

from sophia_platform.cli import output

app = typer.Typer(add_completion=False)


@app.command()
def demo(
    directory: Annotated[
        Path | None,
        typer.Option("--dir", help="Where to run it (default: a new temporary directory, kept)."),
    ] = None,
    state_dir: Annotated[
        Path | None,
        typer.Option(
            "--state-dir",
            help="Local cluster state, passed to the commands as $SOPHIA_DEV_CLUSTER_DIR "
            "(default: sophia dev cluster's).",
        ),
    ] = None,
    down: Annotated[
        bool, typer.Option("--down", help="Also run the clean-up act (stop the cluster).")
    ] = False,
    markdown: Annotated[
        bool, typer.Option("--markdown", help="Print the README block of the runbook and exit.")
    ] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the commands only.")] = False,
) -> None:
    """Run the end-to-end demo: the README's commands, one by one, on a local cluster."""
    from sophia_platform import runbook
    from sophia_platform.errors import CheckFailed, UsageError

    if markdown:
        typer.echo(runbook.markdown(), nl=False)
        return
    con = output.console()
    if dry_run:
        for step in runbook.steps():
            con.print(f"$ {step.command}", highlight=False, markup=False)
        return
    workdir = directory or Path(tempfile.mkdtemp(prefix="sophia-demo-"))
    workdir.mkdir(parents=True, exist_ok=True)
    if (workdir / "sophia.yaml").exists():
        raise UsageError(
            f"{workdir} already has a sophia.yaml; the demo starts from a fresh directory",
            hint="pass another --dir, or leave it out for a new temporary one",
        )
    env = runbook.child_environment(os.environ, bin_dir=_sophia_bin_dir(), state_dir=state_dir)
    env.setdefault("COLUMNS", str(shutil.get_terminal_size((120, 40)).columns))
    con.print(f"[bold]sophia demo[/] in {workdir}: the README's commands, each as typed")
    number = 0
    for act in runbook.ACTS:
        todo = [s for s in act.steps if down or not s.teardown]
        if not todo:
            continue
        number += 1
        con.print(f"\n[bold magenta]{number}.[/] [bold]{act.title}[/]")
        for step in todo:
            con.print(f"[bold cyan]$ {step.command}[/]", highlight=False)
            result = runbook.run_step(step.command, step, cwd=workdir, env=env, on_output=_echo)
            if not result.ok:
                raise CheckFailed(
                    f"demo step `{step.command}` {result.problem()} (in {workdir})",
                    hint="the output above says why",
                )
            con.print(f"[dim]  exit {result.exit_code}, {result.seconds:.1f}s[/]")
    _next_steps(workdir, state_dir, down=down)


def _echo(chunk: str) -> None:
    sys.stdout.write(chunk)
    sys.stdout.flush()


def _sophia_bin_dir() -> Path:
    """The directory of the ``sophia`` that runs this demo, so the commands run the same one."""
    here = Path(sys.executable).parent
    if (here / "sophia").is_file():
        return here
    found = shutil.which("sophia")
    if found is None:
        from sophia_platform.errors import ExternalError

        raise ExternalError(
            "the `sophia` command is not on PATH; the demo runs it as a user would",
            hint="install the package (pip install -e .) or run scripts/demo",
        )
    return Path(found).parent


def _next_steps(workdir: Path, state_dir: Path | None, *, down: bool) -> None:
    from sophia_platform import runbook

    con = output.console()
    con.print("\n[bold]where to look next[/]")
    lines = [f"cd {workdir}"]
    if state_dir is not None:
        lines.append(f"export SOPHIA_DEV_CLUSTER_DIR={state_dir}")
    lines += [
        "sophia status local --watch      # live (Ctrl-C to stop)",
        "sophia diff local                # sophia.yaml vs live, secrets masked",
        "sophia rollback local --to 1     # any stored revision",
        "sophia lock status local         # the deploy lock (a Lease)",
        "kubectl --context sophia-local get pods,pvc -n sophia-ai   # if you have kubectl",
    ]
    if not down:
        lines += [s.command for s in runbook.steps() if s.teardown]
    for line in lines:
        con.print(f"  {line}", highlight=False, markup=False)
