"""Rendering of GitOps results: the status table and one line per wait poll."""

from __future__ import annotations

from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text


def _short(sha: str | None) -> str:
    return sha[:12] if sha else "-"


def status_table(st: Any) -> Group:
    """The environment's revisions, objects and services."""
    mark = "[green]ok[/]" if st.ok else "[red]NOT OK[/]"
    head = Text.from_markup(
        f"{st.env} ({st.engine}, {st.namespace}): {mark}"
        + ("  [yellow]suspended[/]" if st.suspended else "")
    )
    revs = Table(show_header=True, box=None)
    for col in ("branch " + st.branch, "fetched", "applied", "attempted"):
        revs.add_column(col)
    revs.add_row(
        _short(st.branch_revision),
        _short(st.source_revision),
        _short(st.applied_revision),
        _short(st.attempted_revision),
    )
    services = Table(show_header=True, box=None)
    for col in ("service", "ready", "tag", "problem"):
        services.add_column(col)
    for s in st.services:
        services.add_row(
            s["name"], f"{s['ready']}/{s['desired']}", s["image_tag"] or "-", s["problem"] or ""
        )
    parts: list[Any] = [head, revs, *(Text(o) for o in st.objects), services]
    if st.deploy is not None:
        parts.append(Text(deploy_line(st.deploy)))
    parts.append(Text(st.message))
    parts += [Text(f"  {e}") for e in st.events]
    return Group(*parts)


def deploy_line(rec: dict[str, Any]) -> str:
    """Who deployed the applied revision and how long it took from the push to ready."""
    took = rec.get("duration_s")
    clock = "push" if rec.get("pushed_at") else "commit (push time unknown here)"
    timing = (
        f"{clock} -> every service ready in {took:.1f}s" if took is not None else "timing unknown"
    )
    sha = _short(rec.get("git_sha"))
    return (
        f"deploy r{rec.get('revision')}: {sha} by {rec.get('user')}, {rec.get('outcome')}; {timing}"
    )


def frame_line(frame: Any) -> str:
    """One line per poll of a wait: what the engine says and how far the rollout is."""
    rel = frame.state.release
    ready = "Ready" if rel.ready else (rel.reason or "Progressing")
    rolled = ""
    if frame.rollout is not None and frame.rollout.services:
        done = sum(1 for s in frame.rollout.services if s.done)
        rolled = f", services {done}/{len(frame.rollout.services)} rolled out"
    return (
        f"[{frame.elapsed:5.1f}s] fetched {_short(frame.state.source.revision)}, "
        f"applied {_short(rel.revision)}, release {ready}{rolled}"
    )
