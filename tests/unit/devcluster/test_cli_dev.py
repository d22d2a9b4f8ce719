from __future__ import annotations

import json
from pathlib import Path

import pytest

from sophia_platform.cli.main import main


def test_up_dry_run_plans_nodes_and_starts_nothing(
    tmp_path: Path, example_spec_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = tmp_path / "state"
    argv = ["dev", "cluster", "up", "--dry-run", "--json", "--state-dir", str(state)]
    code = main([*argv, "--spec", str(example_spec_path)])
    assert code == 0
    plan = json.loads(capsys.readouterr().out)
    assert plan["components"][0] == "etcd"
    assert {n["name"] for n in plan["nodes"]} == {"control", "ai-core", "mcp-hub", "data", "dev"}
    assert not state.exists()


def test_down_dry_run_without_cluster(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["dev", "cluster", "down", "--dry-run", "--state-dir", str(tmp_path / "s")]) == 0
    assert "would stop: nothing" in capsys.readouterr().out


def test_down_without_cluster_is_a_no_op(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["dev", "cluster", "down", "--state-dir", str(tmp_path / "s")]) == 0
    assert "no local cluster running" in capsys.readouterr().out


def test_kubeconfig_without_cluster_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["dev", "cluster", "kubeconfig", "--state-dir", str(tmp_path / "s")]) == 1
    assert "sophia dev cluster up" in capsys.readouterr().err


def test_up_with_a_bad_spec_is_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = tmp_path / "sophia.yaml"
    spec.write_text("project: x\nnodes: 3\n")
    argv = ["dev", "cluster", "up", "--dry-run", "--state-dir", str(tmp_path / "s")]
    assert main([*argv, "--spec", str(spec)]) == 2
