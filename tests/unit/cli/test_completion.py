"""Shell completion through the lazy root: real bash, the installed files, no eager imports."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from sophia_platform.cli.main import main

SOPHIA = [sys.executable, "-m", "sophia_platform.cli.main"]


def _bash_complete(words: str, cwd: Path, home: Path) -> list[str]:
    """Source the script `--show-completion bash` prints and let bash complete ``words``."""
    wrapper = home / "bin" / "sophia"
    wrapper.parent.mkdir(parents=True, exist_ok=True)
    wrapper.write_text(f'#!/bin/sh\nexec {sys.executable} -m sophia_platform.cli.main "$@"\n')
    wrapper.chmod(0o755)
    env = {**os.environ, "PATH": f"{wrapper.parent}:{os.environ['PATH']}", "HOME": str(home)}
    env.pop("SOPHIA_SPEC", None)
    script = (
        "source <(sophia --show-completion bash)\n"
        f"COMP_WORDS=({words})\n"
        "COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))\n"
        "_sophia_completion sophia\n"
        'printf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    done = subprocess.run(
        ["bash", "-c", script], capture_output=True, text=True, env=env, cwd=cwd, check=True
    )
    return done.stdout.split()


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash not installed")
def test_bash_completes_commands_and_environment_names(
    tmp_path: Path, example_spec_path: Path
) -> None:
    assert _bash_complete("sophia de", tmp_path, tmp_path) == ["deploy", "dev", "demo"]
    assert "--dry-run" in _bash_complete("sophia deploy --", tmp_path, tmp_path)
    # ENV completes from the spec in use: ./sophia.yaml or the root's --spec
    assert _bash_complete("sophia status ''", tmp_path, tmp_path) == []  # no spec here
    (tmp_path / "sophia.yaml").write_text(example_spec_path.read_text())
    assert _bash_complete("sophia secrets check ''", tmp_path, tmp_path) == [
        "production",
        "staging",
        "local",
        "lab",
    ]
    spec = f"--spec {example_spec_path}"
    assert _bash_complete(f"sophia {spec} rollback st", tmp_path.parent, tmp_path) == ["staging"]


def test_completing_command_names_imports_no_command() -> None:
    code = (
        "import sys\n"
        "from sophia_platform.cli.main import main\n"
        "try:\n    main([])\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('kubernetes', 'httpx', 'pydantic', 'rich', 'typer')"
        " if m in sys.modules]\n"
        "print('HEAVY', heavy)\n"
    )
    env = {
        **os.environ,
        "_SOPHIA_COMPLETE": "bash_complete",
        "COMP_WORDS": "sophia s",
        "COMP_CWORD": "1",
    }
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    assert done.stdout.splitlines()[-1] == "HEAVY []"
    assert "plain,show" in done.stdout and "plain,secrets" in done.stdout


@pytest.mark.parametrize(
    ("shell", "script", "rc_file", "rc_line"),
    [
        (
            "bash",
            ".bash_completions/sophia.sh",
            ".bashrc",
            "source '{home}/.bash_completions/sophia.sh'",
        ),
        ("zsh", ".zfunc/_sophia", ".zshrc", "fpath+=~/.zfunc"),
        ("fish", ".config/fish/completions/sophia.fish", None, None),
    ],
)
def test_install_completion_writes_the_script_once(
    shell: str,
    script: str,
    rc_file: str | None,
    rc_line: str | None,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    monkeypatch.setenv("SHELL", f"/usr/bin/{shell}")
    if rc_file:
        (tmp_path / rc_file).write_text("export EDITOR=vi")  # no final newline: kept intact
    assert main(["--install-completion"]) == 0
    assert "wrote" in capsys.readouterr().out
    assert main(["--show-completion", shell]) == 0
    assert (tmp_path / script).read_text() == capsys.readouterr().out
    if rc_file and rc_line:
        text = (tmp_path / rc_file).read_text()
        assert text.startswith("export EDITOR=vi\n")
        assert text.count(rc_line.format(home=tmp_path)) == 1
    before = {p: p.read_text() for p in tmp_path.rglob("*") if p.is_file()}
    assert main(["--install-completion", shell]) == 0  # again: nothing changes
    assert "already installed" in capsys.readouterr().out
    assert {p: p.read_text() for p in tmp_path.rglob("*") if p.is_file()} == before


def test_unknown_shell_is_bad_input(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SHELL", "/bin/tcsh")
    assert main(["--show-completion"]) == 2
    assert "cannot complete for shell tcsh" in capsys.readouterr().err
