"""``.pre-commit-hooks.yaml`` under the real pre-commit: a commit is refused or let through.

Every commit here is a real ``git commit`` running the pre-commit hook that ``pre-commit
install`` wrote, with this project's hooks installed by pre-commit from a local clone.
"""

from __future__ import annotations

import textwrap

import pytest

from sophia_platform.cli.main import main
from tests.conftest import EXAMPLE_SPEC
from tests.integration.hooks.conftest import HookRepo

pytestmark = [pytest.mark.integration, pytest.mark.timeout(1200)]

# Built at run time so no token-shaped literal sits in this file.
CANARY = "ghp_" + "Hk7Pq2Wz9Lm4Xc6Vb8Nd1Rt3Ys5Gf0JaCANARY"


def output(proc: object) -> str:
    return str(getattr(proc, "stdout", "")) + str(getattr(proc, "stderr", ""))


def test_commit_with_a_hardcoded_ip_is_refused(hook_repo: HookRepo) -> None:
    proc = hook_repo.commit({"app/settings.py": 'REDIS_HOST = "10.20.30.40"\n'}, "add redis")
    assert proc.returncode != 0
    text = output(proc)
    assert "app/settings.py:1: hardcoded-ip: hardcoded host address 10.20.30.40" in text
    assert "sophia audit" in text and "Failed" in text
    assert hook_repo.head_subject() == "configure pre-commit"  # nothing was committed


def test_clean_commit_passes(hook_repo: HookRepo) -> None:
    files = {
        "app/settings.py": 'import os\n\nREDIS_HOST = os.environ["REDIS_HOST"]\n',
        "docs/ops.md": "Addresses live in sophia.yaml; loopback 127.0.0.1 is fine.\n",
    }
    proc = hook_repo.commit(files, "read the host from the environment")
    assert proc.returncode == 0, output(proc)
    assert "sophia audit" in output(proc) and "Passed" in output(proc)
    assert hook_repo.head_subject() == "read the host from the environment"


def test_baselined_finding_passes_and_a_new_one_does_not(hook_repo: HookRepo) -> None:
    hook_repo.write({"legacy/hosts.py": 'GPU_BOX = "10.9.8.7"\n'})
    baseline = hook_repo.path / ".sophia-audit-baseline.json"
    write = ["audit", str(hook_repo.path), "--write-baseline", str(baseline), "--exit-zero"]
    assert main(write) == 0
    config = "version: 1\nbaseline: .sophia-audit-baseline.json\n"
    proc = hook_repo.commit(
        {"legacy/hosts.py": 'GPU_BOX = "10.9.8.7"\n', ".sophia-audit.yml": config}
        | {".sophia-audit-baseline.json": baseline.read_text()},
        "accept the legacy host",
    )
    assert proc.returncode == 0, output(proc)
    # The line moves: the baseline still holds (fingerprints are not line numbers)...
    moved = '"""Legacy hosts."""\n\nGPU_BOX = "10.9.8.7"\n'
    proc = hook_repo.commit({"legacy/hosts.py": moved}, "document the module")
    assert proc.returncode == 0, output(proc)
    # ...but a new address next to it is new debt.
    proc = hook_repo.commit({"legacy/hosts.py": moved + 'CPU_BOX = "10.9.8.8"\n'}, "one more")
    assert proc.returncode != 0
    text = output(proc)
    assert "legacy/hosts.py:4: hardcoded-ip" in text and "10.9.8.7" not in text


def test_committed_secret_is_refused_without_printing_it(hook_repo: HookRepo) -> None:
    proc = hook_repo.commit({"deploy/env.py": f'GITHUB_TOKEN = "{CANARY}"\n'}, "add token")
    assert proc.returncode != 0
    text = output(proc)
    assert "deploy/env.py:1: committed-secret:" in text and "sha256:" in text
    assert CANARY not in text and CANARY[4:20] not in text


def test_sophia_validate_refuses_a_broken_spec_and_passes_a_good_one(
    hook_repo: HookRepo,
) -> None:
    broken = textwrap.dedent(
        """\
        project: demo
        registry: docker.io/demo
        environments:
          production: {context: prod, namespace: demo}
        services:
          api: {image: demo-api, port: 8000, secrets: [MISSING_SECRET]}
        """
    )
    proc = hook_repo.commit({"sophia.yaml": broken}, "broken spec")
    assert proc.returncode != 0
    text = output(proc)
    assert "sophia validate" in text and "Failed" in text
    assert "sophia.yaml:6:" in text and "MISSING_SECRET" in text
    proc = hook_repo.commit({"sophia.yaml": EXAMPLE_SPEC.read_text()}, "the example spec")
    assert proc.returncode == 0, output(proc)
    assert hook_repo.head_subject() == "the example spec"
