"""``sophia gitops init|status|reconcile|suspend|resume|set-image`` and ``sophia ci workflow``."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import typer

from sophia_platform.cli import output, params

app = typer.Typer(
    help="GitOps: git push main deploys (Flux or Argo CD).",
    no_args_is_help=True,
    add_completion=False,
)
ci_app = typer.Typer(help="The one CI workflow.", no_args_is_help=True, add_completion=False)


@ci_app.callback()
def _ci_group() -> None:
    """The one CI workflow (a group: with one command Typer would make `ci` that command)."""


EnvArg = params.EnvArg
JsonOpt = params.JsonOpt
DryRunOpt = params.DryRunOpt
RepoOpt = params.CheckoutOpt
PathOpt = params.GitOpsPathOpt
DEFAULT_PATH = params.GITOPS_PATH
KubeconfigOpt = params.KubeconfigOpt
TimeoutOpt = params.TimeoutOpt
GraceOpt = params.GraceOpt


def _spec() -> Any:
    return params.spec()


def _env(spec: Any, env: str | None) -> str:
    return str(env or spec.default_environment)


def checkout_of(spec: Any, explicit: Path | None) -> Path:
    """The repository root: ``--repo``, else the work tree holding sophia.yaml, else cwd."""
    from sophia_platform import git

    if explicit is not None:
        return explicit.resolve()
    start = Path(spec.source_path).parent if spec.source_path else Path.cwd()
    return git.toplevel(start) or start.resolve()


def _context(env: str | None, repo: Path | None, path: str, kubeconfig: Path | None) -> Any:
    from sophia_platform.gitops.actions import Context

    spec = _spec()
    return Context.open(
        spec, _env(spec, env), checkout_of(spec, repo), root=path, kubeconfig=kubeconfig
    )


@app.command("init")
def init_cmd(
    env: EnvArg = None,
    engine: Annotated[str, typer.Option("--engine", help="flux or argocd.")] = "flux",
    repo_url: Annotated[
        str | None,
        typer.Option("--repo-url", help="URL the engine clones (default: origin's URL)."),
    ] = None,
    branch: Annotated[str, typer.Option("--branch", help="Branch the engine follows.")] = "main",
    git_secret: Annotated[
        str | None,
        typer.Option("--git-secret", help="Name of the Secret with git credentials (Flux)."),
    ] = None,
    release_timeout: Annotated[
        str, typer.Option("--release-timeout", help="How long a release may take (Flux).")
    ] = "5m",
    retries: Annotated[
        int, typer.Option("--retries", min=0, max=10, help="Remediation retries.")
    ] = 3,
    interval: Annotated[str, typer.Option("--interval", help="How often to poll git.")] = "1m",
    repo: RepoOpt = None,
    path: PathOpt = DEFAULT_PATH,
    dry_run: DryRunOpt = False,
    json_output: JsonOpt = False,
) -> None:
    """Write the environment's GitOps tree (chart, values, engine objects) from sophia.yaml."""
    from sophia_platform import git
    from sophia_platform.errors import UsageError
    from sophia_platform.gitops.manifests import TreeOptions
    from sophia_platform.gitops.tree import init

    if engine not in ("flux", "argocd"):
        raise UsageError(f"--engine must be flux or argocd, not {engine!r}")
    spec = _spec()
    env = _env(spec, env)
    checkout = checkout_of(spec, repo)
    if repo_url is None:
        proc = git.run(["remote", "get-url", "origin"], checkout, check=False)
        repo_url = proc.stdout.decode().strip() if proc.returncode == 0 else ""
        if not repo_url:
            raise UsageError("no --repo-url and the checkout has no origin remote")
    from sophia_platform.gitops.urls import check_repo_url

    opts = TreeOptions(
        engine=engine,  # type: ignore[arg-type]
        repo_url=check_repo_url(repo_url),
        branch=branch,
        root=path,
        git_secret=git_secret,
        source_interval=interval,
        timeout=release_timeout,
        retries=retries,
    )
    result = init(spec, env, opts, checkout, dry_run=dry_run)
    if output.wants_json(json_output):
        output.emit_json(result)
        return
    con = output.console()
    for change in result.changed:
        if change.action == "create":  # a diff from nothing is the whole file: name it
            lines = change.diff.count("\n+") - 1
            con.print(f"+ {change.path} ({lines} lines)", highlight=False, markup=False)
        else:
            con.print(change.diff, highlight=False, markup=False, end="")
    verb = "would write" if dry_run else "wrote"
    unchanged = len(result.files) - len(result.changed)
    con.print(
        f"gitops init {env} ({engine}): {verb} {len(result.changed)} file(s), "
        f"{unchanged} unchanged, under {checkout / path}",
        highlight=False,
    )
    if result.changed and not dry_run:
        con.print(f"next: commit {path}/ and push; the engine deploys {branch}", highlight=False)


