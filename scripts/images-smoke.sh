#!/usr/bin/env bash
# The container smoke test: runs the gateway and inference images (built by scripts/images.sh) with
# Debian's podman, and calls health and a completion through the gateway container. scripts/test.sh runs it
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
# Authentication is off in both containers: API keys live in each host's own state store, which these two
# containers do not share (docs/security.md); this test is about the images running, not about keys. With
# auth on by default and no key, the completion through the gateway is a 401, which is how CI caught it.
run_opts=(--network host --ulimit "nofile=$(ulimit -Hn):$(ulimit -Hn)" --ulimit nproc=4096:4096 -e Alpaca__Auth__Enabled=false)

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

inf_grpc=$(free_port) inf_http=$(free_port) gw_grpc=$(free_port) gw_http=$(free_port)
"${podman[@]}" run -d --name "smoke-inference-$suffix" "${run_opts[@]}" \
  -v "$work/models:/models:ro" \
  -e Alpaca__Service__BindAddress=127.0.0.1 -e Alpaca__Service__GrpcPort="$inf_grpc" -e Alpaca__Service__HttpPort="$inf_http" \
  -e Alpaca__State__Path=/tmp/state -e Alpaca__Inference__Model=/models/tiny.gguf \
  "inference:$tag" >/dev/null
"${podman[@]}" run -d --name "smoke-gateway-$suffix" "${run_opts[@]}" \
  -e Alpaca__Service__BindAddress=127.0.0.1 -e Alpaca__Service__GrpcPort="$gw_grpc" -e Alpaca__Service__HttpPort="$gw_http" \
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
for _ in $(seq 1 60); do
  if response=$(curl -fs -H 'Content-Type: application/json' -d "$body" "http://127.0.0.1:$gw_http/v1/completions"); then break; fi
  response="" && sleep 1
done
[ -n "$response" ] || fail "no completion through the gateway in 60 s (last answer: $(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' -d "$body" "http://127.0.0.1:$gw_http/v1/completions"))"
python3 -c 'import json,sys; r=json.loads(sys.argv[1]); c=r["choices"][0]; assert c["finish_reason"] in ("length","stop"), r; print("smoke: completion through the gateway:", json.dumps(c["text"]), "finish_reason", c["finish_reason"], "usage", r.get("usage"))' "$response"
# gRPC health through the gateway: only inference runs here, so alpaca status exits non-zero for the
# others; the inference line must say SERVING.
status=$(./alpaca status --gateway "http://127.0.0.1:$gw_grpc" --timeout 10 2>&1 || true)
grep -E 'inference .*SERVING' <<<"$status" || fail "alpaca status through the gateway: inference is not SERVING:
$status"
echo "smoke: passed"
