from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from sophia_platform.devcluster import toolchain


def test_cache_key_matches_build_script() -> None:
    tools = toolchain.tools_dir()
    assert tools is not None
    proc = subprocess.run(
        ["bash", str(tools / "build.sh"), "--print-bin-dir"],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "XDG_CACHE_HOME": str(toolchain.cache_root().parents[1])},
    )
    assert Path(proc.stdout.strip()) == toolchain.cache_bin_dir()


def test_extra_group_key_matches_build_script() -> None:
    tools = toolchain.tools_dir()
    proc = subprocess.run(
        ["bash", str(tools / "build.sh"), "--print-bin-dir", "local-path-provisioner"],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "XDG_CACHE_HOME": str(toolchain.cache_root().parents[1])},
    )
    assert Path(proc.stdout.strip()) == toolchain.bin_dir_of("local-path-provisioner")
    assert toolchain.bin_dir_of("local-path-provisioner") != toolchain.cache_bin_dir()
    assert "local-path-provisioner" in toolchain.BINARIES


def test_find_tool_prefers_env_override(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = tmp_path / "helm"
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    monkeypatch.setenv("SOPHIA_HELM_BIN", str(fake))
    assert toolchain.find_tool("helm") == fake
    monkeypatch.setenv("SOPHIA_KUBE_APISERVER_BIN", str(tmp_path / "missing"))
    assert toolchain.find_tool("kube-apiserver") is None


def test_find_tool_falls_back_to_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "empty-cache"))
    tool = tmp_path / "bin" / "sophia-test-tool"
    tool.parent.mkdir()
    tool.write_text("#!/bin/sh\n")
    tool.chmod(0o755)
    monkeypatch.setenv("PATH", str(tool.parent))
    assert toolchain.find_tool("sophia-test-tool") == tool


def test_build_script_fails_clearly_without_go(tmp_path: Path) -> None:
    tools = toolchain.tools_dir()
    assert tools is not None
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        "GO": str(tmp_path / "no-go-here"),
    }
    proc = subprocess.run(
        ["bash", str(tools / "build.sh")], capture_output=True, text=True, env=env, check=False
    )
    assert proc.returncode == 1
    assert "Go is not installed" in proc.stderr
