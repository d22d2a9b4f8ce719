"""Run the K3s installer on one node over SSH: from get.k3s.io, or air-gapped over SFTP.

Used by ``cluster up`` (first install) and ``cluster upgrade`` (re-install with a new
version). Air-gapped (``--airgap DIR``), the bundle K3s publishes per release is uploaded over
SFTP first: the ``k3s`` binary to ``/usr/local/bin/k3s``, every ``k3s-airgap-images-*``
tarball to ``/var/lib/rancher/k3s/agent/images/`` (K3s imports them at start), and
``install.sh``, which then runs with ``INSTALL_K3S_SKIP_DOWNLOAD=true``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sophia_platform.cluster import k3s
from sophia_platform.cluster.inventory import ClusterNode
from sophia_platform.cluster.ssh import Session
from sophia_platform.errors import UsageError

INSTALL_TIMEOUT_S = 300.0
REMOTE_SCRIPT = "/var/lib/rancher/k3s/install.sh"
IMAGES_GLOB = "k3s-airgap-images-*"


@dataclass(frozen=True)
class AirgapBundle:
    """The files of an air-gap directory: binary, installer script, image tarballs."""

    directory: Path
    binary: Path
    script: Path
    images: tuple[Path, ...]

    def __str__(self) -> str:
        return str(self.directory)


def airgap_bundle(directory: Path) -> AirgapBundle:
    """Check an ``--airgap DIR`` before any host is touched (UsageError: exit 2)."""
    if not directory.is_dir():
        raise UsageError(f"--airgap {directory}: not a directory")
    binary, script = directory / "k3s", directory / "install.sh"
    images = tuple(sorted(p for p in directory.glob(IMAGES_GLOB) if p.is_file()))
    missing = [p.name for p in (binary, script) if not p.is_file()]
    if not images:
        missing.append(IMAGES_GLOB)
    if missing:
        raise UsageError(
            f"--airgap {directory}: {', '.join(missing)} missing",
            hint="put the release's k3s binary, k3s-airgap-images-<arch>.tar.zst and "
            "https://get.k3s.io saved as install.sh in it",
        )
    return AirgapBundle(directory, binary, script, images)


async def install(
    session: Session,
    node: ClusterNode,
    version: str,
    *,
    airgap: AirgapBundle | None,
    say: Callable[[str], None],
) -> None:
    """Install (or re-install at ``version``) K3s on ``node``; SshError on failure."""
    script = None
    if airgap is not None:
        say(f"{node.name}: uploading the air-gap bundle over SFTP")
        await session.put(airgap.binary, k3s.BINARY_PATH, mode="0755")
        for image in airgap.images:
            await session.put(image, f"{k3s.IMAGES_DIR}/{image.name}", mode="0644")
        await session.put(airgap.script, REMOTE_SCRIPT, mode="0755")
        script = REMOTE_SCRIPT
    cmd = k3s.install_command(node, version, airgap_script=script)
    await session.run(cmd.argv, privileged=True, timeout=INSTALL_TIMEOUT_S, what="k3s installer")
