# Sourced by the bench scripts: puts the provisioned Node 24 (scripts/provision.sh,
# .cache/node24/bin: node, npm, npx) first on PATH, so every `node`, `npm` and `npx` they start,
# and every child those start by name, is Node 24. The machine's own node is left untouched.
NODE24_BIN="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/.cache/node24/bin"
case ":$PATH:" in *":$NODE24_BIN:"*) ;; *) export PATH="$NODE24_BIN:$PATH" ;; esac
