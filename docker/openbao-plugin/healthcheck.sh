#!/bin/sh
# HEALTHCHECK of the OpenBao-with-flant_gitops image: healthy means initialized and unsealed
# (`bao status` exits 0), asked at BAO_LISTEN_ADDRESS (a wildcard host is asked on loopback),
# or at BAO_ADDR when you brought your own listener. Self-initialization — the flant_gitops
# mount included — is finished before the first unseal answers.
set -eu
if [ -n "${BAO_LISTEN_ADDRESS:-}" ]; then
  host=${BAO_LISTEN_ADDRESS%:*}
  case $host in '' | 0.0.0.0 | '[::]' | '::') host=127.0.0.1 ;; esac
  BAO_ADDR=http://$host:${BAO_LISTEN_ADDRESS##*:}
fi
exec bao status -address="${BAO_ADDR:-http://127.0.0.1:8200}" >/dev/null
