#!/usr/bin/env bash
# The image build and the container smoke test, run by scripts/test.sh after the test suite
# (docs/deployment.md, "In CI"): builds the gateway and inference images onto the Debian bases cached in
# $ALPACA_IMAGE_CACHE (~/.cache/alpaca/images; built with debootstrap on first use), runs them with podman
# and calls health and a completion through the gateway container (scripts/images-smoke.sh).
#
# Exit 0: passed. Exit 1: a regression (an image does not build, or the containers do not answer health or a
# completion). Exit 3: this machine cannot build or run containers at all (no root, no Debian mirror for the
# first base build, podman cannot start even the bare base image); the line "images: ENVIRONMENT: ..." says
# exactly what failed, and scripts/test.sh reports it without failing the suite.
# ALPACA_IMAGES=0 skips the step (says so, exit 4, not counted); ALPACA_IMAGES_BUDGET (seconds, default 480) bounds the image
# build plus the smoke test once the bases are cached; past it the step fails.
set -uo pipefail
cd "$(dirname "$0")/.."

env_fail() { echo "images: ENVIRONMENT: $*"; exit 3; }
regression() { echo "images: FAILED: $*"; exit 1; }
now() { date +%s; }

[ "${ALPACA_IMAGES:-1}" = "0" ] && { echo "images: skipped (ALPACA_IMAGES=0)"; exit 4; }
if [ "$(id -u)" -ne 0 ]; then
  # debootstrap and rootful podman need root; keep the caller's dotnet, HOME (the cache) and settings.
  sudo -n true 2>/dev/null || env_fail "debootstrap and podman need root; running as uid $(id -u) without passwordless sudo"
  exec sudo -n -E env "PATH=$PATH" "HOME=$HOME" bash "$0" "$@"
fi

budget=${ALPACA_IMAGES_BUDGET:-480}
cache=${ALPACA_IMAGE_CACHE:-$HOME/.cache/alpaca/images}
layout="$cache/base-oci"
log=$(mktemp -d)
trap 'rm -rf "$log"' EXIT
start=$(now)

bash scripts/setup.sh --images >"$log/setup" 2>&1 || env_fail "installing the image tools (scripts/setup.sh --images) failed: $(tail -3 "$log/setup" | tr '\n' ' ')"

# 1. The bases: cached on the machine; the first use builds them (minutes: debootstrap from the Debian mirror).
mkdir -p "$cache"
for suite in $(awk '$1=="image" && ($2=="gateway" || $2=="inference") {print $3}' deploy/images.txt | sort -u); do
  if umoci stat --image "$layout:$suite" >/dev/null 2>&1; then
    echo "images: base $suite cached ($layout)"
  else
    t=$(now)
    deploy/base/build-base.sh "$suite" "$layout" >"$log/base-$suite" 2>&1 \
      || env_fail "building base $suite with debootstrap failed (needs the Debian mirror ${ALPACA_DEBIAN_MIRROR:-http://deb.debian.org/debian}): $(tail -3 "$log/base-$suite" | tr '\n' ' ')"
    echo "images: base $suite built in $(( $(now) - t )) s (first use; cached in $layout)"
  fi
done

# 2. Can this machine run a container at all? The bare base image, with the smoke test's podman options: when
# this fails the sandbox is at fault, not our images.
probe="localhost/alpaca-probe:bookworm"
skopeo copy -q "oci:$layout:bookworm" "containers-storage:$probe" >"$log/probe" 2>&1 \
  || env_fail "podman's storage does not take an image (skopeo copy into containers-storage): $(tail -3 "$log/probe" | tr '\n' ' ')"
if ! podman --runtime runc run --rm --network host --ulimit "nofile=$(ulimit -Hn):$(ulimit -Hn)" --ulimit nproc=4096:4096 \
    "$probe" /bin/sh -c 'id -u' >"$log/run" 2>&1; then
  env_fail "podman cannot run a container here (the bare Debian base, runc, host network): $(tail -3 "$log/run" | tr '\n' ' ')"
fi
podman rmi -f "$probe" >/dev/null 2>&1 || true

# 3. Our images and the smoke test, within the budget: from here on a failure is a regression.
warm=$(now)
timeout "$budget" bash scripts/images.sh --only gateway,inference >"$log/build" 2>&1
status=$?
if [ $status -ne 0 ]; then
  tail -30 "$log/build"
  [ $status -eq 124 ] && regression "the image build did not finish within the budget of ${budget} s (ALPACA_IMAGES_BUDGET)"
  regression "scripts/images.sh --only gateway,inference exited $status"
fi
built=$(now)
echo "images: gateway and inference built in $(( built - warm )) s"
left=$(( budget - (built - warm) ))
[ $left -gt 30 ] || regression "the image build used the budget (${budget} s) and left no time for the smoke test"
timeout "$left" bash scripts/images-smoke.sh 2>&1 | tee "$log/smoke"
status=${PIPESTATUS[0]}
[ $status -eq 124 ] && regression "the container smoke test did not finish within the budget (${budget} s for build and smoke)"
[ $status -eq 0 ] || regression "the container smoke test failed (scripts/images-smoke.sh exited $status)"
echo "images: passed (build + smoke $(( $(now) - warm )) s; step $(( $(now) - start )) s in all)"
