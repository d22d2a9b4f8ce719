"""The scan: list files, run every rule, apply suppressions, compute the summary metrics.

Usage::

    from sophia_platform.audit import scan, ScanOptions
    result = scan(Path("."), ScanOptions())          # AuditResult
    for finding in result.findings: ...              # suppressed findings are already removed
    result.stats.files_scanned, result.metrics.hardcoded_ips

``scan`` never prints; errors are :class:`~sophia_platform.errors.InputError` (bad path,
config or baseline) or :class:`~sophia_platform.errors.ExternalError` (git failed).
"""

from __future__ import annotations

import os
import pickle
import signal
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import NoReturn

from sophia_platform import git
from sophia_platform.audit.baseline import Baseline, load_baseline
from sophia_platform.audit.config import AuditConfig, load_config
from sophia_platform.audit.filepass import FilePass, placement, run_pass
from sophia_platform.audit.model import AuditResult, Finding, Metrics, ScanStats
from sophia_platform.audit.rules import RULE_IDS, CorpusRule, RepoContext, Rule, all_rules
from sophia_platform.audit.rules.base import fingerprint
from sophia_platform.audit.suppress import is_ignored
from sophia_platform.audit.vendored import Scope
from sophia_platform.audit.walker import (
    DEFAULT_MAX_FILE_BYTES,
    Listing,
    list_files,
    list_targets,
    locate,
)
from sophia_platform.errors import ExternalError, InputError

# Below this many bytes to read, forking a worker costs more than it saves (jobs=0, auto).
PARALLEL_MIN_BYTES = 2_000_000


@dataclass(frozen=True, slots=True)
class ScanOptions:
    """How to scan. Defaults: git-aware listing, every rule, ``.sophia-audit.yml`` if present."""

    all_files: bool = False  # include git-ignored files
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES
    rules: frozenset[str] | None = None  # None = every rule
    config: AuditConfig | None = None  # None = load ROOT/.sophia-audit.yml
    config_path: Path | None = None
    baseline: Baseline | None = None
    apply_suppressions: bool = True  # False: report inline/allow-listed findings too
    canonical: dict[str, str] = field(default_factory=dict)  # overrides config `canonical`
    jobs: int = 1  # worker processes for the per-file pass; 0 = auto (2 cores at most, big repos)
    # Scan only part of the repository: these files (or folders), and/or the files changed
    # since a git revision. Repository-wide rules (``needs_whole_repo``) need every file, so
    # they do not run on a part; AuditResult.skipped_rules names them.
    only: tuple[Path, ...] | None = None
    since: str | None = None
    config_baseline: bool = True  # apply the baseline named in .sophia-audit.yml


def scan(path: Path, options: ScanOptions | None = None) -> AuditResult:
    """Scan the repository at (or containing) ``path`` and return the findings."""
    options = options or ScanOptions()
    if not path.exists():
        raise InputError(f"{path}: no such file or directory; pass the repository to audit")
    started = time.perf_counter()
    listing, partial = _listing(path, options)
    root, paths = listing.root, listing.paths
    config = options.config or load_config(root, options.config_path)
    rules = _select(options.rules)
    skipped_rules: tuple[str, ...] = ()
    if partial:
        skipped_rules = tuple(k for k, r in rules.items() if r.needs_whole_repo)
        rules = {k: r for k, r in rules.items() if k not in skipped_rules}
    if options.baseline is None and options.config_baseline and config.baseline:
        options = replace(options, baseline=load_baseline(root / config.baseline))
    scope = Scope.of(paths, enabled=config.vendored, include=config.include)
    done = _file_pass(root, paths, config, tuple(rules), options, scope)
    stats = ScanStats(
        files_scanned=done.files,
        bytes_scanned=done.bytes,
        files_listed=len(paths),
        git_aware=listing.git_aware,
        skipped=done.skipped,
    )
    ctx = RepoContext(
        root,
        {**config.canonical, **options.canonical},
        _commit_times(root) if listing.git_aware else _no_times,
        _spec_text(root),
    )
    result = conclude(done, ctx, tuple(rules), config, options, stats)
    result.skipped_rules = skipped_rules
    stats.duration_s = time.perf_counter() - started
    return result


