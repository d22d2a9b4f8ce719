"""The burn-down: audit counts and repository metrics at every commit of the branch.

Incremental by construction. Each (path, blob) pair is scanned once — the audit's per-file
pass over the blob's bytes — and kept in the cache (:mod:`.cache`) under the rule-set
version; each commit then only re-runs the audit's cheap second half (corpus rules such as
duplicates, suppressions, metrics) over the cached per-file results of its tree, and its
point is cached too. A re-run after one new commit scans the blobs that commit changed and
concludes one commit. A file renamed without change is scanned again under its new path,
since what the rules find depends on the path.

The audit config (``.sophia-audit.yml``) and ``sophia.yaml`` are read at each commit from
that commit's tree, so a point means what ``sophia audit`` said at that commit.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Literal

from sophia_platform.audit import (
    CONFIG_FILE,
    RULE_IDS,
    AuditConfig,
    FilePass,
    RepoContext,
    ScanOptions,
    ScanStats,
    conclude,
    ruleset_version,
)
from sophia_platform.audit.config import config_from_text
from sophia_platform.audit.filepass import RuleSet, check_source
from sophia_platform.audit.model import SkippedFile
from sophia_platform.audit.walker import DEFAULT_MAX_FILE_BYTES, source_from_bytes
from sophia_platform.errors import InputError
from sophia_platform.report import cache, gitlog
from sophia_platform.report.manual import NONE, ManualFacts, manual_facts, relevant
from sophia_platform.report.model import History, HistoryPoint, HistoryStats

Mode = Literal["live", "archived"]
SPEC_FILES = ("sophia.yaml", "sophia.yml")
Progress = Callable[[str, int, int], None]  # (phase, done, total)


@dataclass(frozen=True)
class Sampling:
    """Which commits of the branch become points."""

    since: datetime | None = None
    last: int | None = None  # the last N commits
    every: Literal["commit", "day"] = "commit"


@dataclass
class _Entry:
    """The cached result of one (path, blob): its per-file pass and its manual steps."""

    done: FilePass
    facts: ManualFacts = NONE


@dataclass
class _Run:
    """Working state of one history computation."""

    root: Path
    configs: dict[str, AuditConfig] = field(default_factory=dict)  # config blob -> config
    texts: dict[str, str] = field(default_factory=dict)  # spec/config blob -> text
    modes: dict[tuple[str, str], Mode | None] = field(default_factory=dict)

    def config(self, blob: str | None) -> AuditConfig:
        if blob is None:
            return AuditConfig()
        if blob not in self.configs:
            try:
                self.configs[blob] = config_from_text(self.texts.get(blob, ""))
            except InputError:
                self.configs[blob] = AuditConfig()  # a broken config at some commit: defaults
        return self.configs[blob]

    def mode(self, config_blob: str | None, path: str) -> Mode | None:
        """How a path is scanned under a config: live, archived-only, or not at all."""
        key = (config_blob or "", path)
        if key not in self.modes:
            config = self.config(config_blob)
            mode: Mode | None = "live"
            if config.excluded(path):
                mode = "archived" if config.archived(path) else None
            self.modes[key] = mode
        return self.modes[key]


def version() -> str:
    """The cache version: the audit's rule set plus this package's per-file facts."""
    facts = resources.files("sophia_platform.report").joinpath("manual.py").read_bytes()
    return f"{ruleset_version()}+facts-{hashlib.sha256(facts).hexdigest()[:8]}"


def select(history: list[gitlog.Commit], sampling: Sampling) -> list[int]:
    """Indexes of the commits that become points, oldest first."""
    chosen = list(range(len(history)))
    if sampling.since is not None:
        cutoff = sampling.since.timestamp()
        chosen = [i for i in chosen if history[i].time >= cutoff]
    if sampling.last is not None:
        chosen = chosen[-sampling.last :] if sampling.last > 0 else []
    if sampling.every == "day":
        by_day: dict[str, int] = {}
        for i in chosen:  # the last commit of each UTC day, as the day's point
            by_day[datetime.fromtimestamp(history[i].time, UTC).date().isoformat()] = i
        chosen = sorted(by_day.values())
    return chosen


def _key(mode: Mode, path: str, blob: str) -> str:
    return f"{mode[0]}\0{path}\0{blob}"


def compute(
    root: Path,
    sampling: Sampling | None = None,
    *,
    cache_dir: Path | None = None,
    progress: Progress | None = None,
) -> History:
    """The history of the branch checked out at ``root`` (a git top level)."""
    started = time.perf_counter()
    sampling = sampling or Sampling()
    history = gitlog.commits(root)
    chosen = select(history, sampling)
    wanted = {history[i].sha for i in chosen}
    run = _Run(root)
    folder = cache_dir or cache.default_dir(root)
    with cache.opened(folder, version()) as store:
        points = store.points(wanted)
        todo = {sha for sha in wanted if sha not in points}
        scanned = cached = 0
        if todo:
            _read_texts(run, history)
            needed = _needed_keys(run, history, todo)
            known = store.known()
            missing = sorted(needed - known)
            cached = len(needed) - len(missing)
            scanned = _scan_missing(run, store, missing, progress)
            new_points = _conclude_all(run, store, history, todo, progress)
            store.put_points(new_points)
            points.update({p.commit: p for p in new_points})
        stats = HistoryStats(
            commits_in_branch=len(history),
            points=len(chosen),
            blobs_scanned=scanned,
            blobs_cached=cached,
            commits_cached=len(wanted) - len(todo),
            duration_s=round(time.perf_counter() - started, 3),
            cache=str(store.path),
            ruleset=store.version,
        )
    return History(
        rules=list(RULE_IDS), points=[points[history[i].sha] for i in chosen], stats=stats
    )


def _read_texts(run: _Run, history: list[gitlog.Commit]) -> None:
    """Read every version of the audit config and of sophia.yaml the branch ever had."""
    blobs = {
        blob
        for commit in history
        for path, blob in commit.changed.items()
        if path == CONFIG_FILE or path in SPEC_FILES
    }
    for blob, raw in gitlog.read_blobs(run.root, sorted(blobs)):
        run.texts[blob] = (raw or b"").decode("utf-8", "replace")


def _needed_keys(run: _Run, history: list[gitlog.Commit], todo: set[str]) -> set[str]:
    needed: set[str] = set()
    for commit, tree in gitlog.trees(history):
        if commit.sha not in todo:
            continue
        config_blob = tree.get(CONFIG_FILE)
        for path, blob in tree.items():
            mode = run.mode(config_blob, path)
            if mode is not None:
                needed.add(_key(mode, path, blob))
    return needed


def _scan_missing(
    run: _Run, store: cache.HistoryCache, missing: list[str], progress: Progress | None
) -> int:
    """Scan each missing (mode, path, blob) once and store the results."""
    rules = RuleSet.of(RULE_IDS)
    by_blob: dict[str, list[tuple[Mode, str]]] = {}
    for key in missing:
        letter, path, blob = key.split("\0")
        by_blob.setdefault(blob, []).append(("live" if letter == "l" else "archived", path))
    done_count = 0
    batch: list[tuple[str, _Entry]] = []
    for blob, raw in gitlog.read_blobs(run.root, by_blob):
        for mode, path in by_blob[blob]:
            batch.append((_key(mode, path, blob), _scan_one(rules, mode, path, raw)))
            done_count += 1
        if len(batch) >= 500:
            store.put_files(batch)
            batch = []
            if progress:
                progress("scan", done_count, len(missing))
    store.put_files(batch)
    if progress:
        progress("scan", done_count, len(missing))
    return done_count


def _scan_one(rules: RuleSet, mode: Mode, path: str, raw: bytes | None) -> _Entry:
    out = FilePass()
    if raw is None:
        out.skipped.append(SkippedFile(path, "missing"))
        return _Entry(out)
    item = source_from_bytes(path, raw, DEFAULT_MAX_FILE_BYTES)
    if isinstance(item, SkippedFile):
        out.skipped.append(item)
        return _Entry(out)
    if mode == "archived":
        out.skipped.append(SkippedFile(path, "archived"))
        check_source(item, rules, out, archived=True)
        return _Entry(out)
    out.files, out.bytes = 1, item.size
    check_source(item, rules, out)
    return _Entry(out, manual_facts(path, item.text) if relevant(path) else NONE)


def _conclude_all(
    run: _Run,
    store: cache.HistoryCache,
    history: list[gitlog.Commit],
    todo: set[str],
    progress: Progress | None,
) -> list[HistoryPoint]:
    entries: dict[str, _Entry] = {}
    last_change: dict[str, int] = {}
    found: list[HistoryPoint] = []
    for commit, tree in gitlog.trees(history):
        for path in commit.changed:
            last_change[path] = commit.time
        if commit.sha not in todo:
            continue
        config_blob = tree.get(CONFIG_FILE)
        merged = FilePass()
        manual = 0
        for path in sorted(tree):
            mode = run.mode(config_blob, path)
            if mode is None:
                merged.skipped.append(SkippedFile(path, "excluded"))
                continue
            key = _key(mode, path, tree[path])
            entry = entries.get(key)
            if entry is None:
                entry = entries[key] = store.file(key)
            merged.merge(entry.done)
            manual += entry.facts.count
        found.append(_point(run, commit, tree, merged, manual, config_blob, last_change))
        if progress:
            progress("commits", len(found), len(todo))
    return found


def _point(
    run: _Run,
    commit: gitlog.Commit,
    tree: dict[str, str],
    merged: FilePass,
    manual: int,
    config_blob: str | None,
    last_change: dict[str, int],
) -> HistoryPoint:
    config = run.config(config_blob)
    spec_blob = next((tree[name] for name in SPEC_FILES if name in tree), None)

    def times(paths: list[str]) -> dict[str, int]:
        return {p: last_change[p] for p in paths if p in last_change}

    ctx = RepoContext(run.root, dict(config.canonical), times, run.texts.get(spec_blob or "", ""))
    result = conclude(merged, ctx, RULE_IDS, config, ScanOptions(), ScanStats())
    metrics = result.metrics
    return HistoryPoint(
        commit=commit.sha,
        time=commit.time,
        subject=commit.subject[:120],
        counts=result.counts(),
        metrics={
            "deployment_methods": len(metrics.deployment_methods),
            "secret_sync_workflows": metrics.secret_sync_workflows,
            "hardcoded_ips": metrics.hardcoded_ips,
            "distinct_ips": metrics.distinct_ips,
            "compose_files": metrics.compose_files,
            "duplicate_files": metrics.duplicate_files,
            "manual_steps": manual,
            "files": merged.files,
        },
    )


def rules_seen(points: Iterable[HistoryPoint]) -> list[str]:
    """Rules with at least one finding at some point, in report order."""
    seen = {rule for p in points for rule, n in p.counts.items() if n}
    return [rule for rule in RULE_IDS if rule in seen]