@app.command("bootstrap")
def bootstrap_cmd(
    env: EnvArg = None,
    repo: RepoOpt = None,
    path: PathOpt = DEFAULT_PATH,
    kubeconfig: KubeconfigOpt = None,
    dry_run: DryRunOpt = False,
    json_output: JsonOpt = False,
) -> None:
    """Apply the tree's engine objects to the cluster (flux bootstrap --path does this too)."""
    from sophia_platform.gitops.actions import bootstrap

    ctx = _context(env, repo, path, kubeconfig)
    applied = bootstrap(ctx, dry_run=dry_run)
    if output.wants_json(json_output):
        output.emit_json({"env": ctx.env, "applied": applied, "dry_run": dry_run})
        return
    verb = "server-side dry run passed for" if dry_run else "applied"
    output.console().print(f"{ctx.env}: {verb} {', '.join(applied)}", highlight=False)


@app.command("status")
def status_cmd(
    env: EnvArg = None,
    watch: Annotated[bool, typer.Option("--watch", help="Refresh until Ctrl-C.")] = False,
    wait: Annotated[
        bool,
        typer.Option(
            "--wait",
            help="First wait until the engine has taken the branch head: ready, or given up "
            "and remediated (it is not asked to reconcile; a push does that).",
        ),
    ] = False,
    interval: Annotated[float, typer.Option("--interval", min=0.2)] = 2.0,
    timeout: TimeoutOpt = 300,
    grace: GraceOpt = 10.0,
    repo: RepoOpt = None,
    path: PathOpt = DEFAULT_PATH,
    kubeconfig: KubeconfigOpt = None,
    json_output: JsonOpt = False,
) -> None:
    """Branch head, fetched and applied revisions, Ready, services; exit 1 unless all line up."""
    from sophia_platform.cli.gitops_view import status_table
    from sophia_platform.errors import CheckFailed, UsageError
    from sophia_platform.gitops.status import collect_status

    spec = _spec()
    env = _env(spec, env)
    checkout = checkout_of(spec, repo)
    json_mode = output.wants_json(json_output)
    if watch and (json_mode or wait):
        raise UsageError("--watch is for people; poll `sophia gitops status --json` instead")
    if watch:
        _watch(spec, env, checkout, path, kubeconfig, interval)
        return
    waited = None
    if wait:
        from sophia_platform.gitops.actions import await_head

        ctx = _context(env, repo, path, kubeconfig)
        waited = await_head(ctx, timeout_s=timeout, grace_s=grace, on_update=_progress(json_mode))
    st = collect_status(spec, env, checkout, root=path, kubeconfig=kubeconfig)
    if json_mode:
        output.emit_json(st.to_dict())
    else:
        con = output.console()
        if waited is not None and waited.outcome == "failed":
            con.print(f"{env}: {waited.message}", highlight=False, markup=False)
            for line in waited.events:
                con.print(f"  {line}", highlight=False, markup=False)
        con.print(status_table(st))
    if not st.ok:
        raise CheckFailed(f"{env}: {st.message}")


def _watch(
    spec: Any, env: str, checkout: Path, path: str, kubeconfig: Path | None, interval: float
) -> None:
    from sophia_platform.cli.gitops_view import status_table
    from sophia_platform.errors import ExternalError
    from sophia_platform.gitops.status import collect_status

    con = output.console()
    try:
        while True:
            try:
                st = collect_status(spec, env, checkout, root=path, kubeconfig=kubeconfig)
                con.print(status_table(st))
            except ExternalError as e:
                con.print(f"{time.strftime('%H:%M:%S')} {e}", highlight=False)
            con.file.flush()
            time.sleep(interval)
    except KeyboardInterrupt:
        output.err_console().print("watch stopped")


def _progress(json_mode: bool) -> Any:
    from sophia_platform.cli.gitops_view import frame_line

    con = output.err_console()
    last: list[str] = []

    def show(frame: Any) -> None:
        line = frame_line(frame)
        if not json_mode and (not last or last[-1] != line):
            con.print(line, highlight=False)
            last.append(line)

    return show


def _finish(result: Any, json_mode: bool) -> None:
    from sophia_platform.errors import CheckFailed

    if json_mode:
        output.emit_json(result)
    else:
        con = output.console()
        for line in result.events:
            con.print(f"  {line}", highlight=False, markup=False)
        took = f" in {result.duration_s:.1f}s" if result.duration_s else ""
        head = (result.commit or "?")[:12]
        con.print(f"{result.env}: {result.outcome} at {head}{took}", highlight=False)
    if result.outcome == "failed":
        raise CheckFailed(f"{result.env}: {result.message}")


