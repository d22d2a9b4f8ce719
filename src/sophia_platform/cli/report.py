"""``sophia report [ENV] [--repo PATH]``: metrics, Definition of Done, checklists, burn-down.

The environment is the positional ``ENV``, as in every command. The repository used to be the
positional (``sophia report PATH``); a positional that is written as a path, or names a git
repository directory, is still read as ``--repo`` with a deprecation warning.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from sophia_platform.cli import output, params
from sophia_platform.errors import CheckFailed, InputError

app = typer.Typer(help="Where the migration stands: metrics, Definition of Done, burn-down.")


def _since(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError as e:
        raise InputError(f"--since {value}: not a date; write it like 2026-01-31") from e
    return when if when.tzinfo else when.replace(tzinfo=UTC)


@app.command()
def report(
    env: params.EnvArg = None,
    env_alias: params.EnvAlias = None,
    repo: Annotated[
        Path | None, typer.Option("--repo", help="Repository to report on (default: .).")
    ] = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="html | md | json.")] = "md",
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write to this file.")] = None,
    history: Annotated[
        bool, typer.Option("--history", help="Add the burn-down over the git history.")
    ] = False,
    since: Annotated[
        str | None, typer.Option("--since", help="History from this date (YYYY-MM-DD).")
    ] = None,
    commits: Annotated[
        int | None, typer.Option("--commits", help="History of the last N commits.")
    ] = None,
    every: Annotated[str, typer.Option("--every", help="commit | day (one point per day).")] = (
        "commit"
    ),
    fail_on: Annotated[
        str | None, typer.Option("--fail-on", help="Exit 1 unless these pass: dod, metrics.")
    ] = None,
    no_cluster: Annotated[
        bool, typer.Option("--no-cluster", help="Do not contact the cluster.")
    ] = False,
    no_secrets: Annotated[
        bool, typer.Option("--no-secrets", help="Do not run the secrets check.")
    ] = False,
    kubeconfig: params.KubeconfigOpt = None,
    cache_dir: Annotated[
        Path | None, typer.Option("--cache-dir", help="History cache (default .git/sophia-cache).")
    ] = None,
    schema: Annotated[
        bool, typer.Option("--schema", help="Print the JSON Schema of --format json.")
    ] = False,
    json_out: Annotated[bool, typer.Option("--json", help="Same as --format json.")] = False,
) -> None:
    """Report the migration (exit 1 with --fail-on when an item does not pass)."""
    from sophia_platform.report import Options, Sampling, build
    from sophia_platform.report.render import FORMATS, schema_text

    if schema:
        typer.echo(schema_text(), nl=False)
        return
    positional, path = _env_and_repo(env, repo)  # before --env: `report PATH --env E` worked
    env = params.environment(positional, env_alias)
    fmt = "json" if output.wants_json(json_out) else fmt
    if fmt not in FORMATS:
        raise InputError(f"--format {fmt}: unknown format; use one of {', '.join(FORMATS)}")
    failing = _fail_on(fail_on)
    if every not in ("commit", "day"):
        raise InputError(f"--every {every}: use commit or day")
    if commits is not None and commits < 1:
        raise InputError(f"--commits {commits}: use a positive number")
    wants_history = history or since is not None or commits is not None or every != "commit"
    sampling = None
    if wants_history:
        sampling = Sampling(
            since=_since(since), last=commits, every="day" if every == "day" else "commit"
        )
    options = Options(
        spec_path=params.global_spec_path(),
        env=env,
        kubeconfig=kubeconfig,
        cluster=not no_cluster,
        secrets=not no_secrets,
    )
    result = build(path, options, sampling=sampling, cache_dir=cache_dir, progress=_progress())
    text = FORMATS[fmt](result)
    if out is None:
        typer.echo(text, nl=False)
    else:
        from sophia_platform.atomicfile import write_text_atomic

        write_text_atomic(out, text, parents=True)
        output.err_console().print(f"report written to {out}")
    for what in failing:
        bad = result.failing("dod" if what == "dod" else "metrics")
        if bad:
            raise CheckFailed(f"--fail-on {what}: not passing: {'; '.join(bad)}")


def _env_and_repo(env: str | None, repo: Path | None) -> tuple[str | None, Path]:
    """Split the positional: an environment, or (deprecated) the repository path it once was."""
    if env is None or not _is_path(env):
        return env, repo or Path()
    if repo is not None:
        raise InputError(
            f"{env!r} looks like a path and --repo {repo} is given",
            hint="give the environment as the argument and the repository as --repo",
        )
    params.deprecated(f"the repository as the argument is deprecated; use --repo {env}")
    return None, Path(env)


def _is_path(value: str) -> bool:
    """True for what can only be a path: written as one, or a git repository's directory."""
    if value in (".", "..") or "/" in value or value.startswith("~"):
        return True
    return (Path(value) / ".git").exists()


def _fail_on(value: str | None) -> list[str]:
    if value is None:
        return []
    names = [v.strip() for v in value.split(",") if v.strip()]
    bad = [n for n in names if n not in ("dod", "metrics")]
    if bad or not names:
        raise InputError(f"--fail-on {value}: use dod, metrics or dod,metrics")
    return names


def _progress() -> Callable[[str, int, int], None]:
    console = output.err_console()
    shown: dict[str, float] = {}

    def report(phase: str, done: int, total: int) -> None:
        import time

        now = time.monotonic()
        if done < total and now - shown.get(phase, 0.0) < 1.0:
            return
        shown[phase] = now
        what = "blobs scanned" if phase == "scan" else "commits concluded"
        console.print(f"history: {done}/{total} {what}", highlight=False)

    return report
