#!/usr/bin/env bash
# The whole test suite, on a fresh Debian 12 machine with the .NET SDK: installs what the tests need
# (scripts/setup.sh), builds everything with warnings as errors, runs every test project, and prints
# one closing line "tests: N passed, M failed". Servers (redis-server, Kestrel) are started by the
# tests themselves on free loopback ports.
set -uo pipefail
cd "$(dirname "$0")/.."
export OMP_WAIT_POLICY=PASSIVE  # libtorch must not spin threads that other test processes need
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

bash scripts/setup.sh || { echo "setup failed"; exit 1; }
dotnet build Alpaca.sln -c Release -nologo -clp:ErrorsOnly || { echo "tests: 0 passed, 1 failed (build)"; exit 1; }

# Style is part of the build: `dotnet format` must have nothing to change.
dotnet format Alpaca.sln --verify-no-changes --no-restore || { echo "tests: 0 passed, 1 failed (dotnet format)"; exit 1; }

results=artifacts/test-results
rm -rf "$results"
dotnet test Alpaca.sln -c Release --no-build --nologo --results-directory "$results" --logger "trx" --logger "console;verbosity=normal" -- RunConfiguration.TreatNoTestsAsError=false
status=$?

passed=0; failed=0
for trx in "$results"/*.trx; do
  [ -f "$trx" ] || continue
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -1)
  p=$(sed -n 's/.* passed="\([0-9]*\)".*/\1/p' <<<"$counters"); f=$(sed -n 's/.* failed="\([0-9]*\)".*/\1/p' <<<"$counters")
  passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0}))
done
echo "tests: ${passed} passed, ${failed} failed"
if [ "$status" -ne 0 ] || [ "$failed" -ne 0 ] || [ "$passed" -eq 0 ]; then exit 1; fi
