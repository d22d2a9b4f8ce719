from __future__ import annotations

from pathlib import Path

from sophia_platform.devcluster import components as comp


def _ports() -> comp.Ports:
    return comp.Ports(2379, 2380, 6443, 10257, 10259, 10247)


def test_allocated_ports_are_distinct() -> None:
    ports = comp.Ports.allocate()
    values = list(vars(ports).values())
    assert len(set(values)) == 6
    assert all(1024 < p < 65536 for p in values)


def test_etcd_listens_only_on_loopback(tmp_path: Path) -> None:
    argv = comp.etcd_argv(Path("/bin/etcd"), comp.Layout(tmp_path), _ports())
    assert argv[0] == "/bin/etcd"
    assert "--listen-client-urls=http://127.0.0.1:2379" in argv
    assert "--listen-peer-urls=http://127.0.0.1:2380" in argv
    assert f"--data-dir={tmp_path / 'etcd'}" in argv


def test_apiserver_binds_loopback_with_client_cert_auth(tmp_path: Path) -> None:
    layout = comp.Layout(tmp_path)
    argv = comp.apiserver_argv(Path("/bin/kube-apiserver"), layout, _ports())
    assert "--bind-address=127.0.0.1" in argv
    assert "--secure-port=6443" in argv
    assert "--etcd-servers=http://127.0.0.1:2379" in argv
    assert f"--client-ca-file={layout.pki.ca_cert}" in argv
    assert "--authorization-mode=Node,RBAC" in argv


def test_every_serving_component_binds_loopback(tmp_path: Path) -> None:
    layout = comp.Layout(tmp_path)
    for build in (comp.controller_manager_argv, comp.scheduler_argv):
        argv = build(Path("/bin/x"), layout, _ports())
        assert "--bind-address=127.0.0.1" in argv
        assert "--leader-elect=false" in argv
        assert f"--kubeconfig={layout.kubeconfig}" in argv
    kwok = comp.kwok_argv(Path("/bin/kwok"), layout, _ports())
    assert "--server-address=127.0.0.1:10247" in kwok
    assert "--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake" in kwok
