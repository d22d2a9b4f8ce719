"""The runner executes real processes: errors carry stderr, timeouts are enforced, the
environment is an allow-list and secrets are masked wherever a command is shown."""

from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path

import pytest

from sophia_platform.errors import ExternalError
from sophia_platform.runner import RunError, display, environment, run, run_bytes

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


def test_bytes_output_and_stdin() -> None:
    code = "import sys; sys.stdout.buffer.write(sys.stdin.buffer.read()[::-1])"
    done = run_bytes([PY, "-c", code], timeout=30, input=b"a\0b")
    assert done.stdout == b"b\0a"


def test_environment_is_an_allow_list(monkeypatch: pytest.MonkeyPatch) -> None:
    """Our tokens never reach a child; what the caller inherits or sets does."""
    monkeypatch.setenv("PULUMI_ACCESS_TOKEN", "canary-token-1f2e")
    monkeypatch.setenv("HELM_CACHE_HOME", "/tmp/helm-cache")
    monkeypatch.setenv("LC_MESSAGES", "C")
    code = "import json, os; print(json.dumps(dict(os.environ)))"
    seen = json.loads(run([PY, "-c", code], timeout=30, inherit=("HELM_*",), env={"X": "1"}).stdout)
    assert "PULUMI_ACCESS_TOKEN" not in seen
    assert seen["HELM_CACHE_HOME"] == "/tmp/helm-cache" and seen["X"] == "1"
    assert seen["LC_MESSAGES"] == "C" and seen["PATH"] == os.environ["PATH"]
    assert set(seen) <= {*environment(("HELM_*",), {"X": "1"}), "PWD", "SHLVL", "_", "LC_CTYPE"}


def test_secret_values_are_masked_in_log_and_error(caplog: pytest.LogCaptureFixture) -> None:
    canary = "canary-9d3c-secret"
    code = f"import sys; sys.stderr.write('bad token {canary}\\n'); sys.exit(2)"
    argv = [PY, "-c", code, "--token", "t0k", f"--set=db.password={canary}"]
    with (
        caplog.at_level(logging.DEBUG, logger="sophia_platform.runner"),
        pytest.raises(RunError) as info,
    ):
        run(argv, timeout=30, secrets=[canary], env={"GITHUB_TOKEN": canary})
    assert info.value.returncode == 2 and info.value.program == Path(PY).name
    assert "bad token ***" in info.value.message and "***" in info.value.stderr
    text = caplog.text + str(info.value) + info.value.stderr
    assert canary not in text and "t0k" not in text
    assert "--token '***'" in caplog.text and "db.password=***" in caplog.text
    assert "GITHUB_TOKEN" in caplog.text  # env names are logged, never values


def test_display_masks_flags_and_assignments() -> None:
    line = display(["helm", "upgrade", "--password", "p", "api_key=k", "--name=x", "plain"], ["x"])
    assert line == "helm upgrade --password '***' 'api_key=***' '--name=***' plain"


def test_error_type_and_label() -> None:
    class Boom(RunError):
        pass

    with pytest.raises(Boom, match=r"^my step failed in /: exit status 3$"):
        argv = [PY, "-c", "raise SystemExit(3)"]
        run(argv, timeout=30, label="my step", cwd=Path("/"), error=Boom)
