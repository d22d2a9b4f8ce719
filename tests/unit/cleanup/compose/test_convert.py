"""Table of compose services → spec fields, and the keys that must be reported."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

from sophia_platform.cleanup.compose.convert import (
    convert_service,
    cpu_quantity,
    memory_quantity,
    split_image,
)
from sophia_platform.cleanup.compose.loader import load_compose

A = "sophia.dev/compose-"

CASES: list[tuple[str, str, dict[str, Any], list[str]]] = [
    ("image and tag", "image: redis:7.2", {"image": "redis", "tag": "7.2"}, []),
    (
        "registry with port",
        "image: reg.local:5000/team/api:1.0",
        {"image": "reg.local:5000/team/api", "tag": "1.0"},
        [],
    ),
    (
        "ports short and long",
        'image: a\nports: ["8080:8000", "9090/udp", {target: 7000, published: 17000}]',
        {"image": "a", "port": 8000, "ports": {"udp-9090": 9090, "tcp-7000": 7000}},
        [],
    ),
    (
        "environment split into env and secrets",
        "image: a\nenvironment:\n  LOG_LEVEL: info\n  OPENAI_API_KEY: sk-abc\n  DEBUG: true",
        {
            "image": "a",
            "env": {"DEBUG": "true", "LOG_LEVEL": "info"},
            "secrets": ["OPENAI_API_KEY"],
        },
        [],
    ),
    (
        "credential URL is a secret whatever its name",
        "image: a\nenvironment: [MAIN_DB=postgres://app:hunter2@db:5432/app]",
        {"image": "a", "secrets": ["MAIN_DB"]},
        [],
    ),
    (
        "passthrough environment is reported",
        "image: a\nenvironment: [HOME_DIR]",
        {"image": "a"},
        ["environment.HOME_DIR"],
    ),
    (
        "named volume becomes storage",
        "image: postgres:16\n"
        "volumes: [pgdata:/var/lib/postgresql/data, ./init:/docker-entrypoint-initdb.d]",
        {
            "image": "postgres",
            "tag": "16",
            "kind": "statefulset",
            "storage": "10Gi",
            "annotations": {A + "volume": "pgdata:/var/lib/postgresql/data"},
        },
        ["volumes[./init:/docker-entrypoint-initdb.d]"],
    ),
    (
        "depends_on with condition",
        "image: a\ndepends_on:\n  db: {condition: service_healthy}\n"
        "  cache_1: {condition: service_started}",
        {
            "image": "a",
            "depends_on": ["db", "cache-1"],
            "annotations": {A + "depends-on.db": "service_healthy"},
        },
        [],
    ),
    (
        "http healthcheck becomes the health path",
        'image: a\nhealthcheck: {test: ["CMD", "curl", "-f", "http://localhost:8000/healthz"]}',
        {"image": "a", "health": "/healthz"},
        [],
    ),
    (
        "exec healthcheck kept as annotation",
        'image: a\nhealthcheck: {test: "pg_isready -U app", retries: 5}',
        {
            "image": "a",
            "annotations": {A + "healthcheck": "pg_isready -U app", A + "healthcheck-retries": "5"},
        },
        [],
    ),
    (
        "resources and GPU reservation",
        textwrap.dedent(
            """\
            image: llm
            deploy:
              replicas: 2
              resources:
                limits: {cpus: "1.5", memory: 8G}
                reservations:
                  cpus: "0.5"
                  memory: 512m
                  devices: [{driver: nvidia, count: 2, capabilities: [gpu]}]
            """
        ),
        {
            "image": "llm",
            "replicas": 2,
            "resources": {
                "cpu_limit": "1500m",
                "memory_limit": "8Gi",
                "cpu": "500m",
                "memory": "512Mi",
            },
            "gpu": 2,
        },
        [],
    ),
    (
        "gpu placement and swarm-only keys",
        textwrap.dedent(
            """\
            image: llm
            deploy:
              mode: global
              placement: {constraints: ["node.labels.gpu-type == GH200", "node.role == manager"]}
              update_config: {parallelism: 1}
            """
        ),
        {"image": "llm", "gpu_type": "GH200"},
        [
            "deploy.mode",
            "deploy.placement.constraints[node.role == manager]",
            "deploy.update_config",
        ],
    ),
    (
        "restart and command/entrypoint",
        'image: a\nrestart: "no"\nentrypoint: /bin/run\ncommand: ["--port", "80"]',
        {
            "image": "a",
            "command": ["/bin/run"],
            "args": ["--port", "80"],
            "annotations": {A + "restart": "no"},
        },
        [],
    ),
    (
        "keys with no equivalent are reported, never dropped",
        "image: a\ncontainer_name: x\nnetworks: [front]\nlabels: {a: b}\nx-team: core\nbogus: 1",
        {"image": "a"},
        ["container_name", "networks", "labels", "x-team", "bogus"],
    ),
    (
        "build without image",
        "build: .",
        {"image": "svc"},
        ["build"],
    ),
    (
        "legacy nvidia runtime",
        "image: a\nruntime: nvidia",
        {"image": "a", "gpu": 1},
        [],
    ),
    (
        "compose secrets become manifest secrets",
        "image: a\nsecrets: [db_password]",
        {"image": "a", "secrets": ["DB_PASSWORD"]},
        [],
    ),
]


@pytest.mark.parametrize(
    ("body", "fields", "unconverted"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_compose_service_to_spec(
    tmp_path: Path, body: str, fields: dict[str, Any], unconverted: list[str]
) -> None:
    compose = tmp_path / "docker-compose.yml"
    compose.write_text("services:\n  svc:\n" + textwrap.indent(body, "    ") + "\n")
    (service,) = load_compose(compose, {}).services.values()
    converted = convert_service(service, tmp_path)
    assert converted.fields == fields
    assert [u.key for u in converted.unconverted] == unconverted
    assert all(u.line > 0 and u.file == "docker-compose.yml" for u in converted.unconverted)


def test_secret_values_never_reach_the_spec_fields(tmp_path: Path) -> None:
    canary = "sk-canary-0123456789abcdef"
    (tmp_path / "app.env").write_text(f"OPENAI_API_KEY={canary}\nMODE=fast\n")
    compose = tmp_path / "compose.yml"
    compose.write_text(
        "services:\n  api:\n    image: a\n    env_file: app.env\n"
        "    environment: {TOKEN_X: '${TOKEN_X}', URL: 'https://u:${DB_PASS}@h/db'}\n"
    )
    service = load_compose(compose, {"TOKEN_X": canary, "DB_PASS": canary}).services["api"]
    converted = convert_service(service, tmp_path)
    assert canary not in repr(converted)
    assert converted.fields["env"] == {"MODE": "fast"}
    assert converted.fields["secrets"] == ["OPENAI_API_KEY", "TOKEN_X", "URL"]


def test_extends_and_anchors(tmp_path: Path) -> None:
    (tmp_path / "base.yml").write_text(
        "services:\n  base:\n    image: a:1\n    environment: {A: '1', B: '2'}\n    ports: ['80']\n"
    )
    compose = tmp_path / "compose.yml"
    compose.write_text(
        textwrap.dedent(
            """\
            x-common: &common
              restart: always
              environment: {LOG: debug}
            services:
              web:
                <<: *common
                extends: {file: base.yml, service: base}
                environment: {B: '3'}
                ports: ['81']
            """
        )
    )
    web = load_compose(compose, {}).services["web"]
    fields = convert_service(web, tmp_path).fields
    assert fields["env"] == {"A": "1", "B": "3"}
    assert fields["port"] == 80 and fields["ports"] == {"tcp-81": 81}
    assert fields["annotations"] == {A + "restart": "always"}


@pytest.mark.parametrize(
    ("value", "expected"),
    [("4G", "4Gi"), ("512m", "512Mi"), ("1gb", "1Gi"), ("1.5g", "1536Mi"), (1048576, "1Mi")],
)
def test_memory_quantity(value: Any, expected: str) -> None:
    assert memory_quantity(value) == expected


@pytest.mark.parametrize(("value", "expected"), [("0.5", "500m"), (2, "2"), ("1.0", "1")])
def test_cpu_quantity(value: Any, expected: str) -> None:
    assert cpu_quantity(value) == expected


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        ("nginx", ("nginx", None)),
        ("nginx:1.25", ("nginx", "1.25")),
        ("localhost:5000/x", ("localhost:5000/x", None)),
        ("x@sha256:abc", ("x@sha256:abc", None)),
    ],
)
def test_split_image(ref: str, expected: tuple[str, str | None]) -> None:
    assert split_image(ref) == expected
