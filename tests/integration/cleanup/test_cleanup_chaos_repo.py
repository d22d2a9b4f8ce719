"""The Definition-of-Done loop on the generated ~2,000-file chaos repository.

audit → ``sophia cleanup plan`` → ``sophia cleanup apply`` → audit again: zero findings for every
rule the cleanup fixes, nothing left "not fixed", the company's metrics at their targets (no
compose files, one secret sync workflow, no hardcoded IPs, no duplicate files, one deployment
method), every Python file still compiles and every YAML file still parses; committed secrets
are still reported (a person must rotate them) and never printed; undo restores the tree.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from ruamel.yaml import YAML

from sophia_platform.audit.scanner import scan
from sophia_platform.cleanup.apply import undo
from sophia_platform.cleanup.findings import FIXED_RULES
from sophia_platform.cleanup.plan import Plan
from sophia_platform.cleanup.service import DEFAULT_PLAN, plan_repository
from sophia_platform.cli.main import main
from sophia_platform.spec import load_spec
from tests.fixtures.chaos_repo import generate

from .conftest import git, tree_state

pytestmark = pytest.mark.integration


def _inventory(root: Path, nodes: dict[str, str]) -> None:
    """A spec whose nodes hold the generated node addresses in the local config store."""
    lines = [
        "project: sophia-ai",
        "registry: docker.io/scoobyjava15",
        "environments:",
        "  local: {context: sophia-local, namespace: sophia-ai}",
        "nodes:",
    ]
    store = root / ".sophia" / "config"
    store.mkdir(parents=True)
    (root / ".git" / "info" / "exclude").write_text("/.sophia/\n")
    for index, (name, address) in enumerate(sorted(nodes.items())):
        var = "NODE_" + name.upper().replace("-", "_") + "_HOST"
        role = "server" if index == 0 else "agent"
        lines.append(f'  {name}: {{role: {role}, address: "${{{var}}}"}}')
        (store / var).write_text(address)
    (root / "sophia.yaml").write_text("\n".join(lines) + "\n")
    git(root, "add", "sophia.yaml")
    git(root, "commit", "-q", "-m", "inventory")


def _secret_values(root: Path) -> set[str]:
    """The committed credentials the audit finds (read from the files, for absence checks)."""
    values = set()
    for f in scan(root).findings:
        if f.rule_id == "committed-secret" and f.line == f.end_line:
            line = (root / f.path).read_text().split("\n")[f.line - 1]
            values.add(line[f.column - 1 : f.end_column - 1])
    return {v for v in values if len(v) >= 12}


def _files(root: Path, *suffixes: str) -> list[Path]:
    return [
        p for p in root.rglob("*") if p.suffix in suffixes and ".git" not in p.parts and p.is_file()
    ]


def test_audit_cleanup_audit_on_the_chaos_repo(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "chaos"
    truth = generate(root, files=2000, seed=11)
    _inventory(root, truth.nodes)
    before = tree_state(root)
    first = scan(root)
    assert all(first.counts()[rule] > 0 for rule in FIXED_RULES)
    assert first.metrics.compose_files == 34 and first.metrics.duplicate_files == 15
    assert len(first.metrics.deployment_methods) == 3 and first.metrics.secret_sync_workflows == 5
    secrets = _secret_values(root)
    assert len(secrets) >= 10

    assert main(["cleanup", "plan", str(root)]) == 0
    assert main(["cleanup", "apply", str(root)]) == 0
    printed = capsys.readouterr()
    plan = Plan.read(root / DEFAULT_PLAN)
    # Nothing left "not fixed" but docs prose, listed with its manual step; the compose and
    # Swarm commands in docs are rewritten (production.md:10, SERVERS.md), so not listed.
    manual = sorted((s.rule_id, s.path, s.line) for s in plan.skipped)
    assert manual == [
        ("docs-conflicting-deploy", "docs/deploy/dashboard.md", 5),
        ("docs-retired-deploy", "docs/deploy/dashboard.md", 5),
        ("docs-retired-deploy", "docs/deploy/staging.md", 3),
        ("docs-retired-deploy", "docs/deploy/staging.md", 4),
        ("docs-secret-name", "docs/SECRETS.md", 5),
        ("docs-secret-name", "docs/SECRETS.md", 6),
    ]
    assert all(s.reason.startswith("prose, not rewritten: ") for s in plan.skipped)
    assert any(s.reason.endswith("(GONG_API_KEY → GONG_ACCESS_KEY)") for s in plan.skipped)
    assert "+To deploy the old way: `./deploy.sh deploy <env>`." in plan.diff
    journals = [p.read_text() for p in (root / ".sophia").rglob("*.json")]
    for value in secrets:  # committed secrets are never printed, planned or journaled
        assert value not in printed.out + printed.err
        assert all(value not in text for text in journals)

    after = scan(root)
    assert {rule: after.counts()[rule] for rule in FIXED_RULES} == dict.fromkeys(FIXED_RULES, 0)
    assert after.counts()["docs-retired-deploy"] == 3  # vercel, kubectl twice: listed above
    # Not auto-fixed: the values must be rotated by a person; archived files still count.
    assert after.counts()["committed-secret"] == first.counts()["committed-secret"]
    metrics = after.metrics
    assert metrics.compose_files == 0 and metrics.hardcoded_ips == 0
    assert metrics.duplicate_files == 0
    assert metrics.secret_sync_workflows == 1
    assert (root / truth.canonical["secret-sync"]).is_file()  # the one sync workflow stays
    assert metrics.deployment_methods == ("kubernetes",)
    assert (root / truth.canonical["deploy"]).is_file()
    assert (root / "deploy.sh").read_text().endswith('exec sophia "$@"\n')  # what docs now call

    for path in _files(root, ".py"):  # no .pyc: the tree is compared below
        compile(path.read_text(), str(path), "exec")
    yaml = YAML(typ="safe", pure=True)
    yaml.allow_duplicate_keys = True  # generated manifests repeat keys, as real ones do
    for path in _files(root, ".yml", ".yaml"):
        list(yaml.load_all(path.read_text()))
    spec = load_spec(root / "sophia.yaml")
    node_vars = {n.address_var for n in spec.nodes.values()}
    assert node_vars <= set(plan.names.values())  # inventory addresses → NODE_* keys
    assert set(spec.config) == set(plan.names.values()) - node_vars
    assert set(plan.secrets) <= set(spec.secrets)
    readme = (root / "archive/README.md").read_text()
    assert "| `scripts/deploy.sh` | another deploy path (docker-compose) besides" in readme
    assert "| `services/api/Dockerfile.fixed` | duplicate of `services/api/Dockerfile`" in readme

    cleaned = tree_state(root)
    assert plan_repository(root).operations == []  # idempotent: nothing left to plan
    assert main(["cleanup", "apply", "--yes", "--allow-dirty", str(root)]) == 0
    assert tree_state(root) == cleaned
    undo(root)
    assert tree_state(root) == before