def conclude(
    done: FilePass,
    ctx: RepoContext,
    rule_ids: tuple[str, ...],
    config: AuditConfig,
    options: ScanOptions,
    stats: ScanStats,
) -> AuditResult:
    """Finish a scan from its per-file pass: corpus rules, suppressions, order, metrics.

    The second half of :func:`scan`, for callers that produce the per-file pass themselves
    (the report's history reuses cached per-blob passes). ``done`` is not modified.
    """
    findings = list(done.findings)
    facts: dict[str, list[str]] = {}
    for rule_id, rule in _select(frozenset(rule_ids)).items():
        if isinstance(rule, CorpusRule):
            findings.extend(rule.judge(done.summaries.get(rule_id, []), ctx))
            facts.update(rule.facts(done.summaries.get(rule_id, [])))

    findings = _disambiguate(findings)
    suppressed: Counter[str] = Counter()
    if options.apply_suppressions:
        findings = _suppress(findings, done.ignores, config, options.baseline, suppressed)
    order = {rule_id: i for i, rule_id in enumerate(RULE_IDS)}
    findings.sort(key=lambda f: (order.get(f.rule_id, 99), f.path, f.line, f.column))
    return AuditResult(
        root=ctx.root,
        findings=findings,
        stats=stats,
        metrics=metrics(findings, facts),
        suppressed=dict(suppressed),
        rules=rule_ids,
    )


def _listing(path: Path, options: ScanOptions) -> tuple[Listing, bool]:
    """The files to scan, and whether they are only a part of the repository.

    A part (``only``/``since``) never lists the whole repository: a pre-commit hook on a
    20,000-file repository pays for the files it is given, not for the rest.
    """
    if options.only is None and options.since is None:
        return list_files(path, include_ignored=options.all_files), False
    place = locate(path)
    paths: list[str] | None = None
    if options.only is not None:
        paths = list_targets(place, options.only, include_ignored=options.all_files)
    if options.since is not None:
        if not place.git_aware:
            raise InputError(f"{place.root}: not a git work tree; changed files need git")
        changed = git.changed_files(place.root, options.since)
        if paths is None:
            folder = place.under
            paths = [p for p in changed if not folder or p == folder or p.startswith(folder + "/")]
        else:
            keep = set(changed)
            paths = [p for p in paths if p in keep]
    return Listing(place.root, paths or [], place.git_aware), True


def _file_pass(
    root: Path,
    paths: list[str],
    config: AuditConfig,
    rule_ids: tuple[str, ...],
    options: ScanOptions,
    scope: Scope,
) -> FilePass:
    """The per-file pass, split over worker processes when that pays (``jobs``).

    The listing is cut into runs of about equal bytes to read (files skipped by name cost
    nothing); this process and the forked workers each take the next run not yet taken until
    none is left, so a process that drew costly files takes fewer runs and all finish about
    together. The merged pass is put back in listing order, equal to a sequential one.
    """
    work = _Work(root, config, rule_ids, options.max_file_bytes, scope)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    jobs = options.jobs if options.jobs > 0 else min(2, cores or 1)
    if jobs == 1 or not _CAN_FORK:
        return work.pass_of(paths)
    sizes = _read_sizes(root, paths, config, scope, options.max_file_bytes)
    if options.jobs == 0 and sum(sizes) < PARALLEL_MIN_BYTES:
        return work.pass_of(paths)
    runs = _runs(paths, sizes, min(jobs * RUNS_PER_PROCESS, MAX_RUNS))
    if len(runs) == 1:
        return work.pass_of(paths)
    merged = _forked_pass(min(jobs, len(runs)) - 1, work, runs)
    merged.reorder({path: i for i, path in enumerate(paths)})
    return merged


