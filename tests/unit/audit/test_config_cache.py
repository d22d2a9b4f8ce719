"""The validated-config cache: a known ``.sophia-audit.yml`` loads without yaml or pydantic."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from sophia_platform.audit.config import AuditConfig, load_config
from sophia_platform.errors import InputError

CONFIG = """version: 1
exclude: ["vendor/**"]
allow:
  paths: ["docs/history/**"]
  values: ["10.8.0.1"]
  rules:
    hardcoded-ip: {paths: ["docs/network.md"], values: ["10.9.0.1"]}
canonical: {secret-sync: .github/workflows/sync.yml}
vendored: false
include: ["vendor/ours/**"]
baseline: .sophia-audit-baseline.json
"""


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(folder))
    return folder / "sophia-platform" / "audit-config"


def _repo(tmp_path: Path, text: str) -> Path:
    root = tmp_path / "repo"
    root.mkdir(exist_ok=True)
    (root / ".sophia-audit.yml").write_text(text)
    return root


def test_second_load_comes_from_the_cache_and_equals_the_parse(tmp_path: Path, cache: Path) -> None:
    root = _repo(tmp_path, CONFIG)
    parsed = load_config(root)
    assert parsed.vendored is False and parsed.allow_rules["hardcoded-ip"].values == {"10.9.0.1"}
    assert len(list(cache.glob("*.json"))) == 1
    assert load_config(root) == parsed  # every field survives the round trip


def test_a_cached_load_imports_neither_pydantic_nor_ruamel(tmp_path: Path, cache: Path) -> None:
    root = _repo(tmp_path, CONFIG)
    load_config(root)  # fills the cache
    probe = (
        "import sys; from pathlib import Path; from sophia_platform.audit.config import "
        f"load_config; c = load_config(Path({str(root)!r})); "
        "print(c.vendored, 'pydantic' in sys.modules, 'ruamel.yaml' in sys.modules)"
    )
    env = {**os.environ, "XDG_CACHE_HOME": str(cache.parents[1])}
    out = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == ["False", "False", "False"]


def test_an_edited_file_is_parsed_again_and_a_bad_one_never_cached(
    tmp_path: Path, cache: Path
) -> None:
    root = _repo(tmp_path, CONFIG)
    load_config(root)
    _repo(tmp_path, CONFIG.replace("vendored: false", "vendored: true"))
    assert load_config(root).vendored is True
    _repo(tmp_path, "version: 1\nallow:\n  pathz: []\n")
    for _ in range(2):  # the error every time: nothing was cached for it
        with pytest.raises(InputError, match=r"allow/pathz"):
            load_config(root)
    assert len(list(cache.glob("*.json"))) == 2


def test_an_unreadable_cache_entry_falls_back_to_parsing(tmp_path: Path, cache: Path) -> None:
    root = _repo(tmp_path, CONFIG)
    expected = load_config(root)
    [entry] = cache.glob("*.json")
    entry.write_text(json.dumps({"exclude": "not a list of the right shape"}))
    assert load_config(root) == expected
    assert load_config(tmp_path / "nothing-here") == AuditConfig()


def test_a_read_only_cache_costs_only_the_parse(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "file-not-folder"
    blocker.write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))  # mkdir under a file fails
    root = _repo(tmp_path, CONFIG)
    assert load_config(root).include == ("vendor/ours/**",)
