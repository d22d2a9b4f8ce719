"""``sophia secrets``: sync, check, trace, set, workflow and eso — thin over ``secrets/``."""

from __future__ import annotations

import getpass
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from sophia_platform.cli import output, params
from sophia_platform.cli.params import EnvAlias, EnvArg, JsonOpt
from sophia_platform.errors import CheckFailed, InputError
from sophia_platform.secrets.providers import REGISTRY

_KINDS = " | ".join(REGISTRY)

app = typer.Typer(
    help="Sync, check and trace secrets: GitHub -> Pulumi ESC -> Kubernetes -> the app.",
    no_args_is_help=True,
)

GithubOrg = Annotated[str | None, typer.Option(help="GitHub org for the github-api layer.")]
GithubRepo = Annotated[str | None, typer.Option(help="GitHub OWNER/REPO for the github-api layer.")]
Kubeconfig = Annotated[Path | None, typer.Option(help="kubeconfig (default: $KUBECONFIG).")]
KubeContext = Annotated[str | None, typer.Option("--context", help="kube context override.")]


def _ctx(env: str | None, **options: Any) -> Any:
    from sophia_platform.secrets.session import provider_context

    clean = {k: (str(v) if isinstance(v, Path) else v) for k, v in options.items() if v is not None}
    return provider_context(params.spec(), env, options=clean)


@contextmanager
def _layers(
    env: str | None,
    layers: str | None,
    github_org: str | None,
    github_repo: str | None,
    kubeconfig: Path | None,
    kube_context: str | None,
) -> Iterator[tuple[Any, Any]]:
    """The provider context and the ``--layers`` (default: configured ones), opened.

    The options are the ones ``check`` and ``trace`` share, in the order they declare them.
    """
    from sophia_platform.secrets.session import opened_layers

    ctx = _ctx(
        env,
        github_org=github_org,
        github_repo=github_repo,
        kubeconfig=kubeconfig,
        kube_context=kube_context,
    )
    with opened_layers(ctx, layers.split(",") if layers else None) as providers:
        yield ctx, providers


@app.command()
def sync(
    source: Annotated[str, typer.Option("--from", help=f"Source layer: {_KINDS}.")],
    target: Annotated[str, typer.Option("--to", help=f"Target layer: {_KINDS}.")],
    env: EnvArg = None,
    env_alias: EnvAlias = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show the plan, write nothing.")
    ] = False,
    prune: Annotated[bool, typer.Option(help="Remove managed keys the source lacks.")] = False,
    allow_missing: Annotated[
        bool, typer.Option(help="Skip missing optional secrets instead of refusing.")
    ] = False,
    include_unmanaged: Annotated[
        bool, typer.Option(help="Also write names that are not in the manifest.")
    ] = False,
    plan_out: Annotated[
        Path | None, typer.Option("--plan-out", help="Save the plan as JSON.")
    ] = None,
    secrets_env: Annotated[
        str, typer.Option(help="Variable holding toJSON(secrets) (github-actions).")
    ] = "ALL_SECRETS",
    github_org: GithubOrg = None,
    github_repo: GithubRepo = None,
    kubeconfig: Kubeconfig = None,
    context: KubeContext = None,
    restart: Annotated[bool, typer.Option(help="Roll workloads whose Secret changed.")] = True,
    json_out: JsonOpt = False,
) -> None:
    """Plan (names only) and apply a sync from one layer to another."""
    env = params.environment(env, env_alias)
    from sophia_platform.secrets.providers import create
    from sophia_platform.secrets.sync import SyncOptions, check_flow, run

    check_flow(source, target)
    ctx = _ctx(
        env,
        secrets_env=secrets_env,
        github_org=github_org,
        github_repo=github_repo,
        kubeconfig=kubeconfig,
        kube_context=context,
        restart=restart,
    )
    options = SyncOptions(
        prune=prune, allow_missing=allow_missing, include_unmanaged=include_unmanaged
    )
    with create(source, ctx) as src, create(target, ctx) as dst:
        result = run(src, dst, ctx.env_name, options, dry_run=dry_run)
    if plan_out is not None:
        plan_out.write_text(output.to_json(result.plan) + "\n", encoding="utf-8")
    from sophia_platform.cli.secrets_render import render_sync

    if output.wants_json(json_out):
        output.emit_json(
            {
                "plan": result.plan,
                "applied": result.applied,
                "dry_run": dry_run,
                "seconds": round(result.seconds, 3),
                "requests": result.requests,
            }
        )
    else:
        render_sync(result, dry_run=dry_run)
    if result.plan.blocked:
        names = ", ".join(p.name for p in result.plan.problems if p.blocking)
        raise CheckFailed(
            f"refusing to sync: missing, empty or placeholder secrets: {names}; "
            "nothing was written",
            hint="set them in the source, or --allow-missing for optional ones",
        )


@app.command()
def check(
    env: EnvArg = None,
    env_alias: EnvAlias = None,
    layers: Annotated[
        str | None, typer.Option(help="Comma-separated layers (default: every configured one).")
    ] = None,
    github_org: GithubOrg = None,
    github_repo: GithubRepo = None,
    kubeconfig: Kubeconfig = None,
    context: KubeContext = None,
    json_out: JsonOpt = False,
) -> None:
    """Is every secret present, real and identical in every layer? Exit 1 if not."""
    env = params.environment(env, env_alias)
    from sophia_platform.cli.secrets_render import render_check
    from sophia_platform.secrets.check import check as run_check

    with _layers(env, layers, github_org, github_repo, kubeconfig, context) as (ctx, providers):
        report = run_check(ctx.manifest, providers, ctx.env_name)
    if output.wants_json(json_out):
        output.emit_json(
            {
                "environment": report.environment,
                "layers": report.layers,
                "healthy": report.healthy,
                "broken_services": report.broken_services,
                "secrets": report.rows,
            }
        )
    else:
        render_check(report)
    if not report.healthy:
        raise CheckFailed(
            f"{sum(1 for r in report.rows if r.required and not r.healthy)} required secret(s) "
            f"not healthy in {report.environment}; services affected: "
            f"{', '.join(report.broken_services) or 'none'}",
            hint="run 'sophia secrets sync' for the layer that lags",
        )


