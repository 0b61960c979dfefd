#!/usr/bin/env bash
# The container smoke test: runs the gateway and inference images (built by scripts/images.sh) with
# Debian's podman, authentication on (as deployed), and calls health (no key), a completion through the
# gateway container (with a key), the same without a key (401) and with a key of another scope (403), and
# /metrics on the metrics ports. scripts/test.sh runs it
# after the test suite through scripts/test-images.sh (needs root and podman); see docs/deployment.md.
#
#   scripts/images-smoke.sh [--build]     --build first runs scripts/images.sh --only gateway,inference
#
# Runs with runc and --network host: in this sandbox crun refuses the hybrid cgroup v1/v2 layout and
# podman's default rlimits exceed the hard limits, so the rlimits are set to the caller's own.
set -euo pipefail
cd "$(dirname "$0")/.."

[ "${1:-}" = "--build" ] && scripts/images.sh --only gateway,inference
for name in gateway inference; do
  [ -f "artifacts/images/$name.tar" ] || { echo "smoke: artifacts/images/$name.tar is missing; run scripts/images.sh first (or pass --build)" >&2; exit 1; }
done
tag=$(awk '$1=="tag"{print $2}' deploy/images.txt)
podman=(podman --runtime runc)
# Authentication on, as deployed: both containers share one key folder (mounted at /keys; in a cluster
# Redis plays this part) and get the pepper and the service credential through the environment (in a cluster
# from the alpaca-auth secret), so a key made here with `alpaca keys create` works on the gateway and again on
# inference, and inference refuses anything that does not come through the gateway.
pepper=$(head -c 32 /dev/urandom | base64 | tr -d '\n') service_token=$(head -c 32 /dev/urandom | base64 | tr -d '\n')
run_opts=(--network host --ulimit "nofile=$(ulimit -Hn):$(ulimit -Hn)" --ulimit nproc=4096:4096
  -e Alpaca__Auth__Path=/keys -e Alpaca__Auth__Pepper="$pepper" -e Alpaca__Auth__ServiceToken="$service_token")

