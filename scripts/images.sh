#!/usr/bin/env bash
# Builds every image in deploy/images.txt (the gateway and the four services) with the .NET SDK's
# container support (dotnet publish -t:PublishContainer), self-contained for linux-x64, onto base images
# built here from Debian packages (deploy/base/build-base.sh, cached). See docs/deployment.md.
#
#   scripts/images.sh [--registry R] [--only NAME[,NAME]] [--out DIR] [--cuda]
#
# --cuda builds the CUDA variants instead (the cuda-image lines: inference and trainer with
# -p:TorchSharpBackend=cuda, tagged <tag>-cuda, which the gpu overlay runs). It needs TorchSharp-cuda-linux
# from nuget.org (~6 GB; not on the NuGet served to CI, so CI never builds them) and ~15 GB of disk. The
# CUDA runtime is inside the package, so the base is the same Debian trixie; the node needs only an NVIDIA
# driver for CUDA 12.8 and the NVIDIA container toolkit (the image sets NVIDIA_VISIBLE_DEVICES).
#
# Without --registry each image is written as an OCI archive DIR/<name>.tar (default artifacts/images),
# loadable with `podman load -i`. With --registry the images are pushed to R as R/<name>:<tag>
# (set DOTNET_CONTAINER_INSECURE_REGISTRIES=R for a plain-HTTP one).
# The base images are cached in $ALPACA_IMAGE_CACHE (default ~/.cache/alpaca/images); they are served to
# the SDK by Debian's docker-registry on a loopback port for the length of the build, since the SDK
# pulls a base only from a registry.
set -euo pipefail
cd "$(dirname "$0")/.."

registry="" only="" out="artifacts/images" kind="image"
while [ $# -gt 0 ]; do
  case "$1" in
    --registry) registry=${2:?--registry needs a value}; shift 2 ;;
    --only) only=${2:?--only needs a value}; shift 2 ;;
    --out) out=${2:?--out needs a value}; shift 2 ;;
    --cuda) kind="cuda-image"; shift ;;
    *) echo "images: unknown argument '$1' (expected --registry R, --only NAME[,NAME], --out DIR, --cuda)" >&2; exit 2 ;;
  esac
done

list=deploy/images.txt
tag=$(awk '$1=="tag"{print $2}' "$list")
[ -n "$tag" ] || { echo "images: $list has no 'tag' line" >&2; exit 1; }
variant=()
if [ "$kind" = "cuda-image" ]; then
  tag="$tag-cuda"
  variant=(-p:TorchSharpBackend=cuda)
fi
cache=${ALPACA_IMAGE_CACHE:-$HOME/.cache/alpaca/images}
layout="$cache/base-oci"
mkdir -p "$cache" "$out"

for tool in debootstrap umoci skopeo docker-registry; do
  command -v "$tool" >/dev/null || { echo "images: '$tool' is missing; run scripts/setup.sh --images" >&2; exit 1; }
done

# 1. The base images, built once per machine (minutes each) and reused.
for suite in $(awk -v k="$kind" '$1==k{print $3}' "$list" | sort -u); do
  if ! umoci stat --image "$layout:$suite" >/dev/null 2>&1; then
    echo "images: building base $suite (debootstrap; cached in $layout)"
    deploy/base/build-base.sh "$suite" "$layout"
  fi
done

# 2. A loopback registry that serves the bases to the SDK, on a port the kernel picks free.
work=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$work/registry.yml" <<YAML
version: 0.1
storage: {filesystem: {rootdirectory: $work/storage}}
http: {addr: 127.0.0.1:$port}
log: {level: error}
YAML
docker-registry serve "$work/registry.yml" >"$work/registry.log" 2>&1 &
registry_pid=$!
# Keep the script's own exit status: the registry's, killed here, would be 143.
trap 'status=$?; kill $registry_pid 2>/dev/null; wait $registry_pid 2>/dev/null || true; rm -rf "$work"; exit $status' EXIT
for _ in $(seq 1 100); do
  curl -fs "http://127.0.0.1:$port/v2/" >/dev/null 2>&1 && break
  sleep 0.1
done
base_registry="127.0.0.1:$port"
export DOTNET_CONTAINER_INSECURE_REGISTRIES="$base_registry${DOTNET_CONTAINER_INSECURE_REGISTRIES:+;$DOTNET_CONTAINER_INSECURE_REGISTRIES}"
for suite in $(awk -v k="$kind" '$1==k{print $3}' "$list" | sort -u); do
  skopeo copy -q --dest-tls-verify=false "oci:$layout:$suite" "docker://$base_registry/alpaca-base:$suite"
done

# 3. Every image: self-contained publish onto its base.
awk -v k="$kind" '$1==k{print $2, $3, $4}' "$list" | while read -r name suite project; do
  if [ -n "$only" ] && [[ ",$only," != *",$name,"* ]]; then continue; fi
  echo "images: $name:$tag from $project on alpaca-base:$suite"
  target=() repository="$name"
  if [ -n "$registry" ]; then
    # R is a host with an optional path (ghcr.io/alpaca-platform): the SDK takes the host as the
    # registry and the path as part of the repository.
    host=${registry%%/*}
    [ "$host" = "$registry" ] || repository="${registry#*/}/$name"
    target=(-p:ContainerRegistry="$host")
  else
    target=(-p:ContainerArchiveOutputPath="$(realpath "$out")/$name.tar")
  fi
  dotnet publish "$project" -c Release -r linux-x64 --self-contained -nologo -clp:ErrorsOnly \
    -t:PublishContainer \
    -p:ContainerBaseImage="$base_registry/alpaca-base:$suite" \
    -p:ContainerRepository="$repository" \
    -p:ContainerImageTags="$tag" \
    -p:ContainerTitle="alpaca-$name" \
    -p:ContainerVersion="$tag" \
    -p:ContainerDescription="Alpaca $name ($project) self-contained for linux-x64 on Debian $suite${variant:+ (CUDA)}" \
    "${variant[@]}" "${target[@]}"
done
echo "images: done (${registry:-$out})"
