# flant-gitops — developer entry points. `make` runs OpenBao dev with the flant_gitops plugin
# registered (`make enable` walks the demo through it); `make serve` runs the standalone service
# instead (`make enable-service`); `make test` provisions the bench and runs every suite.
# Every target runs the provisioned Node 24 (scripts/provision.sh puts it in .cache/node24).
export PATH := $(CURDIR)/.cache/node24/bin:$(PATH)

.PHONY: run serve enable enable-service enable-compose enable-compose-plugin test test-unit test-integration provision build plugin lint typecheck bench clean

run:
	bash scripts/dev-plugin.sh

serve:
	bash scripts/dev-run.sh

provision:
	bash scripts/provision.sh

build:
	npm run -s build

# The OpenBao plugin: ONE self-contained executable, dist/plugin/flant_gitops; prints its SHA-256
# (for `bao plugin register -sha256=…`). See README "Running as an OpenBao plugin".
plugin:
	bash scripts/provision.sh --no-docker
	npx tsx scripts/build-plugin.ts

test:
	bash scripts/test.sh

test-unit:
	bash scripts/provision.sh --no-docker
	npx vitest run --project unit

test-integration:
	bash scripts/provision.sh
	npx vitest run --project integration

lint:
	npx eslint . && npx prettier --check .

typecheck:
	npx tsc -p tsconfig.json --noEmit

clean:
	rm -rf dist .cache/vitest-results.json

enable:
	bash scripts/enable-plugin.sh

enable-service:
	bash scripts/enable.sh

# The walkthrough against the docker-compose.yml stack (`docker compose up -d --wait` first).
enable-compose:
	FLANT_GITOPS_STACK=compose bash scripts/enable.sh

# The walkthrough through OpenBao with the plugin, the docker-compose.plugin.yml stack
# (`docker compose -f docker-compose.plugin.yml up -d --wait` first).
enable-compose-plugin:
	bash scripts/enable-compose-plugin.sh

# Benchmarks, most a ratio against a baseline measured in the same run, some information rows
# (8: image size and build times; 9: the plugin's read latency and memory; a cold image build adds ~4 min;
# 10: SSH signature checks/s in process vs ssh-keygen -Y verify); ~12-15 min on 2 cores in all;
# writes BENCHMARKS.md and bench-results/latest.json. Subset: npx tsx bench/run.ts --only 2,3
# (add --merge to replace just those sections in BENCHMARKS.md)
bench:
	bash scripts/provision.sh
	npm run -s build
	npx tsx bench/run.ts
