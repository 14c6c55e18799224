#!/usr/bin/env bash
# `make serve`: from a fresh clone, set everything up (packages, OpenBao, npm ci, build, Docker engine,
# demo image) and run the service in the foreground with the embedded defaults, next to an
# OpenBao dev server that plays the target Vault. Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
DEV=.cache/dev
mkdir -p "$DEV"
bash scripts/provision.sh
. scripts/node-env.sh
npm run -s build

BAO_PORT=${OPENBAO_PORT:-8200}
LISTEN=${FLANT_GITOPS_LISTEN:-127.0.0.1:8080}
BAO_TOKEN_DEV=dev-only-root-token
baopid=
cleanup() { [ -n "$baopid" ] && kill "$baopid" 2>/dev/null && wait "$baopid" 2>/dev/null; true; }
trap cleanup EXIT INT TERM

if ! BAO_ADDR=http://127.0.0.1:$BAO_PORT .cache/bin/bao status >/dev/null 2>&1; then
  .cache/bin/bao server -dev -dev-root-token-id="$BAO_TOKEN_DEV" \
    -dev-listen-address=127.0.0.1:"$BAO_PORT" >"$DEV/openbao.log" 2>&1 &
  baopid=$!
  for _ in $(seq 1 50); do
    BAO_ADDR=http://127.0.0.1:$BAO_PORT .cache/bin/bao status >/dev/null 2>&1 && break
    sleep 0.2
  done
fi
cat >"$DEV/env" <<ENV
OPENBAO_ADDR=http://127.0.0.1:$BAO_PORT
OPENBAO_TOKEN=$BAO_TOKEN_DEV
SERVICE_ADDR=http://$LISTEN
SERVICE_TOKEN_FILE=$PWD/$DEV/data/root-token
ENV
cat >&2 <<MSG

  OpenBao (dev, plays the target Vault): http://127.0.0.1:$BAO_PORT  (root token: $BAO_TOKEN_DEV)
  flant-gitops:                          http://$LISTEN  (token in $DEV/data/root-token)
  Next, in a second terminal:            make enable-service

MSG
node dist/main.js serve --listen "$LISTEN" --data-dir "$DEV/data" --container-network host \
  --local-repo-root "$DEV/repos"
