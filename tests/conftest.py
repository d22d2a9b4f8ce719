"""Shared pytest configuration: fixtures of real components live in tests/plugins/."""

from __future__ import annotations

from pathlib import Path

import pytest

from sophia_platform import resources

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE_SPEC = resources.example_spec_path()


@pytest.fixture
def example_spec_path() -> Path:
    """The full Sophia AI example spec."""
    return EXAMPLE_SPEC


# Fixtures of real components: the local Kubernetes control plane (tests/plugins/k8s.py) and
# local servers implementing documented external APIs (tests/servers/).
pytest_plugins = [
    "tests.plugins.k8s",
    "tests.plugins.browser",
    "tests.plugins.gitops_tools",
    "tests.servers.esc",
]
