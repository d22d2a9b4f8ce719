"""``sophia lock status | acquire | release``: the deploy lock of an environment (a Lease)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from sophia_platform.cli import output, params
from sophia_platform.cli.params import DryRunOpt, EnvAlias, EnvArg, JsonOpt, KubeconfigOpt

app = typer.Typer(
    add_completion=False, no_args_is_help=True, help="Inspect or take the deploy lock."
)


def _connect(env: str | None, kubeconfig: Path | None) -> tuple[Any, Any]:
    from sophia_platform.deploy.target import resolve
    from sophia_platform.kube.client import connect

    # Only the environment's target is needed: the remembered facts of a validated spec.
    target = resolve(params.spec_facts(), env, kubeconfig=kubeconfig)
    return target, connect(target.kubeconfig, target.context)


def _to_change(env: str | None, kubeconfig: Path | None, dry_run: bool) -> tuple[Any, Any] | None:
    """Connect for a change; with --dry-run show the lock as it stands instead (None)."""
    from sophia_platform.kube.lease import lock_status

    target, api = _connect(env, kubeconfig)
    if not dry_run:
        return target, api
    _show(lock_status(api, target.namespace))
    return None


def _show(info: Any) -> None:
    if output.wants_json():
        output.emit_json(info)
    elif info.held:
        until = info.expires_at.isoformat(timespec="seconds") if info.expires_at else "?"
        output.console().print(
            f"{info.namespace}: locked by {info.holder} until {until}: {info.message or '-'}"
        )
    else:
        output.console().print(f"{info.namespace}: unlocked")


@app.command("status")
def status(
    env: EnvArg = None,
    env_alias: EnvAlias = None,
    kubeconfig: KubeconfigOpt = None,
    json_output: JsonOpt = False,
) -> None:
    """Who holds the deploy lock, why, and until when."""
    env = params.environment(env, env_alias)
    from sophia_platform.kube.lease import lock_status

    target, api = _connect(env, kubeconfig)
    info = lock_status(api, target.namespace)
    if json_output:
        output.emit_json(info)
    else:
        _show(info)


@app.command("acquire")
def acquire(
    env: EnvArg = None,
    env_alias: EnvAlias = None,
    message: Annotated[str, typer.Option("--message", "-m", help="Why deploys are blocked.")] = "",
    ttl: Annotated[int, typer.Option("--ttl", help="Seconds until the lock expires.")] = 3600,
    lock_wait: Annotated[float, typer.Option("--lock-wait", help="Seconds to wait.")] = 0.0,
    dry_run: DryRunOpt = False,
    kubeconfig: KubeconfigOpt = None,
) -> None:
    """Block deploys of an environment (e.g. during an incident) until released or expired."""
    from sophia_platform.kube import lease

    connected = _to_change(params.environment(env, env_alias), kubeconfig, dry_run)
    if connected is None:
        return
    target, api = connected
    from sophia_platform.kube.namespaces import ensure_namespace

    ensure_namespace(api, target.namespace)
    holder = lease.default_holder(with_pid=False)
    _show(lease.acquire(api, target.namespace, holder, message, ttl_s=ttl, wait_s=lock_wait))


@app.command("release")
def release(
    env: EnvArg = None,
    env_alias: EnvAlias = None,
    force: Annotated[bool, typer.Option("--force", help="Break someone else's lock.")] = False,
    dry_run: DryRunOpt = False,
    kubeconfig: KubeconfigOpt = None,
) -> None:
    """Release the lock you hold (or, with --force, anyone's)."""
    from sophia_platform.kube import lease

    connected = _to_change(params.environment(env, env_alias), kubeconfig, dry_run)
    if connected is None:
        return
    target, api = connected
    holder = None if force else lease.default_holder(with_pid=False)
    removed = lease.release(api, target.namespace, holder)
    output.console().print(f"{target.namespace}: {'released' if removed else 'was not locked'}")
