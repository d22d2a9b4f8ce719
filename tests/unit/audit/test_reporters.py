from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from jsonschema import Draft4Validator

from sophia_platform.audit import RULE_IDS, scan
from sophia_platform.audit.reporters import json_report, markdown, sarif, table
from sophia_platform.cli.main import main

SCHEMA = json.loads((Path(__file__).parent / "data" / "sarif-schema-2.1.0.json").read_text())
CANARY = "Qz7vK2mN9xR4tB8wL3pY6sD1"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    files = {
        "svc/my config.py": f'REDIS_HOST = "10.0.0.5"\nAPI_TOKEN = "{CANARY}"\nKEY = 1\n',
        "docker-compose.yml": "services:\n  api:\n    image: a\n    deploy:\n      mode: global\n",
        ".env": "OPENAI_API_KEY=changeme\n",
        "docs/ops.md": "ssh root@10.0.0.9 then `docker stack deploy -c s.yml x`\n",
    }
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    return tmp_path


def test_sarif_is_valid_and_repo_relative(repo: Path) -> None:
    result = scan(repo)
    doc = sarif.document(result)
    Draft4Validator(SCHEMA).validate(doc)
    run = doc["runs"][0]
    assert [r["id"] for r in run["tool"]["driver"]["rules"]] == list(RULE_IDS)
    assert all(r["help"]["markdown"] for r in run["tool"]["driver"]["rules"])
    uris = {
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in run["results"]
    }
    assert "svc/my%20config.py" in uris
    assert all(not u.startswith("/") and "://" not in u for u in uris)
    first = run["results"][0]
    assert first["locations"][0]["physicalLocation"]["region"]["startLine"] >= 1
    assert CANARY not in json.dumps(doc)


def test_json_markdown_and_table(repo: Path) -> None:
    result = scan(repo)
    doc = json.loads(json_report.render(result))
    assert doc["counts"]["hardcoded-ip"] == 2
    assert doc["summary"]["compose_files"] == 1
    md = markdown.render(result)
    assert "## `hardcoded-ip` (2)" in md and "`svc/my config.py:1`" in md
    report = table.build(result, max_rows=1)
    ip = next(g for g in report.groups if g.rule_id == "hardcoded-ip")
    assert ip.count == 2 and len(ip.rows) == 1
    assert "2 hardcoded IPs" in report.summary
    for text in (json_report.render(result), md, str(report)):
        assert CANARY not in text


@pytest.mark.parametrize("fmt", ["table", "json", "sarif", "markdown"])
def test_cli_formats_and_exit_codes(
    repo: Path, fmt: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # Findings remain: exit 1 by default (--fail-on any), as gitleaks and ruff do.
    assert main(["audit", str(repo), "--format", fmt]) == 1
    out, err = capsys.readouterr()
    assert CANARY not in out + err
    assert "hardcoded-ip" in out
    assert "8 finding(s) for --fail-on any" in err  # docs/ops.md: swarm + a retired deploy
    if fmt in ("json", "sarif"):
        json.loads(out)
    assert main(["audit", str(repo), "--format", fmt, "--exit-zero"]) == 0
    out, _ = capsys.readouterr()
    assert "hardcoded-ip" in out
    assert main(["audit", str(repo), "--format", fmt, "--fail-on", "committed-secret"]) == 1
    _, err = capsys.readouterr()
    assert "1 finding(s) for --fail-on committed-secret (committed-secret)" in err
    # A severity threshold: only the committed secret is an error.
    assert main(["audit", str(repo), "--format", fmt, "--fail-on", "error"]) == 1
    _, err = capsys.readouterr()
    assert "1 finding(s) for --fail-on error (committed-secret)" in err


def test_cli_fail_on_clean_rule_and_bad_input(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["audit", str(repo), "--json", "--fail-on", "duplicate-file"]) == 0
    assert main(["audit", str(repo), "--fail-on", "bogus"]) == 2
    assert main(["audit", str(repo), "--format", "xml"]) == 2
    assert main(["audit", str(tmp_path / "nope")]) == 2
    assert main(["audit", str(repo), "--baseline", str(tmp_path / "missing.json")]) == 2


def test_cli_baseline_round_trip_and_output_file(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = tmp_path / "base" / "audit-baseline.json"
    assert main(["audit", str(repo), "--write-baseline", str(base), "-f", "json"]) == 1
    assert json.loads(base.read_text())["version"] == 1
    capsys.readouterr()
    code = main(["audit", str(repo), "--baseline", str(base), "--fail-on", "any", "--json"])
    out, _ = capsys.readouterr()
    assert code == 0
    assert json.loads(out)["findings"] == []
    report = tmp_path / "out" / "audit.sarif"
    assert main(["audit", str(repo), "-f", "sarif", "-o", str(report), "--exit-zero"]) == 0
    Draft4Validator(SCHEMA).validate(json.loads(report.read_text()))
    text_report = tmp_path / "out" / "audit.txt"
    assert main(["audit", str(repo), "-o", str(text_report), "--exit-zero"]) == 0
    assert "Summary:" in text_report.read_text()


def test_global_json_flag(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--json", "audit", str(repo), "--exit-zero"]) == 0
    assert json.loads(capsys.readouterr().out)["version"] == 1
