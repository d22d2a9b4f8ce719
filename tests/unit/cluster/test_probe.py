"""The one-channel probe: its script run by a real `sh`, its output parsed back."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

from sophia_platform.cluster import k3s, preflight
from sophia_platform.cluster.inventory import ClusterNode
from sophia_platform.cluster.ssh import Completed, Session, SshError

CANARY = "K10canary5e1f::server:probe-token-0042"
NONCE = "5eed0123abcd4567"


def _node(role: str = "server", privilege: str = "root") -> ClusterNode:
    return ClusterNode("box", role, "127.0.0.1", 22, "root", None, privilege)


def _sh(script: str, *args: str) -> Completed:
    done = subprocess.run(["sh", "-c", script, "sh", *args], capture_output=True, text=True)
    return Completed(done.returncode, done.stdout, done.stderr)


def test_privileged_reads_return_each_file_byte_for_byte(tmp_path: Path) -> None:
    contents = {
        "config": "node-name: box\ntoken: x\n",
        "no-newline": "K10abc::server:def",
        "blank-lines": "a\n\n\n",
        "empty": "",
    }
    paths = {}
    for name, text in contents.items():
        paths[name] = tmp_path / name
        paths[name].write_text(text)
    absent = str(tmp_path / "absent")
    done = _sh(preflight._READ, NONCE, *map(str, paths.values()), absent)
    assert done.ok, done.stderr
    files = preflight._framed("box", done.stdout, NONCE)
    assert files == {**{str(paths[n]): t for n, t in contents.items()}, absent: None}


def test_probe_script_runs_in_one_shell_and_parses(tmp_path: Path) -> None:
    session = Session(_node(), conn=None)  # type: ignore[arg-type]  # only builds the command
    script = preflight.probe_script(session, NONCE)
    assert k3s.TOKEN_PATH in script and k3s.KUBECONFIG_PATH in script
    agent = preflight.probe_script(Session(_node("agent"), conn=None), NONCE)  # type: ignore[arg-type]
    assert k3s.TOKEN_PATH not in agent and k3s.CONFIG_PATH in agent
    sent = time.time()
    done = _sh(script)  # this machine has no K3s: every file absent
    p = preflight.parse_probe("box", done, NONCE, sent, time.time())
    assert p.facts["kernel"] == "Linux" and p.facts["uid"].isdigit()
    assert abs(p.skew_s) < 5 and p.privileged
    assert (p.config_text, p.token, p.kubeconfig) == (None, None, None)
    assert p.version is None


def test_sudo_wanting_a_password_is_a_preflight_problem_with_its_reason() -> None:
    session = Session(_node(privilege="sudo"), conn=None)  # type: ignore[arg-type]
    script = preflight.probe_script(session, NONCE)
    assert "sudo -n -- sh -c" in script
    # What the host answers when its sudo wants a password (the facts came before it).
    stdout = f"kernel=Linux\narch=x86_64\ntime={int(time.time())}\nuid=1000\n@@{NONCE} exit=1\n"
    done = Completed(0, stdout, "sudo: a password is required\n")
    p = preflight.parse_probe("box", done, NONCE, time.time(), time.time())
    assert not p.privileged and p.privilege_error == "sudo: a password is required"
    problems = preflight.check("box", True, 0, "sudo", p).problems
    assert problems == ["no passwordless privilege (sudo -n): sudo: a password is required"]


def test_the_token_read_by_the_probe_stays_out_of_every_message() -> None:
    framed = f"@@{NONCE}+ {k3s.TOKEN_PATH}\n{CANARY}\n\n@@{NONCE}.\n@@{NONCE} exit=0\n"
    done = Completed(0, "kernel=Linux\n" + framed, "")
    p = preflight.parse_probe("box", done, NONCE, time.time(), time.time())
    assert p.token is not None and p.token.reveal() == CANARY
    assert CANARY not in repr(p)
    # A probe cut off before its status line fails naming stderr only, never stdout.
    cut = Completed(255, f"kernel=Linux\n@@{NONCE}+ {k3s.TOKEN_PATH}\n{CANARY}\n", "lost")
    with pytest.raises(SshError) as raised:
        preflight.parse_probe("box", cut, NONCE, time.time(), time.time())
    assert CANARY not in str(raised.value) and "lost" in str(raised.value)
