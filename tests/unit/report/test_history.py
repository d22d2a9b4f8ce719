"""The burn-down over a real git history, every number known by construction."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from sophia_platform.audit import RULE_IDS, ScanOptions, scan
from sophia_platform.report.history import Sampling, compute
from tests.fixtures.debt_history import STEPS, Step, build, commit


@pytest.fixture
def repo(tmp_path: Path) -> tuple[Path, list[str]]:
    root = tmp_path / "repo"
    return root, build(root)


def _expected(step: Step) -> dict[str, int]:
    return {rule: (step.counts or {}).get(rule, 0) for rule in RULE_IDS}


def test_every_commit_counts_exactly(repo: tuple[Path, list[str]], tmp_path: Path) -> None:
    root, shas = repo
    history = compute(root, cache_dir=tmp_path / "cache")
    assert [p.commit for p in history.points] == shas
    assert [p.counts for p in history.points] == [_expected(s) for s in STEPS]
    assert [p.metrics["manual_steps"] for p in history.points] == [s.manual for s in STEPS]
    assert [p.metrics["hardcoded_ips"] for p in history.points] == [2, 3, 2, 2, 1, 0]
    assert [p.metrics["compose_files"] for p in history.points] == [1, 1, 1, 0, 0, 0]
    assert [p.subject for p in history.points] == [s.subject for s in STEPS]
    assert history.stats.commits_in_branch == len(STEPS)
    assert history.stats.commits_cached == 0


def test_each_point_equals_the_audit_of_that_checkout(
    repo: tuple[Path, list[str]], tmp_path: Path
) -> None:
    root, shas = repo
    history = compute(root, cache_dir=tmp_path / "cache")
    for sha, point in zip(shas, history.points, strict=True):
        tree = tmp_path / f"co-{sha[:8]}"
        subprocess.run(["git", "worktree", "add", "-q", str(tree), sha], cwd=root, check=True)
        result = scan(tree, ScanOptions())
        assert point.counts == result.counts(), sha
        assert point.metrics["files"] == result.stats.files_scanned


def test_rerun_after_one_commit_scans_only_that_commit(
    repo: tuple[Path, list[str]], tmp_path: Path
) -> None:
    root, _ = repo
    first = compute(root, cache_dir=tmp_path / "cache")
    assert first.stats.blobs_scanned > 0
    again = compute(root, cache_dir=tmp_path / "cache")
    assert again.stats.blobs_scanned == 0
    assert again.stats.commits_cached == len(STEPS)
    assert again.points == first.points
    step = Step("one more address", {"app/extra.py": 'HOST = "150.136.94.21"\n'}, day=5)
    commit(root, step, 1_767_700_000)
    third = compute(root, cache_dir=tmp_path / "cache")
    assert third.stats.blobs_scanned == 1
    assert third.stats.commits_cached == len(STEPS)
    assert third.points[-1].counts["hardcoded-ip"] == 1


def test_sampling_last_since_and_every_day(repo: tuple[Path, list[str]], tmp_path: Path) -> None:
    root, shas = repo
    cache_dir = tmp_path / "cache"
    last = compute(root, Sampling(last=2), cache_dir=cache_dir)
    assert [p.commit for p in last.points] == shas[-2:]
    since = compute(root, Sampling(since=datetime(2026, 1, 3, tzinfo=UTC)), cache_dir=cache_dir)
    assert [p.commit for p in since.points] == shas[2:]
    daily = compute(root, Sampling(every="day"), cache_dir=cache_dir)
    # Day 2 has two commits: the later one stands for the day.
    assert [p.commit for p in daily.points] == [shas[0], shas[1], shas[3], shas[4], shas[5]]


def test_cache_lives_in_the_git_dir_by_default(
    repo: tuple[Path, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    root, _ = repo
    monkeypatch.delenv("SOPHIA_CACHE_DIR", raising=False)
    history = compute(root)
    assert Path(history.stats.cache).parent == (root / ".git" / "sophia-cache").resolve()


def test_vendored_generated_and_virtualenv_files_follow_the_audit(
    tmp_path: Path,
) -> None:
    root = tmp_path / "repo"
    shas = build(root, STEPS[:2])
    minified = "var a=1;" * 2000 + 'var h="150.136.94.21";\n'
    steps = [
        Step("vendored code", {"node_modules/lib/index.js": 'var h = "150.136.94.21";\n'}),
        Step("a bundle", {"web/app.js": minified}),
        Step(
            "a virtualenv",
            {"tools/env/pyvenv.cfg": "home = /usr\n", "tools/env/x.py": 'H = "150.136.94.21"\n'},
        ),
        Step("the virtualenv is gone", {}, remove=("tools/env/pyvenv.cfg",)),
        Step(
            "bring vendored code back in scope",
            {".sophia-audit.yml": "include: ['node_modules/**']\n"},
        ),
    ]
    for i, step in enumerate(steps):
        shas.append(commit(root, step, 1_768_000_000 + i * 60))
    history = compute(root, cache_dir=tmp_path / "cache")
    got = [p.counts["hardcoded-ip"] for p in history.points]
    for sha, point in zip(shas, history.points, strict=True):
        tree = tmp_path / f"co-{sha[:8]}"
        subprocess.run(["git", "worktree", "add", "-q", str(tree), sha], cwd=root, check=True)
        assert point.counts == scan(tree, ScanOptions()).counts(), sha
    assert got[2:] == [3, 3, 3, 4, 5]
