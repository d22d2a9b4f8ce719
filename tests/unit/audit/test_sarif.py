"""SARIF for GitHub code scanning: the official 2.1.0 schema, fingerprints that hold across
commits, rule help, and the properties code scanning reads (security-severity, precision, tags).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
from jsonschema import Draft4Validator

from sophia_platform.audit import ScanOptions, scan
from sophia_platform.audit.reporters import sarif
from sophia_platform.audit.rules import RULES
from sophia_platform.cli.main import main
from tests.fixtures.git import commit, git

SCHEMA = json.loads((Path(__file__).parent / "data" / "sarif-schema-2.1.0.json").read_text())
VALIDATOR = Draft4Validator(SCHEMA, format_checker=Draft4Validator.FORMAT_CHECKER)
CANARY = "ghp_" + "Rt5Yw8Qz2Lm6Xc9Vb1Nd4Hk7Pq3Gf0JsCANARY"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    commit(
        root,
        {
            "svc/settings.py": f'REDIS_HOST = "10.0.0.5"\nGITHUB_TOKEN = "{CANARY}"\n',
            ".env.example": "OPENAI_API_KEY=changeme\n",
            "docker-compose.yml": "services:\n  api:\n    image: a\n",
            "docs/ops.md": "ssh root@10.0.0.9 then `docker stack deploy -c s.yml x`\n",
        },
        "debt",
    )
    return root


def results_by_rule(doc: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for result in doc["runs"][0]["results"]:
        out.setdefault(result["ruleId"], []).append(result)
    return out


def test_valid_against_the_official_schema_with_code_scanning_properties(repo: Path) -> None:
    doc = sarif.document(scan(repo))
    VALIDATOR.validate(doc)
    assert doc["$schema"] == SCHEMA["id"]
    run = doc["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == [cls.id for cls in RULES]
    for rule in rules:
        assert rule["help"]["text"] and rule["help"]["markdown"]
        uri = urlparse(rule["helpUri"])
        assert uri.scheme == "https" and uri.fragment == rule["id"]
        props = rule["properties"]
        assert props["precision"] in {"very-high", "high", "medium", "low"}
        assert "sophia" in props["tags"]
        if "security-severity" in props:
            # Code scanning ranks security alerts by it (0.0-10.0) and needs the tag.
            assert 0.0 <= float(props["security-severity"]) <= 10.0
            assert "security" in props["tags"]
    secret_rules = {r["id"]: r for r in rules if "security" in r["properties"]["tags"]}
    assert {"committed-secret", "placeholder-secret"} <= set(secret_rules)
    assert float(secret_rules["committed-secret"]["properties"]["security-severity"]) >= 9.0
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        assert result["partialFingerprints"]["sophiaAuditFingerprint/v1"]
    assert CANARY not in json.dumps(doc) and CANARY[4:20] not in json.dumps(doc)


def test_fingerprints_hold_across_commits_that_move_lines(repo: Path) -> None:
    before = results_by_rule(sarif.document(scan(repo)))
    moved = '"""Settings."""\n\nimport os\n\n' + (repo / "svc/settings.py").read_text()
    commit(repo, {"svc/settings.py": moved, "svc/other.py": "X = 1\n"}, "move lines down")
    after = results_by_rule(sarif.document(scan(repo)))

    def prints(results: dict[str, list[dict[str, Any]]], rule: str) -> list[str]:
        return sorted(r["partialFingerprints"]["sophiaAuditFingerprint/v1"] for r in results[rule])

    def lines(results: dict[str, list[dict[str, Any]]], rule: str) -> list[int]:
        return [r["locations"][0]["physicalLocation"]["region"]["startLine"] for r in results[rule]]

    for rule in ("hardcoded-ip", "committed-secret"):
        assert prints(after, rule) == prints(before, rule)
    assert lines(before, "committed-secret") == [2] and lines(after, "committed-secret") == [6]
    # A changed line is a different finding.
    edited = moved.replace('"10.0.0.5"', '"10.0.0.6"')
    commit(repo, {"svc/settings.py": edited}, "another host")
    again = results_by_rule(sarif.document(scan(repo)))
    assert prints(again, "hardcoded-ip") != prints(before, "hardcoded-ip")
    assert prints(again, "committed-secret") == prints(before, "committed-secret")


def test_a_since_run_is_valid_and_says_it_is_partial(repo: Path) -> None:
    git(repo, "checkout", "-q", "-b", "feature")
    commit(repo, {"svc/new.py": 'DB_HOST = "10.0.0.7"\n'}, "new service")
    doc = sarif.document(scan(repo, ScanOptions(since="main")))
    VALIDATOR.validate(doc)
    run = doc["runs"][0]
    uris = {
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in run["results"]
    }
    assert uris == {"svc/new.py"}
    assert "duplicate-file" in run["properties"]["rulesNotRun"]
    (note,) = run["invocations"][0]["toolExecutionNotifications"]
    assert "not the whole repository" in note["message"]["text"]
    assert "duplicate-file" not in {r["id"] for r in run["tool"]["driver"]["rules"]}


def test_cli_writes_valid_sarif(repo: Path, tmp_path: Path) -> None:
    out = tmp_path / "audit.sarif"
    assert main(["audit", str(repo), "--format", "sarif", "-o", str(out)]) == 1  # findings
    doc = json.loads(out.read_text())
    VALIDATOR.validate(doc)
    assert CANARY not in out.read_text()
    assert doc["runs"][0]["properties"]["rulesNotRun"] == []
