from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest

from sophia_platform.audit import ScanOptions, scan, scanner
from sophia_platform.audit.baseline import load_baseline, write_baseline
from sophia_platform.audit.config import load_config
from sophia_platform.audit.filepass import FilePass
from sophia_platform.audit.rules import RULE_IDS
from sophia_platform.audit.scanner import _file_pass, _runs
from sophia_platform.audit.vendored import Scope
from sophia_platform.audit.walker import list_files
from sophia_platform.errors import InputError


def git_repo(tmp_path: Path, files: dict[str, str | bytes]) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return root


def test_git_aware_listing_and_all_files(tmp_path: Path) -> None:
    root = git_repo(
        tmp_path,
        {
            ".gitignore": "build/\n",
            "app.py": 'HOST = "10.0.0.5"\n',
            "build/gen.py": 'HOST = "10.0.0.6"\n',
        },
    )
    default = scan(root)
    assert [f.path for f in default.findings] == ["app.py"]
    everything = scan(root, ScanOptions(all_files=True))
    assert sorted(f.path for f in everything.findings) == ["app.py", "build/gen.py"]
    assert default.stats.git_aware


def test_binary_huge_and_encodings(tmp_path: Path) -> None:
    root = git_repo(
        tmp_path,
        {
            "logo.png": b"\x89PNG\r\n\x1a\n\x00\x00 10.0.0.5",
            "big.txt": "HOST=10.0.0.5\n" * 100,
            "latin.py": 'NAME = "caf\xe9"\nHOST = "10.0.0.7"\n'.encode("latin-1"),
            "utf16.txt": "HOST=10.0.0.8\n".encode("utf-16"),
        },
    )
    result = scan(root, ScanOptions(max_file_bytes=1000))
    assert sorted(f.data["address"] for f in result.findings) == ["10.0.0.7", "10.0.0.8"]
    assert result.stats.skipped_by_reason() == {"binary": 1, "too-large": 1}
    (latin,) = [f for f in result.findings if f.path == "latin.py"]
    assert (latin.line, latin.column) == (2, 9)


