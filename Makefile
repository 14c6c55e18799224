# flant-gitops — developer entry points. `make` runs OpenBao dev with the flant_gitops plugin
# registered (`make enable` walks the demo through it); `make serve` runs the standalone service
# instead (`make enable-service`); `make test` provisions the bench and runs every suite.
.PHONY: run serve enable enable-service test test-unit test-integration provision build plugin lint typecheck bench clean

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

# Seven benchmarks, each a ratio against a baseline measured in the same run (~5-8 min on 2 cores);
# writes BENCHMARKS.md and bench-results/latest.json. Subset: npx tsx bench/run.ts --only 2,3
bench:
	bash scripts/provision.sh
	npm run -s build
	npx tsx bench/run.ts