@dataclass(frozen=True)
class _Work:
    """What every process's pass is given besides the paths of its run."""

    root: Path
    config: AuditConfig
    rule_ids: tuple[str, ...]
    max_bytes: int
    scope: Scope

    def pass_of(self, paths: list[str]) -> FilePass:
        return run_pass(self.root, paths, self.config, self.rule_ids, self.max_bytes, self.scope)


# Workers are forked (not spawned: a spawned one imports the audit again, ~0.1 s), which
# macOS's system libraries do not support and Windows cannot do: there the pass is one process.
_CAN_FORK = hasattr(os, "fork") and sys.platform != "darwin"
_TURN = 4  # bytes of one run number in the pipe the processes take their runs from


def _forked_pass(workers: int, work: _Work, runs: list[list[str]]) -> FilePass:
    """The runs passed by this process and ``workers`` forked ones, merged (not reordered).

    The run numbers wait in a pipe (closed for writing before any fork): each process reads
    the next one, which no other process then gets, until the pipe is empty. A worker sends
    its passes back pickled through a pipe of its own and exits; its error is raised here.
    """
    turns, fill = os.pipe()
    with os.fdopen(fill, "wb") as out:  # at most MAX_RUNS: no reader is needed yet
        out.write(b"".join(i.to_bytes(_TURN, "big") for i in range(len(runs))))
    children: list[int] = []
    children_unread: list[int] = []  # their result pipes, not yet read and closed
    try:
        for _ in range(workers):
            back, send = os.pipe()
            pid = os.fork()
            if pid == 0:  # pragma: no cover - the worker; coverage does not follow forks
                os.close(back)
                _worker(turns, send, work, runs)
            os.close(send)
            children.append(pid)
            children_unread.append(back)
        merged = FilePass()
        for part in _take_runs(turns, work, runs):
            merged.merge(part)
        while children_unread:
            with os.fdopen(children_unread.pop(0), "rb") as inp:
                error, blobs = pickle.loads(inp.read())
            if error is not None:
                raise error
            for blob in blobs:
                merged.merge(pickle.loads(blob))
        return merged
    except BaseException:
        for pid in children:
            os.kill(pid, signal.SIGKILL)
        raise
    finally:
        for fd in (turns, *children_unread):
            os.close(fd)
        for pid in children:
            os.waitpid(pid, 0)


def _worker(  # pragma: no cover
    turns: int, send: int, work: _Work, runs: list[list[str]]
) -> NoReturn:
    """A forked worker: pass runs until none is left, send them back, exit.

    ``os._exit``: none of the parent's clean-up runs here, none of its buffers is flushed.
    """
    code = 0
    try:
        # Each run's pass is pickled as soon as it is done, not all at the end while the
        # other process waits for it (half of sophia-intel-ai pickles to ~0.4 MB, ~5 ms).
        payload = pickle.dumps((None, [pickle.dumps(p) for p in _take_runs(turns, work, runs)]))
    except BaseException as exc:
        code = 1
        try:
            payload = pickle.dumps((exc, []))
        except Exception:
            payload = pickle.dumps(
                (ExternalError(f"audit worker failed: {type(exc).__name__}"), [])
            )
    try:
        with os.fdopen(send, "wb") as out:
            out.write(payload)
    finally:
        os._exit(code)


def _take_runs(turns: int, work: _Work, runs: list[list[str]]) -> Iterator[FilePass]:
    """The passes of the runs no other process has taken, one run at a time."""
    while True:
        turn = os.read(turns, _TURN)
        if not turn:
            return
        yield work.pass_of(runs[int.from_bytes(turn, "big")])


def _read_sizes(
    root: Path, paths: list[str], config: AuditConfig, scope: Scope, max_bytes: int
) -> list[int]:
    """Bytes the pass will read per path: 0 for files skipped by name, missing or too large."""
    sizes = []
    for rel in paths:
        size = 0
        if placement(rel, config, scope, archive_rules=True) in ("live", "archived"):
            try:
                size = os.lstat(os.path.join(root, rel)).st_size
            except OSError:
                size = 0
        sizes.append(size if size <= max_bytes else 0)
    return sizes


