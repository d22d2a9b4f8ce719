"""Where the local control plane's binaries live, and building them with the Go toolchain.

The binaries are built by ``build.sh`` of the package data (``sophia_platform/data/local-cluster``,
see :mod:`sophia_platform.resources`) into
``${XDG_CACHE_HOME:-~/.cache}/sophia-platform/local-cluster/<key>/bin``, where ``<key>`` is a
hash of the pinned versions (see :func:`cache_key`; build.sh computes the same hash). This is
the one module that runs the build script (and through it, ``go``).
"""

from __future__ import annotations

import hashlib
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from sophia_platform import resources, runner
from sophia_platform.errors import ExternalError, InputError

# The binaries build.sh keys on versions.env and the first four wrapper modules.
CORE_BINARIES = (
    "etcd",
    "kube-apiserver",
    "kube-controller-manager",
    "kube-scheduler",
    "kwok",
    "helm",
)
# Added later, each with a cache key of its own (its wrapper module's go.mod and go.sum), so
# adding or bumping one never rebuilds Kubernetes; build.sh's extra_groups is the same list.
EXTRA_GROUPS = ("local-path-provisioner",)
# Every binary build.sh produces; find_tool also accepts any other name and falls back to PATH.
BINARIES = (*CORE_BINARIES, *EXTRA_GROUPS)

# Same files, same order as build.sh's key_files: the cache key is the sha256 of their
# `sha256sum` lines, so editing a pin builds into a fresh directory.
_KEY_FILES = (
    "versions.env",
    "etcd/go.mod",
    "etcd/go.sum",
    "helm/go.mod",
    "helm/go.sum",
    "kubernetes/go.mod",
    "kubernetes/go.sum",
    "kwok/go.mod",
    "kwok/go.sum",
)
# A cold build of the three Kubernetes binaries on 2 cores takes tens of minutes.
BUILD_TIMEOUT_S = 90 * 60
# What build.sh and go may see of our environment (the runner's base, plus these).
BUILD_INHERIT = (
    "GO",
    "GOPATH",
    "GOROOT",
    "GOBIN",
    "GOENV",
    "GOFLAGS",
    "GOPROXY",
    "GONOPROXY",
    "GOPRIVATE",
    "GONOSUMDB",
    "GOSUMDB",
    "GOINSECURE",
    "GOTOOLCHAIN",
    "GOCACHE",
    "GOMODCACHE",
    "GOMAXPROCS",
    "GODEBUG",
    "CGO_ENABLED",
    "SOPHIA_GO_*",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "NO_PROXY",
    "http_proxy",
    "https_proxy",
    "no_proxy",
)


def tools_dir() -> Path:
    """The build files: ``$SOPHIA_LOCAL_CLUSTER_TOOLS``, else those shipped in the package."""
    override = os.environ.get("SOPHIA_LOCAL_CLUSTER_TOOLS")
    path = Path(override) if override else resources.local_cluster_dir()
    if not ((path / "versions.env").is_file() and (path / "build.sh").is_file()):
        raise InputError(
            f"{path} has no versions.env and build.sh",
            hint="unset SOPHIA_LOCAL_CLUSTER_TOOLS to use the build files shipped with sophia",
        )
    return path


def cache_root() -> Path:
    """Return the directory holding one sub-directory per cache key."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "sophia-platform" / "local-cluster"


def files_key(tools: Path, rels: tuple[str, ...]) -> str:
    """sha256 over ``sha256sum``-style lines of ``rels``, first 16 hex digits (as build.sh)."""
    lines = []
    for rel in rels:
        digest = hashlib.sha256((tools / rel).read_bytes()).hexdigest()
        lines.append(f"{digest}  {rel}\n")
    return hashlib.sha256("".join(lines).encode()).hexdigest()[:16]


def cache_key(tools: Path) -> str:
    """Return the first 16 hex digits of the hash build.sh uses to name the cache directory."""
    return files_key(tools, _KEY_FILES)


def cache_bin_dir() -> Path:
    """Return the bin directory of the core binaries' pinned versions (maybe not built yet)."""
    return cache_root() / cache_key(tools_dir()) / "bin"


def extra_key(tools: Path, group: str) -> str:
    """Return the cache key of an extra group: build.sh's ``extra_key`` (go.mod, go.sum)."""
    return files_key(tools, (f"{group}/go.mod", f"{group}/go.sum"))


def bin_dir_of(name: str) -> Path:
    """Return the cache directory where build.sh puts binary ``name``."""
    if name in EXTRA_GROUPS:
        tools = tools_dir()
        return cache_root() / f"{name}-{extra_key(tools, name)}" / "bin"
    return cache_bin_dir()


def find_tool(name: str) -> Path | None:
    """Locate a binary: ``$SOPHIA_<NAME>_BIN``, then the build cache, then ``PATH``."""
    env_name = "SOPHIA_" + name.upper().replace("-", "_") + "_BIN"
    override = os.environ.get(env_name)
    if override:
        path = Path(override)
        return path if path.is_file() and os.access(path, os.X_OK) else None
    candidate = bin_dir_of(name) / name
    if candidate.is_file() and os.access(candidate, os.X_OK):
        return candidate
    found = shutil.which(name)
    return Path(found) if found else None


def missing_tools(names: tuple[str, ...] = BINARIES) -> list[str]:
    """Return the names among ``names`` that :func:`find_tool` cannot locate."""
    return [n for n in names if find_tool(n) is None]


@dataclass(frozen=True)
class BuildResult:
    """What a run of build.sh did."""

    bin_dir: Path
    output: str


def go_available() -> bool:
    """Tell whether a Go toolchain build.sh could use is installed."""
    go = os.environ.get("GO") or shutil.which("go") or "/usr/local/go/bin/go"
    return Path(go).is_file() and os.access(go, os.X_OK)


def build(timeout_s: float = BUILD_TIMEOUT_S) -> BuildResult:
    """Run build.sh (a fast no-op when everything is cached) and return the bin dir."""
    proc = runner.run(
        ["bash", str(tools_dir() / "build.sh")],
        timeout=timeout_s,
        inherit=BUILD_INHERIT,
        label="building the local cluster binaries",
        check=False,
    )
    if proc.returncode != 0:
        tail = " | ".join(proc.stderr.strip().splitlines()[-3:])
        raise ExternalError(f"building the local cluster binaries failed: {tail}")
    lines = proc.stdout.strip().splitlines()
    return BuildResult(bin_dir=Path(lines[-1]), output=proc.stderr)


def binary_version(path: Path) -> str:
    """Return the first line of ``--version`` (``helm version --short`` for helm)."""
    argv = [str(path), "version", "--short"] if path.name == "helm" else [str(path), "--version"]
    try:
        proc = runner.run(argv, timeout=20, check=False)
    except runner.RunError:
        return "unknown"
    lines = (proc.stdout or proc.stderr).strip().splitlines()
    return lines[0].strip() if lines else "unknown"
