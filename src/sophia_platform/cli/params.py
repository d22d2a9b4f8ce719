"""Parameters every command shares, and the spec they name.

One convention for naming an environment, in every command: a positional ``ENV`` whose default
is ``default_environment`` of ``sophia.yaml`` (``sophia deploy production``, ``sophia secrets
check dev``, ``sophia render manifests``). ``--env ENV`` still works where it used to, hidden
and with a deprecation warning. A command declares both and calls :func:`environment`::

    def check(env: EnvArg = None, env_alias: EnvAlias = None) -> None:
        name = params.environment(env, env_alias)
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import click
import typer

from sophia_platform.cli import output
from sophia_platform.errors import UsageError

if TYPE_CHECKING:
    from sophia_platform.spec import Spec, SpecFacts


def _complete_env(ctx: click.Context, incomplete: str) -> list[str]:
    """Tab completion of ENV: the environments of the spec in use (none if it does not load)."""
    from sophia_platform.errors import SophiaError
    from sophia_platform.spec import load_spec, resolve_spec_path

    try:
        names = list(load_spec(resolve_spec_path(global_spec_path(ctx))).environments)
    except SophiaError:
        return []
    return [name for name in names if name.startswith(incomplete)]


EnvArg = Annotated[
    str | None,
    typer.Argument(
        metavar="[ENV]",
        help="Environment (default: default_environment of sophia.yaml).",
        show_default=False,
        autocompletion=_complete_env,
    ),
]
EnvAlias = Annotated[
    str | None,
    typer.Option("--env", "-e", hidden=True, help="Deprecated: give ENV as the argument."),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]
DryRunOpt = Annotated[bool, typer.Option("--dry-run", help="Show the plan; change nothing.")]
KubeconfigOpt = Annotated[
    Path | None, typer.Option("--kubeconfig", help="kubeconfig file (default: $KUBECONFIG).")
]
TimeoutOpt = Annotated[int, typer.Option("--timeout", help="Seconds to wait for the rollout.")]
GraceOpt = Annotated[
    float, typer.Option("--grace", help="Seconds a pod may stay failing before the wait stops.")
]
CheckoutOpt = Annotated[
    Path | None,
    typer.Option("--repo", help="The repository checkout (default: the one holding sophia.yaml)."),
]
GITOPS_PATH = "kubernetes"  # gitops.layout.DEFAULT_PATH (not imported: --help stays fast)
GitOpsPathOpt = Annotated[
    str, typer.Option("--path", help="Folder of the GitOps tree in the repository.")
]


def environment(positional: str | None, alias: str | None) -> str | None:
    """The environment a command names (None: the spec's default); ``--env`` is deprecated."""
    if alias is None:
        return positional
    if positional is not None and positional != alias:
        raise UsageError(
            f"two environments given: {positional!r} and --env {alias!r}",
            hint="give one, as the argument ENV",
        )
    deprecated(f"--env is deprecated; give the environment as the argument: ... {alias}")
    return alias


def deprecated(what: str) -> None:
    """Warn (stderr, one line) that a spelling still works but will not for ever."""
    output.err_console().print(f"warning: {what}", highlight=False, markup=False)


def global_spec_path(ctx: click.Context | None = None) -> Path | None:
    """The ``--spec`` given to ``sophia`` itself, if any (``ctx``: the current context)."""
    ctx = ctx or click.get_current_context(silent=True)
    while ctx is not None:
        spec = getattr(ctx.obj, "spec", None)
        if spec is None and ctx.parent is None:
            # tab completion parses the root without running it: read its parsed option
            spec = ctx.params.get("spec")
        if spec is not None:
            return Path(spec)
        ctx = ctx.parent
    return None


def spec_path(explicit: Path | None = None) -> Path:
    """The sophia.yaml a command reads: ``explicit``, ``sophia --spec``, ``$SOPHIA_SPEC``, ./."""
    from sophia_platform.spec import resolve_spec_path

    return resolve_spec_path(explicit or global_spec_path())


def spec(explicit: Path | None = None) -> Spec:
    """Load and validate that sophia.yaml (a missing one is an error naming ``sophia init``).

    What read commands need of it is remembered (:mod:`sophia_platform.spec.facts`), so the
    ``sophia status`` after a ``sophia deploy`` skips validating the same bytes again; within
    one process the same bytes are validated once (``deploy`` asks twice: guard, then deploy).
    """
    from sophia_platform.spec.facts import load

    path = spec_path(explicit)
    content = _read(path)
    known = _validated.get(path)
    if content is not None and known is not None and known[0] == content:
        return known[1]
    loaded = load(path)
    if content is not None and _read(path) == content:
        _validated[path] = (content, loaded)
    return loaded


# path -> (the bytes validated, their Spec): keyed by content, so nothing to reset or expire
_validated: dict[Path, tuple[bytes, Spec]] = {}


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None


def spec_facts(explicit: Path | None = None) -> SpecFacts:
    """What a read command needs of that sophia.yaml, validated once per content (fast)."""
    from sophia_platform.spec.facts import facts

    return facts(spec_path(explicit))
