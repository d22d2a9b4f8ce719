"""The Definition of Done after ONE ``sophia cleanup apply`` on real repositories, and plan speed.

    SOPHIA_AUDIT_CORPUS=/work/.mirror .venv/bin/python benchmarks/cleanup_corpus.py
    .venv/bin/python benchmarks/cleanup_corpus.py --synthetic-only     # CI-safe part only
    SOPHIA_AUDIT_CORPUS=/work/.mirror .venv/bin/python benchmarks/cleanup_corpus.py \
        --no-synthetic --scaling-only                                  # linearity only

For every target commit of the corpus (fetched bare git dirs under ``SOPHIA_AUDIT_CORPUS``, see
benchmarks/corpus/), the tree is exported blob by blob (export_tree.py) into a temporary git
repository, then: audit → ``cleanup plan`` (timed) → one ``cleanup apply`` → the Definition of
Done, measured on the tree itself, not taken from the plan:

* compose/stack files outside ``archive/`` (by name, ``docker-compose*.y(a)ml`` and
  ``compose*.y(a)ml``, and by content: the audit's ``compose-file`` rule): want 0;
* secret-sync workflows (the audit's metric, ``redundant-workflow`` findings left): want 1
  (0 when the repository had none before; the cleanup archives, it does not invent a sync);
* infrastructure IPs in ``.py``/``.sh`` (``hardcoded-ip`` findings outside ``archive/``): 0;
* ``scripts/*deploy*.py``: at most 2;
* every ``.py`` that compiled before still compiles (``py_compile``), every ``.sh`` that passed
  ``bash -n`` still does (archived files checked at their new place);
* every archived path: each file outside ``archive/`` that still names it (file name as a
  word, a Python module's dotted path) is listed in the plan ("refers to archived ...");
* nothing silently skipped: every finding of a fixed rule left after the apply is in the
  plan's not-fixed list with a reason;
* no vendored or generated file edited or moved (their bytes are compared, too);
* ``cleanup undo`` restores every file byte for byte (and the git index).

Each item prints its number and ok/FAIL; the script exits 1 when an item fails. ``cleanup
plan`` is timed (audit + plan, best of 3) on every target and on scaled copies (the
2,346-file sophia-ai-intel tree and the 2,932-file orchestra-main one, each repeated 2× and 4×
under sub-folders; audit and plan CPU printed apart), and on generated chaos repositories
of 2,500 / 5,000 / 10,000 files (tests/fixtures/chaos_repo.py; also without the corpus):
goal ≤ 3 s on 2,500 files and linear growth. Without SOPHIA_AUDIT_CORPUS only the synthetic
timings run. Nothing of the repositories is kept.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import os
import py_compile
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

print = functools.partial(print, flush=True)  # progress shows as it runs
HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE / "corpus"))
sys.path.insert(0, str(ROOT))  # for tests.fixtures.chaos_repo
sys.path.insert(0, str(HERE))  # for audit_corpus.git_dir

from audit_corpus import git_dir  # noqa: E402
from export_tree import export  # noqa: E402

from sophia_platform.audit import scan  # noqa: E402
from sophia_platform.audit.model import AuditResult  # noqa: E402
from sophia_platform.cleanup.apply import apply_plan, undo  # noqa: E402
from sophia_platform.cleanup.findings import FIXED_RULES  # noqa: E402
from sophia_platform.cleanup.plan import Plan  # noqa: E402
from sophia_platform.cleanup.planner import make_plan  # noqa: E402

# (repo, commit, why it is here). sophia-ai-intel@3565d14 is the richest labelled commit
# (16 compose files, Swarm stacks); orchestra-main@95cc74f has 39 scripts/*deploy*.py and 13
# compose files in 2,932 files (the held-out repository's shape); sophia-main@130551e has two
# secret-sync workflows (and two sync scripts) in a 24,730-file tree (node_modules committed);
# its other secret-named workflows (rotation, a --dry-run test) are not syncs; @366e5ff (a day
# later) has a workflow and three scripts syncing besides the one that writes ESC itself.
TARGETS = [
    ("ai-cherry/sophia-ai-intel", "3565d14789b4cac76e137e57ab59c6b1ca1a424f", "labelled, richest"),
    ("ai-cherry/orchestra-main", "95cc74fa5a45da50a764dd8045a8bac43a75bcaf", "deploy scripts"),
    ("ai-cherry/sophia-ai-intel", "64bc64e494d86a5af903a0ad2d678e0d8d501525", "labelled"),
    ("ai-cherry/sophia-main", "130551edce450b588806f9a8283a8fc774904bdc", "secret syncs"),
    ("ai-cherry/sophia-main", "09d029333d6d2ec61389a5cf0919d9eeb630061b", "labelled, 24k files"),
    ("ai-cherry/sophia-main", "366e5ffdea77a4a39424ee9176786c181222d730", "sync scripts, labelled"),
    ("ai-cherry/orchestra-main", "09e01e4c2895ee8af882bd5abfee65b044876222", "held out, labelled"),
]
PLAN_GOAL_S = 3.0
REPEAT = 3
_COMPOSE_NAME = re.compile(r"(?:^|/)(?:docker-)?compose[^/]*\.ya?ml$", re.I)
_DEPLOY_PY = re.compile(r"^scripts/[^/]*deploy[^/]*\.py$")
_GIT_ENV = {
    "GIT_AUTHOR_NAME": "corpus",
    "GIT_AUTHOR_EMAIL": "corpus@example.invalid",
    "GIT_COMMITTER_NAME": "corpus",
    "GIT_COMMITTER_EMAIL": "corpus@example.invalid",
}


def best_of(repeat: int, fn: Callable[[], object]) -> tuple[float, float]:
    """Best wall and CPU time of ``repeat`` runs (CPU: what load on a shared machine hides)."""
    wall = cpu = float("inf")
    for _ in range(repeat):
        started, cpu_started = time.perf_counter(), time.process_time()
        fn()
        wall = min(wall, time.perf_counter() - started)
        cpu = min(cpu, time.process_time() - cpu_started)
    return wall, cpu


def plan_once(root: Path) -> Plan:
    """What ``sophia cleanup plan`` does: the audit, then the plan."""
    result = scan(root)
    return make_plan(root, result.findings)


def out_of_scope(result: AuditResult) -> frozenset[str]:
    """Files the audit skipped as vendored or generated."""
    return frozenset(s.path for s in result.stats.skipped if s.reason in ("vendored", "generated"))


def snapshot(root: Path) -> dict[str, tuple[str, int]]:
    """Path → (sha256, mode) of every file outside .git and .sophia (not descended into)."""
    out = {}
    for folder, dirs, names in os.walk(root):
        if Path(folder) == root:
            dirs[:] = [d for d in dirs if d not in (".git", ".sophia")]
        for name in names:
            path = Path(folder) / name
            if path.is_symlink() or not path.is_file():
                continue
            rel = path.relative_to(root).as_posix()
            out[rel] = (hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mode)
    return dict(sorted(out.items()))


def git(root: Path, *args: str) -> str:
    """Run git in ``root`` and return its output."""
    return subprocess.run(
        ["git", *args], cwd=root, check=True, capture_output=True, env={**os.environ, **_GIT_ENV}
    ).stdout.decode("utf-8", "replace")


def commit_all(root: Path, message: str) -> None:
    """Make ``root`` a repository with every file committed, as a clone of the commit has them.

    ``add -f``: a commit may hold files its own ``.gitignore`` matches (sophia-main@366e5ff
    ignores ``**/*secret*`` yet commits its secret-sync workflows; orchestra-main@95cc74f 294
    files); a clone tracks them, so the audit and the cleanup must see them.
    """
    git(root, "init", "-q")
    # No background `gc --auto`: a detached gc packing objects while the tree is measured or
    # its temporary folder removed made both fail (undo writes thousands of loose objects).
    git(root, "config", "gc.auto", "0")
    git(root, "add", "-A", "-f")
    git(root, "commit", "-q", "-m", message)


def compiles(path: Path) -> bool:
    """``py_compile`` for Python, ``bash -n`` for shell."""
    if path.suffix == ".py":
        try:
            py_compile.compile(str(path), cfile=os.devnull, doraise=True)
        except (py_compile.PyCompileError, ValueError, OSError):
            return False
        return True
    done = subprocess.run(["bash", "-n", str(path)], capture_output=True, check=False)
    return done.returncode == 0


def compiling(root: Path, paths: list[str]) -> set[str]:
    """The ``.py``/``.sh`` files among ``paths`` that compile."""
    return {p for p in paths if p.endswith((".py", ".sh")) and compiles(root / p)}


@dataclass
class Counts:
    """The Definition-of-Done numbers of one tree."""

    compose: list[str] = field(default_factory=list)
    syncs: int = 0
    redundant_syncs: int = 0
    ips_code: list[str] = field(default_factory=list)
    deploy_py: list[str] = field(default_factory=list)


def counts(
    root: Path, result: AuditResult, skip: frozenset[str], known_members: set[str]
) -> Counts:
    """Measure the tree (``skip``: vendored/generated files; ``known_members``: the sync
    group's paths seen by an earlier call, kept up to date)."""
    files = [p for p in git(root, "ls-files", "-z").split("\0") if p and p not in skip]
    live = [p for p in files if not p.startswith("archive/")]
    compose = {p for p in live if _COMPOSE_NAME.search(p)}
    compose |= {f.path for f in result.findings if f.rule_id == "compose-file"}
    compose = {p for p in compose if not p.startswith("archive/")}
    ips = sorted(
        {
            f"{f.path}:{f.line}"
            for f in result.findings
            if f.rule_id == "hardcoded-ip"
            and f.path.endswith((".py", ".sh"))
            and not f.path.startswith("archive/")
        }
    )
    # The metric counts a sync's members (workflows and the scripts they run); the DoD counts
    # workflows: the members under .github/workflows/ (from the group the audit reported).
    members = {
        m
        for f in result.findings
        if f.rule_id == "redundant-workflow"
        for m in [*f.data.get("members", "").split(","), f.data.get("canonical", "")]
    }
    members |= set(known_members)
    syncs = sum(1 for m in members if m.startswith(".github/workflows/") and (root / m).is_file())
    known_members.update(members)
    return Counts(
        compose=sorted(compose),
        syncs=syncs if members else result.metrics.secret_sync_workflows,
        redundant_syncs=sum(1 for f in result.findings if f.rule_id == "redundant-workflow"),
        ips_code=ips,
        deploy_py=sorted(p for p in live if _DEPLOY_PY.match(p)),
    )


def mentions(root: Path, files: list[str], archived: list[str]) -> set[tuple[str, str]]:
    """(file, archived path) for every live file that still names an archived file.

    A name is the path, a Python module's dotted path, and the bare file name unless a live
    file has the same name (then the bare name means that one: ``./deploy.sh``).
    """
    taken = {PurePosixPath(p).name for p in files}
    words: dict[str, set[str]] = {}
    for path in archived:
        pure = PurePosixPath(path)
        names = [path]
        if pure.name not in taken:
            names.append(pure.name)
        if pure.suffix == ".py" and pure.stem != "__init__":
            names.append(".".join(pure.with_suffix("").parts))
        for name in names:
            words.setdefault(name, set()).add(path)
    if not words:
        return set()
    found: set[tuple[str, str]] = set()
    for rel in files:
        try:
            text = (root / rel).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        for word, paths in words.items():
            if word in text and re.search(r"(?<![\w-])" + re.escape(word) + r"(?![\w-])", text):
                found.update((rel, path) for path in paths if path != rel)
    return found


def check_target(corpus: Path, repo: str, commit: str, why: str) -> bool:
    """Export, plan, apply, measure, undo; print every item. True when all hold."""
    source = git_dir(corpus, repo)
    if source is None:
        print(f"{repo}: no git dir under {corpus}; skipped")
        return True
    with tempfile.TemporaryDirectory() as tmp:
        tree = Path(tmp) / "tree"
        tree.mkdir()
        written, missing = export(source, commit, tree)
        commit_all(tree, "corpus")
        return _check_tree(tree, f"{repo}@{commit[:7]} ({why})", written, missing)


def _check_tree(tree: Path, label: str, written: int, missing: int) -> bool:
    before_scan = scan(tree)
    skip = out_of_scope(before_scan)
    members: set[str] = set()
    before = counts(tree, before_scan, skip, members)
    files = [p for p in git(tree, "ls-files", "-z").split("\0") if p]
    code_before = compiling(tree, [p for p in files if p not in skip])
    snap_before = snapshot(tree)
    index_before = git(tree, "ls-files", "-s")
    plan_s, plan_cpu = best_of(REPEAT, lambda: plan_once(tree))
    plan = make_plan(tree, before_scan.findings)
    apply_plan(tree, plan)
    after_scan = scan(tree)
    after = counts(tree, after_scan, skip, members)
    moves = {op.path: op.target or "" for op in plan.operations if op.kind == "move"}
    touched = {p for op in plan.operations for p in op.touched()}
    snap_after = snapshot(tree)
    vendored_touched = sorted(
        p for p in skip if p in touched or snap_after.get(p) != snap_before.get(p)
    )
    broken = sorted(
        p
        for p in code_before
        if not (tree / moves.get(p, p)).is_file() or not compiles(tree / moves.get(p, p))
    )
    live = [
        p
        for p in git(tree, "ls-files", "-z", "-c", "-o", "--exclude-standard").split("\0")
        if p and p not in skip and not p.startswith(("archive/", ".sophia/"))
    ]
    refs = mentions(tree, live, sorted(moves))
    listed = {(s.path, m.group(1)) for s in plan.skipped if (m := _REFERS.search(s.reason))}
    refs_unlisted = sorted(refs - listed)
    leftover = {
        (f.rule_id, f.path, f.line)
        for f in after_scan.findings
        if f.rule_id in FIXED_RULES and not f.path.startswith("archive/")
    }
    reported = {(s.rule_id, s.path, s.line) for s in plan.skipped}
    reported_files = {(s.rule_id, s.path) for s in plan.skipped}
    silent = sorted(x for x in leftover if x not in reported and (x[0], x[1]) not in reported_files)
    no_reason = [s for s in plan.skipped if not s.reason.strip()]
    undo(tree)
    restored = snapshot(tree) == snap_before and git(tree, "ls-files", "-s") == index_before
    want_syncs = 1 if before.syncs else 0
    items = [
        (
            "compose/stack files outside archive/",
            len(before.compose),
            len(after.compose),
            len(after.compose) == 0,
            after.compose,
        ),
        (
            "secret-sync workflows (want exactly 1)",
            before.syncs,
            after.syncs,
            after.syncs == want_syncs and after.redundant_syncs == 0,
            [],
        ),
        (
            "infrastructure IPs in .py/.sh",
            len(before.ips_code),
            len(after.ips_code),
            not after.ips_code,
            after.ips_code,
        ),
        (
            "scripts/*deploy*.py (at most 2)",
            len(before.deploy_py),
            len(after.deploy_py),
            len(after.deploy_py) <= 2,
            after.deploy_py,
        ),
        (
            ".py/.sh that compiled and no longer do",
            len(code_before),
            len(broken),
            not broken,
            broken,
        ),
        (
            "references to archived files not rewritten or listed",
            len(moves),
            len(refs_unlisted),
            not refs_unlisted,
            [f"{a} -> {b}" for a, b in refs_unlisted],
        ),
        (
            "findings left that the plan does not list",
            len(leftover),
            len(silent),
            not silent and not no_reason,
            [":".join(map(str, x)) for x in silent],
        ),
        (
            "vendored/generated files edited or moved",
            len(skip),
            len(vendored_touched),
            not vendored_touched,
            vendored_touched,
        ),
        (
            "undo restores every file byte for byte",
            len(snap_before),
            0 if restored else 1,
            restored,
            [],
        ),
    ]
    print(
        f"\n{label}: {written} files ({missing} blobs missing), "
        f"{before_scan.stats.files_scanned} scanned, {len(skip)} vendored/generated; "
        f"plan {len(plan.operations)} operations, {len(plan.skipped)} listed as not fixed; "
        f"cleanup plan {plan_s:.2f} s wall, {plan_cpu:.2f} s CPU "
        f"(goal {PLAN_GOAL_S:.0f} s on 2,500 files)"
    )
    ok = True
    for title, was, now, good, examples in items:
        ok &= good
        shown = f"  e.g. {', '.join(examples[:4])}" if examples and not good else ""
        print(f"  {'ok  ' if good else 'FAIL'} {title:55} before {was:5}  after {now:5}{shown}")
    return ok


_REFERS = re.compile(r"refers to archived `([^`]+)`")


def scaled_copy(source: Path, dest: Path, times: int) -> int:
    """``times`` copies of ``source``'s tracked files under ``copy<i>/``, committed."""
    dest.mkdir()
    files = [p for p in git(source, "ls-files", "-z").split("\0") if p]
    for i in range(times):
        for rel in files:
            target = dest / f"copy{i}" / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source / rel, target)
    commit_all(dest, "scaled")
    return len(files) * times


def plan_split(root: Path) -> tuple[float, float, float]:
    """Wall, audit CPU and plan CPU seconds of one ``cleanup plan`` of ``root``."""
    started, cpu_started = time.perf_counter(), time.process_time()
    result = scan(root)
    audited = time.process_time()
    make_plan(root, result.findings)
    return time.perf_counter() - started, audited - cpu_started, time.process_time() - audited


def time_plans(label: str, trees: list[tuple[int, Path]]) -> None:
    """Print cleanup-plan times per tree size (audit and plan CPU apart) and the growth per file.

    Each figure is the best of ``REPEAT`` runs (by CPU): load on a shared machine inflates wall
    time, and CPU time less so.
    """
    base: float | None = None
    for files, tree in trees:
        runs = [plan_split(tree) for _ in range(REPEAT)]
        wall = min(r[0] for r in runs)
        _, audit_cpu, plan_cpu = min(runs, key=lambda r: r[1] + r[2])
        cpu = audit_cpu + plan_cpu
        per_file = cpu / files * 1000
        base = base or per_file
        print(
            f"  {label} {files:6} files: cleanup plan {wall:6.2f} s wall, {cpu:6.2f} s CPU "
            f"(audit {audit_cpu:.2f} + plan {plan_cpu:.2f}; {per_file:.2f} ms CPU/file, "
            f"{per_file / base:.2f}× the smallest tree's per file)"
        )


def scaling(corpus: Path, repo: str, commit: str) -> None:
    """``cleanup plan`` on one target's tree and on copies of it at 2× and 4× the files."""
    source = git_dir(corpus, repo)
    if source is None:
        return
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp) / "base"
        base.mkdir()
        export(source, commit, base)
        commit_all(base, "corpus")
        trees = []
        for n in (1, 2, 4):
            tree = Path(tmp) / f"x{n}"
            trees.append((scaled_copy(base, tree, n), tree))
        time_plans(f"{repo}@{commit[:7]} ×n", trees)


def synthetic(tmp: Path) -> None:
    """Plan timing on generated chaos repositories."""
    from tests.fixtures.chaos_repo import generate

    trees = []
    for files in (2500, 5000, 10000):
        tree = tmp / f"chaos{files}"
        generate(tree, files=files)
        trees.append((len([p for p in git(tree, "ls-files", "-z").split("\0") if p]), tree))
    time_plans("chaos repository", trees)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--synthetic-only", action="store_true")
    parser.add_argument("--repeat", type=int, default=3, help="timed plans per tree (best of)")
    parser.add_argument("--no-synthetic", action="store_true", help="the corpus part only")
    parser.add_argument(
        "--only", action="append", help="only targets whose repo@commit holds this; no scaling"
    )
    parser.add_argument(
        "--scaling-only", action="store_true", help="only the ×1/×2/×4 cleanup-plan timings"
    )
    args = parser.parse_args()
    global REPEAT
    REPEAT = max(1, args.repeat)
    print(
        f"load: {os.getloadavg()[0]:.2f} (1 min), best of {REPEAT}; goal: cleanup plan <= "
        f"{PLAN_GOAL_S} s on 2,500 files, linear in files; the Definition of Done after one apply"
    )
    ok = True
    if not args.no_synthetic:
        with tempfile.TemporaryDirectory() as tmp:
            synthetic(Path(tmp))
    corpus_env = os.environ.get("SOPHIA_AUDIT_CORPUS")
    if args.synthetic_only or not corpus_env:
        print("corpus part skipped: set SOPHIA_AUDIT_CORPUS to the fetched git dirs")
        return 0
    corpus = Path(corpus_env)
    if not args.scaling_only:
        for repo, commit, why in TARGETS:
            if not args.only or any(o in f"{repo}@{commit}" for o in args.only):
                ok &= check_target(corpus, repo, commit, why)
    # Linearity: the richest labelled tree and the held-out-shaped one (2,932 files), ×1/×2/×4.
    for repo, commit, _ in [] if args.only else TARGETS[:2]:
        scaling(corpus, repo, commit)
    print(f"load: {os.getloadavg()[0]:.2f} (1 min) at the end")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
