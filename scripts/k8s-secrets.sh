#!/usr/bin/env bash
# Creates the secrets the k8s manifests reference (docs/security.md, "Kubernetes") with random values, in
# NAMESPACE (default alpaca-dev, the dev overlay's). Existing secrets are left alone, so a rerun never rotates
# anything by accident; to rotate, see docs/security.md. Needs kubectl and openssl.
#   scripts/k8s-secrets.sh [--tls] [NAMESPACE] [REDIS_HOST:PORT]     (Redis default: redis:6379, the dev overlay's)
#   --tls: also alpaca-tls-<workload> for the mtls overlay (tls.crt, tls.key, ca.crt, cert-manager's layout),
#          from a throwaway CA made here whose key is not kept: to rotate, delete the secrets and rerun.
#          With cert-manager, issue Certificates into those secret names instead (docs/security.md).
#   teacher keys:  kubectl -n NS create secret generic alpaca-teachers --from-file=openai=./openai.key
set -euo pipefail
tls=0
[ "${1:-}" = "--tls" ] && { tls=1; shift; }
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

[ $tls = 1 ] || exit 0
# Mutual TLS: one CA (P-256, 1 year) and per workload a certificate for its Service name (the gateway calls
# https://<service>:8080; the name is checked) with both TLS usages, since each presents it as a server and as
# a client. The CA's key lives only in this temporary folder.
workloads=(gateway generator dedup trainer inference)
if [ "$(for w in "${workloads[@]}"; do kubectl -n "$ns" get secret "alpaca-tls-$w" >/dev/null 2>&1 || echo missing; done)" = "" ]; then
  echo "secrets alpaca-tls-* exist in $ns; left as they are"
  exit 0
fi
pki=$(mktemp -d)
trap 'rm -rf "$pki"' EXIT
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 365 -subj "/CN=alpaca-$ns-ca" \
  -addext basicConstraints=critical,CA:TRUE,pathlen:0 -addext keyUsage=critical,keyCertSign,cRLSign \
  -keyout "$pki/ca.key" -out "$pki/ca.crt" 2>/dev/null
for w in "${workloads[@]}"; do
  san="DNS:$w,DNS:$w.$ns,DNS:$w.$ns.svc,DNS:$w.$ns.svc.cluster.local"
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$w" -keyout "$pki/$w.key" -out "$pki/$w.csr" 2>/dev/null
  openssl x509 -req -in "$pki/$w.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" -CAcreateserial -days 90 -out "$pki/$w.crt" \
    -extfile <(printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth,clientAuth\nkeyUsage=critical,digitalSignature\nbasicConstraints=critical,CA:FALSE\n' "$san") 2>/dev/null
  kubectl -n "$ns" delete secret "alpaca-tls-$w" --ignore-not-found >/dev/null
  kubectl -n "$ns" create secret generic "alpaca-tls-$w" --from-file=tls.crt="$pki/$w.crt" --from-file=tls.key="$pki/$w.key" --from-file=ca.crt="$pki/ca.crt" >/dev/null
  echo "created secret alpaca-tls-$w in $ns"
done
