"""duplicate-file hashes the lines of a file on disk only when it is compared.

A file read from the work tree is summarised without its line hashes (only files sharing a
name with another are ever compared, and the judge reads those again); a git blob keeps them.
Both must give the same findings, and the cheap line count must equal the hashed one.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from sophia_platform.audit import RULE_IDS, ScanOptions, conclude, load_config, pass_sources, scan
from sophia_platform.audit.model import Finding, ScanStats
from sophia_platform.audit.rules.base import RepoContext
from sophia_platform.audit.rules.duplicate_file import MIN_LINES, has_lines, line_hashes
from tests.fixtures.chaos_repo import generate

LINE_PIECES = st.sampled_from(
    ["a", " ", "\t", "\r", "\x0b", "\x0c", "\n", "\xa0", "\u2003", "é", "x = 1", "\r\n"]
)


@settings(max_examples=300, deadline=None)
@given(text=st.lists(LINE_PIECES, max_size=20).map("".join))
def test_the_line_count_equals_the_hashed_lines(text: str) -> None:
    for count in range(1, MIN_LINES + 2):
        assert has_lines(text, count) == (len(line_hashes(text)) >= count)


def _duplicates(findings: list[Finding]) -> list[tuple[str, str, str]]:
    return sorted(
        (f.path, f.data["canonical"], f.data["similarity"])
        for f in findings
        if f.rule_id == "duplicate-file"
    )


def test_a_work_tree_scan_and_a_blob_pass_find_the_same_duplicates(tmp_path: Path) -> None:
    generate(tmp_path, files=400, seed=9, commit=False)
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    on_disk = scan(tmp_path, ScanOptions(jobs=1))
    assert _duplicates(on_disk.findings), "the fixture has duplicates"
    paths = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file())
    blobs = [(p, (tmp_path / p).read_bytes()) for p in paths if not p.startswith(".git/")]
    config = load_config(tmp_path)
    done = pass_sources(blobs, config, RULE_IDS, 1_000_000)
    from_blobs = conclude(done, RepoContext(tmp_path), RULE_IDS, config, ScanOptions(), ScanStats())
    assert _duplicates(from_blobs.findings) == _duplicates(on_disk.findings)
