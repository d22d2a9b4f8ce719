"""The GitOps tools as a fixture: actionlint found where ``data/gitops/build.sh`` put it.

scripts/setup builds it; a test session that finds it missing builds it (about 20 s from the
Go module proxy), so the lint tests run wherever the gitops build can run, and a broken build
fails them instead of skipping.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from sophia_platform.gitops import tools


@pytest.fixture(scope="session")
def actionlint() -> Path:
    """The pinned actionlint binary (v1.7.12, versions.env)."""
    found = tools.find("actionlint")
    if found is None:
        tools.build()
        found = tools.find("actionlint")
    assert found is not None, "data/gitops/build.sh ran but built no actionlint"
    return found
