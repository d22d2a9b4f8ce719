"""Docs findings in a cleanup plan: rewritten where the command table maps them, else listed."""

from __future__ import annotations

import subprocess
from pathlib import Path

from sophia_platform.cleanup.service import plan_repository

GUIDE = """\
# Deploying

## Production

```bash
docker compose -f docker-compose.prod.yml up -d
vercel --prod
```

Set `GONG_API_KEY` first.
"""


def _repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "docs").mkdir(parents=True)
    (root / "docs" / "deploy.md").write_text(GUIDE)
    (root / ".env.example").write_text("GONG_ACCESS_KEY=\n")
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    return root


def test_docs_findings_are_listed_with_their_manual_step(tmp_path: Path) -> None:
    plan = plan_repository(_repo(tmp_path))
    listed = sorted((s.rule_id, s.path, s.line, s.reason) for s in plan.skipped)
    assert listed == [
        (
            "docs-conflicting-deploy",
            "docs/deploy.md",
            7,
            "prose, not rewritten: keep one deploy instruction per environment "
            "(`./deploy.sh deploy <env>`)",
        ),
        (
            "docs-retired-deploy",
            "docs/deploy.md",
            7,
            "prose, not rewritten: replace the step with `./deploy.sh deploy <env>` "
            "(or a git push for GitOps)",
        ),
        (
            "docs-secret-name",
            "docs/deploy.md",
            10,
            "prose, not rewritten: rename the secret to the manifest's name (or declare it in "
            "sophia.yaml) (GONG_API_KEY → GONG_ACCESS_KEY)",
        ),
    ]
    # The compose line (6) is rewritten by the command table, so it is fixed, not listed.
    assert "+./deploy.sh deploy <env>" in plan.diff


def test_a_cleanup_of_some_rules_lists_no_docs_steps(tmp_path: Path) -> None:
    plan = plan_repository(_repo(tmp_path), rules=frozenset({"hardcoded-ip"}))
    assert plan.skipped == []
