"""What the corpus taught the planner, each pinned on a tree of a few files written here.

The real audit runs on each tree (no stand-in findings); nothing is copied from the corpus.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from sophia_platform.audit import scan
from sophia_platform.cleanup.plan import Plan
from sophia_platform.cleanup.planner import ONE_OFF, ONE_OFF_MAX, make_plan

COMPOSE = "services:\n  api:\n    image: ghcr.io/acme/api:1.0\n"
SWARM_DEPLOY = "#!/bin/sh\ndocker stack deploy -c stack.yml acme\n"


def _tree(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    env = {
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.invalid",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.invalid",
        "PATH": "/usr/bin:/bin",
    }
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "t"]):
        subprocess.run(["git", *args], cwd=root, check=True, env=env, capture_output=True)
    return root


def _plan(root: Path) -> Plan:
    return make_plan(root, scan(root).findings)


def _touched(plan: Plan) -> set[str]:
    return {p for op in plan.operations for p in op.touched()}


def _listed(plan: Plan, archived: str) -> dict[str, int]:
    return {s.path: s.line for s in plan.skipped if f"refers to archived `{archived}`" in s.reason}


def test_vendored_docs_are_never_read_or_rewritten(tmp_path: Path) -> None:
    """The deploy-command pass read node_modules/ (a package README's `docker compose up`)."""
    up = "Start it:\n\n    docker compose up -d\n"
    root = _tree(tmp_path, {"docs/run.md": up, "node_modules/pkg/README.md": up})
    touched = _touched(_plan(root))
    assert "docs/run.md" in touched
    assert not any(p.startswith("node_modules/") for p in touched)


def test_mentions_of_archived_files_are_listed_unless_the_plan_rewrote_them(
    tmp_path: Path,
) -> None:
    root = _tree(
        tmp_path,
        {
            "docker-compose.prod.yml": COMPOSE,
            "Makefile": "pull:\n\tdocker compose -f docker-compose.prod.yml pull\n",
            "docs/run.md": "Deploy:\n\n    docker compose -f docker-compose.prod.yml up -d\n",
        },
    )
    plan = _plan(root)
    assert {op.path for op in plan.operations if op.kind == "move"} == {"docker-compose.prod.yml"}
    # The runbook's `up` line becomes ./deploy.sh deploy: nothing is left to list there.
    assert _listed(plan, "docker-compose.prod.yml") == {"Makefile": 2}
    assert all(s.reason.strip() for s in plan.skipped)


def test_a_bare_name_that_a_staying_file_shares_needs_the_folder(tmp_path: Path) -> None:
    """``./deploy.sh`` is the root wrapper, not the archived ``ops/deploy.sh``."""
    root = _tree(
        tmp_path,
        {
            "deploy.sh": '#!/bin/sh\nexec sophia "$@"\n',
            "ops/deploy.sh": SWARM_DEPLOY,
            "ops/stack.yml": COMPOSE,
            "docs/a.md": "Run `./deploy.sh deploy prod`.\n",
            "docs/b.md": "The old way:\nsee ops/deploy.sh\n",
        },
    )
    plan = _plan(root)
    assert "ops/deploy.sh" in {op.path for op in plan.operations if op.kind == "move"}
    assert _listed(plan, "ops/deploy.sh") == {"docs/b.md": 2}


def test_deployment_one_offs_beyond_two_are_archived_unless_code_runs_them(
    tmp_path: Path,
) -> None:
    summary = '"""Print what was deployed."""\nprint("done")\n'
    root = _tree(
        tmp_path,
        {
            "scripts/deployment_summary.py": summary,
            "scripts/deployment_status.py": summary,
            "scripts/check_deployment.py": summary,
            "scripts/analyze_deployment.py": summary,
            "Makefile": "check:\n\tpython scripts/check_deployment.py\n",
            "tools/hint.py": 'print("python3 scripts/analyze_deployment.py")\n',
            # Too large for the audit, still searched for mentions.
            "reports/big.json": '{"files": ["scripts/deployment_status.py"],\n'
            + '  "pad": "................................................",\n' * 20_000
            + '  "end": 1}\n',
        },
    )
    plan = _plan(root)
    moved = {op.path for op in plan.operations if op.kind == "move"}
    assert moved == {
        "scripts/deployment_summary.py",
        "scripts/deployment_status.py",
        "scripts/analyze_deployment.py",
    }
    assert ONE_OFF.match("scripts/check_deployment.py") and ONE_OFF_MAX == 2
    kept = [s for s in plan.skipped if s.path == "scripts/check_deployment.py"]
    assert kept and "Makefile still run or import" in kept[0].reason
    assert _listed(plan, "scripts/analyze_deployment.py") == {"tools/hint.py": 1}
    assert _listed(plan, "scripts/deployment_status.py") == {"reports/big.json": 1}


def test_two_one_offs_stay(tmp_path: Path) -> None:
    summary = "print('done')\n"
    root = _tree(
        tmp_path,
        {"scripts/deployment_summary.py": summary, "scripts/deployment_status.py": summary},
    )
    assert not [op for op in _plan(root).operations if op.kind == "move"]
