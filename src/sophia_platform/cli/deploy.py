"""``sophia deploy | status | rollback | history | diff``: thin over ``sophia_platform.deploy``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from sophia_platform.cli import output, params
from sophia_platform.cli.params import DryRunOpt, EnvAlias, EnvArg, JsonOpt, KubeconfigOpt

deploy_app = typer.Typer(add_completion=False)
status_app = typer.Typer(add_completion=False)
rollback_app = typer.Typer(add_completion=False)
history_app = typer.Typer(add_completion=False)
diff_app = typer.Typer(add_completion=False)

TimeoutOpt = params.TimeoutOpt
GraceOpt = params.GraceOpt
LockWaitOpt = Annotated[
    float, typer.Option("--lock-wait", help="Seconds to wait for another deploy's lock.")
]
LockTtlOpt = Annotated[
    int,
    typer.Option(
        "--lock-ttl",
        min=3,
        help="Seconds the deploy lock outlives a crashed deploy (renewed every third of it).",
    ),
]


def _observer(json_mode: bool) -> Any:
    from sophia_platform.cli.deploy_view import LiveObserver
    from sophia_platform.deploy.results import SilentObserver

    return SilentObserver() if json_mode else LiveObserver(output.err_console())


def _run(action: Callable[[Any], Any], json_mode: bool) -> Any:
    """Run a deploy/rollback with an observer fit for the output; render result or failure."""
    from sophia_platform.cli.deploy_view import failure_panel, result_line
    from sophia_platform.deploy.results import DeployFailed, LockLost, PreflightRefused

    observer = _observer(json_mode)
    try:
        result = action(observer)
    except DeployFailed as e:
        if hasattr(observer, "close"):
            observer.close()
        if json_mode:
            output.emit_json(e.result)
        elif e.result.failure is not None:
            output.err_console().print(failure_panel(e.result.failure))
        raise
    except LockLost as e:
        if hasattr(observer, "close"):
            observer.close()
        if json_mode:
            output.emit_json(e.result)
        raise
    except PreflightRefused as e:
        if json_mode:
            output.emit_json({"outcome": "refused", "checks": e.preflight.checks})
        raise
    finally:
        if hasattr(observer, "close"):
            observer.close()
    if json_mode:
        output.emit_json(result)
        return result
    if result.changes:
        for name, (old, new) in result.changes.items():
            output.console().print(f"  {name}: {old or '-'} -> {new or '-'}")
    output.console().print(result_line(result))
    return result


@deploy_app.command()
def deploy(
    env: EnvArg = None,
    env_alias: EnvAlias = None,
    image_tag: Annotated[
        str | None, typer.Option("--image-tag", help="Tag for our images (not third-party ones).")
    ] = None,
    dry_run: DryRunOpt = False,
    timeout: TimeoutOpt = 300,
    grace: GraceOpt = 10.0,
    lock_wait: LockWaitOpt = 0.0,
    lock_ttl: LockTtlOpt = 120,
    recover: Annotated[
        bool, typer.Option("--recover", help="Clear a release stuck in pending-* first.")
    ] = False,
    break_glass: Annotated[
        bool,
        typer.Option(
            "--break-glass",
            help="GitOps-managed environment: suspend the engine, then deploy with Helm.",
        ),
    ] = False,
    kubeconfig: KubeconfigOpt = None,
    json_output: JsonOpt = False,
) -> None:
    """Preflight, then helm upgrade --install; fail fast and roll back if pods never get ready."""
    env = params.environment(env, env_alias)
    from sophia_platform.cli.gitops import guard_helm_deploy
    from sophia_platform.deploy.results import DeployOptions
    from sophia_platform.deploy.upgrade import deploy as run_deploy

    guard_helm_deploy(env, break_glass=break_glass, dry_run=dry_run, kubeconfig=kubeconfig)

    json_mode = output.wants_json(json_output)
    opts = DeployOptions(
        image_tag=image_tag,
        dry_run=dry_run,
        timeout_s=timeout,
        grace_s=grace,
        lock_wait_s=lock_wait,
        lock_ttl_s=lock_ttl,
        recover=recover,
        kubeconfig=kubeconfig,
    )
    result = _run(lambda observer: run_deploy(params.spec(), env, opts, observer), json_mode)
    if dry_run and not json_mode:
        _plan(result.plan)


def _plan(plan: list[Any]) -> None:
    """What a deploy would change, object by object (the dry run's server-side comparison)."""
    con = output.console()
    counts: dict[str, int] = {}
    for obj in plan:
        counts[obj.change] = counts.get(obj.change, 0) + 1
        if obj.change != "unchanged":
            con.print(f"  {obj.change:9} {obj.kind}/{obj.name}", highlight=False)
    summary = ", ".join(f"{n} {change}" for change, n in sorted(counts.items()))
    con.print(f"plan: {summary} (`sophia diff` shows each change)")


@rollback_app.command()
def rollback(
    env: EnvArg = None,
    env_alias: EnvAlias = None,
    to: Annotated[
        str | None,
        typer.Option(
            "--to", help="Revision, or a commit in GitOps mode (default: the previous good one)."
        ),
    ] = None,
    dry_run: DryRunOpt = False,
    timeout: TimeoutOpt = 300,
    grace: GraceOpt = 10.0,
    lock_wait: LockWaitOpt = 0.0,
    lock_ttl: LockTtlOpt = 120,
    kubeconfig: KubeconfigOpt = None,
    json_output: JsonOpt = False,
) -> None:
    """Roll back to a good revision; shows what changes, then waits with the fail-fast view."""
    env = params.environment(env, env_alias)
    from sophia_platform.cli.gitops import gitops_rollback
    from sophia_platform.deploy.results import DeployOptions
    from sophia_platform.deploy.rollback import rollback as run_rollback
    from sophia_platform.errors import UsageError

    json_mode = output.wants_json(json_output)
    # A GitOps-managed environment rolls back through git (a helm rollback would be undone).
    if gitops_rollback(
        env,
        to,
        dry_run=dry_run,
        timeout=timeout,
        grace=grace,
        kubeconfig=kubeconfig,
        json_mode=json_mode,
    ):
        return
    if to is not None and not to.isdigit():
        raise UsageError(f"--to {to!r}: a Helm revision is a number (see `sophia history`)")
    to_revision = int(to) if to is not None else None
    opts = DeployOptions(
        dry_run=dry_run,
        timeout_s=timeout,
        grace_s=grace,
        lock_wait_s=lock_wait,
        lock_ttl_s=lock_ttl,
        kubeconfig=kubeconfig,
    )
    _run(lambda observer: run_rollback(params.spec(), env, to_revision, opts, observer), json_mode)


@status_app.command()
def status(
    env: EnvArg = None,
    env_alias: EnvAlias = None,
    watch: Annotated[
        bool, typer.Option("--watch", help="Refresh until Ctrl-C (which exits 0).")
    ] = False,
    interval: Annotated[
        float, typer.Option("--interval", min=0.1, help="Seconds between --watch refreshes.")
    ] = 2.0,
    kubeconfig: KubeconfigOpt = None,
    json_output: JsonOpt = False,
) -> None:
    """Services, GPU use per node, the release and its drift; exit 1 if anything is unhealthy."""
    env = params.environment(env, env_alias)
    from sophia_platform.deploy.status import collect
    from sophia_platform.errors import CheckFailed, UsageError

    spec = params.spec_facts()  # no pydantic once these bytes were validated
    json_mode = output.wants_json(json_output)
    if watch:
        if json_mode:
            raise UsageError("--watch is for a terminal; poll `sophia status --json` instead")
        _watch(spec, env, interval, kubeconfig)
        return
    st = collect(spec, env, kubeconfig=kubeconfig)
    if json_mode:
        output.emit_json(st)
    else:
        from sophia_platform.cli.deploy_view import status_tables  # Rich: not for --json

        output.console().print(status_tables(st))
    if not st.healthy:
        bad = [s.name for s in st.services if not s.healthy]
        raise CheckFailed(f"{st.env} is unhealthy: {', '.join(bad) or 'release not deployed'}")
    if st.drifted:
        raise CheckFailed(
            f"{st.env} drifted from release revision {st.helm.revision if st.helm else '?'}"
        )


def _watch(spec: Any, env: str | None, interval: float, kubeconfig: Path | None) -> None:
    """Redraw in place on a terminal; elsewhere (a pipe, a log) print each refresh in turn."""
    from sophia_platform.cli.deploy_view import watch_frame
    from sophia_platform.deploy.status import watch

    con = output.console()
    frames = watch(spec, env, interval_s=interval, kubeconfig=kubeconfig)
    try:
        if con.is_terminal:
            from rich.live import Live

            with Live(console=con, auto_refresh=False) as live:
                for frame in frames:
                    live.update(watch_frame(frame, interval), refresh=True)
        else:
            for frame in frames:
                con.print(watch_frame(frame, interval))
                con.file.flush()
    except KeyboardInterrupt:
        # Ctrl-C is how a watch ends, not a failure
        output.err_console().print("watch stopped")


@history_app.command()
def history(
    env: EnvArg = None,
    env_alias: EnvAlias = None,
    kubeconfig: KubeconfigOpt = None,
    last: Annotated[
        int | None, typer.Option("--last", min=1, help="Only the N newest revisions.")
    ] = None,
    json_output: JsonOpt = False,
) -> None:
    """Every revision: who deployed what, when, from which commit, and how it ended."""
    env = params.environment(env, env_alias)
    from rich.table import Table

    from sophia_platform.deploy.history import collect

    entries = collect(params.spec(), env, kubeconfig=kubeconfig)
    entries = entries[-last:] if last else entries
    if output.wants_json(json_output):
        output.emit_json(entries)
        return
    table = Table()
    for col in ("rev", "helm", "action", "outcome", "user", "git", "duration", "updated", "note"):
        table.add_column(col)
    for e in entries:
        table.add_row(
            str(e.revision),
            e.helm_status,
            e.action or "-",
            e.outcome or "-",
            e.user or "-",
            (e.git_sha or "-")[:10],
            f"{e.duration_s:.1f}s" if e.duration_s is not None else "-",
            e.updated[:19],
            e.message or e.description,
        )
    output.console().print(table)


@diff_app.command()
def diff(
    env: EnvArg = None,
    env_alias: EnvAlias = None,
    image_tag: Annotated[str | None, typer.Option("--image-tag", help="Tag to compare.")] = None,
    kubeconfig: KubeconfigOpt = None,
    json_output: JsonOpt = False,
) -> None:
    """Rendered desired state against live objects, secret values masked; exit 1 if different."""
    env = params.environment(env, env_alias)
    from sophia_platform.deploy.diff import compute
    from sophia_platform.errors import CheckFailed

    result = compute(params.spec(), env, image_tag=image_tag, kubeconfig=kubeconfig)
    if output.wants_json(json_output):
        output.emit_json(result.objects)
    else:
        con = output.console()
        for obj in result.changed:
            con.print(f"[bold]{obj.change}[/] {obj.kind}/{obj.name}", highlight=False)
            if obj.diff:
                con.print(obj.diff, markup=False, highlight=False)
        con.print(
            f"{len(result.changed)} of {len(result.objects)} objects differ in {result.namespace}"
        )
    if result.changed:
        raise CheckFailed(f"{len(result.changed)} objects differ from sophia.yaml in {result.env}")
