from __future__ import annotations

import pytest

from .helpers import run

COMPOSE = 'version: "3.8"\nservices:\n  api:\n    image: sophia/api\n  redis:\n    image: redis:7\n'
STACK = (
    "services:\n  api:\n    image: a\n    deploy:\n      mode: global\n"
    "      placement:\n        constraints: [node.role == manager]\n"
)


@pytest.mark.parametrize(
    "path",
    [
        "docker-compose.yml",
        "deploy/docker-compose.prod.yaml",
        "compose.yaml",
        "services/mcp/docker-compose-gong.yml",
        "ops/app.compose.yml",
        "docker-stack.yml",
        "infra/old/random-name.yml",
    ],
)
def test_compose_file_positive(path: str) -> None:
    findings = run("compose-file", path, COMPOSE)
    assert len(findings) == 1
    assert findings[0].data["services"] == "api,redis"
    assert (findings[0].line, findings[0].column) == (1, 1)


@pytest.mark.parametrize(
    ("path", "text"),
    [
        ("sophia.yaml", "project: x\nservices:\n  api:\n    image: a\n"),
        ("charts/x/values.yaml", "services:\n  api:\n    image: a\n"),
        ("k8s/deploy.yaml", "apiVersion: apps/v1\nkind: Deployment\nservices:\n  image: a\n"),
        (".github/workflows/ci.yml", "on: push\njobs:\n  b:\n    services:\n      image: x\n"),
        ("docker-compose.md", COMPOSE),
        ("config.yml", "version: 2\nlogging:\n  level: info\n"),
    ],
)
def test_compose_file_negative(path: str, text: str) -> None:
    assert run("compose-file", path, text) == []


@pytest.mark.parametrize(
    ("path", "text", "construct"),
    [
        ("deploy.sh", "docker stack deploy -c stack.yml sophia\n", "docker stack deploy"),
        ("deploy.sh", "docker   service update --image x api\n", "docker service update"),
        ("deploy.sh", "docker service scale api=3\n", "docker service scale"),
        ("deploy.sh", "docker service ls\n", "docker service ls"),
        ("boot.sh", "docker swarm init --advertise-addr eth0\n", "docker swarm init"),
        ("boot.sh", "docker swarm join --token T mgr:2377\n", "docker swarm join"),
        ("docs/ops.md", "Run `docker stack deploy -c x.yml app`.\n", "docker stack deploy"),
        ("net.sh", "docker network create --driver overlay sophia-net\n", "overlay network"),
        (
            "docker-compose.yml",
            "services:\n  a:\n    image: x\nnetworks:\n  n:\n    driver: overlay\n",
            "overlay network",
        ),
        ("stack.yml", "services:\n  a:\n    deploy:\n      mode: global\n", "mode: global"),
        (
            "stack.yml",
            "services:\n  a:\n    deploy:\n      placement:\n        constraints: []\n",
            "placement",
        ),
    ],
)
def test_swarm_positive(path: str, text: str, construct: str) -> None:
    findings = run("swarm-reference", path, text)
    assert [f.data["construct"] for f in findings] == [construct]


@pytest.mark.parametrize(
    ("path", "text"),
    [
        ("deploy.sh", "docker compose up -d\n"),
        ("deploy.sh", "docker build -t x .\n"),
        ("k8s/ds.yaml", "kind: DaemonSet\nspec:\n  updateStrategy:\n    type: RollingUpdate\n"),
        ("values.yaml", "mode: global\n"),
        (
            "docker-compose.yml",
            "services:\n  a:\n    deploy:\n      resources:\n        limits: {cpus: '1'}\n",
        ),
        ("notes.md", "We stopped using the overlay of docs.\n"),
    ],
)
def test_swarm_negative(path: str, text: str) -> None:
    assert run("swarm-reference", path, text) == []


def test_stack_file_has_two_swarm_keys() -> None:
    constructs = [f.data["construct"] for f in run("swarm-reference", "stack.yml", STACK)]
    assert constructs == ["mode: global", "placement"]
