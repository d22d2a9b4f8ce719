"""The command lines of the control-plane components (built here, run by the supervisor).

Flags follow what kwokctl's binary runtime and envtest use; everything binds to 127.0.0.1.
These functions only build argv lists, so unit tests can assert them exactly.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from pathlib import Path

from sophia_platform.devcluster.pki import Pki

# Start order; stop order is the reverse.
COMPONENTS = (
    "etcd",
    "kube-apiserver",
    "kube-controller-manager",
    "kube-scheduler",
    "kwok",
    "local-path-provisioner",
)
# K3s's names for its bundled local-path provisioner, so PVs, events and helper pods read the
# same as on K3s.
PROVISIONER_NAME = "rancher.io/local-path"
PROVISIONER_NAMESPACE = "kube-system"
PROVISIONER_SERVICE_ACCOUNT = "local-path-provisioner-service-account"
SERVICE_CIDR = "10.96.0.0/16"
POD_CIDR = "10.244.0.0/16"
NODE_LEASE_SECONDS = 40


def free_ports(count: int) -> list[int]:
    """``count`` distinct ports free on 127.0.0.1 right now (held open together while picked)."""
    socks = []
    try:
        for _ in range(count):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


@dataclass(frozen=True)
class Ports:
    """The loopback ports one cluster uses."""

    etcd_client: int
    etcd_peer: int
    apiserver: int
    controller_manager: int
    scheduler: int
    kwok: int

    @classmethod
    def allocate(cls) -> Ports:
        """Pick six distinct free ports on 127.0.0.1."""
        return cls(*free_ports(6))


@dataclass(frozen=True)
class Layout:
    """Where one cluster keeps its data, certificates, kubeconfigs and logs."""

    state_dir: Path

    @property
    def pki(self) -> Pki:
        """The cluster's certificates."""
        return Pki(self.state_dir / "pki")

    @property
    def etcd_data(self) -> Path:
        """Directory of etcd's data."""
        return self.state_dir / "etcd"

    @property
    def kubeconfig(self) -> Path:
        """The admin kubeconfig (context sophia-local) for users and components."""
        return self.state_dir / "kubeconfig"

    @property
    def kwok_config(self) -> Path:
        """File holding kwok's stages."""
        return self.state_dir / "kwok.yaml"

    @property
    def cert_dir(self) -> Path:
        """Scratch directory the controller-manager and scheduler may write to."""
        return self.state_dir / "certs"

    @property
    def merge_record(self) -> Path:
        """Which user kubeconfigs ``up`` merged the context into (``down`` removes it there)."""
        return self.state_dir / "kubeconfig-merges.json"

    @property
    def addons_dir(self) -> Path:
        """Copies of the add-on files the local-path provisioner reads (config, helper pod)."""
        return self.state_dir / "addons"

    @property
    def state_file(self) -> Path:
        """JSON describing the running cluster (ports, versions)."""
        return self.state_dir / "cluster.json"


def etcd_argv(binary: Path, layout: Layout, ports: Ports) -> list[str]:
    """Run etcd as a single member on loopback; fsync off because the data is throwaway."""
    client = f"http://127.0.0.1:{ports.etcd_client}"
    peer = f"http://127.0.0.1:{ports.etcd_peer}"
    return [
        str(binary),
        "--name=sophia-local",
        f"--data-dir={layout.etcd_data}",
        f"--listen-client-urls={client}",
        f"--advertise-client-urls={client}",
        f"--listen-peer-urls={peer}",
        f"--initial-advertise-peer-urls={peer}",
        f"--initial-cluster=sophia-local={peer}",
        "--unsafe-no-fsync=true",
        "--quota-backend-bytes=2147483648",
        "--log-level=warn",
    ]