work=$(mktemp -d)
suffix=$$
cleanup() {
  for c in "smoke-gateway-$suffix" "smoke-inference-$suffix"; do "${podman[@]}" rm -f -t 5 "$c" >/dev/null 2>&1 || true; done
  rm -rf "$work"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

for name in gateway inference; do "${podman[@]}" load -q -i "artifacts/images/$name.tar" >/dev/null; done
mkdir -p "$work/models"
./alpaca convert tiny --to "$work/models/tiny.gguf" >/dev/null
chmod -R a+rX "$work"
# The keys: made on the key folder directly, as an operator does (no service needed); the containers' user
# (app, 1654) must be able to write it (last-use times).
mkdir -p "$work/state"
key=$(./alpaca keys --state "$work/state" --pepper "$pepper" create --name smoke --scopes inference | awk '$1=="api-key:"{print $2}')
data_key=$(./alpaca keys --state "$work/state" --pepper "$pepper" create --name smoke-data --scopes data | awk '$1=="api-key:"{print $2}')
[ -n "$key" ] && [ -n "$data_key" ] || { echo "smoke: alpaca keys create printed no api-key" >&2; exit 1; }
chown -R 1654:1654 "$work/state/auth"

inf_grpc=$(free_port) inf_http=$(free_port) inf_metrics=$(free_port) gw_grpc=$(free_port) gw_http=$(free_port) gw_metrics=$(free_port)
"${podman[@]}" run -d --name "smoke-inference-$suffix" "${run_opts[@]}" \
  -v "$work/models:/models:ro" -v "$work/state/auth:/keys" \
  -e Alpaca__Service__BindAddress=127.0.0.1 -e Alpaca__Service__GrpcPort="$inf_grpc" -e Alpaca__Service__HttpPort="$inf_http" \
  -e Alpaca__Service__MetricsPort="$inf_metrics" \
  -e Alpaca__State__Path=/tmp/state -e Alpaca__Inference__Model=/models/tiny.gguf \
  "inference:$tag" >/dev/null
"${podman[@]}" run -d --name "smoke-gateway-$suffix" "${run_opts[@]}" \
  -v "$work/state/auth:/keys" \
  -e Alpaca__Service__BindAddress=127.0.0.1 -e Alpaca__Service__GrpcPort="$gw_grpc" -e Alpaca__Service__HttpPort="$gw_http" \
  -e Alpaca__Service__MetricsPort="$gw_metrics" \
  -e ReverseProxy__Clusters__inference__Destinations__d1__Address="http://127.0.0.1:$inf_grpc" \
  -e ReverseProxy__Clusters__inference-http__Destinations__d1__Address="http://127.0.0.1:$inf_http" \
  "gateway:$tag" >/dev/null

fail() { echo "smoke: $1" >&2; for c in inference gateway; do echo "--- $c log" >&2; "${podman[@]}" logs --tail 30 "smoke-$c-$suffix" >&2 || true; done; exit 1; }
wait_for() { for _ in $(seq 1 240); do curl -fs "$1" >/dev/null 2>&1 && return 0; sleep 0.5; done; return 1; }

wait_for "http://127.0.0.1:$gw_http/healthz" || fail "gateway /healthz did not answer in 120 s"
wait_for "http://127.0.0.1:$inf_http/readyz" || fail "inference /readyz (model loaded) did not answer in 120 s"
echo "smoke: gateway container healthy on :$gw_http; inference container ready"
# A completion through the gateway container (YARP -> inference's OpenAI-compatible API); the gateway's
# active health check may take a few seconds to mark the destination healthy, so retry briefly.
body='{"model":"tiny","prompt":"Hello","max_tokens":8,"temperature":0}'
completion() { curl -s -o "$work/answer" -w '%{http_code}' -H 'Content-Type: application/json' "$@" -d "$body" "http://127.0.0.1:$gw_http/v1/completions"; }
for _ in $(seq 1 60); do
  if [ "$(completion -H "Authorization: Bearer $key")" = 200 ]; then response=$(cat "$work/answer"); break; fi
  response="" && sleep 1
done
[ -n "$response" ] || fail "no completion through the gateway in 60 s (last answer: $(completion -H "Authorization: Bearer $key") $(cat "$work/answer"))"
python3 -c 'import json,sys; r=json.loads(sys.argv[1]); c=r["choices"][0]; assert c["finish_reason"] in ("length","stop"), r; print("smoke: completion through the gateway:", json.dumps(c["text"]), "finish_reason", c["finish_reason"], "usage", r.get("usage"))' "$response"
# Refusals: no key 401 and a key of another scope 403 (from inference, through the gateway), OpenAI's shape.
code=$(completion) && [ "$code" = 401 ] && grep -q '"invalid_api_key"' "$work/answer" || fail "a completion without a key answered $code, not 401: $(cat "$work/answer")"
code=$(completion -H "Authorization: Bearer $data_key") && [ "$code" = 403 ] && grep -q '"insufficient_scope"' "$work/answer" || fail "a completion with a data key answered $code, not 403: $(cat "$work/answer")"
# Straight to inference's HTTP port with the key but without the service credential: refused too.
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $key" -H 'Content-Type: application/json' -d "$body" "http://127.0.0.1:$inf_http/v1/completions")
[ "$code" = 401 ] || fail "a completion straight to inference (no service credential) answered $code, not 401"
echo "smoke: with auth on: no key 401, a data key 403, inference directly 401"
# Metrics: on each metrics port without a key; not on the API ports.
for port in "$gw_metrics" "$inf_metrics"; do
  # Into a variable first: grep -q stops reading early, and curl's SIGPIPE would fail the pipeline (pipefail).
  metrics=$(curl -fs "http://127.0.0.1:$port/metrics") && grep -q '^# TYPE ' <<<"$metrics" || fail "no Prometheus text on the metrics port :$port"
done
for port in "$gw_http" "$inf_http"; do
  code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/metrics")
  [ "$code" = 404 ] || fail "/metrics on the API port :$port answered $code, not 404"
done
echo "smoke: /metrics on the metrics ports without a key, 404 on the API ports"
# gRPC health through the gateway: only inference runs here, so alpaca status exits non-zero for the
# others; the inference line must say SERVING.
status=$(ALPACA_API_KEY="$key" ./alpaca status --gateway "http://127.0.0.1:$gw_grpc" --timeout 10 2>&1 || true)
grep -E 'inference .*SERVING' <<<"$status" || fail "alpaca status through the gateway: inference is not SERVING:
$status"
echo "smoke: passed"
