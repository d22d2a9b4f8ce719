"""``sophia dev gitops up|down|status``: real Flux controllers and a git server, locally."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sophia_platform.cli import output

app = typer.Typer(
    help="Real Flux (source- and helm-controller) and a git server next to the dev cluster.",
    no_args_is_help=True,
)
ClusterDirOpt = Annotated[
    Path | None,
    typer.Option(
        "--state-dir", help="The dev cluster's state folder (default as for dev cluster)."
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]


def _dirs(explicit: Path | None) -> tuple[Path, Path]:
    from sophia_platform.devcluster.cluster import default_state_dir
    from sophia_platform.gitops import devloop

    cluster_dir = explicit if explicit is not None else default_state_dir()
    return cluster_dir, devloop.default_state_dir(cluster_dir)


@app.command("up")
def up_cmd(
    state_dir: ClusterDirOpt = None,
    repo: Annotated[
        str, typer.Option("--repo", help="Bare repository to create on the git server.")
    ] = "sophia",
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Say what would start.")] = False,
    json_output: JsonOpt = False,
) -> None:
    """Start source-controller, helm-controller and the git server; print the git URL."""
    from sophia_platform.gitops import devloop

    cluster_dir, loop_dir = _dirs(state_dir)
    if dry_run:
        output.console().print(
            f"would start {', '.join(devloop.PROCESSES)} for the cluster in {cluster_dir} "
            f"(state in {loop_dir}) and create {repo}.git"
        )
        return
    result = devloop.up(cluster_dir, loop_dir, repo=repo)
    if output.wants_json(json_output):
        output.emit_json(result)
        return
    how = "already running" if result.reused else f"started in {result.seconds:.1f}s"
    output.console().print(f"gitops loop {how}; git server {result.git_url}", highlight=False)
    if result.repo_url:
        output.console().print(f"repository: {result.repo_url}", highlight=False)


@app.command("down")
def down_cmd(state_dir: ClusterDirOpt = None, json_output: JsonOpt = False) -> None:
    """Stop the controllers and the git server (repositories are kept)."""
    from sophia_platform.gitops import devloop

    _cluster, loop_dir = _dirs(state_dir)
    stopped = devloop.down(loop_dir)
    if output.wants_json(json_output):
        output.emit_json({"stopped": stopped})
        return
    output.console().print(f"stopped: {', '.join(stopped) or 'nothing was running'}")


@app.command("url")
def url_cmd(
    name: Annotated[str, typer.Argument(help="Repository on the git server.")] = "sophia",
    state_dir: ClusterDirOpt = None,
    json_output: JsonOpt = False,
) -> None:
    """Print a repository's git URL, e.g. `git remote add origin "$(sophia dev gitops url)"`."""
    from sophia_platform.gitops import devloop

    _cluster, loop_dir = _dirs(state_dir)
    url = devloop.repo_url(loop_dir, name)
    if output.wants_json(json_output):
        output.emit_json({"name": name, "url": url})
        return
    output.console().print(url, highlight=False, soft_wrap=True)


@app.command("status")
def status_cmd(state_dir: ClusterDirOpt = None, json_output: JsonOpt = False) -> None:
    """Which processes run, the git URL and the repositories; exit 1 if not running."""
    from sophia_platform.errors import CheckFailed
    from sophia_platform.gitops import devloop

    _cluster, loop_dir = _dirs(state_dir)
    st = devloop.status(loop_dir)
    if output.wants_json(json_output):
        output.emit_json(st)
    else:
        con = output.console()
        for name, alive in st.processes.items():
            con.print(f"  {name}: {'running' if alive else 'stopped'}  ({st.logs[name]})")
        con.print(f"git server: {st.git_url or '-'}; repositories: {', '.join(st.repos) or '-'}")
    if not st.running:
        raise CheckFailed("the gitops loop is not running", hint="sophia dev gitops up")
