"""One way to name an environment: a positional ENV (default: the spec's), --env deprecated."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sophia_platform.cli.main import main


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def _env_of_values(out: str) -> str:
    return str(json.loads(out)["global"]["environment"])


@pytest.fixture
def spec(example_spec_path: Path) -> list[str]:
    return ["--spec", str(example_spec_path)]


def test_positional_env_and_the_specs_default(
    spec: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run([*spec, "render", "values", "staging", "--format", "json"], capsys)
    assert code == 0 and err == ""
    assert _env_of_values(out) == "staging"
    code, out, _ = run([*spec, "render", "values", "--format", "json"], capsys)
    assert code == 0 and _env_of_values(out) == "production"  # default_environment


def test_deprecated_env_option_still_works_and_warns(
    spec: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(
        [*spec, "render", "values", "--env", "staging", "--format", "json"], capsys
    )
    assert code == 0 and _env_of_values(out) == "staging"
    assert "--env is deprecated" in err
    # the same environment twice is fine; two different ones are bad input
    assert run([*spec, "render", "values", "staging", "-e", "staging"], capsys)[0] == 0
    code, _, err = run([*spec, "render", "values", "staging", "--env", "local"], capsys)
    assert code == 2 and "two environments given" in err


def test_unknown_environment_is_bad_input(
    spec: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run([*spec, "render", "values", "nowhere"], capsys)
    assert code == 2 and "unknown environment 'nowhere'" in err and "production" in err


@pytest.mark.parametrize(
    "command",
    [
        ["deploy"],
        ["status"],
        ["rollback"],
        ["history"],
        ["diff"],
        ["lock", "status"],
        ["lock", "acquire"],
        ["lock", "release"],
        ["secrets", "sync"],
        ["secrets", "check"],
        ["secrets", "trace"],
        ["secrets", "set"],
        ["secrets", "eso"],
        ["render", "values"],
        ["render", "manifests"],
    ],
)
def test_every_command_takes_env_as_its_last_argument(
    command: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run([*command, "--help"], capsys)
    assert code == 0
    usage = next(line for line in out.splitlines() if "Usage:" in line)
    assert usage.rstrip().endswith("[ENV]"), usage
    assert "--env" not in out  # the alias is hidden
