#!/usr/bin/env bash
# Builds kube-apiserver, etcd and porthole-node-agent (the test stand-in for
# the kubelet) from the Go modules next to this script into a cache outside
# the checkout and prints that directory.
#
#   dir="$(tests/control-plane/build.sh)"   # stdout: the directory, nothing else
#   "$dir/kube-apiserver" --version         # Kubernetes v1.37.2
#   "$dir/etcd" --version                   # etcd Version: 3.6.16
#   "$dir/porthole-node-agent" --version    # ... Kubernetes v1.37.2
#
# Skips the build when the cached binaries were built from exactly the current
# versions.env + go.mod + go.sum (recorded in per-binary stamp files).
# The node agent's sources change more often than the pins, and checkouts on
# different branches share the cache: each version of the agent gets its own
# directory, bin-<hash>/, with links to the shared kube-apiserver and etcd.
# That directory is what gets printed, so one checkout's build never replaces
# the agent another one's tests are about to start.
#
# Options:   --force   rebuild even if the cache looks fresh
# Env:       PORTHOLE_CACHE_DIR  cache root (default ${XDG_CACHE_HOME:-~/.cache}/porthole)
#            Go's own GOPATH/GOCACHE/GOPROXY/GOTOOLCHAIN are honoured as usual.
set -euo pipefail

# Only the result goes to the real stdout (fd 3); everything else to stderr.
exec 3>&1 1>&2

# shellcheck source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

force=0
for arg in "$@"; do
  case "$arg" in
    --force) force=1 ;;
    -h|--help) sed -n '2,21p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument '$arg' (try --help)" ;;
  esac
done

load_versions
check_modules

# Bump when the build recipe below changes in a way that should invalidate
# already-cached binaries (flags, ldflags, verification...).
RECIPE="rev=2 CGO_ENABLED=0 -trimpath -ldflags=-s,-w,version-vars"

CACHE_ROOT="${PORTHOLE_CACHE_DIR:-${XDG_CACHE_HOME:-${HOME:?HOME is not set}/.cache}/porthole}"
OUT_DIR="$CACHE_ROOT/k8s-$KUBERNETES_VERSION-etcd-$ETCD_VERSION"

# stamp_for <module dir>: hash of everything that determines the binary.
stamp_for() {
  {
    printf '%s\n' "$RECIPE"
    cat "$CONTROL_PLANE_DIR/versions.env" "$1/go.mod" "$1/go.sum"
    # Modules with their own sources (the node agent): those too.
    find "$1" -maxdepth 1 -name '*.go' -print0 | sort -z | xargs -0 -r cat
  } | sha256sum | awk '{ print $1 }'
}

# is_fresh <binary name> <module dir> <output dir>
is_fresh() {
  local bin="$3/$1" stamp="$3/.$1.stamp"
  [[ "$force" == 0 && -f "$bin" && -x "$bin" && -s "$bin" && -f "$stamp" ]] || return 1
  [[ "$(<"$stamp")" == "$(stamp_for "$2")" ]]
}

KUBE_MOD="$CONTROL_PLANE_DIR/kube-apiserver"
ETCD_MOD="$CONTROL_PLANE_DIR/etcd"
AGENT_MOD="$CONTROL_PLANE_DIR/node-agent"
AGENT_STAMP="$(stamp_for "$AGENT_MOD")"
BIN_DIR="$OUT_DIR/bin-${AGENT_STAMP:0:16}"

# links_ok: BIN_DIR reaches the shared kube-apiserver and etcd.
links_ok() {
  [[ -x "$BIN_DIR/kube-apiserver" && -x "$BIN_DIR/etcd" ]]
}

if is_fresh kube-apiserver "$KUBE_MOD" "$OUT_DIR" && is_fresh etcd "$ETCD_MOD" "$OUT_DIR" \
    && is_fresh porthole-node-agent "$AGENT_MOD" "$BIN_DIR" && links_ok; then
  log "cached kube-apiserver $KUBERNETES_VERSION + etcd $ETCD_VERSION + node agent are up to date in $BIN_DIR"
  printf '%s\n' "$BIN_DIR" >&3
  exit 0
fi

require_go
mkdir -p "$OUT_DIR" || die "cannot create cache directory $OUT_DIR"

# Serialise concurrent invocations (e.g. parallel test binaries).
if command -v flock >/dev/null 2>&1; then
  exec 9>"$OUT_DIR/.lock"
  if ! flock -n 9; then
    log "another build.sh is building into $OUT_DIR; waiting for it..."
    flock 9
  fi
fi

