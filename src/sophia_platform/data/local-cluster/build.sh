#!/usr/bin/env bash
# Build the local control plane (kube-apiserver, kube-controller-manager, kube-scheduler,
# etcd, kwok, helm, and rancher's local-path-provisioner) from pinned Go modules into a cache
# directory outside the clone.
# Idempotent: binaries already in the cache are skipped, so a warm run is a fast no-op.
#
#   build.sh                  build what is missing, print the bin dir last
#   build.sh --print-bin-dir  print the bin dir, build nothing
#   build.sh --print-bin-dir local-path-provisioner   the bin dir of an extra group
#
# It lives in the package data (src/sophia_platform/data/local-cluster) so an installed
# `sophia dev cluster up --build` runs the same script; scripts/setup runs it from the checkout.
#
# Environment: GO (go binary), SOPHIA_GO_BUILD_P (go build -p, default 2),
# XDG_CACHE_HOME (cache root, default ~/.cache).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here"
# shellcheck source=versions.env
source ./versions.env

# The cache key must match sophia_platform.devcluster.toolchain.cache_key(): sha256 over
# "<sha256>  <path>\n" lines of these files in this order, first 16 hex digits.
key_files=(versions.env
  etcd/go.mod etcd/go.sum helm/go.mod helm/go.sum
  kubernetes/go.mod kubernetes/go.sum kwok/go.mod kwok/go.sum)
key="$(sha256sum "${key_files[@]}" | sha256sum | cut -c1-16)"
cache_root="${XDG_CACHE_HOME:-$HOME/.cache}/sophia-platform/local-cluster"
bin_dir="$cache_root/$key/bin"
# Components added after the first six have a key of their own (their wrapper module's go.mod
# and go.sum), so adding or bumping one never rebuilds Kubernetes. toolchain.EXTRA_GROUPS
# mirrors this list: "<name>" builds into "$cache_root/<name>-<key>/bin".
extra_groups=(local-path-provisioner)
extra_key() { sha256sum "$1/go.mod" "$1/go.sum" | sha256sum | cut -c1-16; }

if [ "${1:-}" = "--print-bin-dir" ]; then
  case "${2:-}" in
    "") echo "$bin_dir" ;;
    local-path-provisioner) echo "$cache_root/$2-$(extra_key "$2")/bin" ;;
    *) echo "local-cluster: error: no extra group $2" >&2; exit 2 ;;
  esac
  exit 0
fi

say() { echo "local-cluster: $*" >&2; }
die() { echo "local-cluster: error: $*" >&2; exit 1; }

# The go.mod files must pin what versions.env says, or the cache key lies.
check_pin() {
  grep -qE "^(require )?[[:space:]]*$2 $3( |$)" "$1/go.mod" ||
    die "$1/go.mod does not pin $2 $3 (versions.env); fix one of them"
}
check_pin kubernetes k8s.io/kubernetes "$KUBERNETES_VERSION"
check_pin etcd go.etcd.io/etcd/server/v3 "$ETCD_VERSION"
check_pin kwok sigs.k8s.io/kwok "$KWOK_VERSION"
check_pin helm helm.sh/helm/v3 "$HELM_VERSION"

all=(etcd kwok helm kube-apiserver kube-scheduler kube-controller-manager)
missing=()
for b in "${all[@]}"; do
  [ -x "$bin_dir/$b" ] || missing+=("$b")
done
missing_extra=()
for g in "${extra_groups[@]}"; do
  [ -x "$cache_root/$g-$(extra_key "$g")/bin/$g" ] || missing_extra+=("$g")
