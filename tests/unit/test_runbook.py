"""The runbook: README block == the demo's list, and only public command lines in it."""

from __future__ import annotations

import ast
import os
import shlex
from pathlib import Path

import pytest

from sophia_platform import runbook
from sophia_platform.cli.main import main

ROOT = Path(__file__).resolve().parents[2]
DEMO_SOURCE = ROOT / "src" / "sophia_platform" / "cli" / "demo.py"


def test_readme_block_is_the_rendered_runbook() -> None:
    block = runbook.readme_block((ROOT / "README.md").read_text(encoding="utf-8"))
    assert block, "README.md lacks the runbook block; paste the output of `sophia demo --markdown`"
    assert block == runbook.markdown(), "README's runbook block is stale: `sophia demo --markdown`"


def test_readme_lines_are_the_steps_in_order() -> None:
    lines = runbook.command_lines(runbook.markdown())
    assert runbook.steps_for(lines) == runbook.steps()


def test_a_line_out_of_order_is_no_step() -> None:
    lines = runbook.command_lines(runbook.markdown())
    with pytest.raises(KeyError, match="no runbook step"):
        runbook.steps_for(lines[1:])


def _commands(line: str) -> list[list[str]]:
    """The simple commands of a line: split at `&&`, pipes and `$(...)`, each as words."""
    inner = [part.split(")", 1)[0] for part in line.split("$(")[1:]]
    outer = line.split("$(", 1)[0] + " ".join(p.split(")", 1)[-1] for p in line.split("$(")[1:])
    parts = [p for chunk in [outer, *inner] for p in chunk.replace("&&", "|").split("|")]
    return [shlex.split(p) for p in parts if p.strip()]


def test_every_step_is_a_sophia_or_git_command_that_exists(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # sophia does the work; git is how a user pushes (GitOps: `git push main` deploys).
    for step in runbook.steps():
        commands = _commands(step.command)
        assert any(words[0] == "sophia" for words in commands) or all(
            words[0] == "git" for words in commands
        ), step.command
        for words in commands:
            assert words[0] in {"sophia", "git", "head", "base64"}, step.command
            if words[0] != "sophia":
                continue
            # `--help` of the subcommand: an unknown command or option would exit 2.
            sub = [w for w in words[1:] if not w.startswith("-")][:3]
            while sub:
                code = main([*sub, "--help"])
                if code == 0:
                    break
                sub = sub[:-1]
            assert sub, f"no such command: {step.command}"
    capsys.readouterr()


def test_no_two_steps_are_the_same_line() -> None:
    lines = [step.command for step in runbook.steps()]
    assert len(lines) == len(set(lines)), "the README block maps lines to steps: keep them unique"


def test_the_demo_calls_no_core_function_behind_the_commands() -> None:
    tree = ast.parse(DEMO_SOURCE.read_text(encoding="utf-8"))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module)
    ours = {m for m in imported if m.startswith("sophia_platform")}
    assert ours <= {"sophia_platform", "sophia_platform.cli", "sophia_platform.errors"}, ours


def test_markdown_option_prints_the_block(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--markdown"]) == 0
    assert capsys.readouterr().out == runbook.markdown()


def test_dry_run_prints_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--dry-run"]) == 0
    out = capsys.readouterr().out
    for step in runbook.steps():
        assert f"$ {step.command}" in out


def test_run_step_runs_a_shell_line_and_checks_exit_and_output(tmp_path: Path) -> None:
    step = runbook.Step("echo hi | tr a-z A-Z; exit 3", exit_code=3, expect="HI")
    seen: list[str] = []
    env = runbook.child_environment(os.environ, bin_dir=tmp_path, state_dir=None)
    result = runbook.run_step(step.command, step, cwd=tmp_path, env=env, on_output=seen.append)
    assert result.ok and result.exit_code == 3 and "".join(seen) == "HI\n"
    wrong = runbook.Step("false | true")  # pipefail: the pipeline fails
    bad = runbook.run_step(wrong.command, wrong, cwd=tmp_path, env=env, on_output=seen.append)
    assert not bad.ok and bad.problem() == "exited 1, expected 0"


def test_child_environment_drops_the_spec_and_passes_the_state_dir(tmp_path: Path) -> None:
    env = runbook.child_environment(
        {"SOPHIA_SPEC": "/x/sophia.yaml", "PATH": "/usr/bin"},
        bin_dir=tmp_path / "bin",
        state_dir=tmp_path / "state",
    )
    assert "SOPHIA_SPEC" not in env
    assert env["PATH"].split(os.pathsep)[0] == str(tmp_path / "bin")
    assert env["SOPHIA_DEV_CLUSTER_DIR"] == str(tmp_path / "state")
