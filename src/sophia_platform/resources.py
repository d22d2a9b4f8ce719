"""The package data Sophia ships, found through :mod:`importlib.resources`.

Everything a command reads at run time lives under ``sophia_platform/data/`` and travels in the
wheel, so an installed ``sophia`` works in any directory; nothing is looked up in a source
checkout:

- ``charts/sophia-platform/``: the one Helm chart;
- ``examples/sophia-ai/sophia.yaml``: the whole Sophia AI platform (``sophia init --example``);
- ``local-cluster/``: the pinned Go wrapper modules, ``versions.env`` and ``build.sh`` of the
  local control plane (their hash names the binary cache), and ``kwok-stages/``;
- ``manifests/``: plain Kubernetes manifests applied as they are (e.g. the NVIDIA RuntimeClass).
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from sophia_platform.errors import InputError

_PACKAGE = "sophia_platform"


def data_path(*parts: str) -> Path:
    """A file or directory of the package data, as a real path (helm and bash need one)."""
    resource = files(_PACKAGE).joinpath("data", *parts)
    if not isinstance(resource, Path):
        # A zipped install (zipimport) has no directory helm could read.
        raise InputError(
            f"package data {'/'.join(parts)} is not on the file system",
            hint="install sophia-platform from its wheel with pip or pipx, not as a zip",
        )
    if not resource.exists():
        raise InputError(
            f"package data {'/'.join(parts)} is missing from {resource.parent}",
            hint="reinstall sophia-platform: the installation is incomplete",
        )
    return resource


def chart_dir() -> Path:
    """The one Helm chart, ``charts/sophia-platform``."""
    return data_path("charts", "sophia-platform")


def example_spec_path() -> Path:
    """``sophia.yaml`` of the whole Sophia AI platform (15 services, 5 GPU nodes, 42 secrets)."""
    return data_path("examples", "sophia-ai", "sophia.yaml")


def local_cluster_dir() -> Path:
    """The local control plane's build files: ``versions.env``, ``build.sh``, Go modules."""
    return data_path("local-cluster")


def kwok_stages() -> list[str]:
    """The kwok Stage documents (node and pod lifecycles), in file-name order."""
    stages = data_path("local-cluster", "kwok-stages")
    return [p.read_text(encoding="utf-8") for p in sorted(stages.glob("*.yaml"))]


def manifest(name: str) -> str:
    """The text of one shipped manifest, ``manifests/NAME`` (e.g. ``nvidia-runtimeclass.yaml``)."""
    return data_path("manifests", name).read_text(encoding="utf-8")
