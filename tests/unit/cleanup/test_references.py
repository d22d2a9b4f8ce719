"""What counts as a reference to a file (the check before a duplicate is archived)."""

from __future__ import annotations

import pytest

from sophia_platform.cleanup.references import pattern


@pytest.mark.parametrize(
    ("path", "text", "refers"),
    [
        ("services/worker/retry_helpers.py", "from worker.retry_helpers import retry", True),
        ("services/worker/retry_helpers.py", "from .retry_helpers import retry", True),
        ("services/worker/retry_helpers.py", "import retry_helpers", True),
        ("services/worker/retry_helpers.py", "see retry_helpers.py", True),
        ("services/worker/retry_helpers.py", "def retry_helpers_v2(): ...", False),
        ("services/worker/retry_helpers.py", "my-retry_helpers", False),
        ("services/api/Dockerfile.fixed", "    dockerfile: Dockerfile.fixed", True),
        ("services/api/Dockerfile.fixed", "FROM python (see Dockerfile)", False),
        ("scripts/deploy_v2.sh", "bash ./scripts/deploy_v2.sh prod", True),
        ("scripts/deploy_v2.sh", "deploy_v2 was faster", False),  # not Python: file name only
        ("lib/__init__.py", "from lib import x", False),  # a package marker, not a module name
    ],
)
def test_pattern(path: str, text: str, refers: bool) -> None:
    assert bool(pattern(path).search(text)) is refers