RUNS_PER_PROCESS = 16  # runs per process: the last run taken bounds how unevenly they finish
MAX_RUNS = 1024  # their numbers (4 bytes each) fit the smallest pipe buffer, 4 KiB


def _runs(paths: list[str], sizes: list[int], count: int) -> list[list[str]]:
    """``paths`` cut into at most ``count`` contiguous, non-empty runs of about equal size."""
    total = sum(sizes)
    runs: list[list[str]] = []
    start, acc = 0, 0
    for i, size in enumerate(sizes):
        acc += size
        if len(runs) < count - 1 and acc * count >= total * (len(runs) + 1):
            runs.append(paths[start : i + 1])
            start = i + 1
    runs.append(paths[start:])
    return [run for run in runs if run]


def _select(wanted: frozenset[str] | None) -> dict[str, Rule]:
    rules = all_rules()
    if wanted is None:
        return rules
    unknown = sorted(wanted - set(rules))
    if unknown:
        raise InputError(f"unknown rule {unknown[0]!r}; use one of {', '.join(RULE_IDS)}")
    return {rule_id: rule for rule_id, rule in rules.items() if rule_id in wanted}


def _spec_text(root: Path) -> str:
    for name in ("sophia.yaml", "sophia.yml"):
        try:
            return (root / name).read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
    return ""


def _no_times(paths: list[str]) -> dict[str, int]:
    return {}


def _commit_times(root: Path) -> Callable[[list[str]], dict[str, int]]:
    def times(paths: list[str]) -> dict[str, int]:
        return git.last_commit_times(root, paths)

    return times


def _disambiguate(findings: list[Finding]) -> list[Finding]:
    """Give identical-looking findings in one file distinct, still move-stable fingerprints."""
    seen: Counter[str] = Counter()
    out: list[Finding] = []
    for finding in sorted(findings, key=lambda f: (f.path, f.line, f.column, f.rule_id)):
        seen[finding.fingerprint] += 1
        n = seen[finding.fingerprint]
        out.append(
            finding
            if n == 1
            else replace(finding, fingerprint=fingerprint(finding.fingerprint, str(n)))
        )
    return out


def _suppress(
    findings: Iterable[Finding],
    ignores: dict[str, dict[int, frozenset[str]]],
    config: AuditConfig,
    baseline: Baseline | None,
    counts: Counter[str],
) -> list[Finding]:
    kept: list[Finding] = []
    for finding in findings:
        marks = ignores.get(finding.path)
        if marks and is_ignored(marks, finding.line, finding.rule_id):
            counts["inline"] += 1
        elif config.allows(finding):
            counts["allow-list"] += 1
        elif baseline is not None and finding in baseline:
            counts["baseline"] += 1
        else:
            kept.append(finding)
    return kept


def metrics(findings: list[Finding], facts: dict[str, list[str]]) -> Metrics:
    """The success-metric summary of a set of findings."""
    counts = Counter(f.rule_id for f in findings)
    methods = set(facts.get("deploy_methods", []))
    if counts["compose-file"]:
        methods.add("docker-compose")
    # Swarm mentioned in docs is history; in scripts, workflows or stack files it is a method.
    if any(f.rule_id == "swarm-reference" and f.data.get("kind") != "docs" for f in findings):
        methods.add("docker-swarm")
    addresses = {f.data.get("address", "") for f in findings if f.rule_id == "hardcoded-ip"}
    return Metrics(
        deployment_methods=tuple(sorted(methods)),
        secret_sync_workflows=len(facts.get("secret_sync", [])),
        hardcoded_ips=counts["hardcoded-ip"],
        distinct_ips=len(addresses - {""}),
        compose_files=counts["compose-file"],
        duplicate_files=counts["duplicate-file"],
    )
