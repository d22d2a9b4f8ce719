"""The pure parts of the bootstrap: config.yaml, installer argv, kubeconfig merge, skew, drift."""

from __future__ import annotations

import importlib.util
from importlib.machinery import SourceFileLoader
from pathlib import Path

import pytest

from sophia_platform.cluster import k3s
from sophia_platform.cluster.inventory import resolve
from sophia_platform.cluster.kubeside import drift
from sophia_platform.cluster.upgrade import plan
from sophia_platform.config import SecretValue
from sophia_platform.errors import InputError, UsageError
from sophia_platform.kube import merge as kcfg
from sophia_platform.kube.raw import Raw
from sophia_platform.resources import example_spec_path
from sophia_platform.spec import SpecFacts, load_spec

STANDIN_K3S = Path(__file__).resolve().parents[2] / "standin" / "k3s" / "k3s"
TOKEN = "K10" + "ab" * 32 + "::server:" + "cd" * 16  # as long as a real one


@pytest.fixture
def inv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    spec_file = tmp_path / "sophia.yaml"
    spec_file.write_text(example_spec_path().read_text())
    monkeypatch.setenv("SOPHIA_SECRETS_KEY_FILE", str(tmp_path / "key"))
    env = {
        f"NODE_{n}_HOST": f"10.0.0.{i}"
        for i, n in enumerate(["CONTROL", "AI_CORE", "MCP_HUB", "DATA", "DEV"], 1)
    }
    env["NODE_DEV_HOST"] = "10.0.0.5:2222"
    env["SSH_KEY_FILE"] = "~/.ssh/id_ed25519"
    spec = SpecFacts.of(load_spec(spec_file))
    return spec, resolve(spec, "lab", env)


def test_inventory_resolves_addresses_ports_and_labels(inv) -> None:  # type: ignore[no-untyped-def]
    _spec, i = inv
    assert i.server.name == "control" and i.server.host == "10.0.0.1" and i.server.port == 22
    dev = i.node("dev")
    assert (dev.host, dev.port, dev.user, dev.privilege) == ("10.0.0.5", 2222, "root", "root")
    assert dev.labels == {"sophia.dev/pool": "dev", "gpu-type": "A10"}
    assert str(dev.key).endswith(".ssh/id_ed25519") and "~" not in str(dev.key)


