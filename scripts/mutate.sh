#!/usr/bin/env bash
# npm run mutate: StrykerJS mutation testing of the security core (stryker.config.json lists the files), with
# the keychain tests against a throwaway Secret Service as in npm test. The report lands in
# test-results/mutation/index.html; the run fails below a 90% mutation score. Extra arguments go to stryker,
# e.g. `npm run mutate -- --mutate src-main/store/row-mac.ts` for one file.
set -euo pipefail
cd "$(dirname "$0")/.."
# StrykerJS runs the tests from a copy under .stryker-tmp/, where ../shared does not resolve.
HOMOPAI_SHARED="$(cd .. && pwd)/shared"
export HOMOPAI_SHARED
exec bash scripts/with-keyring.sh npx stryker run "$@"