done
if ((${#missing[@]} + ${#missing_extra[@]} == 0)); then
  say "all binaries cached in $bin_dir (and ${extra_groups[*]})"
  echo "$bin_dir"
  exit 0
fi

go="${GO:-$(command -v go || true)}"
[ -n "$go" ] || [ ! -x /usr/local/go/bin/go ] || go=/usr/local/go/bin/go
[ -n "$go" ] && [ -x "$go" ] ||
  die "Go is not installed (need Go >= 1.26 to build ${missing[*]} ${missing_extra[*]}); install it from https://go.dev/dl/ or set GO=/path/to/go"
go_version="$("$go" env GOVERSION)"
case "$go_version" in
  go1.2[6-9]* | go1.[3-9][0-9]* | go[2-9]*) ;;
  *) die "$go is $go_version but the pinned modules need Go >= 1.26; set GO=/path/to/newer/go" ;;
esac

mkdir -p "$bin_dir"
# One build at a time per machine: parallel worktrees share the cache, and two k8s links
# at once would double peak memory. The second builder finds the binaries cached.
exec 9>"$cache_root/.build.lock"
if ! flock -n 9; then
  say "another build holds $cache_root/.build.lock; waiting"
  flock 9
fi

export CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS="-mod=readonly"
parallel="${SOPHIA_GO_BUILD_P:-2}"
build_date="$(date -u +%Y-%m-%dT%H:%M:%SZ)"

k8s_ldflags() {
  local v="${KUBERNETES_VERSION#v}" flags="" pkg
  local major="${v%%.*}" minor
  minor="${v#*.}"; minor="${minor%%.*}"
  # The same variables hack/lib/version.sh sets, so /version reports the real release.
  for pkg in k8s.io/client-go/pkg/version k8s.io/component-base/version; do
    flags+=" -X $pkg.gitVersion=$KUBERNETES_VERSION -X $pkg.gitMajor=$major -X $pkg.gitMinor=$minor"
    flags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=$build_date"
    flags+=" -X $pkg.gitCommit=go-module-$KUBERNETES_VERSION"
  done
  echo "$flags"
}

build_one() {
  local name="$1" bin_dir="${2:-$bin_dir}" dir pkg ldflags="-s -w"
  case "$name" in
    kube-*) dir=kubernetes pkg="k8s.io/kubernetes/cmd/$name" ldflags+="$(k8s_ldflags)" ;;
    etcd) dir=etcd pkg=go.etcd.io/etcd/server/v3 ;;
    kwok) dir=kwok pkg=sigs.k8s.io/kwok/cmd/kwok ldflags+=" -X sigs.k8s.io/kwok/pkg/consts.Version=${KWOK_VERSION#v}" ;;
    helm) dir=helm pkg=helm.sh/helm/v3/cmd/helm
      ldflags+=" -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION -X helm.sh/helm/v3/internal/version.gitTreeState=clean" ;;
    local-path-provisioner) dir=local-path-provisioner pkg=github.com/rancher/local-path-provisioner
      ldflags+=" -X main.VERSION=$(module_version local-path-provisioner "$pkg")" ;;
  esac
  [ -x "$bin_dir/$name" ] && { say "$name: cached"; return 0; }
  say "$name: building $pkg (go build -p $parallel)"
  local start=$SECONDS tmp="$bin_dir/.$name.tmp.$$"
  (cd "$here/$dir" && "$go" build -p "$parallel" -trimpath -ldflags "$ldflags" -o "$tmp" "$pkg") ||
    { rm -f "$tmp"; die "building $name failed (see the go output above)"; }
  mv -f "$tmp" "$bin_dir/$name"  # atomic: a half-written binary never looks cached
  say "$name: built in $((SECONDS - start))s"
  echo "$name $((SECONDS - start))s" >>"$times_file"
}

module_version() {  # the version a wrapper module's go.mod requires
  sed -nE "s#^(require )?[[:space:]]*$2 (v[^ ]+).*#\2#p" "$here/$1/go.mod" | head -n1
}

total_start=$SECONDS
# Build times are kept next to the binaries, for benchmarks/local_cluster.py and the README.
times_file="$cache_root/$key/build-times.txt"
echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ) go build -p $parallel, $(nproc) CPUs" >>"$times_file"
for b in "${missing[@]}"; do
  build_one "$b"
done
for g in "${missing_extra[@]}"; do
  mkdir -p "$cache_root/$g-$(extra_key "$g")/bin"
  build_one "$g" "$cache_root/$g-$(extra_key "$g")/bin"
done
cat > "$cache_root/$key/versions.txt" <<VERSIONS
kubernetes $KUBERNETES_VERSION
etcd $ETCD_VERSION
kwok $KWOK_VERSION
helm $HELM_VERSION
local-path-provisioner $(module_version local-path-provisioner github.com/rancher/local-path-provisioner)
go $go_version
VERSIONS
echo "total $((SECONDS - total_start))s" >>"$times_file"
say "built ${missing[*]} ${missing_extra[*]} in $((SECONDS - total_start))s into $bin_dir"
echo "$bin_dir"
