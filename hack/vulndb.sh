#!/usr/bin/env bash
# Builds the Go vulnerability database govulncheck reads (make vulncheck)
# from the OSV files of the golang.org/x/vulndb module at VERSION, with that
# module's own cmd/indexdb, into OUT. Nothing but the Go module proxy is
# contacted, and only here: govulncheck then runs with no network.
# Usage: hack/vulndb.sh VERSION INDEXDB OUT
set -euo pipefail
version=$1 indexdb=$2 out=$3
dir=$(go mod download -json "golang.org/x/vulndb@${version}" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
[ -d "$dir/data/osv" ] || { echo "golang.org/x/vulndb@${version} has no data/osv" >&2; exit 1; }
rm -rf "$out.tmp"
"$indexdb" -vulns "$dir/data/osv" -out "$out.tmp"
rm -rf "$out"
mv "$out.tmp" "$out"
echo "vulnerability database of golang.org/x/vulndb@${version}: $(ls "$dir/data/osv" | wc -l) entries in $out"
