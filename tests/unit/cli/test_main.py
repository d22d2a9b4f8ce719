"""The CLI root: lazy commands, exit codes, one-line errors, --json, --version."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from sophia_platform import __version__, resources
from sophia_platform.cli.main import COMMANDS, main


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["--version"], capsys) == (0, f"sophia {__version__}\n", "")


def test_help_lists_every_command_without_importing_them() -> None:
    code = (
        "import sys; from sophia_platform.cli.main import main; main(['--help']);"
        "heavy = [m for m in ('kubernetes', 'httpx', 'pydantic', 'rich', 'typer', 'ruamel')"
        " if m in sys.modules]; print('HEAVY', heavy)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "HEAVY []" in done.stdout
    for name in COMMANDS:
        assert name in done.stdout


def test_validate_ok_and_json(example_spec_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["validate", str(example_spec_path)], capsys)
    assert code == 0 and "15 services" in out
    code, out, _ = run(["--json", "validate", str(example_spec_path)], capsys)
    assert code == 0
    assert json.loads(out) == {"file": str(example_spec_path), "ok": True, "problems": []}


def test_validate_broken_copy_prints_every_problem(
    tmp_path: Path, example_spec_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "sophia.yaml"
    text = example_spec_path.read_text()
    text = text.replace("port: 9001", "port: 99999").replace("[LINEAR_API_KEY]", "[LINEAR_KEY]")
    text = text.replace("address: ${NODE_DEV_HOST}", "address: 192.168.10.4")
    broken.write_text(text)
    code, _out, err = run(["validate", str(broken)], capsys)
    assert code == 2
    lines = [line for line in err.splitlines() if line.startswith(str(broken))]
    assert len(lines) == 3, err
    assert any("services.mcp-gong.port: must be 1-65535" in line for line in lines)
    assert any("nodes.dev.address" in line for line in lines)
    assert any("services.mcp-linear.secrets[0]" in line for line in lines)
    assert err.strip().splitlines()[-1] == f"error: {broken}: 3 problems found"
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("args", "code", "needle"),
    [
        (["validate", "/nonexistent/sophia.yaml"], 2, "no such file"),
        (["no-such-command"], 2, "No such command"),
        (["validate", "--bogus"], 2, "No such option"),
    ],
)
def test_errors_are_one_line_with_exit_codes(
    args: list[str], code: int, needle: str, capsys: pytest.CaptureFixture[str]
) -> None:
    got, _, err = run(args, capsys)
    assert got == code
    assert needle in err
    assert "Traceback" not in err


def test_debug_shows_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["--debug", "validate", "/nonexistent/sophia.yaml"], capsys)
    assert code == 2 and "Traceback" in err


def test_init_writes_a_valid_starter_and_is_idempotent(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "sophia.yaml"
    assert run(["init", str(target)], capsys)[0] == 0
    assert run(["validate", str(target)], capsys)[0] == 0
    assert run(["init", str(target)], capsys)[0] == 0  # same content: nothing to do
    target.write_text(target.read_text() + "# edited\n")
    code, _, err = run(["init", str(target)], capsys)
    assert code == 2 and "--force" in err


def test_init_example_writes_the_packaged_example(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "sophia.yaml"
    assert run(["init", "--example", str(target)], capsys)[0] == 0
    assert target.read_text() == resources.example_spec_path().read_text()
    code, out, _ = run(["validate", str(target)], capsys)
    assert code == 0 and "15 services" in out


@pytest.mark.parametrize(
    "args",
    [
        ["show"],
        ["render", "values"],
        ["deploy", "--dry-run"],
        ["secrets", "check"],
        ["dev", "cluster", "up", "--dry-run"],
    ],
)
def test_a_missing_spec_is_an_error_naming_the_path_and_init(
    args: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # never a silent fallback to the example spec: the user's command names no platform
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SOPHIA_SPEC", raising=False)
    code, out, err = run(args, capsys)
    assert code == 2, err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert f"looked for {tmp_path / 'sophia.yaml'}" in err
    assert "sophia init" in err
    assert "sophia-ai" not in out + err


def test_show_tree_and_json(example_spec_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["--spec", str(example_spec_path), "show"], capsys)
    assert code == 0
    assert "mcp-gong" in out and "GONG_ACCESS_KEY" in out and "GH200" in out
    code, out, _ = run(["show", str(example_spec_path), "--json"], capsys)
    data = json.loads(out)
    assert len(data["services"]) == 15 and data["secrets_total"] >= 40


def test_schema_is_valid_json_schema(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import jsonschema
    from ruamel.yaml import YAML

    code, out, _ = run(["schema"], capsys)
    assert code == 0
    schema = json.loads(out)
    jsonschema.Draft202012Validator.check_schema(schema)
    example = resources.example_spec_path()
    jsonschema.validate(YAML(typ="safe").load(example.read_text()), schema)


QUICK_EXIT_SCRIPT = """
import atexit, sys
from sophia_platform.cli.main import main
atexit.register(lambda: print("exit handlers ran", file=sys.stderr))
sys.argv = ["sophia", *sys.argv[1:]]
main()
print("not reached", file=sys.stderr)
"""


def test_audit_as_the_console_script_exits_at_once_with_its_code_and_whole_report(
    tmp_path: Path,
) -> None:
    (tmp_path / "docker-compose.yml").write_text("services:\n  a:\n    image: x\n")
    argv = [sys.executable, "-c", QUICK_EXIT_SCRIPT, "audit", str(tmp_path), "--format", "json"]
    done = subprocess.run(argv, capture_output=True, text=True)
    assert done.returncode == 1, done.stderr  # findings remain: the exit code is kept
    assert json.loads(done.stdout)["counts"]["compose-file"] == 1  # stdout flushed, whole
    assert "exit handlers ran" in done.stderr and "not reached" not in done.stderr
    # Any other command returns to its caller, which exits as usual.
    argv = [sys.executable, "-c", QUICK_EXIT_SCRIPT, "--version"]
    done = subprocess.run(argv, capture_output=True, text=True)
    assert done.returncode == 0 and "not reached" in done.stderr


def test_audit_called_with_argv_returns_its_code(tmp_path: Path) -> None:
    (tmp_path / "docker-compose.yml").write_text("services:\n  a:\n    image: x\n")
    assert main(["audit", str(tmp_path), "--format", "json", "-o", str(tmp_path / "r.json")]) == 1
    assert json.loads((tmp_path / "r.json").read_text())["counts"]["compose-file"] == 1