@app.command("reconcile")
def reconcile_cmd(
    env: EnvArg = None,
    wait: Annotated[bool, typer.Option("--wait/--no-wait", help="Wait for the rollout.")] = True,
    timeout: TimeoutOpt = 300,
    grace: GraceOpt = 10.0,
    repo: RepoOpt = None,
    path: PathOpt = DEFAULT_PATH,
    kubeconfig: KubeconfigOpt = None,
    json_output: JsonOpt = False,
) -> None:
    """Ask the engine to reconcile now; wait until the branch head is live (fail fast)."""
    from sophia_platform.gitops.actions import reconcile

    json_mode = output.wants_json(json_output)
    ctx = _context(env, repo, path, kubeconfig)
    result = reconcile(
        ctx, wait=wait, timeout_s=timeout, grace_s=grace, on_update=_progress(json_mode)
    )
    _finish(result, json_mode)


def _suspend(
    env: str | None,
    on: bool,
    repo: Path | None,
    path: str,
    kubeconfig: Path | None,
    dry_run: bool,
    json_output: bool,
) -> None:
    from sophia_platform.gitops.actions import set_suspended

    ctx = _context(env, repo, path, kubeconfig)
    changed = set_suspended(ctx, on, dry_run=dry_run)
    env = ctx.env
    word = "suspended" if on else "resumed"
    if output.wants_json(json_output):
        output.emit_json(
            {
                "env": env,
                "engine": ctx.info.engine,
                "state": word,
                "changed": changed,
                "dry_run": dry_run,
            }
        )
        return
    if not changed:
        output.console().print(f"{env}: already {word}")
    else:
        verb = f"would be {word}" if dry_run else word
        output.console().print(f"{env}: {ctx.info.engine} {verb} ({ctx.info.name})")


@app.command("suspend")
def suspend_cmd(
    env: EnvArg = None,
    repo: RepoOpt = None,
    path: PathOpt = DEFAULT_PATH,
    kubeconfig: KubeconfigOpt = None,
    dry_run: DryRunOpt = False,
    json_output: JsonOpt = False,
) -> None:
    """Stop the engine from applying commits to this environment."""
    _suspend(env, True, repo, path, kubeconfig, dry_run, json_output)


@app.command("resume")
def resume_cmd(
    env: EnvArg = None,
    repo: RepoOpt = None,
    path: PathOpt = DEFAULT_PATH,
    kubeconfig: KubeconfigOpt = None,
    dry_run: DryRunOpt = False,
    json_output: JsonOpt = False,
) -> None:
    """Let the engine apply commits again (it catches up with the branch head)."""
    _suspend(env, False, repo, path, kubeconfig, dry_run, json_output)


@app.command("set-image")
def set_image_cmd(
    tag: Annotated[str, typer.Option("--tag", help="Image tag (CI: the commit SHA).")],
    env: EnvArg = None,
    service: Annotated[
        list[str] | None,
        typer.Option("--service", help="Only these services (default: every tagged one)."),
    ] = None,
    source_commit: Annotated[
        str | None,
        typer.Option("--source-commit", help="Commit the images were built from (message)."),
    ] = None,
    push: Annotated[bool, typer.Option("--push/--no-push", help="Push to origin.")] = True,
    repo: RepoOpt = None,
    path: PathOpt = DEFAULT_PATH,
    dry_run: DryRunOpt = False,
    json_output: JsonOpt = False,
) -> None:
    """Set the image tag in the environment's values file, commit it, push it."""
    from sophia_platform.gitops.repo import set_image

    spec = _spec()
    result = set_image(
        spec,
        checkout_of(spec, repo),
        _env(spec, env),
        tag,
        root=path,
        services=service or None,
        source_commit=source_commit,
        push=push,
        dry_run=dry_run,
    )
    _commit_report(result, json_output)


def _commit_report(result: Any, json_output: bool) -> None:
    if output.wants_json(json_output):
        output.emit_json(result)
        return
    con = output.console()
    for name, (old, new) in result.changes.items():
        con.print(f"  {name}: {old or '-'} -> {new}", highlight=False)
    if not result.changes:
        con.print(f"{result.env}: {result.path} already says so; nothing to commit")
    elif result.dry_run:
        con.print(f"{result.env}: would commit {result.path}: {result.message}", highlight=False)
    else:
        where = f", pushed to origin {result.branch}" if result.pushed else " (not pushed)"
        con.print(f"{result.env}: committed {(result.commit or '')[:12]}{where}", highlight=False)


