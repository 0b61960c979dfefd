#!/usr/bin/env bash
# Creates the secrets the k8s manifests reference (docs/security.md, "Kubernetes") with random values, in
# NAMESPACE (default alpaca-dev, the dev overlay's). Existing secrets are left alone, so a rerun never rotates
# anything by accident; to rotate, see docs/security.md. Needs kubectl and openssl.
#   scripts/k8s-secrets.sh [NAMESPACE] [REDIS_HOST:PORT]     (Redis default: redis:6379, the dev overlay's)
#   teacher keys:  kubectl -n NS create secret generic alpaca-teachers --from-file=openai=./openai.key
set -euo pipefail
ns="${1:-alpaca-dev}"
redis="${2:-redis:6379}"
rand() { openssl rand -base64 32 | tr -d '\n'; }

create() { # name, then --from-literal arguments
  local name="$1"; shift
  if kubectl -n "$ns" get secret "$name" >/dev/null 2>&1; then
    echo "secret $name exists in $ns; left as it is"
  else
    kubectl -n "$ns" create secret generic "$name" "$@" >/dev/null
    echo "created secret $name in $ns"
  fi
}

password="$(rand | tr -d '/+=' | cut -c1-40)"
create alpaca-redis \
  --from-literal=host="$redis" \
  --from-literal=password="$password" \
  --from-literal=connection="$redis,password=$password"
create alpaca-auth \
  --from-literal=service-token="$(rand)" \
  --from-literal=pepper="$(rand)"
# Dapr reads the key `token` (dapr.io/app-token-secret); the apps read the same key as APP_API_TOKEN.
create alpaca-dapr-app-token --from-literal=token="$(rand)"
