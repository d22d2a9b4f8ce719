"""Rich rendering of secrets results (plans, checks, traces): names and statuses only."""

from __future__ import annotations

from datetime import datetime

from rich.table import Table

from sophia_platform.cli import output
from sophia_platform.secrets.check import CheckReport
from sophia_platform.secrets.sync import SyncResult
from sophia_platform.secrets.trace import TraceReport

STYLE = {
    "add": "green",
    "change": "yellow",
    "remove": "red",
    "orphaned": "magenta",
    "unchanged": "dim",
    "present": "green",
    "missing": "red",
    "placeholder": "red",
    "empty": "red",
}


def _when(value: datetime | None) -> str:
    return value.isoformat(timespec="seconds") if value else "-"


def render_sync(result: SyncResult, *, dry_run: bool) -> None:
    """The plan by action, problems, unknown names, then what was applied."""
    plan = result.plan
    con = output.console()
    con.print(f"[bold]secrets sync[/] {plan.source} -> {plan.target} ({plan.environment})")
    for action in ("add", "change", "remove", "orphaned"):
        names = plan.names(action)
        for name in names:
            con.print(f"  [{STYLE[action]}]{action:9}[/] {name}")
    for problem in plan.problems:
        level = "error" if problem.blocking else "skipped"
        kind = "required" if problem.required else "optional"
        con.print(f"  [red]{level:9}[/] {problem.name}: {problem.status} ({kind})")
    if plan.unknown:
        con.print(
            f"  [yellow]unknown[/]   {len(plan.unknown)} name(s) not in the manifest, not written "
            f"(--include-unmanaged writes them): {', '.join(plan.unknown)}"
        )
    counts = plan.summary()
    con.print(
        f"  {counts['add']} to add, {counts['change']} to change, {counts['remove']} to remove, "
        f"{counts['unchanged']} unchanged"
        + (f", {counts['orphaned']} orphaned (--prune removes them)" if counts["orphaned"] else "")
    )
    for what in plan.creates:
        con.print(f"  [green]{'create':9}[/] {what} (missing; made before the first write)")
    if dry_run:
        con.print("  dry run: nothing written")
    elif result.applied is not None:
        a = result.applied
        for detail in a.details:
            con.print(f"  {detail}")
        con.print(
            f"  applied: {a.written} written, {a.removed} removed, {a.requests} request(s), "
            f"{result.seconds:.2f}s"
        )


def render_check(report: CheckReport) -> None:
    """One row per secret, one column per layer."""
    table = Table(title=f"secrets check ({report.environment})")
    table.add_column("secret")
    table.add_column("req")
    for layer in report.layers:
        table.add_column(layer)
    table.add_column("state")
    table.add_column("services")
    for row in report.rows:
        cells = [f"[{STYLE.get(s, '')}]{s}[/]" if STYLE.get(s) else s for s in row.layers.values()]
        state = "ok" if row.healthy else ("[red]stale[/]" if row.stale else "[red]broken[/]")
        table.add_row(
            row.name, "yes" if row.required else "no", *cells, state, ", ".join(row.services)
        )
    output.console().print(table)
    if report.broken_services:
        output.console().print(f"services that would break: {', '.join(report.broken_services)}")


def render_trace(report: TraceReport) -> None:
    """The lineage as a list of hops, then the pods."""
    con = output.console()
    con.print(
        f"[bold]{report.name}[/] ({report.environment}), used by "
        f"{', '.join(report.services) or 'no service'}"
    )
    for hop in report.hops:
        style = STYLE.get(hop.status, "")
        con.print(
            f"  {hop.layer:11} [{style}]{hop.status:11}[/] {hop.where}  "
            f"fingerprint={hop.fingerprint or '-'}  updated={_when(hop.updated)}"
        )
    if not report.consistent:
        con.print("  [red]layers disagree: the value differs somewhere (see fingerprints)[/]")
    for pod in report.pods:
        mark = "[red]stale: restart it[/]" if pod.stale else "[green]current[/]"
        con.print(f"  pod {pod.pod} started {_when(pod.started)} {mark}")