@ci_app.command("workflow")
def workflow_cmd(
    envs: Annotated[
        list[str] | None,
        typer.Argument(help="Environments to deploy (default: the GitOps-managed ones)."),
    ] = None,
    check: Annotated[
        bool, typer.Option("--check", help="Compare with the file; list what it replaces.")
    ] = False,
    report: Annotated[
        bool | None,
        typer.Option("--report/--no-report", help="Publish `sophia report` (default: if any)."),
    ] = None,
    branch: Annotated[str, typer.Option("--branch")] = "main",
    repo: RepoOpt = None,
    path: PathOpt = DEFAULT_PATH,
    dry_run: DryRunOpt = False,
    json_output: JsonOpt = False,
) -> None:
    """Write .github/workflows/deploy.yml: gates, images by commit SHA, deploy per environment."""
    from sophia_platform.atomicfile import write_text_atomic
    from sophia_platform.cli.main import COMMANDS
    from sophia_platform.errors import CheckFailed
    from sophia_platform.gitops.layout import Layout
    from sophia_platform.gitops.workflow import WorkflowOptions, plan

    spec = _spec()
    checkout = checkout_of(spec, repo)
    chosen = tuple(envs or [e for e in spec.environments if Layout(e, path).detect(checkout)])
    opts = WorkflowOptions(
        envs=chosen,
        branch=branch,
        root=path,
        report="report" in COMMANDS if report is None else report,
    )
    result = plan(spec, checkout, opts)
    target = checkout / result.path
    current = target.read_text(encoding="utf-8") if target.is_file() else ""
    up_to_date = current == result.text
    if not (check or dry_run or up_to_date):
        write_text_atomic(target, result.text, parents=True)
    if output.wants_json(json_output):
        output.emit_json(
            {
                **result.__dict__,
                "up_to_date": up_to_date,
                "written": not (check or dry_run or up_to_date),
            }
        )
    else:
        con = output.console()
        for old in result.replaces:
            con.print(f"  replaces {old}", highlight=False)
        state = (
            "up to date"
            if up_to_date
            else ("differs" if check else ("would be written" if dry_run else "written"))
        )
        con.print(
            f"{result.path}: {state} (deploys {', '.join(chosen)}; builds "
            f"{', '.join(result.services) or 'no images'})",
            highlight=False,
        )
    if check and not up_to_date:
        raise CheckFailed(f"{result.path} is not what `sophia ci workflow` generates")


def _managed(env: str | None) -> tuple[Any, str, Path] | None:
    from sophia_platform.gitops.status import is_managed

    spec = _spec()
    name = _env(spec, env)
    checkout = checkout_of(spec, None)
    return (spec, name, checkout) if is_managed(spec, name, checkout) else None


def guard_helm_deploy(
    env: str | None, *, break_glass: bool, dry_run: bool, kubeconfig: Path | None
) -> None:
    """One deployment method: refuse a helm deploy of a GitOps-managed environment.

    With ``--break-glass`` the engine is suspended first (and says so), so the helm release
    is not overwritten at its next sync; `sophia gitops resume ENV` hands it back.
    """
    from sophia_platform.errors import UsageError
    from sophia_platform.gitops.actions import Context
    from sophia_platform.gitops.actions import break_glass as suspend

    found = _managed(env)
    if found is None:
        return
    spec, name, checkout = found
    if not break_glass:
        raise UsageError(
            f"{name} is GitOps-managed: deploy with git push (`sophia gitops set-image {name} "
            "--tag TAG`), or pass --break-glass to suspend the engine and deploy with Helm"
        )
    if dry_run:
        return
    ctx = Context.open(spec, name, checkout, root=DEFAULT_PATH, kubeconfig=kubeconfig)
    changed = suspend(ctx)
    state = "suspended" if changed else "was already suspended"
    output.err_console().print(
        f"break glass: {ctx.info.engine} {state} for {name}; "
        f"`sophia gitops resume {name}` hands it back to git",
        highlight=False,
    )


def gitops_rollback(
    env: str | None,
    to: str | None,
    *,
    dry_run: bool,
    timeout: float,
    grace: float,
    kubeconfig: Path | None,
    json_mode: bool,
) -> bool:
    """Roll a GitOps-managed environment back through git; False if it is helm-driven."""
    from sophia_platform.gitops.actions import Context, rollback

    found = _managed(env)
    if found is None:
        return False
    spec, name, checkout = found
    ctx = Context.open(spec, name, checkout, root=DEFAULT_PATH, kubeconfig=kubeconfig)
    plan, commit, result = rollback(
        ctx,
        to,
        dry_run=dry_run,
        timeout_s=timeout,
        grace_s=grace,
        on_update=_progress(json_mode),
    )
    if json_mode:
        output.emit_json({"plan": plan, "commit": commit, "reconcile": result})
    else:
        con = output.console()
        con.print(f"rollback {name} through git: values of {plan.target[:12]}", highlight=False)
        _commit_report(commit, False)
    if result is not None:
        if not json_mode:
            _finish(result, False)
        elif result.outcome == "failed":
            from sophia_platform.errors import CheckFailed

            raise CheckFailed(f"{name}: {result.message}")
    return True
