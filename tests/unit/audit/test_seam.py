"""The scan without a directory walk: pass_sources + conclude give what scan gives."""

from __future__ import annotations

import subprocess
from pathlib import Path

from sophia_platform.audit import (
    AuditConfig,
    RepoContext,
    ScanOptions,
    ScanStats,
    conclude,
    pass_sources,
    ruleset_version,
    scan,
)
from sophia_platform.audit.config import config_from_text
from sophia_platform.audit.rules import RULE_IDS

FILES = {
    "app/settings.py": 'REDIS_HOST = "192.222.51.151"\nDB = "10.0.0.7"  # sophia: ignore\n',
    "docker-compose.yml": "services:\n  api:\n    image: sophia-api\n    ports: ['8000:8000']\n",
    "scripts/deploy.sh": "#!/bin/sh\ndocker stack deploy -c stack.yml sophia\n",
    "scripts/deploy_fixed.sh": "#!/bin/sh\ndocker stack deploy -c stack.yml sophia\n",
    "archive/old.py": 'HOST = "150.136.94.21"\n',
    "docs/servers.md": "| control | 192.222.58.232 |\n",
}


def _repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    for rel, text in FILES.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    return root


def test_pass_sources_then_conclude_equals_scan(tmp_path: Path) -> None:
    root = _repo(tmp_path)
    expected = scan(root, ScanOptions())
    done = pass_sources(
        sorted((rel, text.encode()) for rel, text in FILES.items()),
        AuditConfig(),
        RULE_IDS,
        1_000_000,
    )
    got = conclude(
        done, RepoContext(root.resolve()), RULE_IDS, AuditConfig(), ScanOptions(), ScanStats()
    )
    assert [f.to_dict() for f in got.findings] == [f.to_dict() for f in expected.findings]
    assert got.metrics == expected.metrics
    assert got.suppressed == expected.suppressed == {"inline": 1}
    assert {s.path: s.reason for s in done.skipped} == {"archive/old.py": "archived"}
    assert got.counts()["hardcoded-ip"] == 2


def test_config_from_text_matches_file_config() -> None:
    config = config_from_text("exclude: ['docs/']\nallow:\n  values: ['192.222.51.151']\n")
    assert config.excluded("docs/servers.md")
    assert not config.excluded("app/settings.py")
    assert "192.222.51.151" in config.allow.values


def test_ruleset_version_is_a_stable_digest() -> None:
    version = ruleset_version()
    assert version.startswith("rules-") and len(version) == len("rules-") + 16
    assert version == ruleset_version()
