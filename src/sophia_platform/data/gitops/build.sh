#!/usr/bin/env bash
# Build the GitOps tools the tests and the demo run on the host (Flux's source-controller and
# helm-controller, actionlint) from pinned Go modules into a cache directory outside the clone,
# and fetch the module sources that hold the CRDs (Flux's config/crd/bases/, Argo CD's
# manifests/crds/) into the Go module cache.
# Idempotent: binaries already in the cache are skipped, so a warm run is a fast no-op.
#
#   build.sh                 build what is missing, print the bin dir last
#   build.sh --print-bin-dir print the bin dir, build nothing
#   build.sh --crd-dirs      print "<name> <dir>" for each CRD directory (downloads
#                                         the modules into the Go module cache if needed)
#
# Environment: GO (go binary), SOPHIA_GO_BUILD_P (go build -p, default 2),
# XDG_CACHE_HOME (cache root, default ~/.cache).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here"
# shellcheck source=versions.env
source ./versions.env

# The cache key must match sophia_platform.gitops.tools.cache_key(): sha256 over
# "<sha256>  <path>\n" lines of these files in this order, first 16 hex digits.
key_files=(versions.env
  source-controller/go.mod source-controller/go.sum
  helm-controller/go.mod helm-controller/go.sum
  actionlint/go.mod actionlint/go.sum)
key="$(sha256sum "${key_files[@]}" | sha256sum | cut -c1-16)"
cache_root="${XDG_CACHE_HOME:-$HOME/.cache}/sophia-platform/gitops"
bin_dir="$cache_root/$key/bin"

say() { echo "gitops-tools: $*" >&2; }
die() { echo "gitops-tools: error: $*" >&2; exit 1; }

if [ "${1:-}" = "--print-bin-dir" ]; then
  echo "$bin_dir"
  exit 0
fi

go="${GO:-$(command -v go || true)}"
[ -n "$go" ] || [ ! -x /usr/local/go/bin/go ] || go=/usr/local/go/bin/go
[ -n "$go" ] && [ -x "$go" ] ||
  die "Go is not installed (need Go >= 1.26); install it from https://go.dev/dl/ or set GO=/path/to/go"
go_version="$("$go" env GOVERSION)"
case "$go_version" in
  go1.2[6-9]* | go1.[3-9][0-9]* | go[2-9]*) ;;
  *) die "$go is $go_version but the pinned modules need Go >= 1.26; set GO=/path/to/newer/go" ;;
esac
export CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS="-mod=readonly"

module_dir() {  # module@version -> its directory in the Go module cache (downloads it once)
  local out
  out="$(cd "$here/$2" && "$go" mod download -json "$1")" || die "go mod download $1 failed"
  sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p' <<<"$out"
}

if [ "${1:-}" = "--crd-dirs" ]; then
  d="$(module_dir "github.com/fluxcd/source-controller@$SOURCE_CONTROLLER_VERSION" source-controller)"
  echo "source-controller $d/config/crd/bases"
  d="$(module_dir "github.com/fluxcd/helm-controller@$HELM_CONTROLLER_VERSION" helm-controller)"
  echo "helm-controller $d/config/crd/bases"
  # Argo CD's module is large (~200 MB unpacked) and only its CRDs are read; the module is
  # fetched from outside any wrapper module (its go.mod is not needed to build anything).
  d="$(cd /tmp && "$go" mod download -json "github.com/argoproj/argo-cd/v3@$ARGOCD_VERSION" |
    sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')"
  [ -n "$d" ] || die "go mod download github.com/argoproj/argo-cd/v3@$ARGOCD_VERSION failed"
  echo "argo-cd $d/manifests/crds"
  exit 0
fi

# The go.mod files must pin what versions.env says, or the cache key lies.
check_pin() {
  grep -qE "^(require )?[[:space:]]*$2 $3( |$)" "$1/go.mod" ||
    die "$1/go.mod does not pin $2 $3 (versions.env); fix one of them"
}
check_pin source-controller github.com/fluxcd/source-controller "$SOURCE_CONTROLLER_VERSION"
check_pin helm-controller github.com/fluxcd/helm-controller "$HELM_CONTROLLER_VERSION"
check_pin actionlint github.com/rhysd/actionlint "$ACTIONLINT_VERSION"

all=(actionlint helm-controller source-controller)
missing=()
for b in "${all[@]}"; do
  [ -x "$bin_dir/$b" ] || missing+=("$b")
done
if ((${#missing[@]} == 0)); then
  say "all binaries cached in $bin_dir"
  echo "$bin_dir"
  exit 0
fi

mkdir -p "$bin_dir"
# One build at a time per machine (shared by parallel worktrees); the second builder waits
# and then finds the binaries cached.
exec 9>"$cache_root/.build.lock"
if ! flock -n 9; then
  say "another build holds $cache_root/.build.lock; waiting"
  flock 9
fi

parallel="${SOPHIA_GO_BUILD_P:-2}"
times_file="$cache_root/$key/build-times.txt"

build_one() {
  local name="$1" pkg ldflags="-s -w"
  case "$name" in
    source-controller) pkg=github.com/fluxcd/source-controller ;;
    helm-controller) pkg=github.com/fluxcd/helm-controller ;;
    actionlint) pkg=github.com/rhysd/actionlint/cmd/actionlint
      ldflags+=" -X github.com/rhysd/actionlint.version=$ACTIONLINT_VERSION" ;;
  esac
  [ -x "$bin_dir/$name" ] && { say "$name: cached"; return 0; }
  say "$name: building $pkg (go build -p $parallel)"
  local start=$SECONDS tmp="$bin_dir/.$name.tmp.$$"
  (cd "$here/$name" && "$go" build -p "$parallel" -trimpath -ldflags "$ldflags" -o "$tmp" "$pkg") ||
    { rm -f "$tmp"; die "building $name failed (see the go output above)"; }
  mv -f "$tmp" "$bin_dir/$name"  # atomic: a half-written binary never looks cached
  say "$name: built in $((SECONDS - start))s"
  echo "$name $((SECONDS - start))s" >>"$times_file"
}

total_start=$SECONDS
echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ) go build -p $parallel, $(nproc) CPUs" >>"$times_file"
for b in "${missing[@]}"; do
  build_one "$b"
done
cat > "$cache_root/$key/versions.txt" <<VERSIONS
flux $FLUX_VERSION
source-controller $SOURCE_CONTROLLER_VERSION
helm-controller $HELM_CONTROLLER_VERSION
actionlint $ACTIONLINT_VERSION
go $go_version
VERSIONS
echo "total $((SECONDS - total_start))s" >>"$times_file"
say "built ${missing[*]} in $((SECONDS - total_start))s into $bin_dir"
echo "$bin_dir"