def apiserver_argv(binary: Path, layout: Layout, ports: Ports) -> list[str]:
    """Run kube-apiserver with client-certificate auth, RBAC and service-account tokens."""
    pki = layout.pki
    return [
        str(binary),
        f"--etcd-servers=http://127.0.0.1:{ports.etcd_client}",
        "--bind-address=127.0.0.1",
        "--advertise-address=127.0.0.1",
        f"--secure-port={ports.apiserver}",
        f"--tls-cert-file={pki.serving_cert}",
        f"--tls-private-key-file={pki.serving_key}",
        f"--client-ca-file={pki.ca_cert}",
        f"--service-account-key-file={pki.service_account_key}",
        f"--service-account-signing-key-file={pki.service_account_key}",
        "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
        f"--service-cluster-ip-range={SERVICE_CIDR}",
        "--authorization-mode=Node,RBAC",
        "--allow-privileged=true",
        # The default reconciler would publish 127.0.0.1 as the kubernetes Service endpoint,
        # which the API rejects (loopback); nothing in the cluster needs that endpoint.
        "--endpoint-reconciler-type=none",
        "--profiling=false",
    ]


def controller_manager_argv(binary: Path, layout: Layout, ports: Ports) -> list[str]:
    """Run kube-controller-manager: Deployments, ReplicaSets, namespaces, service accounts, GC."""
    pki = layout.pki
    return [
        str(binary),
        *_controller_flags(layout, ports.controller_manager),
        f"--root-ca-file={pki.ca_cert}",
        f"--service-account-private-key-file={pki.service_account_key}",
        f"--cluster-signing-cert-file={pki.ca_cert}",
        f"--cluster-signing-key-file={pki.ca_key}",
        f"--service-cluster-ip-range={SERVICE_CIDR}",
        "--profiling=false",
    ]


def scheduler_argv(binary: Path, layout: Layout, ports: Ports) -> list[str]:
    """Run kube-scheduler with its default profile (it honours nvidia.com/gpu as a resource)."""
    return [str(binary), *_controller_flags(layout, ports.scheduler), "--profiling=false"]


def _controller_flags(layout: Layout, port: int) -> list[str]:
    """Flags the controller manager and the scheduler share (API access, one instance, TLS port)."""
    return [
        f"--kubeconfig={layout.kubeconfig}",
        f"--authentication-kubeconfig={layout.kubeconfig}",
        f"--authorization-kubeconfig={layout.kubeconfig}",
        "--leader-elect=false",
        "--bind-address=127.0.0.1",
        f"--secure-port={port}",
        f"--tls-cert-file={layout.pki.serving_cert}",
        f"--tls-private-key-file={layout.pki.serving_key}",
        f"--cert-dir={layout.cert_dir}",
    ]


def kwok_argv(binary: Path, layout: Layout, ports: Ports) -> list[str]:
    """Run kwok managing only nodes annotated ``kwok.x-k8s.io/node=fake``."""
    pki = layout.pki
    return [
        str(binary),
        f"--kubeconfig={layout.kubeconfig}",
        f"--config={layout.kwok_config}",
        "--manage-all-nodes=false",
        "--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake",
        f"--node-lease-duration-seconds={NODE_LEASE_SECONDS}",
        "--node-ip=127.0.0.1",
        f"--node-port={ports.kwok}",
        f"--server-address=127.0.0.1:{ports.kwok}",
        f"--tls-cert-file={pki.serving_cert}",
        f"--tls-private-key-file={pki.serving_key}",
        f"--cidr={POD_CIDR}",
    ]


def local_path_provisioner_argv(binary: Path, layout: Layout, ports: Ports) -> list[str]:
    """Run rancher's local-path-provisioner out of cluster, configured as K3s configures it."""
    del ports  # it serves nothing
    return [
        str(binary),
        "start",
        f"--kubeconfig={layout.kubeconfig}",
        f"--config={layout.addons_dir / 'local-path-config.json'}",
        f"--helper-pod-file={layout.addons_dir / 'local-path-helper-pod.yaml'}",
        f"--provisioner-name={PROVISIONER_NAME}",
        f"--namespace={PROVISIONER_NAMESPACE}",
        f"--service-account-name={PROVISIONER_SERVICE_ACCOUNT}",
        "--configmap-name=local-path-config",
        "--worker-threads=4",
    ]
