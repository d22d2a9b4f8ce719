"""Several compose files → one sophia.yaml, merged, validated, comments kept."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from sophia_platform.cleanup.compose.migrate import migrate_compose
from sophia_platform.cli.main import main
from sophia_platform.spec import load_spec

SPEC = textwrap.dedent(
    """\
    # our platform
    project: shop
    registry: docker.io/acme   # the registry
    environments:
      local: {context: sophia-local, namespace: shop}
    nodes:
      control: {role: server, address: "${NODE_CONTROL_HOST}"}
      gpu-1: {role: agent, address: "${NODE_GPU_1_HOST}", gpu: {type: A100, count: 2}}
    services:
      api:
        image: shop-api   # hand-written, wins
        tag: "3.0"
    """
)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    (tmp_path / "sophia.yaml").write_text(SPEC)
    (tmp_path / "docker-compose.yml").write_text(
        textwrap.dedent(
            """\
            services:
              api:
                image: shop-api:2.0
                ports: ["8000:8000"]
                environment: {STRIPE_SECRET_KEY: "${STRIPE_SECRET_KEY}", MODE: prod}
              redis:
                image: redis:7
                volumes: [data:/data]
                container_name: redis1
            volumes: {data: {}}
            """
        )
    )
    (tmp_path / "docker-compose.gpu.yml").write_text(
        textwrap.dedent(
            """\
            services:
              redis:
                image: redis:7.2
              llm:
                image: shop-llm:${LLM_TAG:-0.9}
                deploy:
                  resources:
                    reservations:
                      devices: [{driver: nvidia, count: 1, capabilities: [gpu]}]
            """
        )
    )
    return tmp_path


def _files(repo: Path) -> list[Path]:
    return [repo / "docker-compose.yml", repo / "docker-compose.gpu.yml"]


def test_merge_into_existing_spec_keeps_comments_and_validates(repo: Path) -> None:
    report = migrate_compose(_files(repo), repo / "sophia.yaml")
    text = (repo / "sophia.yaml").read_text()
    assert "# our platform" in text and "# hand-written, wins" in text
    spec = load_spec(repo / "sophia.yaml")
    assert spec.services["api"].tag == "3.0"  # the spec is the source of truth
    assert spec.services["api"].port == 8000  # ...and gains what it lacked
    assert spec.services["api"].secrets == ["STRIPE_SECRET_KEY"]
    assert spec.secrets["STRIPE_SECRET_KEY"].required
    assert spec.services["redis"].storage == "10Gi"
    assert spec.services["llm"].gpu == 1 and spec.services["llm"].tag == "0.9"
    conflicts = {(c.service, c.field, c.kept, c.other) for c in report.conflicts}
    assert ("api", "tag", "3.0", "2.0") in conflicts
    assert ("redis", "tag", "7", "7.2") in conflicts
    assert [(u.service, u.key, u.line) for u in report.unconverted] == [
        ("redis", "container_name", 9)
    ]
    assert report.follow_ups == []
    assert report.sources["redis"] == ["docker-compose.yml", "docker-compose.gpu.yml"]


def test_second_run_changes_nothing(repo: Path) -> None:
    migrate_compose(_files(repo), repo / "sophia.yaml")
    before = (repo / "sophia.yaml").read_bytes()
    report = migrate_compose(_files(repo), repo / "sophia.yaml")
    assert not report.changed and not report.written
    assert (repo / "sophia.yaml").read_bytes() == before


def test_cli_dry_run_shows_diff_and_writes_nothing(
    repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(repo)
    assert main(["migrate", "compose", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "+  llm:" in out and "container_name" in out
    assert (repo / "sophia.yaml").read_text() == SPEC


def test_cli_json_report(
    repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(repo)
    assert main(["--json", "migrate", "compose", "--dry-run", "docker-compose.yml"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["files"] == ["docker-compose.yml"]
    assert report["unconverted"][0]["key"] == "container_name"
    assert report["secrets_added"] == {
        "STRIPE_SECRET_KEY": "from docker-compose.yml service api (environment)"
    }


def test_invalid_result_is_refused(repo: Path) -> None:
    (repo / "bad.yml").write_text("services:\n  api:\n    image: a\n    ports: ['99999']\n")
    args = ["migrate", "compose", "--spec", str(repo / "sophia.yaml"), str(repo / "bad.yml")]
    assert main(args) == 2
    assert (repo / "sophia.yaml").read_text() == SPEC


def test_missing_spec_is_created(tmp_path: Path) -> None:
    (tmp_path / "compose.yml").write_text("services:\n  web:\n    image: nginx:1.27\n")
    migrate_compose([tmp_path / "compose.yml"], tmp_path / "sophia.yaml")
    assert load_spec(tmp_path / "sophia.yaml").services["web"].image == "nginx"


def test_cli_output_keeps_brackets_of_compose_values(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "stack.yml").write_text(
        "services:\n  api:\n    image: a:1\n"
        "    deploy:\n      placement:\n        constraints: [node.role == manager]\n"
    )
    args = ["migrate", "compose", "--dry-run", "--spec", str(tmp_path / "sophia.yaml")]
    assert main([*args, str(tmp_path / "stack.yml")]) == 0
    assert "deploy.placement.constraints[node.role == manager]" in capsys.readouterr().out


def test_top_level_keys_that_carry_something_are_reported(tmp_path: Path) -> None:
    (tmp_path / "compose.yml").write_text(
        textwrap.dedent(
            """\
            version: "3.8"
            x-base: &base {image: a}
            services:
              web: *base
            volumes: {data: {}, logs: {driver: nfs}}
            networks: {front: {driver: overlay}}
            include: [other.yml]
            """
        )
    )
    report = migrate_compose([tmp_path / "compose.yml"], tmp_path / "sophia.yaml", dry_run=True)
    assert [(u.key, u.line) for u in report.unconverted] == [
        ("x-base", 2),
        ("volumes", 5),
        ("networks", 6),
        ("include", 7),
    ]
    assert report.services["web"] == {"image": "a"}
