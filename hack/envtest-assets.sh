#!/usr/bin/env bash
# Builds the envtest control plane (kube-apiserver and etcd) from the Go module
# proxy into bin/k8s/. Nothing prebuilt is downloaded. The build takes about ten
# minutes on two cores the first time; later runs find the stamp and return.
set -euo pipefail

K8S_VERSION=${K8S_VERSION:-v1.37.2}
STAGING_VERSION=${STAGING_VERSION:-v0.37.2}
ETCD_VERSION=${ETCD_VERSION:-v3.6.16}

root=$(cd "$(dirname "$0")/.." && pwd)
out="$root/bin/k8s"
stamp="$out/.stamp"
want="kube-apiserver=$K8S_VERSION etcd=$ETCD_VERSION"
if [ -x "$out/kube-apiserver" ] && [ -x "$out/etcd" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
  exit 0
fi
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

build_apiserver() {
  local dir="$work/apiserver"
  mkdir -p "$dir" && cd "$dir"
  go mod init turnpike.local/envtest-apiserver >/dev/null 2>&1
  # k8s.io/kubernetes requires its staging modules at v0.0.0 and replaces them with
  # local directories; replaces in a dependency do not apply, so repeat each one
  # here pointing at the published release.
  local gomod
  gomod=$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/.*"GoMod": "\(.*\)",*/\1/p')
  local staging
  staging=$(sed -n 's#^[[:space:]]*\(k8s.io/[a-z0-9-]*\) => ./staging/.*#\1#p' "$gomod" | sort -u)
  {
    echo "require k8s.io/kubernetes $K8S_VERSION"
    for m in $staging; do echo "replace $m => $m $STAGING_VERSION"; done
  } >>go.mod
  cat >main.go <<'GO'
package main

import (
	"os"

	"k8s.io/component-base/cli"
	"k8s.io/kubernetes/cmd/kube-apiserver/app"
)

func main() { os.Exit(cli.Run(app.NewAPIServerCommand())) }
GO
  go mod tidy >/dev/null
  local minor=${K8S_VERSION#v1.}; minor=${minor%%.*}
  CGO_ENABLED=0 go build -trimpath -o "$out/kube-apiserver" \
    -ldflags "-s -w -X k8s.io/component-base/version.gitVersion=$K8S_VERSION -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor" .
}

build_etcd() {
  local dir="$work/etcd"
  mkdir -p "$dir" && cd "$dir"
  go mod init turnpike.local/envtest-etcd >/dev/null 2>&1
  echo "require go.etcd.io/etcd/server/v3 $ETCD_VERSION" >>go.mod
  cat >main.go <<'GO'
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
GO
  go mod tidy >/dev/null
  CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$out/etcd" .
}

echo "envtest-assets: building etcd $ETCD_VERSION and kube-apiserver $K8S_VERSION into $out (first time: ~10 minutes)" >&2
(build_etcd)
(build_apiserver)
echo "$want" >"$stamp"
"$out/kube-apiserver" --version >&2
