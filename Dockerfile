# syntax=docker/dockerfile:1
# Service image: build with the full toolchain, run on a slim base with only git and ssh added.
# Base images are pinned by digest; bump them deliberately.
ARG NODE_IMAGE=node:20-bookworm-slim@sha256:2cf067cfed83d5ea958367df9f966191a942351a2df77d6f0193e162b5febfc0

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
# Runs as the unprivileged `node` user; give it the Docker socket's group with `group_add`
# (see docker-compose.yml) instead of running as root.
RUN mkdir -p /var/lib/flant-gitops && chown node:node /var/lib/flant-gitops
USER node
ENV FLANT_GITOPS_DATA_DIR=/var/lib/flant-gitops \
    FLANT_GITOPS_LISTEN=0.0.0.0:8080 \
    NODE_ENV=production
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s \
  CMD node -e "fetch('http://127.0.0.1:8080/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
ENTRYPOINT ["/usr/bin/tini", "--", "node", "/app/dist/main.js"]
CMD ["serve"]
