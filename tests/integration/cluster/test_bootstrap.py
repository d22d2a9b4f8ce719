"""`sophia cluster` end to end on five real sshd hosts + the real local API server.

The tests run in file order on one lab (module fixture): from nothing, converged, drift,
a host down at join time, a host killed while its join runs, the server killed before its node
registers, K3s stopped on registered nodes, a changed host key, upgrade with a
PodDisruptionBudget, then air-gapped: a fresh host installed and every host upgraded from an
uploaded bundle with no network.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import stat
import subprocess
import tarfile
import time
from pathlib import Path

import pytest

from tests.integration.cluster.conftest import CANARY, STANDIN, ArgvWatcher, Lab, set_standin

pytestmark = pytest.mark.integration
NODES = ["control", "ai-core", "data", "dev", "mcp-hub"]
GPU = {"control": "RTX6000", "ai-core": "GH200", "mcp-hub": "A6000", "data": "A100", "dev": "A10"}


def _calls(lab: Lab, node: str) -> list[dict]:
    path = lab.hosts.host_dir(node) / "var-lib-rancher" / "k3s" / "standin-calls.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_unknown_hosts_are_refused_without_accept(lab: Lab) -> None:
    done = lab.sophia("cluster", "plan", "lab")
    assert done.returncode == 3, done.stderr
    assert "no host key pinned" in done.stdout + done.stderr
    assert "--accept-new-host-keys" in done.stdout + done.stderr
    assert not (lab.root / "known_hosts").exists()


def test_plan_from_nothing_pins_keys_and_lists_every_install(lab: Lab) -> None:
    done = lab.sophia("cluster", "plan", "lab", "--accept-new-host-keys", "--json")
    assert done.returncode == 0, done.stderr
    plan = json.loads(done.stdout)
    installs = {c["node"] for c in plan["changes"] if c["step"] == "install"}
    assert installs == set(NODES)
    seen = {k["node"]: k["fingerprint"] for k in plan["accepted_host_keys"]}
    assert seen == {h.name: h.host_key_fingerprint for h in lab.result.hosts}
    assert len((lab.root / "known_hosts").read_text().splitlines()) == 5
    # read-only: nothing was installed anywhere
    for node in NODES:
        assert not (lab.hosts.host_dir(node) / "etc-rancher" / "k3s").exists()


def test_up_from_nothing(lab: Lab) -> None:
    with ArgvWatcher(CANARY) as watcher:
        done = lab.sophia("cluster", "up", "lab", "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    assert watcher.scans > 5 and watcher.hits == []
    result = json.loads(done.stdout)
    assert all(n["ok"] for n in result["nodes"]), result["nodes"]
    steps = {(c["node"], c["step"]) for c in result["changes"]}
    assert {(n, "install") for n in NODES} <= steps
    assert ("control", "token") in steps and ("control", "kubeconfig") in steps
    assert {(n, "smoke") for n in NODES} <= steps

    # The kubeconfig: merged under the environment's context, mode 0600, server's address.
    assert stat.S_IMODE(lab.kubeconfig.stat().st_mode) == 0o600
    from ruamel.yaml import YAML

    kc = YAML(typ="safe").load(lab.kubeconfig.read_text())
    assert [c["name"] for c in kc["contexts"]] == ["sophia-lab"]
    assert kc["clusters"][0]["cluster"]["server"].startswith("https://127.0.0.1:")

    core = lab.api()
    nodes = {n.metadata.name: n for n in core.list_node().items}
    assert sorted(nodes) == sorted(NODES)
    for name, node in nodes.items():
        assert node.metadata.labels["gpu-type"] == GPU[name]
        assert node.status.allocatable["nvidia.com/gpu"] == "1"
        assert node.status.node_info.kubelet_version == "v1.36.3+k3s1"
    assert [t.key for t in nodes["data"].spec.taints or []] == ["nvidia.com/gpu"]
    assert "node-role.kubernetes.io/control-plane" in nodes["control"].metadata.labels

    # What the stand-in k3s was given: config.yaml keys (token redacted by the stand-in).
    server = _calls(lab, "control")[0]
    assert server["cmd"] == "server" and server["config"]["cluster-init"] is True
    assert server["config"]["disable"] == ["traefik"]
    agent = _calls(lab, "data")[0]
    assert agent["config"]["server"] == "https://127.0.0.1:6443"
    assert agent["config"]["token"] == "<redacted>"
    assert agent["config"]["node-taint"] == ["nvidia.com/gpu=present:NoSchedule"]
    assert "gpu-type=A100" in agent["config"]["node-label"]

    # The join token is in the store and nowhere else on our side.
    from sophia_platform.secrets.providers.local import LocalProvider
    from sophia_platform.secrets.session import provider_context
    from sophia_platform.spec import load_spec

    store = LocalProvider(provider_context(load_spec(lab.spec), "lab"))
    assert store.load()["K3S_TOKEN"].reveal() == CANARY
    assert CANARY not in done.stdout + done.stderr
    host_private = [lab.hosts.host_dir(n) for n in NODES]
    for path in lab.root.rglob("*"):
        if not path.is_file() or any(d in path.parents for d in host_private):
            continue  # a node's own /etc/rancher and /var/lib/rancher hold it, as on K3s
        assert CANARY.encode() not in path.read_bytes(), path

    verify = lab.sophia("cluster", "verify", "lab")
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert "matches sophia.yaml" in verify.stdout


def test_second_up_changes_nothing(lab: Lab) -> None:
    before = {n: len(_calls(lab, n)) for n in NODES}
    done = lab.sophia("cluster", "up", "lab")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "converged: nothing to change" in done.stdout
    assert {n: len(_calls(lab, n)) for n in NODES} == before  # no k3s (re)start anywhere
    plan = json.loads(lab.sophia("cluster", "plan", "lab", "--json").stdout)
    assert plan["changes"] == [] and plan["converged"] is True
    # The spec's bytes were validated before: a plan reads their facts, and builds no pydantic
    # model, loads no kubernetes client (-X importtime of the real process).
    timed = subprocess.run(
        [lab.argv()[0], "-X", "importtime", *lab.argv("cluster", "plan", "lab", "--json")[1:]],
        capture_output=True,
        text=True,
        env=lab.env,
        cwd=lab.root,
        timeout=120,
    )
    assert json.loads(timed.stdout)["changes"] == []
    imported = {ln.rsplit("|", 1)[-1].strip() for ln in timed.stderr.splitlines() if "|" in ln}
    assert "sophia_platform.cluster.bootstrap" in imported
    assert not {"pydantic", "kubernetes", "sophia_platform.spec.model"} & imported


def test_label_drift_is_found_and_synced(lab: Lab) -> None:
    core = lab.api()
    core.patch_node(
        "ai-core", {"metadata": {"labels": {"gpu-type": "A10", "sophia.dev/pool": None}}}
    )
    core.patch_node("data", {"spec": {"taints": None}})
    done = lab.sophia("cluster", "verify", "lab")
    assert done.returncode == 1
    gaps = [line for line in done.stdout.splitlines() if line.startswith("gap ai-core:")]
    assert len(gaps) == 1 and "label gpu-type=GH200" in gaps[0]
    assert "label sophia.dev/pool=ai-core" in gaps[0]
    assert "sophia cluster labels sync lab" in done.stdout
    assert "data: taint nvidia.com/gpu=present:NoSchedule" in done.stdout
    dry = lab.sophia("cluster", "labels", "sync", "lab", "--dry-run", "--json")
    assert {c["node"] for c in json.loads(dry.stdout)["changes"]} == {"ai-core", "data"}
    assert lab.sophia("cluster", "labels", "sync", "lab").returncode == 0
    assert lab.sophia("cluster", "verify", "lab").returncode == 0
    node = core.read_node("ai-core")
    assert node.metadata.labels["gpu-type"] == "GH200"


def _fresh(lab: Lab, node: str) -> None:
    """``node`` becomes a machine K3s was never installed on (and the cluster forgets it)."""
    for sub in ("etc-rancher", "var-lib-rancher", "usr-local-bin"):
        for child in (lab.hosts.host_dir(node) / sub).iterdir():
            shutil.rmtree(child) if child.is_dir() else child.unlink()
    lab.api().delete_node(node)


def _process_tree(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            ppid = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(proc.name))
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo += children.get(pid, [])
    return tree


def _kill_machine(lab: Lab, node: str) -> None:
    """The machine dies: its sshd, every session under it and what they run, SIGKILLed."""
    record = lab.hosts.sup.records()[node]
    for pid in _process_tree(record.pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    lab.hosts.stop(node)


def _restart(lab: Lab, node: str) -> None:
    lab.hosts.start(node)
    lab.hosts._wait_listening(next(h for h in lab.result.hosts if h.name == node))


def test_host_down_at_join_then_rerun_converges(lab: Lab) -> None:
    # `dev` becomes a fresh machine that is down while the others are (re)converged.
    lab.hosts.stop("dev")
    _fresh(lab, "dev")
    done = lab.sophia("cluster", "up", "lab", "--json")
    assert done.returncode == 3
    result = json.loads(done.stdout)
    failed = {n["name"]: n["error"] for n in result["nodes"] if not n["ok"]}
    assert list(failed) == ["dev"] and "unreachable" in failed["dev"]
    assert "1 of 5 host(s) failed: dev" in done.stderr
    _restart(lab, "dev")
    again = lab.sophia("cluster", "up", "lab", "--json")
    assert again.returncode == 0, again.stdout + again.stderr
    assert {c["node"] for c in json.loads(again.stdout)["changes"]} == {"dev"}
    assert lab.sophia("cluster", "verify", "lab").returncode == 0


def test_host_killed_while_its_join_runs_then_rerun_converges(lab: Lab) -> None:
    # `data` and `dev` are fresh; data's stand-in k3s pauses inside its join (a marker file
    # says it got there) and the machine is killed right then. dev must still join.
    for node in ("data", "dev"):
        _fresh(lab, node)
    set_standin(lab.hosts, "data", pause_join=True)
    returncode, out, err = _up_killed_when_paused(lab, "data", "the join never started")
    assert returncode == 3, out + err
    result = json.loads(out)
    failed = {n["name"]: n["error"] for n in result["nodes"] if not n["ok"]}
    assert list(failed) == ["data"], failed
    assert "k3s installer" in failed["data"], failed
    assert "1 of 5 host(s) failed: data" in err
    nodes = {n.metadata.name for n in lab.api().list_node().items}
    assert "dev" in nodes and "data" not in nodes  # the others joined

    # The machine is back: k3s is on it with the right config but never registered, so
    # the re-run restarts its service (and changes nothing else).
    set_standin(lab.hosts, "data", pause_join=False)
    _restart(lab, "data")
    again = lab.sophia("cluster", "up", "lab", "--json")
    assert again.returncode == 0, again.stdout + again.stderr
    changes = json.loads(again.stdout)["changes"]
    assert {c["node"] for c in changes} == {"data"}, changes
    assert ("data", "restart") in {(c["node"], c["step"]) for c in changes}
    assert lab.sophia("cluster", "verify", "lab").returncode == 0
    assert json.loads(lab.sophia("cluster", "plan", "lab", "--json").stdout)["changes"] == []


def _up_killed_when_paused(lab: Lab, name: str, never: str) -> tuple[int, str, str]:
    """Run ``cluster up lab --json`` and kill host ``name`` once its stand-in k3s pauses.

    The host must have been set up with ``pause_join=True``. Returns the exit code, stdout
    and stderr of the ``up``; ``never`` is the failure message if the pause is never reached.
    """
    marker = lab.hosts.host_dir(name) / "var-lib-rancher" / "k3s" / "standin-join-paused"
    proc = subprocess.Popen(
        lab.argv("cluster", "up", "lab", "--json"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=lab.env,
        cwd=lab.root,
    )
    try:
        deadline = time.monotonic() + 120
        while not marker.exists():
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, never
            time.sleep(0.05)
        _kill_machine(lab, name)
        out, err = proc.communicate(timeout=240)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    return proc.returncode, out, err


def test_server_killed_before_it_registers_then_rerun_restarts_it(lab: Lab) -> None:
    # The server is a fresh machine; its stand-in k3s writes the join token and k3s.yaml,
    # then pauses before its node registers, and the machine is killed right then.
    _fresh(lab, "control")
    set_standin(lab.hosts, "control", pause_join=True)
    state = lab.hosts.host_dir("control") / "var-lib-rancher" / "k3s"
    returncode, out, err = _up_killed_when_paused(
        lab, "control", "the server's start never got there"
    )
    assert returncode == 3, out + err
    result = json.loads(out)
    failed = {n["name"]: n["error"] for n in result["nodes"] if not n["ok"]}
    assert "k3s installer" in failed.pop("control"), failed
    # Without the server's step no agent can be given the token of this run: none is touched.
    assert set(failed) == set(NODES[1:]), failed
    assert all("no join token" in e for e in failed.values()), failed
    assert (state / "server" / "node-token").is_file()  # it got that far
    assert "control" not in {n.metadata.name for n in lab.api().list_node().items}

    # Back up: K3s is installed with the right config, token and k3s.yaml are there, the
    # node is not. Plan says so, and `up` restarts k3s (and changes nothing else).
    set_standin(lab.hosts, "control", pause_join=False)
    _restart(lab, "control")
    plan = json.loads(lab.sophia("cluster", "plan", "lab", "--json").stdout)
    assert ("control", "restart") in {(c["node"], c["step"]) for c in plan["changes"]}
    starts = len(_calls(lab, "control"))
    again = lab.sophia("cluster", "up", "lab", "--json")
    assert again.returncode == 0, again.stdout + again.stderr
    changes = json.loads(again.stdout)["changes"]
    assert {c["node"] for c in changes} == {"control"}, changes
    assert ("control", "restart") in {(c["node"], c["step"]) for c in changes}
    assert len(_calls(lab, "control")) == starts + 1  # one start: the restart
    assert lab.sophia("cluster", "verify", "lab").returncode == 0
    assert json.loads(lab.sophia("cluster", "plan", "lab", "--json").stdout)["changes"] == []


def _ssh(lab: Lab, node: str, command: str) -> None:
    """Run ``command`` on a loopback host (as an operator would, over SSH)."""
    import asyncio
    import getpass

    from sophia_platform.cluster.sshlib import asyncssh

    port = next(h.port for h in lab.result.hosts if h.name == node)

    async def run() -> None:
        async with asyncssh.connect(
            "127.0.0.1",
            port,
            username=getpass.getuser(),
            client_keys=[str(lab.result.client_key)],
            known_hosts=None,  # a test host on loopback; sophia itself pins every key
        ) as conn:
            await conn.run(command, check=True)

    asyncio.run(run())


def test_a_stopped_k3s_is_started_again(lab: Lab) -> None:
    # K3s stopped on the server and on an agent: both nodes NotReady, their units inactive
    # (what `up` reads from the hosts: a real stopped server serves no API to ask).
    _ssh(lab, "control", "systemctl stop k3s")
    _ssh(lab, "dev", "systemctl stop k3s-agent")
    core = lab.api()
    for name in ("control", "dev"):
        conditions = core.read_node(name).status.conditions or []
        assert [c.status for c in conditions if c.type == "Ready"] == ["False"], name
    verify = lab.sophia("cluster", "verify", "lab")
    assert verify.returncode == 1 and "dev: not Ready" in verify.stdout
    plan = json.loads(lab.sophia("cluster", "plan", "lab", "--json").stdout)
    wanted = {("control", "restart"), ("dev", "restart")}
    assert {(c["node"], c["step"]) for c in plan["changes"]} == wanted, plan["changes"]
    before = {n: len(_calls(lab, n)) for n in NODES}
    done = lab.sophia("cluster", "up", "lab", "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    changes = json.loads(done.stdout)["changes"]
    assert {(c["node"], c["step"]) for c in changes} == wanted, changes
    assert all("is inactive" in c["detail"] for c in changes), changes
    grew = {n for n in NODES if len(_calls(lab, n)) != before[n]}
    assert grew == {"control", "dev"}  # started once each, nothing else touched
    assert lab.sophia("cluster", "verify", "lab").returncode == 0
    assert json.loads(lab.sophia("cluster", "plan", "lab", "--json").stdout)["changes"] == []


def test_changed_host_key_is_refused(lab: Lab) -> None:
    import asyncssh

    key_file = lab.hosts.host_dir("mcp-hub") / "ssh_host_ed25519_key"
    original = key_file.read_bytes()
    new = asyncssh.generate_private_key("ssh-ed25519")
    lab.hosts.stop("mcp-hub")
    key_file.write_bytes(new.export_private_key())
    lab.hosts.start("mcp-hub")
    host = next(h for h in lab.result.hosts if h.name == "mcp-hub")
    try:
        lab.hosts._wait_listening(host)
        known = (lab.root / "known_hosts").read_text()
        done = lab.sophia("cluster", "up", "lab", "--accept-new-host-keys")
        assert done.returncode == 3
        message = done.stdout + done.stderr
        assert "mcp-hub" in message and "CHANGED" in message
        assert new.get_fingerprint("sha256") in message
        assert (lab.root / "known_hosts").read_text() == known  # never re-pinned
    finally:
        lab.hosts.stop("mcp-hub")
        key_file.write_bytes(original)
        lab.hosts.start("mcp-hub")
        lab.hosts._wait_listening(host)


def test_upgrade_order_and_pdb(lab: Lab) -> None:
    from kubernetes import client

    api = lab.api().api_client
    apps, policy = client.AppsV1Api(api), client.PolicyV1Api(api)
    ns = "default"
    labels = {"app": "pdb-guarded"}
    apps.create_namespaced_deployment(
        ns,
        {
            "metadata": {"name": "pdb-guarded"},
            "spec": {
                "replicas": 2,
                "selector": {"matchLabels": labels},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {
                        "nodeSelector": {"sophia.dev/pool": "ai-core"},
                        "tolerations": [{"operator": "Exists"}],
                        "containers": [{"name": "c", "image": "busybox"}],
                    },
                },
            },
        },
    )
    policy.create_namespaced_pod_disruption_budget(
        ns,
        {
            "metadata": {"name": "pdb-guarded"},
            "spec": {"maxUnavailable": 0, "selector": {"matchLabels": labels}},
        },
    )
    core = lab.api()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        pods = core.list_namespaced_pod(ns, label_selector="app=pdb-guarded").items
        if len([p for p in pods if p.status.phase == "Running"]) == 2:
            break
        time.sleep(0.3)
    dry = lab.sophia("cluster", "upgrade", "lab", "--to", "v1.36.4+k3s1", "--dry-run", "--json")
    order = [s["node"] for s in json.loads(dry.stdout)["steps"]]
    assert order[0] == "control" and sorted(order[1:]) == sorted(NODES[1:])
    skew = lab.sophia("cluster", "upgrade", "lab", "--to", "v1.38.0+k3s1", "--dry-run")
    assert skew.returncode == 2 and "skips a minor" in skew.stderr

    blocked = lab.sophia(
        "cluster", "upgrade", "lab", "--to", "v1.36.4+k3s1", "--drain-timeout", "3"
    )
    assert blocked.returncode == 3
    assert "PodDisruptionBudget" in blocked.stderr and "ai-core" in blocked.stderr
    assert core.read_node("ai-core").spec.unschedulable is True  # left cordoned, not upgraded
    pods = core.list_namespaced_pod(ns, label_selector="app=pdb-guarded").items
    assert len(pods) == 2 and all(p.metadata.deletion_timestamp is None for p in pods)

    policy.patch_namespaced_pod_disruption_budget(
        "pdb-guarded", ns, {"spec": {"maxUnavailable": 1}}
    )
    apps.patch_namespaced_deployment(
        "pdb-guarded", ns, {"spec": {"template": {"spec": {"nodeSelector": None}}}}
    )
    done = lab.sophia("cluster", "upgrade", "lab", "--to", "v1.36.4+k3s1", "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    result = json.loads(done.stdout)
    assert result["done"][0] == "control" or "control" not in result["done"]
    times = {n: _calls(lab, n)[-1]["time"] for n in NODES}
    assert all(_calls(lab, n)[-1]["version"] == "v1.36.4+k3s1" for n in NODES)
    assert min(times, key=times.get) == "control"  # the server first
    for node in core.list_node().items:
        assert node.status.node_info.kubelet_version == "v1.36.4+k3s1"
        assert not node.spec.unschedulable


def _bundle(directory: Path, build: str) -> Path:
    """A small air-gap bundle: the stand-in k3s marked with ``build``, install.sh, images."""
    directory.mkdir()
    (directory / "k3s").write_text((STANDIN / "k3s" / "k3s").read_text() + f"# build {build}\n")
    shutil.copy2(STANDIN / "k3s" / "install.sh", directory / "install.sh")
    content = directory / "images.txt"
    content.write_text(f"rancher/mirrored-pause:3.6 {build}\n")
    with tarfile.open(directory / "k3s-airgap-images-amd64.tar", "w") as tar:
        tar.add(content, arcname="manifest.txt")
    content.unlink()
    return directory


def _offline(lab: Lab, on: bool) -> None:
    for node in NODES:
        flag = lab.hosts.host_dir(node) / "offline"
        flag.touch() if on else flag.unlink(missing_ok=True)


def test_airgap_up_and_upgrade_over_sftp_with_no_network(lab: Lab) -> None:
    bundle = _bundle(lab.root / "airgap", "airgap-1")
    images = bundle / "k3s-airgap-images-amd64.tar"
    _fresh(lab, "dev")
    _offline(lab, True)
    try:
        online = lab.sophia("cluster", "up", "lab", "--json")
        assert online.returncode == 3  # no network: the download fails, clearly
        failed = {n["name"]: n["error"] for n in json.loads(online.stdout)["nodes"] if not n["ok"]}
        assert list(failed) == ["dev"] and "k3s installer failed" in failed["dev"]

        plan = lab.sophia("cluster", "plan", "lab", "--airgap", str(bundle), "--json")
        installs = [c for c in json.loads(plan.stdout)["changes"] if c["step"] == "install"]
        assert [c["node"] for c in installs] == ["dev"] and "air-gapped" in installs[0]["detail"]
        done = lab.sophia("cluster", "up", "lab", "--airgap", str(bundle), "--json")
        assert done.returncode == 0, done.stdout + done.stderr
        host = lab.hosts.host_dir("dev")
        assert "# build airgap-1" in (host / "usr-local-bin" / "k3s").read_text()
        uploaded = host / "var-lib-rancher" / "k3s" / "agent" / "images" / images.name
        assert uploaded.read_bytes() == images.read_bytes()
        last = _calls(lab, "dev")[-1]
        assert last["install"] == "skip-download" and last["images"] == [images.name]
        assert lab.sophia("cluster", "verify", "lab").returncode == 1  # only the versions skew

        bad = lab.sophia("cluster", "upgrade", "lab", "--to", "v1.36.5+k3s1", "--airgap", "/")
        assert bad.returncode == 2 and "k3s-airgap-images-*" in bad.stderr
        upgrade = _bundle(lab.root / "airgap-2", "airgap-2")
        up = lab.sophia(
            "cluster", "upgrade", "lab", "--to", "v1.36.5+k3s1", "--airgap", str(upgrade)
        )
        assert up.returncode == 0, up.stdout + up.stderr
    finally:
        _offline(lab, False)
    for node in NODES:
        host = lab.hosts.host_dir(node)
        assert "# build airgap-2" in (host / "usr-local-bin" / "k3s").read_text(), node
        last = _calls(lab, node)[-1]
        assert last["install"] == "skip-download" and last["version"] == "v1.36.5+k3s1"
    for node in lab.api().list_node().items:
        assert node.status.node_info.kubelet_version == "v1.36.5+k3s1"
