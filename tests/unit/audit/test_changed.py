"""Scanning part of a repository: named files (a pre-commit hook), ``--since``, ``--changed``."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from sophia_platform.audit import ScanOptions, scan
from sophia_platform.cli.main import main
from sophia_platform.errors import InputError
from tests.fixtures.git import git, write

DUPLICATE = "def handler():\n" + "".join(f"    step_{i}()\n" for i in range(30))


@pytest.fixture
def history(tmp_path: Path) -> Path:
    """main: files with debt, then one more commit; branch `feature` (forked before it): two
    commits with a deletion and a rename, then a staged, an unstaged and an untracked change."""
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    write(
        root,
        {
            "old/a.py": 'A = "10.1.0.1"\n',
            "old/b.py": 'B = "10.1.0.2"\n',
            "old/gone.py": 'G = "10.1.0.3"\n',
            "old/moved.py": 'M = "10.1.0.4"\n',
            "old/handler.py": DUPLICATE,
            "old/untouched.py": 'U = "10.1.0.5"\n',
        },
    )
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "base")
    git(root, "checkout", "-q", "-b", "feature")
    write(root, {"new/c.py": 'C = "10.2.0.1"\n', "old/a.py": 'A = "10.2.0.2"\n'})
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "feature 1")
    git(root, "rm", "-q", "old/gone.py")
    git(root, "mv", "old/moved.py", "new/moved.py")
    git(root, "commit", "-q", "-m", "feature 2")
    git(root, "checkout", "-q", "main")
    write(root, {"old/untouched.py": 'U = "10.1.0.9"\n'})  # main moves on after the fork
    git(root, "commit", "-q", "-am", "main moves")
    git(root, "checkout", "-q", "feature")
    write(root, {"staged.py": 'S = "10.3.0.1"\n', "copy/handler.py": DUPLICATE})
    git(root, "add", "staged.py", "copy/handler.py")
    write(root, {"old/b.py": 'B = "10.3.0.2"\n', "untracked.py": 'T = "10.3.0.3"\n'})
    write(root, {".gitignore": "ignored.py\n", "ignored.py": 'I = "10.3.0.4"\n'})
    return root


def paths(root: Path, options: ScanOptions) -> list[str]:
    return sorted({f.path for f in scan(root, options).findings})


def test_since_reports_only_files_changed_since_the_merge_base(history: Path) -> None:
    result = scan(history, ScanOptions(since="main"))
    assert sorted({f.path for f in result.findings}) == [
        "new/c.py",
        "new/moved.py",
        "old/a.py",
        "old/b.py",
        "staged.py",
        "untracked.py",
    ]
    assert result.skipped_rules == (
        "redundant-workflow",
        "duplicate-file",
        "docs-secret-name",
        "docs-conflicting-deploy",
    )
    assert "duplicate-file" not in result.rules
    assert result.stats.files_listed == 8  # the six above, .gitignore and copy/handler.py


def test_since_in_a_folder(history: Path) -> None:
    assert paths(history / "new", ScanOptions(since="main")) == ["new/c.py", "new/moved.py"]
    assert paths(history / "old" / "a.py", ScanOptions(since="main")) == ["old/a.py"]


def test_changed_is_since_head(history: Path) -> None:
    assert paths(history, ScanOptions(since="HEAD")) == ["old/b.py", "staged.py", "untracked.py"]
    git(history, "add", "-A")
    git(history, "commit", "-q", "-m", "all of it")
    assert paths(history, ScanOptions(since="HEAD")) == []  # ignored.py stays ignored


def test_a_full_scan_still_runs_the_repository_rules(history: Path) -> None:
    result = scan(history)
    assert result.skipped_rules == ()
    assert {f.rule_id for f in result.findings} >= {"duplicate-file", "hardcoded-ip"}
    assert "old/untouched.py" in {f.path for f in result.findings}


def test_named_files_only(history: Path) -> None:
    os.chdir(history)
    only = (Path("old/a.py"), Path("ignored.py"), Path("new"))
    assert paths(history, ScanOptions(only=only)) == [
        "ignored.py",  # named explicitly: scanned though git ignores it
        "new/c.py",
        "new/moved.py",
        "old/a.py",
    ]
    # Both: the named files that also changed since main.
    both = ScanOptions(only=(Path("old"),), since="main")
    assert paths(history, both) == ["old/a.py", "old/b.py"]


def test_bad_refs_and_places(history: Path, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no commit 'nope'"):
        scan(history, ScanOptions(since="nope"))
    with pytest.raises(InputError, match="not a git revision"):
        scan(history, ScanOptions(since="--output=x"))
    with pytest.raises(InputError, match="outside the repository"):
        scan(history, ScanOptions(only=(tmp_path / "elsewhere.py",)))
    plain = tmp_path / "plain"
    plain.mkdir()
    with pytest.raises(InputError, match="not a git work tree"):
        scan(plain, ScanOptions(since="HEAD"))


def test_changed_in_a_repository_without_commits(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q")
    write(tmp_path, {"a.py": 'A = "10.4.0.1"\n'})
    assert paths(tmp_path, ScanOptions(since="HEAD")) == ["a.py"]


def test_cli_concise_since_and_changed(
    history: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(history)
    assert main(["audit", "--changed", "--format", "concise", "--fail-on", "any"]) == 1
    out, err = capsys.readouterr()
    assert out.splitlines() == [
        "old/b.py:1: hardcoded-ip: hardcoded host address 10.3.0.2 (B); "
        "read it from configuration instead",
        "staged.py:1: hardcoded-ip: hardcoded host address 10.3.0.1 (S); "
        "read it from configuration instead",
        "untracked.py:1: hardcoded-ip: hardcoded host address 10.3.0.3 (T); "
        "read it from configuration instead",
    ]
    assert "not run: redundant-workflow, duplicate-file" in err
    assert main(["audit", "--since", "main", "--json"]) == 1  # findings remain: exit 1
    doc = json.loads(capsys.readouterr().out)
    assert {f["path"] for f in doc["findings"]} >= {"new/c.py", "old/a.py"}
    assert main(["audit", "old/a.py", "staged.py", "--format", "concise", "--exit-zero"]) == 0
    out, err = capsys.readouterr()
    assert [line.split(":")[0] for line in out.splitlines()] == ["old/a.py", "staged.py"]
    assert "note:" not in err  # files named by a hook are the part asked for


def test_cli_refuses_contradictions(
    history: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(history)
    assert main(["audit", "--since", "main", "--changed"]) == 2
    assert main(["audit", "old/a.py", "--write-baseline", "b.json"]) == 2
    assert main(["audit", "old/a.py", "no-such.py"]) == 2
    err = capsys.readouterr().err
    assert "give one" in err and "whole repository" in err and "no-such.py" in err
    assert not (history / "b.json").exists()


def test_config_names_the_baseline(history: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(history)
    write(history, {".sophia-audit.yml": "version: 1\nbaseline: audit/baseline.json\n"})
    assert main(["audit", "--write-baseline", "audit/baseline.json", "--exit-zero"]) == 0
    assert scan(history).findings == []
    assert main(["audit", "--fail-on", "any"]) == 0
    write(history, {"old/a.py": 'A = "10.2.0.2"\nA2 = "10.5.0.1"\n'})
    assert [f.data["address"] for f in scan(history).findings] == ["10.5.0.1"]
    # Writing a baseline again records everything, not just what the old one leaves over.
    assert main(["audit", "--write-baseline", "audit/baseline.json", "--exit-zero"]) == 0
    recorded = json.loads((history / "audit/baseline.json").read_text())["findings"]
    assert len(recorded) > 1
    write(history, {".sophia-audit.yml": "version: 1\nbaseline: missing.json\n"})
    with pytest.raises(InputError, match="no such baseline"):
        scan(history)
