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
        (
            "docs/arch.md",
            "```yaml\nnetworks:\n  mesh:\n    driver: overlay\n```\n",
            "overlay network",
        ),
        ("stack.yml", "services:\n  a:\n    deploy:\n      mode: global\n", "mode: global"),
        (
            "stack.yml",
            "services:\n  a:\n    deploy:\n      placement:\n        max_replicas_per_node: 1\n",
            "placement",
        ),
        # The policy's other forms (lessons from the corpus and the held-out repository).
        ("ops.sh", 'ssh root@mgr "docker secret create db_pw -"\n', "docker secret create"),
        ("ops.sh", "docker config ls\n", "docker config ls"),
        (
            "tool.py",
            'subprocess.run(["docker", "stack", "deploy", "-c", f])\n',
            "docker stack deploy",
        ),
        ("tool.py", 'cmd = f"ssh {host} docker node ls"\n', "docker node ls"),
        ("prometheus.yml", "  - job_name: dockerswarm_tasks\n", "dockerswarm_tasks"),
        (
            "stack.yml",
            "      labels: [com.docker.stack.namespace=x]\n",
            "com.docker.stack.namespace",
        ),
        ("traefik.yml", "    swarmMode: true\n", "swarmMode"),
        ("net.sh", "docker network create -d overlay --attachable mesh\n", "overlay network"),
        (
            "x.yml",
            "services:\n  a:\n    deploy:\n      constraints: [node.role == manager]\n",
            "constraints",
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
        ("notes.md", "Docker Swarm is retired; we run K3s now.\n"),  # prose naming Swarm
        ("swarm.py", "def swarm_exec(cmd):\n    return run(cmd)\n"),  # an identifier
        ("nodes.py", 'if node.role == "server":\n    pass\n'),  # an attribute, not a constraint
        (
            "docker-compose.yml",
            "services:\n  a:\n    image: x\n    # deploy:\n    #   placement:\n",
        ),  # commented-out YAML config
    ],
)
def test_swarm_negative(path: str, text: str) -> None:
    assert run("swarm-reference", path, text) == []


def test_stack_file_swarm_keys() -> None:
    constructs = [f.data["construct"] for f in run("swarm-reference", "stack.yml", STACK)]
    assert constructs == ["mode: global", "placement", "constraints"]  # one per line


@pytest.mark.parametrize(
    ("path", "text"),
    [
        ("docker-compose.override.yml", ""),  # an empty stub still counts (policy)
        ("compose.prod.yaml", "# TODO\n"),
        ("infra/monitoring.yml", "services:\n  grafana:\n    image: grafana/grafana\n"),
        ("ops/app-swarm.yaml", "services:\n  api:\n    build: ./api\n"),  # no version: line
    ],
)
def test_compose_stubs_and_stacks_of_any_name(path: str, text: str) -> None:
    assert len(run("compose-file", path, text)) == 1


@pytest.mark.parametrize(
    ("path", "text"),
    [
        ("k8s/monitoring-stack.yaml", "apiVersion: v1\nkind: Service\nservices:\n  image: x\n"),
        (".github/workflows/ci.yml", "on: push\nservices:\n  db:\n    image: postgres\n"),
    ],
)
def test_not_compose_by_content(path: str, text: str) -> None:
    assert run("compose-file", path, text) == []
