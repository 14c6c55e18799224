#!/usr/bin/env bash
# The project's one test command (README: `make test`). Does all set-up itself on a fresh Debian
# machine (scripts/provision.sh), then runs typecheck, lint, the unit and the integration suites.
# The checks (typecheck, lint, build) are reported on their own line, `checks: N passed, N failed`;
# the last line, `N passed, N failed`, counts the tests — plus any failed check, so a run with a
# red check never ends with "0 failed".
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/provision.sh || { echo "0 passed, 1 failed"; exit 1; }
# Node 24 from the cache first on PATH: npx, vitest and its forks, tsx and every child `node`.
. scripts/node-env.sh

checks_passed=0 checks_failed=0 failed_checks=''
run_check() {
  local name=$1; shift
  echo "== $name"
  if "$@"; then
    checks_passed=$((checks_passed + 1))
  else
    checks_failed=$((checks_failed + 1)) failed_checks="$failed_checks $name"
    echo "== $name FAILED"
  fi
}
run_check typecheck npx tsc -p tsconfig.json --noEmit
run_check lint npx eslint .
run_check build npm run -s build

results=.cache/vitest-results.json
rm -f "$results"
npx vitest run --reporter=default --reporter=json --outputFile.json="$results" "$@"
vitest_rc=$?

read -r vp vf < <(node -e '
  const fs = require("fs");
  let p = 0, f = 0;
  try {
    const r = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
    p = r.numPassedTests;
    f = r.numFailedTests;
    // A file that failed to load (or a failing global setup) has no tests but must count.
    for (const s of r.testResults ?? []) if (s.status === "failed" && (s.assertionResults ?? []).length === 0) f++;
    if (r.numTotalTests === 0 && f === 0) f = 1;
  } catch { f = 1; }
  console.log(p, f);
' "$results")
if [ "$vitest_rc" -ne 0 ] && [ "$vf" -eq 0 ]; then vf=1; fi
echo "checks: $checks_passed passed, $checks_failed failed (typecheck, lint, build)${failed_checks:+; failed:$failed_checks}"
passed=$vp
failed=$((vf + checks_failed))
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
