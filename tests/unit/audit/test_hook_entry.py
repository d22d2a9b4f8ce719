"""The hook definitions in ``.pre-commit-hooks.yaml``, and what their entry costs at start-up."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[3]
HOOKS = {h["id"]: h for h in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}


def test_hooks_are_defined_for_pre_commit() -> None:
    assert set(HOOKS) == {"sophia-audit", "sophia-validate"}
    for hook in HOOKS.values():
        assert hook["language"] == "python" and hook["name"] and hook["description"]
        assert shlex.split(hook["entry"])[0] == "sophia"
    audit = HOOKS["sophia-audit"]
    assert shlex.split(audit["entry"])[1:] == ["audit", "--format", "concise", "--fail-on", "any"]
    assert audit.get("pass_filenames", True) and audit["types"] == ["text"]
    validate = HOOKS["sophia-validate"]
    assert validate["pass_filenames"] is False
    files = re.compile(validate["files"])
    assert files.search("sophia.yaml") and files.search("sophia.yml")
    assert not files.search("docs/sophia.yaml") and not files.search("sophia.yaml.bak")


def test_the_audit_hook_entry_imports_no_heavy_library(tmp_path: Path) -> None:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / "app.py").write_text('REDIS_HOST = "10.20.30.40"\n')
    argv = [*shlex.split(HOOKS["sophia-audit"]["entry"])[1:], "app.py"]
    code = (
        "import sys; from sophia_platform.cli.main import main; rc = main(sys.argv[1:]);"
        "heavy = [m for m in ('rich', 'kubernetes', 'httpx', 'pydantic', 'ruamel', 'yaml')"
        " if m in sys.modules]; print('HEAVY', heavy, 'RC', rc)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, *argv], cwd=tmp_path, capture_output=True, text=True
    )
    assert "app.py:1: hardcoded-ip:" in done.stdout
    assert "HEAVY [] RC 1" in done.stdout, done.stdout + done.stderr
