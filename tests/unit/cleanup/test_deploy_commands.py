"""Old deploy commands → the one deploy path: the audit's own findings drive each rewrite, and
the audit finds nothing Swarm-related in the result."""

from __future__ import annotations

import subprocess

import pytest

from sophia_platform.cleanup import deploy_commands
from sophia_platform.cleanup.deploy_commands import TABLE, replacement
from sophia_platform.cleanup.plan import apply_edits
from sophia_platform.cleanup.rewriters import for_kind
from sophia_platform.cleanup.rewriters.base import Rewrite, Site
from tests.unit.audit.helpers import run, source


def _rewrite(path: str, text: str) -> tuple[str, Rewrite]:
    """Rewrite every swarm-reference the audit reports in ``text`` (as the planner does)."""
    file = source(path, text)
    sites = [
        Site(f.line, f.column - 1, f.end_column - 1, "", f.data["construct"], "command")
        for f in run("swarm-reference", path, text)
    ]
    assert sites, "the audit should flag the input"
    rewriter = for_kind(file.kind)
    assert rewriter is not None and "command" in rewriter.site_kinds
    result = rewriter.rewrite(text, sites)
    return apply_edits(text, result.edits), result


DOCS = [
    (
        "To deploy the old way: `docker stack deploy -c docker-stack.yml sophia`.\n",
        "To deploy the old way: `./deploy.sh deploy <env>`.\n",
    ),
    (
        "Check with `docker service ls` and `docker stack ps sophia` first.\n",
        "Check with `./deploy.sh status <env>` and `./deploy.sh status <env>` first.\n",
    ),
    (
        "Roll back: `docker service update --rollback sophia_api`, then wait.\n",
        "Roll back: `./deploy.sh rollback <env>`, then wait.\n",
    ),
    (
        "Run docker stack deploy -c stack.yml app, then check the logs.\n",
        "Run `./deploy.sh deploy <env>`, then check the logs.\n",
    ),
    (
        "```bash\nexport X=1\ndocker stack deploy -c stack.yml app && echo ok\n```\n",
        "```bash\nexport X=1\n./deploy.sh deploy <env> && echo ok\n```\n",
    ),
    (
        "```\ndocker swarm init --advertise-addr eth0\n```\n",
        "```\n# retired with Docker Swarm: K3s nodes are listed under `nodes:` in "
        "`sophia.yaml`\n```\n",
    ),
    (
        "Initialise with `docker swarm init --advertise-addr eth0`.\n",
        "Initialise with (retired with Docker Swarm: K3s nodes are listed under `nodes:` in "
        "`sophia.yaml`).\n",
    ),
    (
        "| step | `docker stack rm sophia` |\n",
        "| step | (retired with Docker Swarm: `sophia.yaml` lists what runs; "
        "`./deploy.sh deploy`) |\n",
    ),
]


@pytest.mark.parametrize(("source_text", "expected"), DOCS)
def test_docs_commands(source_text: str, expected: str) -> None:
    new, result = _rewrite("docs/SERVERS.md", source_text)
    assert result.skipped == []
    assert new == expected
    assert run("swarm-reference", "docs/SERVERS.md", new) == []


SHELL = [
    ("#!/bin/sh\ndocker stack deploy -c s.yml app\n", "#!/bin/sh\n./deploy.sh deploy\n"),
    ("docker service ls | grep api\n", "./deploy.sh status | grep api\n"),
    (
        "if true; then docker service update --force sophia_api; fi\n",
        "if true; then ./deploy.sh deploy; fi\n",
    ),
    (
        "set -e\n  docker service update --rollback sophia_api  # undo\n",
        "set -e\n  ./deploy.sh rollback  # undo\n",
    ),
    (
        "if x; then\n  docker swarm init\nfi\n",
        "if x; then\n  : # retired with Docker Swarm: K3s nodes are listed under `nodes:` in "
        "`sophia.yaml`\nfi\n",
    ),
]


@pytest.mark.parametrize(("source_text", "expected"), SHELL)
def test_shell_commands(source_text: str, expected: str) -> None:
    new, result = _rewrite("scripts/ops.sh", source_text)
    assert result.skipped == []
    assert new == expected
    assert run("swarm-reference", "scripts/ops.sh", new) == []
    subprocess.run(["bash", "-n"], input=new, text=True, check=True)  # still valid shell


@pytest.mark.parametrize(
    "source_text",
    [
        "ssh root@manager docker stack deploy -c s.yml app\n",  # would run ./deploy.sh remotely
        "ssh root@manager 'docker service ls'\n",
        'sudo docker stack deploy -c s.yml app\nbash -c "docker service ls"\n',
        "docker swarm join --token T m:2377 && echo joined\n",  # no equivalent, not alone
        "docker network create --driver overlay mesh\n",
    ],
)
def test_shell_commands_inside_others_are_reported(source_text: str) -> None:
    rewriter = for_kind("shell")
    assert rewriter is not None
    new, result = _rewrite("scripts/ops.sh", source_text)
    if "overlay" in source_text:  # a note on a line of its own is fine
        assert new.startswith(": # retired with Docker Swarm")
        return
    assert new == source_text
    assert result.skipped and all("by hand" in reason for _, reason in result.skipped)


def test_the_table_is_the_one_place() -> None:
    """Every mapping gives either a command on the one path or a note, never both or neither."""
    for mapping in TABLE:
        assert (mapping.new is None) != (mapping.note is None)
        text = (mapping.new or mapping.note or "").format(env=" <env>")
        assert run("swarm-reference", "docs/x.md", text + "\n") == []
    assert replacement("echo hello", 0, "") is None
    found = replacement("docker compose -f a.yml up -d", 0, " <env>")
    assert found is not None and found.new == "./deploy.sh deploy <env>"


def test_compose_commands_in_docs_are_found_and_rewritten() -> None:
    """No audit rule reports `docker compose up` line by line; the cleanup finds it itself."""
    text = (
        "Start it with `docker compose -f deploy/compose.yml up -d api`.\n"
        "```\ndocker-compose up --build && curl localhost:8000\n```\n"
        "Stop with `docker compose down`; `docker compose ps` lists it.\n"
    )
    found = deploy_commands.unreported_commands(text)
    assert [(line, text.split("\n")[line - 1][s:e]) for line, s, e in found] == [
        (1, "docker compose -f deploy/compose.yml up"),
        (3, "docker-compose up"),
    ]
    sites = [Site(line, s, e, "", "docker compose up", "command") for line, s, e in found]
    rewriter = for_kind("docs")
    assert rewriter is not None
    result = rewriter.rewrite(text, sites)
    assert result.skipped == []
    assert apply_edits(text, result.edits) == (
        "Start it with `./deploy.sh deploy <env>`.\n"
        "```\n./deploy.sh deploy <env> && curl localhost:8000\n```\n"
        "Stop with `docker compose down`; `docker compose ps` lists it.\n"
    )


def test_an_address_inside_a_replaced_command_goes_with_it() -> None:
    text = "Deploy: `docker stack deploy -c s.yml --host 10.0.0.5 app`.\n"
    line = text.split("\n")[0]
    host = Site(1, line.index("10.0.0.5"), line.index("10.0.0.5") + 8, "", "HOST", "host")
    command = Site(1, line.index("docker"), line.index("docker") + 19, "", "x", "command")
    rewriter = for_kind("docs")
    assert rewriter is not None
    result = rewriter.rewrite(text, [host, command])
    assert result.skipped == []
    assert apply_edits(text, result.edits) == "Deploy: `./deploy.sh deploy <env>`.\n"
