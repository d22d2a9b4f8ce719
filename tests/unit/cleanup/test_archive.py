from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from sophia_platform.cleanup.archive import archive_reasons, readme


@dataclass(frozen=True)
class F:
    rule_id: str
    path: str
    data: dict[str, str] = field(default_factory=dict)
    line: int = 1
    column: int = 1
    end_line: int = 1
    end_column: int = 1


@pytest.mark.parametrize(
    ("finding", "archived"),
    [
        (F("compose-file", "docker-compose.yml", {"services": "api,redis"}), True),
        (F("swarm-reference", "deploy/stack.yml", {"construct": "placement"}), True),
        # A deploy script goes through its redundant-workflow finding; alone, it is rewritten.
        (F("swarm-reference", "scripts/deploy.sh", {"construct": "docker stack deploy"}), False),
        (F("swarm-reference", "scripts/swarm-init.sh", {"construct": "docker swarm init"}), True),
        (F("swarm-reference", "docs/runbooks/swarm.md"), True),
        (F("swarm-reference", "README.md"), False),
        (F("swarm-reference", "tools/deploy.py"), False),
        (
            F(
                "redundant-workflow",
                ".github/workflows/a.yml",
                {"canonical": ".github/workflows/b.yml"},
            ),
            True,
        ),
        (
            F(
                "redundant-workflow",
                ".github/workflows/b.yml",
                {"canonical": ".github/workflows/b.yml"},
            ),
            False,
        ),
        (F("hardcoded-ip", "docker-compose.yml"), False),
    ],
)
def test_what_is_archived(finding: F, archived: bool) -> None:
    reasons = archive_reasons([finding])
    assert (finding.path in reasons) is archived


def test_readme_keeps_earlier_rows() -> None:
    first = readme(None, [("a.yml", "archive/a.yml", ["docker-compose file"])])
    second = readme(first, [("b.sh", "archive/b.sh", ["Docker Swarm (x|y)"])])
    assert "| `archive/a.yml` | `a.yml` | docker-compose file |" in second
    assert "| `archive/b.sh` | `b.sh` | Docker Swarm (x\\|y) |" in second
    assert readme(second, []) == second
