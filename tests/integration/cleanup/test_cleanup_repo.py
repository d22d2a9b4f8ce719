"""audit → cleanup plan/apply → audit again, undo, idempotency and refusals on real git repos."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from sophia_platform.audit.scanner import scan
from sophia_platform.cleanup.apply import apply_plan, undo
from sophia_platform.cleanup.findings import FIXED_RULES
from sophia_platform.cleanup.journal import Journal, journal_dir
from sophia_platform.cleanup.plan import Operation, Plan
from sophia_platform.cleanup.service import plan_repository
from sophia_platform.cli.main import main
from sophia_platform.errors import CheckFailed
from sophia_platform.spec import load_spec

from .conftest import CANARY, git, make_repo, tree_state

pytestmark = pytest.mark.integration


def _fixed_counts(root: Path) -> dict[str, int]:
    counts = scan(root).counts()
    return {rule: counts[rule] for rule in FIXED_RULES}


def test_apply_fixes_every_fixable_finding(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert sum(_fixed_counts(repo).values()) > 10
    assert main(["cleanup", "apply", "--yes", str(repo)]) == 0
    assert _fixed_counts(repo) == dict.fromkeys(FIXED_RULES, 0)
    for py in repo.rglob("*.py"):
        compile(py.read_text(), str(py), "exec")
    settings = (repo / "services/api/settings.py").read_text()
    assert 'AI_CORE_HOST = require_config("NODE_AI_CORE_HOST").reveal()' in settings
    assert settings.count("from sophia_platform.config import require as require_config") == 1
    assert "f\"redis://{require_config('REDIS_HOST').reveal()}:6379/" in settings
    assert 'TIMEOUT = {"connect": 3}' in settings
    # history kept: the archived file is a staged rename
    status = git(repo, "status", "--porcelain")
    assert "R  docker-compose.yml -> archive/docker-compose.yml" in status
    readme = (repo / "archive/README.md").read_text()
    assert "`archive/scripts/swarm-deploy.sh` | `scripts/swarm-deploy.sh` | Docker Swarm" in readme
    spec = load_spec(repo / "sophia.yaml")
    assert spec.config == {"REDIS_HOST": "${REDIS_HOST}"}
    assert {"OPENAI_API_KEY", "REDIS_PASSWORD", "STRIPE_SECRET_KEY"} <= set(spec.secrets)
    assert "# the source of truth" in (repo / "sophia.yaml").read_text()
    store = repo / ".sophia/config"
    assert (store / "NODE_AI_CORE_HOST").read_text() == "10.20.0.5\n"
    assert (store / "REDIS_HOST").read_text() == "10.20.0.9\n"
    assert (store / "REDIS_HOST").stat().st_mode & 0o777 == 0o600
    assert CANARY not in capsys.readouterr().out


def test_second_apply_changes_nothing(repo: Path) -> None:
    plan = plan_repository(repo)
    apply_plan(repo, plan)
    after_first = tree_state(repo)
    assert apply_plan(repo, plan).steps == []
    assert plan_repository(repo).operations == []
    assert tree_state(repo) == after_first


def test_undo_restores_the_exact_tree(repo: Path) -> None:
    before = tree_state(repo)
    apply_plan(repo, plan_repository(repo))
    assert tree_state(repo) != before
    result = undo(repo)
    assert result.restored
    assert tree_state(repo) == before
    assert undo(repo).journal is None  # nothing left to undo


@pytest.mark.parametrize("kill_after", [1, 4])
def test_undo_after_sigkill_mid_apply(repo: Path, kill_after: int) -> None:
    before = tree_state(repo)
    driver = Path(__file__).with_name("stop_after_step.py")
    proc = subprocess.Popen(
        [sys.executable, str(driver), str(kill_after), str(repo)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()  # blocks until the apply froze after the step (or died)
        assert line == "frozen\n", proc.stderr.read() if proc.stderr else ""
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    (journal,) = journal_dir(repo).glob("*.json")
    assert len(Journal.load(journal).done) == kill_after
    assert tree_state(repo) != before  # the apply really was half done
    assert main(["cleanup", "undo", str(repo)]) == 0
    assert tree_state(repo) == before


def test_dirty_tree_is_refused_unless_allowed(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / "notes.txt").write_text("wip\n")
    assert main(["cleanup", "apply", "--yes", str(repo)]) == 1
    assert "uncommitted" in capsys.readouterr().err
    assert (repo / "docker-compose.yml").exists()
    assert main(["cleanup", "apply", "--yes", "--allow-dirty", str(repo)]) == 0
    assert not (repo / "docker-compose.yml").exists()


def test_plan_then_apply_from_the_plan_file(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["cleanup", "plan", str(repo)]) == 0
    shown = capsys.readouterr().out
    assert "git mv docker-compose.yml archive/docker-compose.yml" in shown
    assert '+AI_CORE_HOST = require_config("NODE_AI_CORE_HOST").reveal()' in shown
    assert CANARY not in shown and "[line hidden" in shown
    plan_file = repo / ".sophia/cleanup/plan.json"
    assert CANARY not in plan_file.read_text()
    assert git(repo, "status", "--porcelain") == ""  # plan changes nothing, .sophia is ignored
    assert main(["cleanup", "apply", str(repo)]) == 0
    assert _fixed_counts(repo)["hardcoded-ip"] == 0
    for journal in journal_dir(repo).glob("*.json"):
        assert CANARY not in journal.read_text()


def test_stale_plan_is_refused(repo: Path) -> None:
    plan = plan_repository(repo)
    (repo / "docs/servers.md").write_text("rewritten meanwhile\n")
    git(repo, "commit", "-qam", "edit")
    with pytest.raises(CheckFailed, match="changed since the plan"):
        apply_plan(repo, plan)


def test_undo_keeps_later_edits_unless_forced(repo: Path) -> None:
    apply_plan(repo, plan_repository(repo))
    (repo / "docs/servers.md").write_text("edited after the cleanup\n")
    with pytest.raises(CheckFailed, match="changed after the apply"):
        undo(repo)
    undo(repo, force=True)
    assert "10.20.0.5" in (repo / "docs/servers.md").read_text()


@pytest.mark.parametrize("target", ["../outside.txt", "/etc/passwd", ".git/config", "link/x.md"])
def test_writes_outside_the_repo_are_refused(tmp_path: Path, target: str) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "x.md").write_text("keep\n")
    repo = make_repo(tmp_path / "repo", {"README.md": "hi\n"})
    (repo / "link").symlink_to(outside)
    git(repo, "add", "link")
    git(repo, "commit", "-qm", "link")
    plan = Plan(operations=[Operation("write", target, "test", content="pwned\n")])
    with pytest.raises(CheckFailed, match="refusing path"):
        apply_plan(repo, plan)
    assert (outside / "x.md").read_text() == "keep\n"
    assert not (tmp_path / "outside.txt").exists()


def test_symlinked_file_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "secret.md"
    outside.write_text("keep\n")
    repo = make_repo(tmp_path / "repo", {"README.md": "hi\n"})
    (repo / "notes.md").symlink_to(outside)
    plan = Plan(operations=[Operation("write", "notes.md", "test", content="pwned\n")])
    with pytest.raises(CheckFailed, match="symlink"):
        apply_plan(repo, plan, allow_dirty=True)
    assert outside.read_text() == "keep\n"


def test_json_plan_and_dry_runs_change_nothing(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = tree_state(repo)
    assert main(["--json", "cleanup", "plan", str(repo)]) == 0
    plan = json.loads(capsys.readouterr().out)
    kinds = {op["kind"] for op in plan["operations"]}
    assert kinds == {"move", "edit", "write"}
    assert plan["names"]["10.20.0.5"] == "NODE_AI_CORE_HOST"
    assert main(["cleanup", "apply", "--dry-run", str(repo)]) == 0
    assert "would git mv docker-compose.yml archive/docker-compose.yml" in capsys.readouterr().out
    assert tree_state(repo) == before
    assert main(["cleanup", "apply", str(repo)]) == 0
    capsys.readouterr()
    assert main(["--json", "cleanup", "undo", "--dry-run", str(repo)]) == 0
    assert "services/api/settings.py" in json.loads(capsys.readouterr().out)["restored"]
    assert main(["cleanup", "undo", str(repo)]) == 0
    assert tree_state(repo) == before


def test_symlinked_state_dir_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    repo = make_repo(tmp_path / "repo")
    (repo / ".sophia").symlink_to(outside)
    (repo / ".git/info/exclude").write_text(".sophia\n")
    with pytest.raises(CheckFailed):
        apply_plan(repo, plan_repository(repo))
    assert list(outside.iterdir()) == []
    assert (repo / "docker-compose.yml").exists()


def test_undo_removes_temp_files_of_a_write_killed_halfway(repo: Path) -> None:
    before = tree_state(repo)
    apply_plan(repo, plan_repository(repo))
    # what write_atomic leaves when killed between mkstemp and rename
    (repo / "docs" / ".servers.md.k1ll3d").write_text("half")
    undo(repo)
    assert tree_state(repo) == before


RETRY = (
    '"""Retry a call with exponential backoff."""\n\nimport time\n\n\n'
    "def retry(fn, attempts=3):\n    for i in range(attempts):\n        try:\n"
    "            return fn()\n        except Exception:\n            time.sleep(2**i)\n"
    "    return fn()\n"
)


def test_duplicates_are_archived_unless_something_refers_to_them(tmp_path: Path) -> None:
    root = make_repo(
        tmp_path / "dups",
        {
            "lib/retry.py": RETRY,
            "lib/retry_enhanced.py": RETRY,  # nobody imports it: archived
            "services/worker/retry.py": RETRY,  # imported below: reported, stays
            "services/worker/main.py": "from retry import retry\n\nretry(print)\n",
        },
    )
    before = tree_state(root)
    plan = plan_repository(root, rules=frozenset({"duplicate-file"}))
    moves = [(op.path, op.target) for op in plan.operations if op.kind == "move"]
    assert moves == [("lib/retry_enhanced.py", "archive/lib/retry_enhanced.py")]
    [kept] = [s for s in plan.skipped if s.rule_id == "duplicate-file"]
    assert kept.path == "services/worker/retry.py"
    assert "services/worker/main.py" in kept.reason and "lib/retry.py" in kept.reason
    apply_plan(root, plan)
    readme = (root / "archive/README.md").read_text()
    row = (
        "| `archive/lib/retry_enhanced.py` | `lib/retry_enhanced.py` | duplicate of `lib/retry.py` "
    )
    assert row in readme
    assert (root / "lib/retry.py").read_text() == RETRY  # the canonical copy stays
    left = [f.path for f in scan(root).findings if f.rule_id == "duplicate-file"]
    assert left == ["services/worker/retry.py"]
    undo(root)
    assert tree_state(root) == before


def test_docs_and_scripts_point_at_the_one_deploy_path(tmp_path: Path) -> None:
    root = make_repo(
        tmp_path / "docs",
        {
            "docs/deploy.md": (
                "# Deploying\n\nLocally: `docker compose up -d`.\n"
                "Production: `docker stack deploy -c stack.yml sophia`, then `docker service ls`.\n"
            ),
            "scripts/ops.sh": "#!/bin/bash\nset -e\ndocker service ls\nssh m 'docker swarm init'\n",
        },
    )
    plan = plan_repository(root)
    assert "+Locally: `./deploy.sh deploy <env>`." in plan.diff
    assert "+Production: `./deploy.sh deploy <env>`, then `./deploy.sh status <env>`." in plan.diff
    assert "+./deploy.sh status\n" in plan.diff
    # Run on another machine through ssh: reported, not rewritten.
    assert [(s.rule_id, s.path, s.line) for s in plan.skipped] == [
        ("swarm-reference", "scripts/ops.sh", 4)
    ]
    apply_plan(root, plan)
    left = [(f.path, f.line) for f in scan(root).findings if f.rule_id == "swarm-reference"]
    assert left == [("scripts/ops.sh", 4)]
    # The rewrites call ./deploy.sh, so the plan added the wrapper (the Kubernetes path); the
    # Swarm command left for a person still counts as a deployment method.
    wrapper = root / "deploy.sh"
    assert wrapper.read_text().endswith('exec sophia "$@"\n')
    assert wrapper.stat().st_mode & 0o111
    assert scan(root).metrics.deployment_methods == ("docker-swarm", "kubernetes")
    assert plan_repository(root).operations == []


def test_a_lone_compose_deploy_script_is_archived(tmp_path: Path) -> None:
    """A compose deploy script is another path besides ./deploy.sh (redundant-deploy-path)."""
    root = make_repo(
        tmp_path / "lone",
        {
            "docker-compose.yml": "services:\n  api:\n    image: sophia-api:1.0\n",
            "scripts/deploy.sh": "#!/bin/bash\ndocker compose -f docker-compose.yml up -d\n",
        },
    )
    assert scan(root).metrics.deployment_methods == ("docker-compose",)
    plan = plan_repository(root)
    assert plan.skipped == []
    moves = {op.path: op.target for op in plan.operations if op.kind == "move"}
    assert moves["scripts/deploy.sh"] == "archive/scripts/deploy.sh"
    apply_plan(root, plan)
    after = scan(root)
    assert after.metrics.deployment_methods == ()
    assert after.metrics.compose_files == 0
    assert not [f for f in after.findings if f.rule_id == "redundant-deploy-path"]
