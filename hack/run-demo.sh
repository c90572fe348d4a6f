#!/usr/bin/env bash
# `make run`: serves config/samples in standalone mode with a local demo backend
# (hack/demo-backend) behind the pets Service, and prints curl lines to try.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
HTTP_PORT=${HTTP_PORT:-8080}
dir=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$dir"' EXIT
# One directory with the samples and the demo's EndpointSlice (loopback
# endpoints, which an API server would refuse, so they live apart from samples).
for f in config/samples/[0-9]*.yaml hack/demo/*.yaml; do ln -s "$root/$f" "$dir/$(basename "$f")"; done

go build -o bin/demo-backend ./hack/demo-backend
bin/demo-backend &
host="pets.shop.execute-api.localhost"
cat <<TXT

Turnpike is serving config/samples on http://127.0.0.1:$HTTP_PORT (Ctrl-C stops it).
Try, in another terminal:

  curl -s http://127.0.0.1:$HTTP_PORT/prod/pets -H 'Host: $host'             # GET /pets, SERVICE
  curl -s http://127.0.0.1:$HTTP_PORT/prod/pets/7 -H 'Host: $host'           # GET /pets/{petId}
  curl -s http://127.0.0.1:$HTTP_PORT/prod/pets/7/toys -H 'Host: $host'      # literal beats greedy: MOCK
  curl -s -X DELETE http://127.0.0.1:$HTTP_PORT/prod/pets/7 -H 'Host: $host' # ANY /pets/{proxy+}
  curl -s http://127.0.0.1:$HTTP_PORT/dev/legacy/orders/1 -H 'Host: $host'   # HTTP_PROXY with a stage variable
  curl -s http://127.0.0.1:$HTTP_PORT/prod/nothing -H 'Host: $host'          # \$default
  curl -s http://127.0.0.1:$HTTP_PORT/production/pets -H 'Host: $host'       # unknown stage: 404 with a hint
  curl -s http://127.0.0.1:$HTTP_PORT/prod/a/%2e%2e/pets -H 'Host: $host'    # dot segment: 400

TXT
bin/turnpike standalone -f "$dir" --http-addr "127.0.0.1:$HTTP_PORT" --log-format text
