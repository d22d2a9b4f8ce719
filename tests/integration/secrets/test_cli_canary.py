"""Every ``sophia secrets`` command, run with canary values: none may appear anywhere.

Checked: stdout, stderr, log records (all loggers at DEBUG), exception messages, the saved plan
and every file written under the test's directory. The only places a canary may live are the
intended stores: the (encrypted) local store, the ESC server's memory and GitHub's (decrypted by
the test server to prove the sealed box round trip).
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from sophia_platform.cli.main import main
from tests.servers.esc import EscServer
from tests.servers.esc_admin import DefinitionHandler, DefinitionState
from tests.servers.github import GithubServer

pytestmark = pytest.mark.integration
REF = "acme-org/default/acme-dev"


@pytest.fixture
def esc() -> Iterator[EscServer]:
    state = DefinitionState()
    state.add_environment(REF, {"unrelated": "plain-config"})
    with EscServer(state, DefinitionHandler) as server:
        yield server


@pytest.fixture
def cli_env(
    monkeypatch: pytest.MonkeyPatch,
    spec_file: Path,
    tmp_path: Path,
    esc: EscServer,
    github: GithubServer,
    values: dict[str, str],
) -> dict[str, str]:
    env = {
        "SOPHIA_SPEC": str(spec_file),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "PULUMI_ACCESS_TOKEN": esc.token,
        "PULUMI_BACKEND_URL": esc.backend_url,
        "GITHUB_TOKEN": "gh-admin",
        "GITHUB_API_URL": github.url,
        "SOPHIA_GITHUB_ORG": "acme",
        "ALL_SECRETS": json.dumps({**values, "github_token": "ghs-x", "EXTRA_ONE": "CANARY-extra"}),
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("KUBECONFIG", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    return env


def sophia(
    args: list[str],
    capfd: pytest.CaptureFixture[str],
    stdin: str | None = None,
    monkeypatch: pytest.MonkeyPatch | None = None,
) -> tuple[int, str]:
    if stdin is not None and monkeypatch is not None:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = main(args)
    out, err = capfd.readouterr()
    return code, out + err


def test_every_command_keeps_canaries_out(
    cli_env, values, capfd, caplog, monkeypatch, tmp_path, esc, github
) -> None:
    caplog.set_level(logging.DEBUG)
    transcript: list[str] = []
    layers = "--layers=local,esc,github-api"

    def run(args: list[str], expect: int, stdin: str | None = None) -> str:
        code, text = sophia(args, capfd, stdin, monkeypatch)
        transcript.append(f"$ sophia {' '.join(args)}\n{text}")
        assert code == expect, f"{args}: exit {code}\n{text}"
        return text

    plan_file = tmp_path / "plan.json"
    out = run(
        [
            "secrets",
            "sync",
            "--from",
            "github-actions",
            "--to",
            "esc",
            "dev",
            "--dry-run",
            "--plan-out",
            str(plan_file),
        ],
        0,
    )
    assert "openai_api_key" in out and "EXTRA_ONE" in out  # names are shown, values are not
    run(["secrets", "sync", "--from", "github-actions", "--to", "esc", "dev"], 0)
    assert isinstance(esc.state, DefinitionState) and len(esc.state.patches) == 1
    run(["--json", "secrets", "sync", "--from", "github-actions", "--to", "esc", "dev"], 0)
    run(["secrets", "sync", "--from", "esc", "--to", "local", "dev"], 0)
    run(["secrets", "sync", "--from", "local", "--to", "github-api", "dev"], 0)
    assert github.state.orgs["acme"].plaintext == values
    run(["secrets", "check", "dev", layers], 0)
    run(["--json", "secrets", "check", "dev", layers], 0)
    out = run(["secrets", "trace", "OPENAI_API_KEY", "dev", layers], 0)
    assert "fingerprint=" in out
    run(["--json", "secrets", "trace", "DATABASE_URL", "dev", layers], 0)
    # set: from stdin only; the value is rotated locally, then check reports ESC as stale.
    rotated = "CANARY-rotated-by-set"
    run(["secrets", "set", "OPENAI_API_KEY", "dev"], 0, stdin=rotated + "\n")
    out = run(["secrets", "check", "dev", layers], 1)
    assert "stale" in out and "api" in out
    run(
        ["secrets", "set", "SHARED_TOKEN", "dev", "--to", "github-api"],
        0,
        stdin="CANARY-set-github\n",
    )
    assert github.state.orgs["acme"].plaintext["SHARED_TOKEN"] == "CANARY-set-github"
    run(["secrets", "set", "NOT_IN_MANIFEST", "dev"], 2, stdin="CANARY-unknown\n")
    run(["secrets", "set", "OPENAI_API_KEY", "dev"], 2, stdin="changeme\n")
    run(["secrets", "sync", "--from", "local", "--to", "esc", "dev"], 0)
    run(["secrets", "check", "dev", "--layers=local,esc"], 0)
    # A refusal (required secret missing) writes nothing and exits 1.
    broken = {k: v for k, v in values.items() if k != "SHARED_TOKEN"}
    monkeypatch.setenv("ALL_SECRETS", json.dumps(broken))
    patches = len(esc.state.patches)
    out = run(["secrets", "sync", "--from", "github-actions", "--to", "esc", "dev"], 1)
    assert "SHARED_TOKEN" in out and len(esc.state.patches) == patches
    monkeypatch.setenv("ALL_SECRETS", "{broken json " + values["OPENAI_API_KEY"])
    run(["secrets", "sync", "--from", "github-actions", "--to", "esc", "dev"], 2)
    # A failing API (after retries) is exit 3 with a one-line message.
    monkeypatch.setenv("ALL_SECRETS", json.dumps(values))
    esc.state.fail(500, None, "get")
    run(["secrets", "sync", "--from", "github-actions", "--to", "esc", "dev"], 3)
    esc.state.clear_faults()
    run(["secrets", "workflow"], 0)
    run(["secrets", "eso", "dev", "--out", str(tmp_path / "eso.yaml")], 0)
    run(["secrets", "sync", "--from", "github-api", "--to", "esc", "dev"], 2)

    print("\n".join(transcript))
    canaries = [*values.values(), rotated, "CANARY-extra", "CANARY-unknown", "CANARY-set-github"]
    everything = "\n".join(transcript) + "\n".join(r.getMessage() for r in caplog.records)
    leaks = [c for c in canaries if c in everything]
    assert not leaks, "canary in output or logs"
    for path in tmp_path.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert not [c for c in canaries if c.encode() in data], f"canary in {path}"
    assert json.loads(plan_file.read_text())["source"] == "github-actions"
    assert (tmp_path / ".github/workflows/sync_secrets_comprehensive.yml").exists()


@pytest.mark.cluster
def test_kubernetes_commands_keep_canaries_out(
    cli_env, values, capfd, caplog, monkeypatch, tmp_path, spec_file, k8s_cluster, k8s_namespace
) -> None:
    caplog.set_level(logging.DEBUG)
    text = spec_file.read_text().replace("namespace: acme-dev", f"namespace: {k8s_namespace}")
    spec_file.write_text(text.replace("context: sophia-local", f"context: {k8s_cluster.context}"))
    monkeypatch.setenv("KUBECONFIG", str(k8s_cluster.kubeconfig))
    transcript: list[str] = []

    def run(args: list[str], expect: int) -> str:
        code, out = sophia(args, capfd)
        transcript.append(out)
        assert code == expect, f"{args}: exit {code}\n{out}"
        return out

    layers = "--layers=esc,kubernetes"
    run(["secrets", "sync", "--from", "github-actions", "--to", "esc", "dev"], 0)
    run(["secrets", "sync", "--from", "esc", "--to", "kubernetes", "dev", "--dry-run"], 0)
    run(["secrets", "check", "dev", layers], 1)  # kubernetes not synced yet
    out = run(["secrets", "sync", "--from", "esc", "--to", "kubernetes", "dev"], 0)
    assert "api-secrets/OPENAI_API_KEY" in out
    run(["--json", "secrets", "sync", "--from", "esc", "--to", "kubernetes", "dev"], 0)
    run(["secrets", "check", "dev", layers], 0)
    run(["secrets", "trace", "SHARED_TOKEN", "dev", layers], 0)
    run(["--json", "secrets", "trace", "GROUPED_KEY", "dev", layers], 0)
    run(["secrets", "sync", "--from", "esc", "--to", "local", "dev"], 0)
    run(["secrets", "sync", "--from", "local", "--to", "kubernetes", "dev", "--prune"], 0)
    everything = "\n".join(transcript) + "\n".join(r.getMessage() for r in caplog.records)
    assert not [v for v in values.values() if v in everything]
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert not [v for v in values.values() if v.encode() in path.read_bytes()], path
