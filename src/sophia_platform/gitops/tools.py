"""Where the GitOps tools live (Flux's controllers, actionlint) and where their CRDs are read.

``data/gitops/build.sh`` (package data) builds them from pinned Go modules into
``${XDG_CACHE_HOME:-~/.cache}/sophia-platform/gitops/<key>/bin`` (the key hashes the pins, as
for the local control plane) and prints the module-cache folders that hold the CRDs. They are
development tools: the real engines run inside the user's cluster.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from sophia_platform.devcluster.toolchain import files_key
from sophia_platform.errors import ExternalError
from sophia_platform.resources import data_path

BINARIES = ("source-controller", "helm-controller", "actionlint")
# Same files, same order as build.sh's key_files.
_KEY_FILES = (
    "versions.env",
    "source-controller/go.mod",
    "source-controller/go.sum",
    "helm-controller/go.mod",
    "helm-controller/go.sum",
    "actionlint/go.mod",
    "actionlint/go.sum",
)
BUILD_TIMEOUT_S = 60 * 60


def tools_dir() -> Path:
    """The build files: ``$SOPHIA_GITOPS_TOOLS``, else those shipped in the package."""
    override = os.environ.get("SOPHIA_GITOPS_TOOLS")
    path = Path(override) if override else data_path("gitops")
    if not (path / "build.sh").is_file():
        raise ExternalError(
            f"{path} has no build.sh",
            hint="unset SOPHIA_GITOPS_TOOLS to use the build files shipped with sophia",
        )
    return path


def bin_dir() -> Path:
    """The cache folder for the pinned versions (it may not be built yet)."""
    tools = tools_dir()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "sophia-platform" / "gitops" / files_key(tools, _KEY_FILES) / "bin"


def find(name: str) -> Path | None:
    """``$SOPHIA_<NAME>_BIN``, else the build cache."""
    override = os.environ.get("SOPHIA_" + name.upper().replace("-", "_") + "_BIN")
    path = Path(override) if override else bin_dir() / name
    return path if path.is_file() and os.access(path, os.X_OK) else None


def missing() -> list[str]:
    """The tools not built yet."""
    return [name for name in BINARIES if find(name) is None]


def _run_build(*args: str) -> str:
    try:
        proc = subprocess.run(
            ["bash", str(tools_dir() / "build.sh"), *args],
            capture_output=True,
            text=True,
            timeout=BUILD_TIMEOUT_S,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired as e:
        raise ExternalError(f"data/gitops/build.sh took over {BUILD_TIMEOUT_S}s") from e
    if proc.returncode != 0:
        tail = " | ".join(proc.stderr.strip().splitlines()[-3:])
        raise ExternalError(f"data/gitops/build.sh {' '.join(args)} failed: {tail}")
    return proc.stdout


def build() -> Path:
    """Build what is missing (a fast no-op when cached); returns the bin folder."""
    return Path(_run_build().strip().splitlines()[-1])


def crd_dirs() -> dict[str, Path]:
    """Name -> folder of CRD YAML in the Go module cache (downloaded on first use).

    Names: source-controller, helm-controller, argo-cd.
    """
    found = {}
    for line in _run_build("--crd-dirs").splitlines():
        name, _, folder = line.partition(" ")
        if folder:
            found[name] = Path(folder)
    return found


def crd_files(names: tuple[str, ...] = ("source-controller", "helm-controller")) -> list[Path]:
    """The CRD files of the named modules (Argo CD: only Application and AppProject)."""
    dirs = crd_dirs()
    files: list[Path] = []
    for name in names:
        folder = dirs[name]
        if name == "argo-cd":
            files += [folder / "application-crd.yaml", folder / "appproject-crd.yaml"]
        else:
            files += sorted(folder.glob("*.yaml"))
    return files
