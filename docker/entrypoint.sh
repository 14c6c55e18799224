#!/bin/sh
# Entry point of the flant-gitops image (runs under tini). Started as root — the image's
# default — it prepares what the host hands in, then runs the service as the unprivileged `node`
# user:
#   - the data dir (FLANT_GITOPS_DATA_DIR): created when missing and given to `node` when `node`
#     cannot write it (Docker creates a missing bind-mount source as root:root 0755);
#   - the Docker socket (FLANT_GITOPS_DOCKER_SOCKET): its group is added to `node`'s groups, so
#     the engine is reachable whatever gid the host gave the socket (no DOCKER_GID to set).
# Started as any other user (`docker run --user …`), it changes nothing: the service itself then
# refuses an unwritable data dir, naming the fix, and /readyz reports an unreachable engine.
set -eu
if [ "$(id -u)" != 0 ]; then
  exec node /app/dist/main.js "$@"
fi
data=${FLANT_GITOPS_DATA_DIR:-/var/lib/flant-gitops}
sock=${FLANT_GITOPS_DOCKER_SOCKET:-/var/run/docker.sock}
uid=$(id -u node)
gid=$(id -g node)
mkdir -p "$data"
if ! setpriv --reuid="$uid" --regid="$gid" --clear-groups test -w "$data"; then
  echo "flant-gitops-entrypoint: giving $data to node ($uid:$gid)" >&2
  chown "$uid:$gid" "$data"
  chmod u+rwx "$data"
fi
groups=$gid
if [ -S "$sock" ]; then
  groups="$groups,$(stat -c %g "$sock")"
else
  echo "flant-gitops-entrypoint: no Docker socket at $sock (mount it: -v /var/run/docker.sock:$sock)" >&2
fi
export HOME=/home/node USER=node LOGNAME=node
exec setpriv --reuid="$uid" --regid="$gid" --groups="$groups" \
  --inh-caps=-all --bounding-set=-all --no-new-privs -- node /app/dist/main.js "$@"
