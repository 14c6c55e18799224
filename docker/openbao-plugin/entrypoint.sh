#!/bin/sh
# Entry point of the OpenBao-with-flant_gitops image (runs under tini). `server` (the default)
# starts OpenBao with the image's configuration; anything else is run as given (`bao status`).
# Started as root — the image's default — it prepares what the host hands in, then runs OpenBao
# as the unprivileged `openbao` user (setpriv: no capabilities, no-new-privs):
#   - /openbao/data and /openbao/secrets (volumes) and FLANT_GITOPS_DATA_DIR (the plugin's work
#     dir, bind-mounted at the same path as on the host): created and given to `openbao`;
#   - on the first start of an empty storage: the unseal key and the admin password, each
#     generated when not already there (their values are never printed);
#   - the Docker socket: its group is added to `openbao`'s groups, so the plugin's runs reach the
#     engine whatever gid the host gave it;
#   - a TCP listener (no TLS) at BAO_LISTEN_ADDRESS, written to /openbao/run/listener.hcl; leave
#     BAO_LISTEN_ADDRESS empty and put your own listener in /openbao/config instead (every other
#     *.hcl file there is passed as one more -config).
set -eu
log() { echo "openbao-plugin-entrypoint: $*" >&2; }
if [ "${1:-server}" != server ]; then
  exec "$@"
fi
[ $# -gt 0 ] && shift
secrets=/openbao/secrets
storage=/openbao/data
data=${FLANT_GITOPS_DATA_DIR:-/var/lib/flant-gitops}
sock=${FLANT_GITOPS_DOCKER_SOCKET:-/var/run/docker.sock}
# One -config per file: OpenBao 2.7.2 drops `plugin` blocks when given a config directory
# (tried: the mount then fails with "plugin not found in the catalog").
args="-config=/openbao/config/openbao.hcl"
for f in /openbao/config/*.hcl; do
  [ "$f" = /openbao/config/openbao.hcl ] || args="$args -config=$f"
done
if [ -n "${BAO_LISTEN_ADDRESS:-}" ]; then
  mkdir -p /openbao/run
  # The cluster port is picked free: with host networking, port+1 may be anyone's.
  printf 'listener "tcp" {\n  address         = "%s"\n  cluster_address = "127.0.0.1:0"\n  tls_disable     = true\n}\n' \
    "$BAO_LISTEN_ADDRESS" >/openbao/run/listener.hcl
  args="$args -config=/openbao/run/listener.hcl"
  host=${BAO_LISTEN_ADDRESS%:*}
  case $host in '' | 0.0.0.0 | '[::]' | '::') host=127.0.0.1 ;; esac
  export BAO_API_ADDR="${BAO_API_ADDR:-http://$host:${BAO_LISTEN_ADDRESS##*:}}"
fi
if [ "$(id -u)" != 0 ]; then
  # shellcheck disable=SC2086
  exec bao server $args "$@"
fi

uid=$(id -u openbao)
gid=$(id -g openbao)
as_openbao() { setpriv --reuid="$uid" --regid="$gid" --clear-groups "$@"; }
mkdir -p "$storage" "$data"
for dir in "$storage" "$data"; do
  if ! as_openbao test -w "$dir"; then
    chown "$uid:$gid" "$dir"
    chmod u+rwx "$dir"
  fi
done

# The secrets: generated only for an empty storage; what you mount there yourself (read-only is
# fine) is left as it is and must be readable by `openbao`.
fresh=0
[ -z "$(ls -A "$storage")" ] && fresh=1
made=
if [ ! -s "$secrets/unseal.key" ]; then
  if [ $fresh = 0 ]; then
    log "the storage in $storage is initialized, but there is no unseal key at $secrets/unseal.key: mount the key it was initialized with there"
    exit 1
  fi
  mkdir -p "$secrets"
  (umask 077 && head -c 32 /dev/urandom >"$secrets/unseal.key") \
    || { log "cannot write $secrets/unseal.key: mount a writable $secrets, or put a 32-byte key there"; exit 1; }
  made="$made $secrets/unseal.key"
  log "generated a new unseal key in $secrets/unseal.key (keep a copy apart from $storage; in production mount your own key there)"
fi
if [ $fresh = 1 ] && [ ! -s "$secrets/admin-password" ]; then
  (umask 077 && head -c 24 /dev/urandom | base64 | tr -d '\n=' | tr '+/' '-_' >"$secrets/admin-password") \
    || { log "cannot write $secrets/admin-password: mount a writable $secrets, or put a password there"; exit 1; }
  made="$made $secrets/admin-password"
  log "generated the password of the userpass login 'admin' in $secrets/admin-password (read it with: docker compose exec openbao cat $secrets/admin-password)"
fi
for f in $made; do
  chown "$uid:$gid" "$f"
  chmod 0400 "$f"
done
readable="$secrets/unseal.key"
[ $fresh = 1 ] && readable="$readable $secrets/admin-password"
for f in $readable; do
  if [ -e "$f" ] && ! as_openbao test -r "$f"; then
    log "openbao (uid $uid) cannot read $f: give it to uid $uid or make it readable"
    exit 1
  fi
done

groups=$gid
if [ -S "$sock" ]; then
  groups="$groups,$(stat -c %g "$sock")"
else
  log "no Docker socket at $sock (mount it: -v /var/run/docker.sock:$sock); the plugin's runs will fail"
fi
export HOME=/openbao USER=openbao LOGNAME=openbao
# shellcheck disable=SC2086
exec setpriv --reuid="$uid" --regid="$gid" --groups="$groups" \
  --inh-caps=-all --bounding-set=-all --no-new-privs -- bao server $args "$@"
