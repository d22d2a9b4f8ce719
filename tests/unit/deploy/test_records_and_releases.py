from __future__ import annotations

import base64
import gzip
import json
import subprocess
from pathlib import Path

import pytest

from sophia_platform.deploy.diff import MASK, mask, normalise
from sophia_platform.deploy.records import DeployRecord, git_sha, last_good
from sophia_platform.deploy.releases import decode


def _rec(rev: int, outcome: str) -> DeployRecord:
    return DeployRecord("acme", "local", rev, "deploy", "me", "t", outcome=outcome)


def test_last_good_skips_failed_and_respects_before() -> None:
    recs = [_rec(1, "succeeded"), _rec(2, "rolled-back"), _rec(3, "succeeded"), _rec(4, "failed")]
    assert last_good(recs).revision == 3  # type: ignore[union-attr]
    assert last_good(recs, before=3).revision == 1  # type: ignore[union-attr]
    assert last_good([_rec(1, "failed")]) is None


def test_git_sha_reads_head_of_real_repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GITHUB_SHA", raising=False)
    monkeypatch.delenv("GIT_SHA", raising=False)
    run = lambda *a: subprocess.run(["git", *a], cwd=tmp_path, check=True, capture_output=True)  # noqa: E731
    run("init", "-q", "-b", "main")
    (tmp_path / "f").write_text("x")
    run("add", "f")
    run("-c", "user.email=a@b", "-c", "user.name=a", "commit", "-qm", "c")
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=tmp_path, capture_output=True, text=True
    )
    (tmp_path / "sub").mkdir()
    assert git_sha(tmp_path / "sub") == head.stdout.strip()
    run("pack-refs", "--all")
    assert git_sha(tmp_path) == head.stdout.strip()
    monkeypatch.setenv("GITHUB_SHA", "abc")
    assert git_sha(tmp_path) == "abc"


def test_decode_helm_storage_format() -> None:
    payload = {"name": "acme", "version": 3, "info": {"status": "deployed"}, "manifest": "m"}
    helm_blob = base64.b64encode(gzip.compress(json.dumps(payload).encode()))
    api_field = base64.b64encode(helm_blob).decode()  # the API returns Secret data base64'd
    assert decode(api_field) == payload


def test_mask_hides_secret_data_and_secret_env_values() -> None:
    canary = "canary-7f3a9e-do-not-leak"
    secret = {"kind": "Secret", "data": {"OPENAI_API_KEY": canary}, "stringData": {"X": canary}}
    assert json.dumps(mask(secret, set())).count(canary) == 0
    pod = {
        "kind": "Deployment",
        "spec": {
            "containers": [
                {
                    "env": [
                        {"name": "OPENAI_API_KEY", "value": canary},
                        {"name": "LOG", "value": "info"},
                    ]
                }
            ]
        },
    }
    masked = mask(pod, {"OPENAI_API_KEY"})
    assert canary not in json.dumps(masked)
    assert masked["spec"]["containers"][0]["env"][0]["value"] == MASK
    assert masked["spec"]["containers"][0]["env"][1]["value"] == "info"


def test_normalise_drops_server_fields() -> None:
    obj = {
        "kind": "Service",
        "metadata": {
            "name": "a",
            "uid": "u",
            "resourceVersion": "1",
            "managedFields": [],
            "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{}"},
        },
        "status": {},
    }
    assert normalise(obj) == {"kind": "Service", "metadata": {"name": "a"}}