TMP_FILES=()
cleanup() { (( ${#TMP_FILES[@]} == 0 )) || rm -f "${TMP_FILES[@]}"; }
trap cleanup EXIT

# build_one <name> <module dir> <package> <expected --version substring> <ldflags> <output dir>
build_one() {
  local name="$1" mod="$2" pkg="$3" expect="$4" ldflags="$5" dir="$6"
  local bin="$dir/$name" stampf="$dir/.$name.stamp"
  local tmp="$dir/.$name.tmp.$$" stamp out start

  if is_fresh "$name" "$mod" "$dir"; then
    log "$name: up to date"
    return 0
  fi
  stamp="$(stamp_for "$mod")"
  TMP_FILES+=("$tmp" "$stampf.tmp.$$")
  rm -f "$stampf" "$tmp"

  log "$name: building $pkg (go $(go env GOVERSION), CGO_ENABLED=0); a cold build can take 10+ minutes..."
  start=$SECONDS
  if ! (cd "$mod" && CGO_ENABLED=0 go build -mod=readonly -trimpath -buildvcs=false \
          -ldflags "$ldflags" -o "$tmp" "$pkg"); then
    die "$name: 'go build $pkg' failed (see the output above).
  Module: $mod
  If the error is about go.mod/go.sum ('missing go.sum entry', 'updates to go.mod needed'),
  run tests/control-plane/update-modules.sh. If it says the module requires a newer go,
  install that Go version or export GOTOOLCHAIN=goX.Y.Z (fetched from the module proxy)."
  fi

  if ! out="$("$tmp" --version 2>&1)" || [[ "$out" != *"$expect"* ]]; then
    die "$name: the freshly built binary does not report the pinned version.
  expected '$expect' in '$tmp --version', got:
$out"
  fi

  # Atomic: the binary only appears under its final name when complete, and
  # the stamp is written (atomically) only after that.
  mv -f "$tmp" "$bin"
  printf '%s\n' "$stamp" >"$stampf.tmp.$$"
  mv -f "$stampf.tmp.$$" "$stampf"
  log "$name: built in $((SECONDS - start))s -> $bin ($(du -h "$bin" | awk '{ print $1 }'))"
}

# --- kube-apiserver ---------------------------------------------------------
# Same version variables as kubernetes' hack/lib/version.sh sets. The build
# date is the release's module timestamp, so rebuilds are reproducible.
k8s_build_date="$(cd "$KUBE_MOD" && go list -mod=readonly -m \
  -f '{{with .Time}}{{.UTC.Format "2006-01-02T15:04:05Z"}}{{end}}' k8s.io/kubernetes 2>/dev/null || true)"
k8s_ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  k8s_ldflags+=" -X $pkg.gitVersion=$KUBERNETES_VERSION"
  k8s_ldflags+=" -X $pkg.gitMajor=1 -X $pkg.gitMinor=$K8S_MINOR"
  # The commit is unknown in a module build; blank out the "$Format:%H$" placeholder.
  k8s_ldflags+=" -X $pkg.gitCommit="
  [[ -z "$k8s_build_date" ]] || k8s_ldflags+=" -X $pkg.buildDate=$k8s_build_date"
done
build_one kube-apiserver "$KUBE_MOD" k8s.io/kubernetes/cmd/kube-apiserver \
  "Kubernetes $KUBERNETES_VERSION" "$k8s_ldflags" "$OUT_DIR"

# --- etcd -------------------------------------------------------------------
# etcd's version string is compiled in from go.etcd.io/etcd/api/v3/version;
# only the git SHA is an ldflag, and there is no git checkout here.
build_one etcd "$ETCD_MOD" go.etcd.io/etcd/server/v3 \
  "etcd Version: ${ETCD_VERSION#v}" \
  "-s -w -X go.etcd.io/etcd/api/v3/version.GitSHA=not-built-from-git" "$OUT_DIR"

# --- porthole-node-agent ----------------------------------------------------
# The test stand-in for the kubelet (node-agent/*.go): its sources are part
# of what decides whether the cached binary is fresh, and name its directory.
mkdir -p "$BIN_DIR" || die "cannot create $BIN_DIR"
build_one porthole-node-agent "$AGENT_MOD" . \
  "a stand-in for the kubelet, not a kubelet) Kubernetes $KUBERNETES_VERSION" \
  "-s -w -X main.version=$KUBERNETES_VERSION" "$BIN_DIR"
ln -sfn ../kube-apiserver "$BIN_DIR/kube-apiserver"
ln -sfn ../etcd "$BIN_DIR/etcd"
links_ok || die "$BIN_DIR: the links to kube-apiserver and etcd do not work"

printf '%s\n' "$BIN_DIR" >&3
