# flant-gitops — developer entry points. `make` runs the service with the embedded defaults;
# `make test` provisions the bench and runs every suite.
.PHONY: run enable test test-unit test-integration provision build plugin lint typecheck bench clean

run:
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
	bash scripts/enable.sh

# Six benchmarks, each a ratio against a baseline measured in the same run (~5-8 min on 2 cores);
# writes BENCHMARKS.md and bench-results/latest.json. Subset: npx tsx bench/run.ts --only 2,3
bench:
	bash scripts/provision.sh
	npm run -s build
	npx tsx bench/run.ts
