# Service image: build with the full toolchain, run on a slim base with only git, ssh and tini
# added. Plain Dockerfile syntax (no `# syntax=` line: BuildKit would fetch a frontend image,
# which breaks air-gapped builds); builds with the legacy builder or BuildKit alike.
#
# The base is pinned by digest; bump it deliberately. The digest below is the manifest-list digest
# of node:24-bookworm-slim (Node 24 LTS on Debian bookworm) as published and used in public
# Dockerfiles; the project's bench reaches no registry and cannot check it. To bump it where a
# registry answers: `docker buildx imagetools inspect node:24-bookworm-slim` (the "Digest:" line)
# or `docker pull node:24-bookworm-slim && docker inspect -f '{{index .RepoDigests 0}}' …`.
# Any image with Node 24 and npm in PATH, Debian's apt and a `node` user (uid 1000) can stand in:
# `docker build --build-arg NODE_IMAGE=… .` (the bench does that; see scripts/build-images.sh).
ARG NODE_IMAGE=node:24-bookworm-slim@sha256:6f7b03f7c2c8e2e784dcf9295400527b9b1270fd37b7e9a7285cf83b6951452d

FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev

FROM ${NODE_IMAGE} AS runtime
RUN apt-get update \
 && apt-get install -y --no-install-recommends git openssh-client ca-certificates tini \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY package.json ./
COPY docker/entrypoint.sh /usr/local/bin/flant-gitops-entrypoint
RUN chmod 0755 /usr/local/bin/flant-gitops-entrypoint \
 && mkdir -p /var/lib/flant-gitops && chown node:node /var/lib/flant-gitops
# The service runs as the unprivileged `node` user. The container starts as root only so that
# the entry point can prepare what the host hands in — create the bind-mounted data dir and give
# it to `node`, add the Docker socket's group to `node`'s groups — and then drops to `node`
# (setpriv, no capabilities, no-new-privs). Started with `--user`, it changes nothing.
# NODE_OPTIONS: a 2 MiB young generation instead of V8's 16–32 MiB keeps the resident set of a
# mostly idle service ~30 MiB smaller, and with it the cost of every fork of git (page tables are
# copied per spawn); the price is more frequent, cheaper scavenges (see BENCHMARKS.md 6 and 12).
# V8 sizes the young generation at start, so it must be given here. (`serve` turns on
# --optimize-for-size by itself: node refuses that flag in NODE_OPTIONS.)
ENV FLANT_GITOPS_DATA_DIR=/var/lib/flant-gitops \
    FLANT_GITOPS_LISTEN=0.0.0.0:8080 \
    NODE_OPTIONS=--max-semi-space-size=2 \
    NODE_ENV=production
EXPOSE 8080
# Healthy means able to run: /readyz (engine reachable, store readable, data dir writable) at
# the address in FLANT_GITOPS_LISTEN (a wildcard host is probed on loopback).
HEALTHCHECK --interval=15s --timeout=5s --start-period=10s --retries=3 \
  CMD ["node", "/app/dist/healthcheck.js"]
ENTRYPOINT ["/usr/bin/tini", "--", "/usr/local/bin/flant-gitops-entrypoint"]
CMD ["serve"]