def test_missing_address_names_the_variable(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("SOPHIA_SECRETS_KEY_FILE", str(tmp_path / "key"))
    spec_file = tmp_path / "sophia.yaml"
    spec_file.write_text(example_spec_path().read_text())
    with pytest.raises(InputError, match=r"\$\{NODE_CONTROL_HOST\} is not set"):
        resolve(SpecFacts.of(load_spec(spec_file)), "lab", {})


def _standin_parser():  # type: ignore[no-untyped-def]
    loader = SourceFileLoader("standin_k3s", str(STANDIN_K3S))
    spec = importlib.util.spec_from_loader("standin_k3s", loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module.parse_config


def test_agent_config_holds_server_token_labels_and_reads_back(inv) -> None:  # type: ignore[no-untyped-def]
    spec, i = inv
    config = k3s.desired_config(i.node("data"), i, spec.cluster, SecretValue(TOKEN))
    assert config["server"] == "https://10.0.0.1:6443"
    assert config["node-label"] == ["gpu-type=A100", "sophia.dev/pool=data"]
    text = k3s.render(config)
    assert k3s.parse(text) == config
    assert _standin_parser()(text) == config  # the stand-in reads what K3s would
    assert k3s.config_diff(k3s.parse(text), config) == []
    planned = k3s.desired_config(i.node("data"), i, spec.cluster, None)
    assert k3s.config_diff(k3s.parse(text), planned) == []  # token unknown: not a change


def test_server_config_and_installer_argv_hold_no_secret(inv) -> None:  # type: ignore[no-untyped-def]
    spec, i = inv
    config = k3s.desired_config(i.server, i, spec.cluster, None)
    assert config["cluster-init"] is True and config["tls-san"] == ["10.0.0.1"]
    assert config["disable"] == ["traefik"] and "token" not in config
    online = k3s.install_command(i.node("ai-core"), "v1.36.3+k3s1", airgap_script=None)
    assert k3s.INSTALL_URL in online.argv and "INSTALL_K3S_EXEC=agent" in online.argv
    air = k3s.install_command(i.server, "v1.36.3+k3s1", airgap_script="/x/install.sh")
    assert "INSTALL_K3S_SKIP_DOWNLOAD=true" in air.argv and air.argv[-1] == "/x/install.sh"


def test_kubeconfig_merge_renames_and_keeps_others(tmp_path: Path) -> None:
    source = {
        "clusters": [{"name": "default", "cluster": {"server": "https://127.0.0.1:6443"}}],
        "users": [{"name": "default", "user": {"token": "x"}}],
        "contexts": [{"name": "default", "context": {"cluster": "default", "user": "default"}}],
        "current-context": "default",
    }
    source["clusters"][0]["cluster"]["server"] = kcfg.with_server_host(
        "https://127.0.0.1:6443", "10.0.0.1"
    )
    path = tmp_path / "config"
    path.write_text(
        "contexts: [{name: other, context: {cluster: o, user: o}}]\ncurrent-context: other\n"
    )
    assert kcfg.merge_into(path, source, "sophia-lab", dry_run=True).changed is True
    assert "sophia-lab" not in path.read_text()
    assert kcfg.merge_into(path, source, "sophia-lab").changed is True
    assert kcfg.merge_into(path, source, "sophia-lab").changed is False
    assert kcfg.merge_into(path, source, "sophia-lab", dry_run=True).changed is False
    data = kcfg.load(path.read_text(), "x")
    assert [c["name"] for c in data["contexts"]] == ["other", "sophia-lab"]
    assert data["current-context"] == "other"
    assert data["clusters"][0]["cluster"]["server"] == "https://10.0.0.1:6443"
    assert oct(path.stat().st_mode & 0o777) == "0o600"


def _node(version: str) -> Raw:
    return Raw({"status": {"nodeInfo": {"kubeletVersion": version}}})


def test_upgrade_order_and_skew(inv) -> None:  # type: ignore[no-untyped-def]
    _spec, i = inv
    live = {n.name: _node("v1.36.3+k3s1") for n in i.nodes}
    steps = plan(i, live, "v1.37.0+k3s1")
    assert steps[0].node == "control" and all(s.role == "agent" for s in steps[1:])
    with pytest.raises(UsageError, match="skips a minor"):
        plan(i, live, "v1.38.0+k3s1")
    with pytest.raises(UsageError, match="no downgrades"):
        plan(i, live, "v1.35.9+k3s1")
    live["dev"] = _node("v1.37.0+k3s1")
    with pytest.raises(UsageError, match="newer than the server"):
        plan(i, live, "v1.37.0+k3s1")


def test_drift_sees_changed_labels_taints_and_managed_removals(inv) -> None:  # type: ignore[no-untyped-def]
    _spec, i = inv
    node = i.node("data")
    live = Raw(
        {
            "metadata": {
                "name": "data",
                "labels": {"gpu-type": "A10", "sophia.dev/pool": "data", "old": "x"},
                "annotations": {
                    "sophia.dev/managed-labels": "gpu-type,old,sophia.dev/pool",
                    "sophia.dev/managed-taints": "gone:NoExecute",
                },
            },
            "spec": {"taints": [{"key": "gone", "effect": "NoExecute"}]},
        }
    )
    d = drift(node, live)
    assert d.set_labels == {"gpu-type": "A100"}
    assert d.remove_labels == ["old"]
    assert d.remove_taints == ["gone:NoExecute"] and d.add_taints == []