def test_not_a_git_repo_is_walked(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.sh").write_text("ssh root@10.0.0.5\n")
    result = scan(tmp_path)
    assert not result.stats.git_aware
    assert [f.path for f in result.findings] == ["sub/a.sh"]


def test_inline_config_and_baseline_suppression(tmp_path: Path) -> None:
    root = git_repo(
        tmp_path,
        {
            "a.py": 'A = "10.0.0.1"  # sophia: ignore[hardcoded-ip]\nB = "10.0.0.2"\n'
            "# sophia: ignore\nC = '10.0.0.3'\nD = '10.0.0.4'\n",
            "docs/net.md": "gateway 10.9.9.9\n",
            "b.py": 'E = "10.5.5.5"\nF = "10.6.6.6"\n',
            ".sophia-audit.yml": "allow:\n  paths: ['docs/']\n  values: ['10.5.5.5']\n",
        },
    )
    result = scan(root)
    assert sorted(f.data["address"] for f in result.findings) == [
        "10.0.0.2",
        "10.0.0.4",
        "10.6.6.6",
    ]
    assert result.suppressed == {"inline": 2, "allow-list": 2}

    baseline = tmp_path / "baseline.json"
    assert write_baseline(baseline, result.findings) == 3
    # Lines move: the baseline still matches.
    (root / "a.py").write_text("\n\n" + (root / "a.py").read_text())
    again = scan(root, ScanOptions(baseline=load_baseline(baseline)))
    assert again.findings == []
    assert again.suppressed["baseline"] == 3
    # A new finding is not covered.
    (root / "c.py").write_text('G = "10.7.7.7"\n')
    assert [f.path for f in scan(root, ScanOptions(baseline=load_baseline(baseline))).findings] == [
        "c.py"
    ]


def test_baseline_versions(tmp_path: Path) -> None:
    old = tmp_path / "old.json"
    old.write_text(json.dumps(["abc", "def"]))
    assert load_baseline(old).fingerprints == {"abc", "def"}
    future = tmp_path / "future.json"
    future.write_text(json.dumps({"version": 99, "findings": []}))
    with pytest.raises(InputError, match="unsupported baseline version"):
        load_baseline(future)


def test_bad_config_names_the_problem(tmp_path: Path) -> None:
    root = git_repo(tmp_path, {".sophia-audit.yml": "allow:\n  pathz: []\n"})
    with pytest.raises(InputError, match=r"\.sophia-audit\.yml: allow/pathz"):
        scan(root)


def test_unknown_rule_and_missing_path(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="unknown rule"):
        scan(tmp_path, ScanOptions(rules=frozenset({"nope"})))
    with pytest.raises(InputError, match="no such file"):
        scan(tmp_path / "missing")


def test_duplicate_fingerprints_are_disambiguated(tmp_path: Path) -> None:
    root = git_repo(tmp_path, {"a.sh": "ssh 10.0.0.5\nssh 10.0.0.5\n"})
    findings = scan(root).findings
    assert len({f.fingerprint for f in findings}) == 2


def test_archive_is_excluded_by_default(tmp_path: Path) -> None:
    root = git_repo(tmp_path, {"archive/docker-compose.yml": "services:\n  a:\n    image: x\n"})
    result = scan(root)
    assert result.findings == []
    assert result.stats.skipped_by_reason() == {"archived": 1}


def test_archived_files_are_still_checked_for_committed_secrets(tmp_path: Path) -> None:
    """Archiving retires a file; a credential in it stays committed until it is rotated."""
    token = "ghp_" + "Zq8Xv2Lm4Np6Rt0Yw3Bc5Df7Gh9Jk1MnOpQr"
    root = git_repo(tmp_path, {"archive/deploy.sh": f"ssh 10.0.0.5\nGITHUB_TOKEN={token}\n"})
    result = scan(root)
    assert [(f.rule_id, f.path, f.line) for f in result.findings] == [
        ("committed-secret", "archive/deploy.sh", 2)
    ]
    (root / ".sophia-audit.yml").write_text("version: 1\nexclude: ['archive/**']\n")
    assert scan(root).findings == []  # an explicit exclude still means "never read"


def test_subfolder_paths_stay_repo_relative(tmp_path: Path) -> None:
    root = git_repo(tmp_path, {"svc/api/a.py": 'H = "10.0.0.5"\n', "b.py": 'H = "10.0.0.6"\n'})
    result = scan(root / "svc")
    assert result.root == root.resolve()
    assert [f.path for f in result.findings] == ["svc/api/a.py"]


def test_parallel_pass_matches_sequential(tmp_path: Path) -> None:
    files = {f"m{i}/c.py": f'HOST = "10.0.{i}.5"\nKEY = "changeme"\n' for i in range(40)}
    root = git_repo(tmp_path, files)
    one, two = scan(root, ScanOptions(jobs=1)), scan(root, ScanOptions(jobs=2))
    assert one.findings == two.findings
    assert one.stats.files_scanned == two.stats.files_scanned == 40


def test_parallel_pass_with_vendored_files_and_skips_matches_sequential(tmp_path: Path) -> None:
    files = {f"node_modules/p{i}/i.js": 'x = "10.0.0.9"\n' for i in range(30)}
    files.update({f"s{i}.py": f'HOST = "10.1.{i}.5"\n' * (i + 1) for i in range(20)})
    files["big.py"] = 'HOST = "10.2.0.5"\n' * 5000
    root = git_repo(tmp_path, files)
    one, two = scan(root, ScanOptions(jobs=1)), scan(root, ScanOptions(jobs=2))
    assert one.findings == two.findings
    assert one.stats.skipped == two.stats.skipped  # same files, same order
    assert one.metrics == two.metrics


def test_runs_cut_the_listing_into_contiguous_runs_of_equal_size() -> None:
    paths = [f"f{i:03}" for i in range(200)]
    sizes = [50] * 40 + [1] * 160  # the big files are all at the start of the listing
    runs = _runs(paths, sizes, 8)
    assert [p for run in runs for p in run] == paths  # every path once, in listing order
    assert len(runs) == 8 and all(runs)
    loads = [sum(sizes[paths.index(p)] for p in run) for run in runs]
    assert max(loads) - min(loads) <= max(sizes) * 2, loads
    assert _runs(["a"], [5], 8) == [["a"]]
    assert [p for run in _runs(paths[:3], [0, 0, 0], 8) for p in run] == paths[:3]


def test_parallel_pass_equals_the_sequential_pass_in_order(tmp_path: Path) -> None:
    """Summaries (which corpus rules judge in order), skips and ignores as one process has them."""
    files = {
        f"m{i:02}/deploy_{i}.sh": f"docker stack deploy -c s{i}.yml x\n# sophia: ignore\n"
        for i in range(30)
    }
    files.update(
        {
            f"d{i:02}/README.md": "Set OPENAI_API_KEY and run `docker compose up -d`.\n" * (i + 1)
            for i in range(30)
        }
    )
    files.update({f"n{i}/node_modules/x.js": "a" for i in range(5)})
    root = git_repo(tmp_path, files)
    listing = list_files(root)
    config = load_config(listing.root)
    scope = Scope.of(listing.paths, enabled=config.vendored, include=config.include)
    one = _file_pass(listing.root, listing.paths, config, RULE_IDS, ScanOptions(jobs=1), scope)
    two = _file_pass(listing.root, listing.paths, config, RULE_IDS, ScanOptions(jobs=2), scope)
    assert two.findings == one.findings
    assert dict(two.summaries) == dict(one.summaries)
    assert list(two.ignores.items()) == list(one.ignores.items())
    assert two.skipped == one.skipped and (two.files, two.bytes) == (one.files, one.bytes)


def test_parallel_pass_raises_a_workers_error_and_leaves_no_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = git_repo(tmp_path, {f"d{i:02}/deploy.sh": "docker stack deploy x\n" for i in range(40)})
    listing = list_files(root)
    config = load_config(listing.root)
    scope = Scope.of(listing.paths, enabled=config.vendored, include=config.include)
    parent, real = os.getpid(), scanner.run_pass

    def run_pass(*args: object) -> FilePass:
        if os.getpid() != parent:
            raise RuntimeError("worker failed on purpose")
        time.sleep(0.01)  # the parent is slow: the forked workers surely take runs
        return real(*args)  # type: ignore[arg-type]

    forked: list[int] = []
    real_fork = os.fork

    def fork() -> int:
        pid = real_fork()
        if pid:
            forked.append(pid)
        return pid

    monkeypatch.setattr(scanner, "run_pass", run_pass)
    monkeypatch.setattr(os, "fork", fork)
    with pytest.raises(RuntimeError, match="worker failed on purpose"):
        _file_pass(listing.root, listing.paths, config, RULE_IDS, ScanOptions(jobs=3), scope)
    assert forked, "the pass forked no worker"
    # Every worker was waited for. Only the pass's own children are checked: in a full run,
    # session fixtures (the local cluster, sshd hosts) are children of this process too.
    for pid in forked:
        with pytest.raises(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)


def test_file_level_finding_ignored_on_first_line(tmp_path: Path) -> None:
    root = git_repo(
        tmp_path,
        {
            "docker-compose.yml": "# sophia: ignore[compose-file]\nservices:\n  a:\n    image: x\n",
            "compose.yaml": "services:\n  b:\n    image: y\n",
        },
    )
    result = scan(root, ScanOptions(rules=frozenset({"compose-file"})))
    assert [f.path for f in result.findings] == ["compose.yaml"]
    assert result.suppressed == {"inline": 1}


def test_symlinks_are_not_followed(tmp_path: Path) -> None:
    root = git_repo(tmp_path, {"real.py": 'H = "10.0.0.5"\n'})
    (root / "link.py").symlink_to(root / "real.py")
    result = scan(root)
    assert [f.path for f in result.findings] == ["real.py"]
    assert result.stats.skipped_by_reason() == {"not-a-file": 1}


def test_deployment_methods_ignore_swarm_in_docs(tmp_path: Path) -> None:
    root = git_repo(tmp_path, {"docs/history.md": "We used `docker stack deploy` in 2023.\n"})
    assert scan(root).metrics.deployment_methods == ()
    (root / "run.sh").write_text("docker stack deploy -c s.yml app\nhelm upgrade --install a c\n")
    assert scan(root).metrics.deployment_methods == ("docker-swarm", "kubernetes")
