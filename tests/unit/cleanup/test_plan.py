from __future__ import annotations

import json
from pathlib import Path

import pytest

from sophia_platform.cleanup.paths import inside
from sophia_platform.cleanup.plan import (
    Operation,
    Plan,
    TextEdit,
    apply_edits,
    blob_id,
    split_lines,
)
from sophia_platform.errors import CheckFailed, InputError


def test_blob_id_matches_git() -> None:
    assert blob_id(b"") == "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391"
    assert blob_id(b"hello\n") == "ce013625030ba8dba906f756967f9e9ca394464a"


def test_split_lines_only_on_newline() -> None:
    assert split_lines("a\fb\r\nc\u2028d") == ["a\fb\r\n", "c\u2028d"]
    assert split_lines("x\n") == ["x\n"]


def test_apply_edits_right_to_left_and_append() -> None:
    text = "host = 1.2.3.4 and 1.2.3.4\nlast"
    edits = [
        TextEdit(1, 7, 14, "1.2.3.4", "A"),
        TextEdit(1, 19, 26, "1.2.3.4", "B"),
        TextEdit(3, 0, 0, "", "\nnew\n"),
    ]
    assert apply_edits(text, edits) == "host = A and B\nlast\nnew\n"
    with pytest.raises(ValueError, match="expected text"):
        apply_edits(text, [TextEdit(1, 0, 4, "nope", "x")])


def test_plan_round_trip_and_version() -> None:
    plan = Plan(
        operations=[
            Operation(
                "edit", "a.py", "why", before="1", after="2", edits=[TextEdit(1, 0, 1, "a", "b")]
            ),
            Operation("move", "c.yml", "why", target="archive/c.yml"),
        ],
        names={"10.0.0.1": "X_HOST"},
    )
    again = Plan.from_json(plan.to_json())
    assert again == plan and again.digest() == plan.digest()
    raw = json.loads(plan.to_json())
    raw["version"] = 99
    with pytest.raises(InputError, match="version"):
        Plan.from_json(json.dumps(raw))
    with pytest.raises(InputError, match="not a cleanup plan"):
        Plan.from_json("[]")


@pytest.mark.parametrize(
    "rel", ["../x", "/etc/passwd", "a/../../x", ".git/config", "", "a\\b", "link/inner.txt"]
)
def test_inside_refuses(tmp_path: Path, rel: str) -> None:
    root = (tmp_path / "repo").resolve()
    root.mkdir()
    (tmp_path / "out").mkdir()
    (root / "link").symlink_to(tmp_path / "out")
    with pytest.raises(CheckFailed, match="refusing"):
        inside(root, rel)


def test_inside_accepts_plain_paths(tmp_path: Path) -> None:
    root = tmp_path.resolve()
    assert inside(root, "a/b/c.txt") == root / "a" / "b" / "c.txt"
