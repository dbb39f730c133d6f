# shellcheck shell=bash
# Helpers shared by build.sh and update-modules.sh. Source, don't execute.
# Everything here logs to stderr: build.sh's stdout is reserved for its result.

CONTROL_PLANE_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

log() { printf '[control-plane] %s\n' "$*" >&2; }

die() {
  printf '[control-plane] ERROR: %s\n' "$*" >&2
  exit 1
}

require_go() {
  command -v go >/dev/null 2>&1 || die "'go' was not found on PATH.
  Building kube-apiserver and etcd for the integration tests needs a Go toolchain
  (>= the 'go' line in tests/control-plane/*/go.mod, currently 1.26).
  Install it from https://go.dev/dl/ (or your package manager) and re-run."
  # Never let a go.work somewhere above the checkout change what gets built.
  export GOWORK=off
}

# Loads versions.env into KUBERNETES_VERSION / ETCD_VERSION and derives
# K8S_STAGING_VERSION (k8s.io/kubernetes v1.Y.Z <-> staging modules v0.Y.Z).
load_versions() {
  local env_file="$CONTROL_PLANE_DIR/versions.env"
  [[ -r "$env_file" ]] || die "missing $env_file"
  KUBERNETES_VERSION="" ETCD_VERSION=""
  # shellcheck source=/dev/null
  source "$env_file"
  [[ "$KUBERNETES_VERSION" =~ ^v1\.([0-9]+)\.([0-9]+)$ ]] \
    || die "KUBERNETES_VERSION in $env_file must look like v1.Y.Z (got '$KUBERNETES_VERSION')"
  K8S_MINOR="${BASH_REMATCH[1]}"
  K8S_PATCH="${BASH_REMATCH[2]}"
  K8S_STAGING_VERSION="v0.${K8S_MINOR}.${K8S_PATCH}"
  [[ "$ETCD_VERSION" =~ ^v3\.[0-9]+\.[0-9]+$ ]] \
    || die "ETCD_VERSION in $env_file must look like v3.Y.Z (got '$ETCD_VERSION')"
}

# Prints a go.mod with blocks flattened to one directive per line and comments
# dropped, e.g. "require k8s.io/kubernetes v1.37.2" or
# "replace k8s.io/api => k8s.io/api v0.37.2".
gomod_flat() {
  awk '
    { sub(/\/\/.*/, "") }
    NF == 0 { next }
    $2 == "(" { blk = $1; next }
    $1 == ")" { blk = ""; next }
    blk != "" { $0 = blk " " $0 }
    { $1 = $1; print }
  ' "$1"
}

# gomod_require_version <go.mod> <module path>
gomod_require_version() {
  gomod_flat "$1" | awk -v p="$2" '$1 == "require" && $2 == p { print $3 }'
}

# Fails unless the wrapper go.mod files agree with versions.env.
check_modules() {
  local fix="Run tests/control-plane/update-modules.sh to regenerate the go.mod files from versions.env."
  local kmod="$CONTROL_PLANE_DIR/kube-apiserver/go.mod"
  local emod="$CONTROL_PLANE_DIR/etcd/go.mod"
  local m got bad
  for m in "$kmod" "$emod" "${kmod%.mod}.sum" "${emod%.mod}.sum"; do
    [[ -r "$m" ]] || die "missing $m. $fix"
  done

  got="$(gomod_require_version "$kmod" k8s.io/kubernetes)"
  [[ "$got" == "$KUBERNETES_VERSION" ]] || die "version mismatch: versions.env says KUBERNETES_VERSION=$KUBERNETES_VERSION but $kmod requires k8s.io/kubernetes '${got:-<none>}'. $fix"

  # Every staging replace must point at the matching v0.Y.Z.
  bad="$(gomod_flat "$kmod" | awk -v want="$K8S_STAGING_VERSION" '
    $1 == "replace" && $2 ~ /^k8s\.io\// {
      n++
      if ($NF != want) print "  " $2 " => " $(NF-1) " " $NF
    }
    END { if (n == 0) print "  (no k8s.io staging replace directives at all)" }')"
  [[ -z "$bad" ]] || die "version mismatch: versions.env says KUBERNETES_VERSION=$KUBERNETES_VERSION, so every k8s.io staging module must be replaced with $K8S_STAGING_VERSION, but $kmod has:
$bad
$fix"

  local amod="$CONTROL_PLANE_DIR/node-agent/go.mod"
  [[ -r "$amod" && -r "${amod%.mod}.sum" ]] || die "missing $amod or its go.sum. $fix"
  got="$(gomod_require_version "$amod" k8s.io/cri-streaming)"
  [[ "$got" == "$K8S_STAGING_VERSION" ]] || die "version mismatch: versions.env says KUBERNETES_VERSION=$KUBERNETES_VERSION but $amod requires k8s.io/cri-streaming '${got:-<none>}' (want $K8S_STAGING_VERSION). $fix"

  got="$(gomod_require_version "$emod" go.etcd.io/etcd/server/v3)"
  [[ "$got" == "$ETCD_VERSION" ]] || die "version mismatch: versions.env says ETCD_VERSION=$ETCD_VERSION but $emod requires go.etcd.io/etcd/server/v3 '${got:-<none>}'. $fix"
}
