#!/usr/bin/env bash
# The original plugin's `make enable`, complete. Against the standalone service started with
# `make serve` (`make enable-service`), through OpenBao to the plugin started with `make`
# (`make enable` runs scripts/enable-plugin.sh, which enables the mount and then this), or, as
# `make enable-compose` (FLANT_GITOPS_STACK=compose), against the docker-compose.yml stack, it:
#   1. enables AppRole in OpenBao, writes a policy, a role and a demo KV secret;
#   2. writes configure_vault_access with a freshly minted role id and secret id;
#   3. creates a local demo repository whose commit is signed by a freshly generated demo key;
#   4. writes configure, a vault request, the trusted key and a webhook endpoint;
#   5. prints the webhook URL, sends it a signed delivery, requests a poll and follows the task
#      log: the demo container unwraps its token and prints the secret.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
# bao, the demo image (.cache/test-image.id) and Node 24 come from the bench's provisioning.
if [ ! -x .cache/bin/bao ] || [ ! -s .cache/test-image.id ] || [ ! -x .cache/node24/bin/node ] \
  || ! docker image inspect "$(cat .cache/test-image.id)" >/dev/null 2>&1; then
  bash scripts/provision.sh --no-npm
fi
. scripts/node-env.sh
if [ "${FLANT_GITOPS_STACK:-dev}" = compose ]; then
  # The compose stack: OpenBao and the service on the host's loopback ports, the service's data
  # dir at the same path on the host. The demo repository goes to the stack's local repository
  # root (FLANT_GITOPS_REPOS_DIR, mounted read-only; compose marks the repository safe for git:
  # the host user owns it, not the service's); the other demo files inside the data dir.
  DATA=${FLANT_GITOPS_DATA_DIR:-/var/lib/flant-gitops}
  DEV=${FLANT_GITOPS_DEV_DIR:-$DATA/demo}
  REPOS=${FLANT_GITOPS_REPOS_DIR:-/var/lib/flant-gitops-repos}
  OPENBAO_ADDR=${OPENBAO_ADDR:-http://127.0.0.1:${OPENBAO_PORT:-8200}}
  OPENBAO_TOKEN=${OPENBAO_DEV_ROOT_TOKEN:-dev-only-root-token}
  SERVICE_ADDR=${SERVICE_ADDR:-http://127.0.0.1:${FLANT_GITOPS_PORT:-8080}}
  SERVICE_TOKEN_FILE=$DATA/root-token
  # The service and its command containers use the host's network: the same address.
  TARGET_VAULT_ADDR=${TARGET_VAULT_ADDR:-$OPENBAO_ADDR}
  [ -r "$SERVICE_TOKEN_FILE" ] || {
    echo "enable: no $SERVICE_TOKEN_FILE: start the stack first (docker compose up -d --wait)" >&2
    exit 1
  }
else
  DEV=${FLANT_GITOPS_DEV_DIR:-$ROOT/.cache/dev}
  [ -f "$DEV/env" ] || {
    echo "enable: nothing to enable found: start the plugin with 'make' or the service with 'make serve' (either writes $DEV/env), or start the compose stack and run 'make enable-compose'" >&2
    exit 1
  }
  # shellcheck disable=SC1091
  . "$DEV/env"
  # `make` and `make serve` approve $DEV/repos as their local repository root; the plugin's
  # compose stack (`make enable-compose-plugin`) names its own root in $DEV/env (REPOS_DIR).
  REPOS=${REPOS_DIR:-$DEV/repos}
  TARGET_VAULT_ADDR=${TARGET_VAULT_ADDR:-$OPENBAO_ADDR}
fi
mkdir -p "$DEV"
# The plugin's webhooks arrive on its own listener, not on OpenBao's address.
WEBHOOK_ADDR=${WEBHOOK_ADDR:-$SERVICE_ADDR}
MOUNT=${MOUNT:-flant_gitops}
BAO=$ROOT/.cache/bin/bao
IMAGE=$(cat "$ROOT/.cache/test-image.id")
export GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1 LANG=C.UTF-8 LC_ALL=C.UTF-8

obao() { VAULT_ADDR=$OPENBAO_ADDR BAO_ADDR=$OPENBAO_ADDR BAO_TOKEN=$OPENBAO_TOKEN VAULT_TOKEN=$OPENBAO_TOKEN "$BAO" "$@"; }
svc() { BAO_ADDR=$SERVICE_ADDR VAULT_ADDR=$SERVICE_ADDR BAO_TOKEN=$(cat "$SERVICE_TOKEN_FILE") "$BAO" "$@"; }
step() { printf '\n== %s\n' "$*"; }

step "OpenBao: AppRole, policy, role and a demo secret"
AUTH_MOUNTS=$(obao auth list -format=json)
case $AUTH_MOUNTS in *'"approle/"'*) ;; *) obao auth enable approle >/dev/null ;; esac
obao policy write flant-gitops - >/dev/null <<'HCL'
path "auth/approle/login" { capabilities = ["create", "update"] }
path "auth/approle/role/flant-gitops/secret-id" { capabilities = ["create", "update"] }
path "auth/approle/role/flant-gitops/secret-id/destroy" { capabilities = ["create", "update"] }
path "secret/data/demo" { capabilities = ["read"] }
HCL
obao write auth/approle/role/flant-gitops token_policies=flant-gitops token_ttl=20m secret_id_ttl=24h >/dev/null
obao kv put -mount=secret demo greeting="hello from OpenBao" >/dev/null
ROLE_ID=$(obao read -field=role_id auth/approle/role/flant-gitops/role-id)
SECRET_ID=$(obao write -f -field=secret_id auth/approle/role/flant-gitops/secret-id)

