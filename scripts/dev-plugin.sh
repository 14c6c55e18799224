#!/usr/bin/env bash
# `make`: from a fresh clone, set everything up (packages, OpenBao, npm ci, Docker engine, demo
# image), build the plugin (`make plugin`) and run an OpenBao dev server in the foreground whose
# plugin directory holds only that executable — so it is registered as `flant_gitops` by SHA-256
# at start. The same OpenBao plays the target Vault of the demo. Ctrl-C stops it (and with it
# every plugin process). Next: `make enable`. The standalone service: `make serve`.
set -euo pipefail
cd "$(dirname "$0")/.."
DEV=${FLANT_GITOPS_DEV_DIR:-$PWD/.cache/dev-plugin}
BAO_PORT=${OPENBAO_PORT:-8200}
HOOK_LISTEN=${FLANT_GITOPS_WEBHOOK_LISTEN:-127.0.0.1:8081}
BAO_TOKEN_DEV=dev-only-root-token
ADDR=http://127.0.0.1:$BAO_PORT
bash scripts/provision.sh
mkdir -p "$DEV/plugins" "$DEV/data"
rm -f "$DEV"/plugins/* # the plugin directory must hold nothing but the executable
npx tsx scripts/build-plugin.ts "$DEV/plugins/flant_gitops"

if BAO_ADDR=$ADDR .cache/bin/bao status >/dev/null 2>&1; then
  echo "dev-plugin: something already answers at $ADDR (make serve's OpenBao?); stop it or set OPENBAO_PORT" >&2
  exit 1
fi
printf '%s\n' "$BAO_TOKEN_DEV" >"$DEV/token"
chmod 600 "$DEV/token"
cat >"$DEV/env" <<ENV
OPENBAO_ADDR=$ADDR
OPENBAO_TOKEN=$BAO_TOKEN_DEV
SERVICE_ADDR=$ADDR
SERVICE_TOKEN_FILE=$DEV/token
WEBHOOK_ADDR=http://$HOOK_LISTEN
WEBHOOK_LISTEN=$HOOK_LISTEN
ENV
cat >&2 <<MSG

  OpenBao (dev) with the flant_gitops plugin registered: $ADDR  (root token: $BAO_TOKEN_DEV)
  plugin directory: $DEV/plugins   plugin data dir: $DEV/data   plugin log: $DEV/plugin.log
  Next, in a second terminal:   make enable
    (enables the mount with webhooks on $HOOK_LISTEN and walks the demo through OpenBao:
     export BAO_ADDR=$ADDR BAO_TOKEN=$BAO_TOKEN_DEV; bao read flant_gitops/status)

MSG
# The plugin inherits the server's environment: its data dir, log file and the demo's settings.
exec env FLANT_GITOPS_DATA_DIR="$DEV/data" FLANT_GITOPS_PLUGIN_LOG_FILE="$DEV/plugin.log" \
  FLANT_GITOPS_CONTAINER_NETWORK=host FLANT_GITOPS_LOCAL_REPO_ROOTS="$DEV/repos" \
  .cache/bin/bao server -dev -dev-root-token-id="$BAO_TOKEN_DEV" \
  -dev-listen-address=127.0.0.1:"$BAO_PORT" -dev-plugin-dir="$DEV/plugins"
