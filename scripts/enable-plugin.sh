#!/usr/bin/env bash
# `make enable`: against the OpenBao that `make` started with the plugin registered, enable the
# mount (its webhook listener address as a mount option), then walk the original's steps through
# OpenBao's own address and token (scripts/enable.sh: AppRole, policy, configure_vault_access,
# signed demo repo, trusted key, vault request, configure, a webhook, a poll, the task log).
set -euo pipefail
cd "$(dirname "$0")/.."
DEV=${FLANT_GITOPS_DEV_DIR:-$PWD/.cache/dev-plugin}
[ -f "$DEV/env" ] || { echo "enable: start OpenBao with the plugin first with 'make' (no $DEV/env)" >&2; exit 1; }
# shellcheck disable=SC1091
. "$DEV/env"
MOUNT=${MOUNT:-flant_gitops}
obao() { BAO_ADDR=$OPENBAO_ADDR VAULT_ADDR=$OPENBAO_ADDR BAO_TOKEN=$OPENBAO_TOKEN VAULT_TOKEN=$OPENBAO_TOKEN .cache/bin/bao "$@"; }

printf '\n== OpenBao: the registered plugin, and the mount %s\n' "$MOUNT"
# Captured first: grep -q on a pipe would end the pipe early (SIGPIPE under pipefail).
case $(obao plugin list -format=json secret) in
  *'"flant_gitops"'*) ;;
  *) echo "enable: flant_gitops is not registered in $OPENBAO_ADDR (is 'make' running?)" >&2; exit 1 ;;
esac
case $(obao secrets list -format=json) in
  *"\"$MOUNT/\""*) echo "$MOUNT/ is enabled already" ;;
  *) obao secrets enable -path="$MOUNT" -options=webhook_listen="$WEBHOOK_LISTEN" flant_gitops ;;
esac
FLANT_GITOPS_DEV_DIR=$DEV MOUNT=$MOUNT exec bash scripts/enable.sh