step "flant-gitops: configure_vault_access (the operator's secret id is replaced and destroyed)"
svc write "$MOUNT/configure_vault_access" vault_addr="$TARGET_VAULT_ADDR" vault_tls_server_name=localhost \
  role_name=flant-gitops role_id="$ROLE_ID" secret_id="$SECRET_ID" secret_id_ttl=24h \
  approle_mount_point=auth/approle token_ttl=20m
unset SECRET_ID

step "demo repository with a signed commit"
export GNUPGHOME=$DEV/gnupg
if [ ! -d "$GNUPGHOME" ]; then
  mkdir -p "$GNUPGHOME" && chmod 700 "$GNUPGHOME"
  gpg --batch --quiet --passphrase '' --pinentry-mode loopback --quick-gen-key \
    'flant-gitops demo signer (TEST-ONLY) <demo@flant-gitops.invalid>' ed25519 sign never
fi
FPR=$(gpg --list-keys --with-colons | awk -F: '/^fpr/{print $10; exit}')
gpg --armor --export "$FPR" >"$DEV/demo-signer.asc"
mkdir -p "$REPOS" || {
  echo "enable: cannot create $REPOS, the local repository root the service approves; create it (writable by you) or set FLANT_GITOPS_REPOS_DIR" >&2
  exit 1
}
REPO=$REPOS/demo-repo.git
WORK=$DEV/demo-work
if [ ! -d "$REPO" ]; then
  git init -q --bare -b main "$REPO"
  git clone -q "$REPO" "$WORK" 2>/dev/null
fi
cp "$ROOT/fixtures/demo/deploy.sh" "$WORK/deploy.sh"
date -u +%FT%TZ >"$WORK/deployed-at.txt"
git -C "$WORK" add -A
git -C "$WORK" -c user.name=demo -c user.email=demo@flant-gitops.invalid -c gpg.program=gpg \
  commit -q -S"$FPR" -m "demo deployment $(date -u +%FT%TZ)"
git -C "$WORK" push -q origin HEAD:main
echo "pushed $(git -C "$WORK" rev-parse HEAD) (signed by $FPR)"

