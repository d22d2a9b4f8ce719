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

import bisect
import hashlib
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import resources
from itertools import chain
from pathlib import Path
from typing import Any, Literal

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
from sophia_platform.audit.filepass import RuleSet, check_source, placement
from sophia_platform.audit.model import Finding, SkippedFile
from sophia_platform.audit.vendored import Scope, is_generated_text
from sophia_platform.audit.walker import DEFAULT_MAX_FILE_BYTES, source_from_bytes
from sophia_platform.errors import InputError
from sophia_platform.report import cache, gitlog
from sophia_platform.report.manual import NONE, ManualFacts, manual_facts, relevant
from sophia_platform.report.model import History, HistoryPoint, HistoryStats

Mode = Literal["live", "archived"]
SPEC_FILES = ("sophia.yaml", "sophia.yml")
VENV_MARKER = "pyvenv.cfg"
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
    generated: bool = False  # text a tool wrote: skipped where the vendored checks apply


@dataclass
class _Run:
    """Working state of one history computation."""

    root: Path
    configs: dict[str, AuditConfig] = field(default_factory=dict)  # config blob -> config
    texts: dict[str, str] = field(default_factory=dict)  # spec/config blob -> text

    def config(self, blob: str | None) -> AuditConfig:
        if blob is None:
            return AuditConfig()
        if blob not in self.configs:
            try:
                self.configs[blob] = config_from_text(self.texts.get(blob, ""))
            except InputError:
                self.configs[blob] = AuditConfig()  # a broken config at some commit: defaults
        return self.configs[blob]


class _Layout:
    """What each path of the current tree reads, kept up to date commit by commit.

    Placement follows the audit's own rule (:func:`placement`): vendored, generated,
    excluded, archived or live, under the config and virtualenvs of that commit. Only the
    paths a commit changed are placed again, unless the config or a ``pyvenv.cfg`` changed.
    """

    def __init__(self, run: _Run) -> None:
        self.run = run
        self.keys: dict[str, tuple[str, bool] | None] = {}  # path -> (cache key, checks apply)
        self.paths: list[str] = []  # sorted, as the audit lists files
        self.config_blob: str | None = None
        self.venvs: set[str] = set()
        self.archive_rules = bool(RuleSet.of(RULE_IDS).archive)
        self._scope: Scope | None = None

    def advance(self, commit: gitlog.Commit, tree: dict[str, str]) -> tuple[list[str], bool]:
        """Move to ``commit`` (whose tree is ``tree``): (paths placed again, paths came/went)."""
        full = self._scope is None or tree.get(CONFIG_FILE) != self.config_blob
        reshaped = False
        for path in commit.removed:
            if path in self.keys:
                del self.keys[path]
                self.paths.pop(bisect.bisect_left(self.paths, path))
                reshaped = True
            if path.rpartition("/")[2] == VENV_MARKER:
                self.venvs.discard(path[: -len(VENV_MARKER)])
                full = True
        for path in commit.changed:
            if path not in self.keys:
                bisect.insort(self.paths, path)
                self.keys[path] = None
                reshaped = True
            if path.rpartition("/")[2] == VENV_MARKER:
                self.venvs.add(path[: -len(VENV_MARKER)])
                full = True
        if full:
            self.config_blob = tree.get(CONFIG_FILE)
            config = self.run.config(self.config_blob)
            self._scope = Scope(config.vendored, tuple(sorted(self.venvs)), config.include)
        placed = self.paths if full else list(commit.changed)
        for path in placed:
            self.keys[path] = self._place(path, tree[path])
        return placed, reshaped or full

    def _place(self, path: str, blob: str) -> tuple[str, bool] | None:
        assert self._scope is not None
        config = self.run.config(self.config_blob)
        place = placement(path, config, self._scope, archive_rules=self.archive_rules)
        if place == "live":
            return _key("live", path, blob), self._scope.applies(path)
        if place == "archived":
            return _key("archived", path, blob), False
        return None

    @property
    def config(self) -> AuditConfig:
        return self.run.config(self.config_blob)


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
    layout = _Layout(run)
    for commit, tree in gitlog.trees(history):
        layout.advance(commit, tree)
        if commit.sha in todo:
            needed.update(placed[0] for placed in layout.keys.values() if placed is not None)
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
    facts = manual_facts(path, item.text) if relevant(path) else NONE
    return _Entry(out, facts, is_generated_text(item.text))


