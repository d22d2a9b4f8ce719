"""A real local Kubernetes control plane with simulated GPU nodes (``sophia dev cluster``).

The binaries come from the ``build.sh`` shipped as package data; :func:`find_tool` finds them.
The orchestration lives in :mod:`sophia_platform.devcluster.cluster` (imported on use, since
it pulls in httpx and the kubernetes client).
"""

from sophia_platform.devcluster.toolchain import find_tool

__all__ = ["find_tool"]