step "flant-gitops: trusted key, vault request, then configure (which arms the mount), webhook"
svc write "$MOUNT/configure/trusted_pgp_public_key" name=demo public_key=@"$DEV/demo-signer.asc"
svc write "$MOUNT/configure/vault_request/get_configuration" path=/v1/secret/data/demo method=GET wrap_ttl=1m
SHA=$(git -C "$WORK" rev-parse HEAD)
svc write "$MOUNT/configure" git_repo_url="file://$REPO" git_branch_name=main git_poll_period=1h \
  required_number_of_verified_signatures_on_commit=1 docker_image="$IMAGE" commands=./deploy.sh
[ -f "$DEV/webhook.key" ] || head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$DEV/webhook.key"
svc write "$MOUNT/configure/webhook/demo" source=generic secret=@"$DEV/webhook.key" >/dev/null
HOOK_URL=$WEBHOOK_ADDR/hook/$(sha256sum "$DEV/webhook.key" | cut -d' ' -f1)
echo "webhook URL: $HOOK_URL"
echo "  (sign deliveries with: X-Signature: sha256=<hex HMAC-SHA256 of the body with the key>)"
svc read "$MOUNT/configure"

step "a signed webhook delivery (asks for an early poll)"
HOOK_URL=$HOOK_URL HOOK_KEY_FILE=$DEV/webhook.key SHA=$SHA node -e '
  const { createHmac } = require("node:crypto");
  const key = require("node:fs").readFileSync(process.env.HOOK_KEY_FILE, "utf8");
  const body = JSON.stringify({ ref: "refs/heads/main", after: process.env.SHA });
  const sig = createHmac("sha256", key).update(body).digest("hex");
  fetch(process.env.HOOK_URL, { method: "POST", body,
    headers: { "content-type": "application/json", "x-signature": `sha256=${sig}` } })
    .then(async (r) => { console.log(`webhook: HTTP ${r.status} ${await r.text()}`);
      if (r.status !== 202) process.exit(1); },
      (e) => { console.error(`webhook: ${e.cause?.message ?? e.message}`); process.exit(1); });'

step "poll and follow the task"
svc write -f "$MOUNT/poll" >/dev/null
field() { svc read -field="$1" "$MOUNT/$2" </dev/null 2>/dev/null || true; }
# One read of the status as "key=value" lines (null values print as empty).
status_lines() {
  svc read -format=json "$MOUNT/status" </dev/null 2>/dev/null | node -e '
    let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
      const d = s.trim() ? JSON.parse(s).data ?? {} : {};
      for (const [k, v] of Object.entries(d)) console.log(`${k}=${v ?? ""}`);
    });'
}
done_ok=
for _ in $(seq 1 240); do
  st=$(status_lines)
  get() { printf '%s\n' "$st" | sed -n "s/^$1=//p"; }
  # The commit is recorded a moment before its task is marked done: wait until nothing runs.
  if [ -z "$(get running_task)" ] && [ -z "$(get queued_task)" ]; then
    [ "$(get last_successful_commit)" = "$SHA" ] && { done_ok=1; break; }
    [ "$(get last_poll_outcome)" = failed ] && break
  fi
  sleep 0.5
done
# Show the task that ran $SHA: the one whose log shows the deployment.
TASK=
for id in $(svc list -format=json "$MOUNT/task" </dev/null | node -e '
  let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
    for (const k of s.trim() ? JSON.parse(s) : []) console.log(k);
  });'); do
  if [ "$(field commit "task/$id")" = "$SHA" ] && [ "$(field status "task/$id")" = SUCCEEDED ] \
    && svc read -field=result "$MOUNT/task/$id/log" limit=0 </dev/null 2>/dev/null | grep -q "commit: $SHA"; then
    TASK=$id
    break
  fi
done
if [ -n "$TASK" ]; then
  echo "task $TASK"
  svc read -field=result "$MOUNT/task/$TASK/log" limit=0
  echo
  svc read "$MOUNT/task/$TASK"
fi
[ -n "$done_ok" ] || { echo "enable: $SHA was not deployed: $(get last_poll_reason)" >&2; exit 1; }
echo "deployed $SHA"
