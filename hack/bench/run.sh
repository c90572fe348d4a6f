#!/usr/bin/env bash
# `make bench`: installs what the load benchmarks need when missing (nginx,
# wrk, taskset from util-linux; Debian packages, root), builds bin/turnpike
# and bin/bench, and runs the harness pinned to the load core. Arguments go
# to bin/bench (e.g. -quick for a short run that does not touch the docs).
# After the proxy comparison it runs `bin/bench ratelimit` (served rate at 2x
# overload, Redis vs in-process limits; needs redis-server), `bin/bench
# cache` (response cache hits vs the plain proxy and nginx proxy_cache,
# request validation) and `bin/bench websocket` (message round trips through
# the gateway vs a direct WebSocket echo, @connections posts/s, memory per
# idle connection) with the same arguments; `hack/bench/run.sh ratelimit
# [args]`, `... cache [args]` or `... websocket [args]` runs one scenario alone.
# `hack/bench/run.sh scale [args]` runs only the scale scenario of issue 18
# (100 Apis, 10k/50k/100k MOCK Routes in standalone mode; prints its table,
# see docs/benchmarks.md "Scale: 100,000 Routes"); make bench does not run it.
# `hack/bench/run.sh swap [-rate 1000 -build merge]` runs one case of the
# table swap test alone (make bench runs 100/s fresh and 1,000/s merge).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
need=()
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need+=(nginx)
command -v wrk >/dev/null 2>&1 || need+=(wrk)
command -v taskset >/dev/null 2>&1 || need+=(util-linux)
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then echo "missing packages ${need[*]} and not root: install them" >&2; exit 1; fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}"
fi
export PATH="$PATH:/usr/sbin"
if [ "$(nproc)" -lt 2 ]; then echo "make bench needs 2 cores (proxy on one, load on the other)" >&2; exit 1; fi
CGO_ENABLED=0 go build -trimpath -o bin/turnpike ./cmd/turnpike
go build -o bin/bench ./hack/bench
cores=(-load-core "${BENCH_LOAD_CORE:-1}" -proxy-core "${BENCH_PROXY_CORE:-0}")
bench=(taskset -c "${BENCH_LOAD_CORE:-1}" bin/bench)
case "${1:-}" in
  ratelimit|cache|websocket|scale|swap)
    scenario=$1
    shift
    exec "${bench[@]}" "$scenario" "${cores[@]}" "$@" ;;
esac
"${bench[@]}" "${cores[@]}" "$@"
"${bench[@]}" ratelimit "${cores[@]}" "$@"
"${bench[@]}" cache "${cores[@]}" "$@"
exec "${bench[@]}" websocket "${cores[@]}" "$@"
