"""The runner executes real processes: errors carry stderr, timeouts are enforced."""

from __future__ import annotations

import sys

import pytest

from sophia_platform.deploy.runner import run
from sophia_platform.errors import ExternalError

PY = sys.executable


def test_success_returns_output() -> None:
    done = run([PY, "-c", "print('hello')"], timeout=30)
    assert done.stdout == "hello\n" and done.returncode == 0


def test_failure_carries_last_stderr_line() -> None:
    code = "import sys; sys.stderr.write('noise\\nError: UPGRADE FAILED: boom\\n'); sys.exit(1)"
    with pytest.raises(ExternalError, match="failed: Error: UPGRADE FAILED: boom"):
        run([PY, "-c", code], timeout=30)


def test_unchecked_failure_returns() -> None:
    assert run([PY, "-c", "raise SystemExit(4)"], timeout=30, check=False).returncode == 4


def test_timeout() -> None:
    with pytest.raises(ExternalError, match="timed out after 1s"):
        run([PY, "-c", "import time; time.sleep(5)"], timeout=1)


def test_missing_program() -> None:
    with pytest.raises(ExternalError, match="not found"):
        run(["/nonexistent/helm", "version"], timeout=5)
