#!/usr/bin/env bash
# Builds a minimal Debian base image from Debian packages, with no public registry: debootstrap a
# minbase rootfs of the suite, add what a self-contained .NET app needs (libssl for TLS, ca-certificates,
# libstdc++ and libgcc come with minbase; no libicu: the apps use InvariantGlobalization), a non-root
# user "app" (uid 1654, the .NET images' convention), then turn the folder into an OCI image with umoci.
#
#   deploy/base/build-base.sh <suite> <oci-layout-dir>     e.g. bookworm ~/.cache/alpaca/images/base-oci
#
# Writes the image as <oci-layout-dir>:<suite>. Needs root (debootstrap). Takes minutes (see docs/deployment.md).
set -euo pipefail
suite=${1:?suite (bookworm or trixie)}
layout=${2:?OCI layout folder}
mirror=${ALPACA_DEBIAN_MIRROR:-http://deb.debian.org/debian}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# trixie renamed libssl3 to libssl3t64 (the 64-bit time_t transition).
case "$suite" in bookworm) libssl=libssl3 ;; *) libssl=libssl3t64 ;; esac
debootstrap --variant=minbase --include="$libssl,ca-certificates" "$suite" "$work/rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 \
  || { tail -20 "$work/debootstrap.log" >&2; exit 1; }
ls "$work"/rootfs/usr/lib/*/libssl.so.3 >/dev/null
chroot "$work/rootfs" /usr/sbin/groupadd --gid 1654 app
chroot "$work/rootfs" /usr/sbin/useradd --uid 1654 --gid 1654 --home-dir /app --no-create-home --shell /usr/sbin/nologin app
rm -rf "$work"/rootfs/var/lib/apt/lists/* "$work"/rootfs/var/cache/apt/* "$work"/rootfs/usr/share/doc/* "$work"/rootfs/usr/share/man/*

[ -f "$layout/index.json" ] || umoci init --layout "$layout"
umoci new --image "$layout:$suite"
umoci unpack --image "$layout:$suite" "$work/bundle" >/dev/null
cp -a "$work/rootfs/." "$work/bundle/rootfs/"
umoci repack --image "$layout:$suite" "$work/bundle"
umoci config --image "$layout:$suite" --config.user 1654:1654 --config.workingdir /app \
  --config.env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  --config.label org.opencontainers.image.title="alpaca-base-$suite" \
  --config.label org.opencontainers.image.description="Debian $suite minbase with libssl3 and ca-certificates, user app (1654)"
umoci gc --layout "$layout"
echo "base: $layout:$suite"
