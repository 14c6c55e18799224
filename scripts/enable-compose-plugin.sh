#!/usr/bin/env bash
# `make enable-compose-plugin`: the walkthrough (scripts/enable.sh) through OpenBao with the
# plugin, i.e. the docker-compose.plugin.yml stack (`docker compose -f docker-compose.plugin.yml
# up -d --wait` first). It logs in as the self-initialized `admin` (the password read from the
# container's secrets volume with `compose exec`, never printed), makes sure a KV v2 engine is at
# secret/ for the demo secret, runs the walkthrough against OpenBao's address with that token
# (webhooks go to the plugin's own listener), then revokes the token and removes the files that
# held it. COMPOSE_FILE / COMPOSE_PROJECT_NAME pick another stack (the tests' bench override).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
[ -x .cache/bin/bao ] || bash scripts/provision.sh --no-npm
BAO=$ROOT/.cache/bin/bao
DATA=${FLANT_GITOPS_DATA_DIR:-/var/lib/flant-gitops}
DEV=${FLANT_GITOPS_DEV_DIR:-$DATA/demo}
# The plugin's approved local repository root (docker-compose.plugin.yml mounts it read-only).
REPOS=${FLANT_GITOPS_REPOS_DIR:-/var/lib/flant-gitops-repos}
OPENBAO_ADDR=${OPENBAO_ADDR:-http://127.0.0.1:${OPENBAO_PORT:-8200}}
WEBHOOK_ADDR=${WEBHOOK_ADDR:-http://127.0.0.1:${FLANT_GITOPS_WEBHOOK_PORT:-8081}}
export COMPOSE_FILE=${COMPOSE_FILE:-docker-compose.plugin.yml}
if docker compose version >/dev/null 2>&1; then compose=(docker compose); else compose=(docker-compose); fi

mkdir -p "$DEV"
token_file=$DEV/openbao-token
cleanup() {
  if [ -s "$token_file" ]; then
    BAO_ADDR=$OPENBAO_ADDR BAO_TOKEN=$(cat "$token_file") "$BAO" token revoke -self >/dev/null 2>&1 || true
  fi
  rm -f "$token_file" "$DEV/env"
}
trap cleanup EXIT
(
  umask 077
  "${compose[@]}" exec -T openbao cat /openbao/secrets/admin-password \
    | BAO_ADDR=$OPENBAO_ADDR "$BAO" write -field=token auth/userpass/login/admin password=- >"$token_file"
) || {
  echo "enable: could not log in as admin at $OPENBAO_ADDR: start the stack first (docker compose -f docker-compose.plugin.yml up -d --wait)" >&2
  exit 1
}
obao() { BAO_ADDR=$OPENBAO_ADDR BAO_TOKEN=$(cat "$token_file") "$BAO" "$@"; }
case $(obao secrets list -format=json) in
  *'"flant_gitops/"'*) ;;
  *) echo "enable: $OPENBAO_ADDR has no flant_gitops/ mount (not the plugin image's OpenBao?)" >&2; exit 1 ;;
esac
case $(obao secrets list -format=json) in
  *'"secret/"'*) ;;
  *) obao secrets enable -path=secret -version=2 kv >/dev/null ;;
esac
(
  umask 077
  cat >"$DEV/env" <<ENV
OPENBAO_ADDR=$OPENBAO_ADDR
OPENBAO_TOKEN=$(cat "$token_file")
SERVICE_ADDR=$OPENBAO_ADDR
SERVICE_TOKEN_FILE=$token_file
WEBHOOK_ADDR=$WEBHOOK_ADDR
REPOS_DIR=$REPOS
ENV
)
FLANT_GITOPS_DEV_DIR=$DEV bash scripts/enable.sh
