"""Rich rendering of deploys, rollbacks, status and history (the core returns the data)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

if TYPE_CHECKING:  # only types: `sophia status` should not import the deploy verbs
    from sophia_platform.deploy.preflight import Preflight
    from sophia_platform.deploy.results import DeployResult, Step
    from sophia_platform.deploy.status import EnvStatus, WatchFrame
    from sophia_platform.kube.rollout import PodFailure, RolloutSnapshot


def rollout_table(snapshot: RolloutSnapshot) -> Table:
    """One row per service: ready/desired, updated, and what is happening."""
    table = Table(title=f"rollout  {snapshot.elapsed:5.1f}s", title_justify="left", expand=False)
    for col in ("service", "kind", "ready", "updated", "state"):
        table.add_column(col)
    problems = {p.service: p for p in snapshot.problems}
    for s in snapshot.services:
        if s.done:
            state = Text("ready", style="green")
        elif s.name in problems:
            p = problems[s.name]
            state = Text(f"{p.reason}: {p.pod}", style="red")
        else:
            state = Text(s.note or "rolling out", style="yellow")
        table.add_row(s.name, s.kind, f"{s.ready}/{s.desired}", str(s.updated), state)
    if snapshot.api_error:
        table.caption = f"API server unreachable, retrying: {snapshot.api_error}"
    return table


# Step kind -> its line; the fields are those of the Step, plus ``where`` and ``why``.
_STEP_LINES = {
    "preflight": "preflight",
    "lock": "taking the deploy lock of {namespace}",
    "lock-wait": "waiting for the lock held by {holder}",
    "recover": "recovering: revision {revision} is stuck; marking it failed",
    "apply": "helm upgrade --install {where}",
    "watch": "waiting for revision {revision} to roll out",
    "rollback": "{why} {release}: revision {revision} -> {to}",
    "uninstall": "first install failed: uninstalling {where}",
    "namespace": "created namespace {namespace}",
    "namespace-missing": "namespace {namespace} does not exist: a deploy creates it",
}


def describe(step: Step) -> str:
    """One line for a step a deploy or rollback reports."""
    kind = step.kind.value
    return _STEP_LINES.get(kind, "{kind} {where}").format(
        kind=kind,
        where=f"{step.release} ({step.namespace})",
        why="automatic rollback" if step.automatic else "rollback",
        release=step.release,
        namespace=step.namespace,
        revision=step.revision,
        to=step.to,
        holder=step.holder,
    )


class LiveObserver:
    """Shows steps as lines and the rollout as a live table on stderr."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.live: Live | None = None

    def _stop_live(self) -> None:
        if self.live is not None:
            self.live.stop()
            self.live = None
            if not self.console.is_terminal:
                # Off a terminal Rich leaves the last frame without a line end.
                self.console.line()

    def step(self, step: Step) -> None:
        """Print a step."""
        self._stop_live()
        self.console.print(f"[bold cyan]›[/] {describe(step)}", highlight=False)

    def checked(self, result: Preflight) -> None:
        """Print the preflight checks."""
        for check in result.checks:
            mark = "[green]✓[/]" if check.ok else "[red]✗[/]"
            self.console.print(f"  {mark} {check.name}: {check.detail}", highlight=False)

    def rollout(self, snapshot: RolloutSnapshot) -> None:
        """Refresh the live table."""
        if self.live is None:
            self.live = Live(
                rollout_table(snapshot), console=self.console, refresh_per_second=4, transient=False
            )
            self.live.start()
        else:
            self.live.update(rollout_table(snapshot))

    def close(self) -> None:
        """Stop the live view."""
        self._stop_live()


def failure_panel(failure: PodFailure) -> Group:
    """The failing pod: reason, recent events, last log lines."""
    lines: list[Any] = [
        Text(f"{failure.service}: pod {failure.pod} is {failure.reason}", style="bold red"),
    ]
    if failure.message:
        lines.append(Text(f"  {failure.message}"))
    if failure.events:
        lines.append(Text("  events:", style="bold"))
        lines += [Text(f"    {e}") for e in failure.events]
    if failure.logs:
        lines.append(Text("  last log lines:", style="bold"))
        lines += [Text(f"    {line}") for line in failure.logs]
    return Group(*lines)


def result_line(result: DeployResult) -> str:
    """One line summary of a deploy or rollback."""
    if result.outcome == "lock-lost":
        return f"{result.action} stopped: {result.message}"
    if result.outcome == "dry-run":
        return (
            f"dry run: {result.action} of {result.release} to {result.namespace} "
            f"would apply {len(result.objects)} objects"
        )
    rev = f"revision {result.revision}" if result.revision else "no revision"
    return (
        f"{result.action} {result.outcome}: {result.release} {rev} in {result.namespace} "
        f"({result.duration_s:.1f}s)"
    )


def status_tables(st: EnvStatus) -> Group:
    """Services, nodes/GPUs and the release of one environment."""
    svc = Table(
        title=f"{st.env}: {st.release} in {st.namespace} ({st.context})", title_justify="left"
    )
    for col in ("service", "ready", "available", "image tag", "restarts", "age", "state"):
        svc.add_column(col)
    for s in st.services:
        state = (
            Text("healthy", style="green")
            if s.healthy
            else Text(s.problem or "unhealthy", style="red")
        )
        age = _age(s.age_s)
        svc.add_row(
            s.name,
            f"{s.ready}/{s.desired}",
            str(s.available),
            s.image_tag or "-",
            str(s.restarts),
            age,
            state,
        )
    nodes = Table(title="GPUs per node", title_justify="left")
    for col in ("node", "ready", "gpu type", "requested/allocatable", "held by"):
        nodes.add_column(col)
    for n in st.nodes:
        holders = ", ".join(
            f"{h.namespace}/{h.pod}" + (f" x{h.gpus}" if h.gpus > 1 else "") for h in n.holders
        )
        nodes.add_row(
            n.name,
            "yes" if n.ready else "no",
            n.gpu_type or "-",
            f"{n.gpu_requested}/{n.gpu_allocatable}",
            holders or "-",
        )
    parts: list[Any] = [svc, nodes]
    if st.helm is not None:
        parts.append(
            Text(f"release revision {st.helm.revision} ({st.helm.status}, {st.helm.updated})")
        )
        for d in st.helm.drift:
            parts.append(Text(f"  drift: {d}", style="yellow"))
    else:
        parts.append(Text("release not installed", style="yellow"))
    if st.last_deploy:
        ld = st.last_deploy
        parts.append(
            Text(
                f"last deploy: revision {ld['revision']} {ld['action']} by {ld['user']} "
                f"at {ld['at']}: {ld['outcome']}"
            )
        )
    if st.lock:
        parts.append(Text(f"locked by {st.lock['holder']}: {st.lock['message']}", style="yellow"))
    verdict = (
        "healthy" if st.healthy and not st.drifted else ("drifted" if st.healthy else "UNHEALTHY")
    )
    parts.append(Text(verdict, style="bold green" if verdict == "healthy" else "bold red"))
    return Group(*parts)


def watch_frame(frame: WatchFrame, interval: float) -> Group:
    """One ``status --watch`` refresh: a time header, then the tables or the read error."""
    header = Text(f"{frame.at:%H:%M:%S} UTC, every {interval:g}s (Ctrl-C stops)", style="dim")
    if frame.status is None:
        return Group(header, Text(f"error: {frame.error} (retrying)", style="red"))
    return Group(header, status_tables(frame.status))


def _age(seconds: int | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 120:
        return f"{seconds}s"
    if seconds < 7200:
        return f"{seconds // 60}m"
    return f"{seconds // 3600}h"