def _conclude_all(
    run: _Run,
    store: cache.HistoryCache,
    history: list[gitlog.Commit],
    todo: set[str],
    progress: Progress | None,
) -> list[HistoryPoint]:
    last_change: dict[str, int] = {}
    layout = _Layout(run)
    merged = _Merged(store)
    found: list[HistoryPoint] = []
    for commit, tree in gitlog.trees(history):
        placed, reshaped = layout.advance(commit, tree)
        merged.touch(placed, reshaped)
        for path in commit.changed:
            last_change[path] = commit.time
        if commit.sha not in todo:
            continue
        done, manual = merged.at(layout)
        found.append(_point(run, commit, tree, done, manual, layout.config, last_change))
        if progress:
            progress("commits", len(found), len(todo))
    return found


class _Merged:
    """One commit's per-file pass assembled from cached passes, updated path by path.

    Each contribution is kept per path in dicts whose order is the sorted path order, so a
    commit that only modifies files updates values in place and the lists the audit's second
    half reads are chained together at C speed; a commit that adds or removes files (or
    changes the config) rebuilds them once.
    """

    def __init__(self, store: cache.HistoryCache) -> None:
        self.store = store
        self.entries: dict[str, _Entry] = {}  # cache key -> entry, loaded once
        self.dirty: set[str] = set()
        self.rebuild = True
        self.live: dict[str, _Entry] = {}  # path -> entry, in path order
        self.findings: dict[str, list[Finding]] = {}
        self.summaries: dict[str, dict[str, list[tuple[str, Any]]]] = {}
        self.ignores: dict[str, dict[int, frozenset[str]]] = {}
        self.files = self.manual = 0  # running totals over the live entries

    def touch(self, paths: list[str], reshaped: bool) -> None:
        """Note the paths placed again since the last assembled commit."""
        if reshaped:
            self.rebuild = True
        elif not self.rebuild:
            self.dirty.update(paths)

    def _entry(self, layout: _Layout, path: str) -> _Entry | None:
        placed = layout.keys[path]
        if placed is None:
            return None
        key, checks_apply = placed
        entry = self.entries.get(key)
        if entry is None:
            entry = self.entries[key] = self.store.file(key)
        return None if entry.generated and checks_apply else entry

    def at(self, layout: _Layout) -> tuple[FilePass, int]:
        """The per-file pass and the manual steps of the layout's commit."""
        if self.rebuild:
            self._rebuild(layout)
        else:
            for path in self.dirty:
                self._update(path, self._entry(layout, path))
        self.rebuild, self.dirty = False, set()
        done = FilePass(findings=list(chain.from_iterable(self.findings.values())))
        for rule_id, rows in self.summaries.items():
            done.summaries[rule_id] = list(chain.from_iterable(rows.values()))
        done.ignores = dict(self.ignores)
        done.files = self.files
        return done, self.manual

    def _rebuild(self, layout: _Layout) -> None:
        self.live, self.findings, self.summaries, self.ignores = {}, {}, {}, {}
        self.files = self.manual = 0
        for path in layout.paths:
            entry = self._entry(layout, path)
            if entry is not None:
                self._add(path, entry)

    def _add(self, path: str, entry: _Entry) -> None:
        self.live[path] = entry
        self.files += entry.done.files
        self.manual += entry.facts.count
        if entry.done.findings:
            self.findings[path] = entry.done.findings
        for rule_id, rows in entry.done.summaries.items():
            self.summaries.setdefault(rule_id, {})[path] = rows
        if entry.done.ignores:
            self.ignores[path] = entry.done.ignores[path]

    def _update(self, path: str, entry: _Entry | None) -> None:
        old = self.live.get(path)
        if entry is None or old is None:
            # A file entering or leaving the live set moves the path order: rebuild the
            # ordered dicts from the layout next time (rare: placement rarely flips).
            if entry is not old:
                self.rebuild = True
            return
        self.live[path] = entry
        self.files += entry.done.files - old.done.files
        self.manual += entry.facts.count - old.facts.count
        _replace(self.findings, path, entry.done.findings)
        for rule_id in {*entry.done.summaries, *old.done.summaries}:
            if (rule_id in entry.done.summaries) != (rule_id in old.done.summaries):
                self.rebuild = True
                return
            self.summaries[rule_id][path] = entry.done.summaries[rule_id]
        if entry.done.ignores:
            self.ignores[path] = entry.done.ignores[path]
        else:
            self.ignores.pop(path, None)


def _replace(by_path: dict[str, list[Finding]], path: str, findings: list[Finding]) -> None:
    """Set or drop a path's findings.

    Their order across files does not matter: conclude sorts them by path and position,
    keeping each file's own order.
    """
    if findings:
        by_path[path] = findings
    else:
        by_path.pop(path, None)


def _point(
    run: _Run,
    commit: gitlog.Commit,
    tree: dict[str, str],
    merged: FilePass,
    manual: int,
    config: AuditConfig,
    last_change: dict[str, int],
) -> HistoryPoint:
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