@app.command()
def trace(
    name: Annotated[str, typer.Argument(help="Canonical secret NAME, e.g. OPENAI_API_KEY.")],
    env: EnvArg = None,
    env_alias: EnvAlias = None,
    layers: Annotated[str | None, typer.Option(help="Comma-separated layers.")] = None,
    github_org: GithubOrg = None,
    github_repo: GithubRepo = None,
    kubeconfig: Kubeconfig = None,
    context: KubeContext = None,
    json_out: JsonOpt = False,
) -> None:
    """Follow one secret from GitHub through ESC and Kubernetes to the pods using it."""
    env = params.environment(env, env_alias)
    from sophia_platform.cli.secrets_render import render_trace
    from sophia_platform.secrets.trace import trace as run_trace

    with _layers(env, layers, github_org, github_repo, kubeconfig, context) as (ctx, providers):
        report = run_trace(name, ctx.manifest, providers, ctx.env_name)
    if output.wants_json(json_out):
        output.emit_json(report)
    else:
        render_trace(report)


@app.command("set")
def set_secret(
    name: Annotated[
        str, typer.Argument(help="Canonical secret NAME; the value is read from stdin.")
    ],
    env: EnvArg = None,
    env_alias: EnvAlias = None,
    to: Annotated[str, typer.Option("--to", help="local | github-api")] = "local",
    include_unmanaged: Annotated[
        bool, typer.Option(help="Allow a name not in the manifest.")
    ] = False,
    github_org: GithubOrg = None,
    github_repo: GithubRepo = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Validate, write nothing.")] = False,
) -> None:
    """Store one secret; the value comes from a hidden prompt or stdin, never from argv."""
    env = params.environment(env, env_alias)
    from sophia_platform.config import SecretValue
    from sophia_platform.secrets.setter import set_secret as do_set

    ctx = _ctx(env, github_org=github_org, github_repo=github_repo)
    if sys.stdin.isatty():
        raw = getpass.getpass(f"value for {name}: ")
    else:
        raw = sys.stdin.read()
        raw = raw[:-1] if raw.endswith("\n") else raw
        raw = raw[:-1] if raw.endswith("\r") else raw
    if not raw:
        raise InputError(f"no value given for {name}; pipe it on stdin or type it at the prompt")
    outcome = do_set(
        ctx, name, SecretValue(raw), to=to, include_unmanaged=include_unmanaged, dry_run=dry_run
    )
    output.err_console().print(f"{name}: {outcome} ({to}, {ctx.env_name})")


@app.command()
def generate(
    env: EnvArg = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="List the names, write nothing.")
    ] = False,
) -> None:
    """Store random values for every secret the local store lacks (development, demos).

    Values already stored are kept; a production environment is refused. Nothing is printed
    but the names.
    """
    from sophia_platform.secrets.setter import generate_missing

    ctx = _ctx(env)
    names = generate_missing(ctx, dry_run=dry_run)
    verb = "would generate" if dry_run else "generated"
    where = f"(local, {ctx.env_name}; values never shown)"
    if names:
        output.err_console().print(f"{verb} {len(names)} secret(s) {where}: {', '.join(names)}")
    else:
        output.err_console().print(f"every secret of the manifest is stored {where}")


@app.command()
def workflow(
    path: Annotated[Path | None, typer.Option(help="Where to write it.")] = None,
    install: Annotated[str, typer.Option(help="pip requirement that installs sophia.")] = (
        "sophia-platform"
    ),
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print it instead of writing.")
    ] = False,
) -> None:
    """Write .github/workflows/sync_secrets_comprehensive.yml, the one sync workflow."""
    from sophia_platform.secrets.workflow import WORKFLOW_PATH, render_workflow

    spec = params.spec()
    root = spec.source_path.parent if spec.source_path else Path.cwd()
    spec_rel = spec.source_path.name if spec.source_path else "sophia.yaml"
    text = render_workflow(spec, spec_path=spec_rel, install=install)
    target = path or root / WORKFLOW_PATH
    if dry_run:
        output.console().out(text, end="")
        return
    if target.exists() and target.read_text(encoding="utf-8") == text:
        output.err_console().print(f"{target}: up to date")
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    output.err_console().print(f"wrote {target}")


@app.command()
def eso(
    env: EnvArg = None,
    env_alias: EnvAlias = None,
    out: Annotated[Path | None, typer.Option(help="Write to this file instead of stdout.")] = None,
    api_version: Annotated[str, typer.Option(help="ESO API version.")] = "external-secrets.io/v1",
) -> None:
    """Generate an ESO SecretStore (Pulumi ESC) and ExternalSecrets instead of syncing."""
    env = params.environment(env, env_alias)
    from sophia_platform.secrets.eso import render_eso

    spec = params.spec()
    text = render_eso(spec, env or spec.default_environment, api_version=api_version)
    if out is None:
        output.console().out(text, end="")
    else:
        out.write_text(text, encoding="utf-8")
        output.err_console().print(f"wrote {out}")
