"""The Definition-of-Done loop on the generated ~2,000-file chaos repository.

audit → cleanup apply → audit again: zero findings for every rule the cleanup fixes (except
Swarm mentions in prose, which the plan reports as "not fixed"), the repository's Python still
compiles, addresses of the inventory became ``NODE_*`` lookups, and undo restores the tree.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from sophia_platform.audit.scanner import scan
from sophia_platform.cleanup.apply import apply_plan, undo
from sophia_platform.cleanup.findings import FIXED_RULES
from sophia_platform.cleanup.service import plan_repository
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


def test_audit_cleanup_audit_on_the_chaos_repo(tmp_path: Path) -> None:
    root = tmp_path / "chaos"
    truth = generate(root, files=2000, seed=11)
    _inventory(root, truth.nodes)
    before = tree_state(root)
    first = scan(root).counts()
    assert all(first[rule] > 0 for rule in FIXED_RULES)

    plan = plan_repository(root)
    apply_plan(root, plan)

    after = scan(root)
    left = {rule: n for rule, n in after.counts().items() if rule in FIXED_RULES and n}
    not_fixed = {(s.rule_id, s.path, s.line) for s in plan.skipped}
    remaining = {(f.rule_id, f.path, f.line) for f in after.findings if f.rule_id in FIXED_RULES}
    assert remaining <= not_fixed, remaining - not_fixed
    assert set(left) <= {"swarm-reference"}
    assert all(not s.path.endswith((".py", ".sh", ".yml", ".yaml")) for s in plan.skipped)

    for rel in truth.python_files:
        if (root / rel).exists():
            compile((root / rel).read_text(), rel, "exec")  # no .pyc: the tree is compared
    spec = load_spec(root / "sophia.yaml")
    node_vars = {n.address_var for n in spec.nodes.values()}
    assert node_vars <= set(plan.names.values())  # inventory addresses → NODE_* keys
    assert set(spec.config) == set(plan.names.values()) - node_vars
    assert set(plan.secrets) <= set(spec.secrets)

    assert apply_plan(root, plan).steps == []  # idempotent
    undo(root)
    assert tree_state(root) == before
