"""K3s bootstrap of the spec's GPU nodes over SSH: plan, up, verify, label sync, upgrade.

The SSH transport is :mod:`sophia_platform.cluster.ssh` (asyncssh, host keys pinned in the
``known_hosts`` file next to ``sophia.yaml``); every API call goes through ``kube/``.
"""
