#!/usr/bin/env bash
# The whole test suite, on a fresh Debian 12 machine with the .NET SDK: installs what the tests need
# (scripts/setup.sh), builds everything with warnings as errors, runs every test project, and prints
# one closing line "tests: N passed, M failed". Servers (redis-server, Kestrel) are started by the
# tests themselves on free loopback ports.
set -uo pipefail
cd "$(dirname "$0")/.."
export OMP_WAIT_POLICY=PASSIVE  # libtorch must not spin threads that other test processes need
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

# Each phase's wall time, so that a slow run shows where its time went (the suite's budget: docs/deployment.md).
phase_start=$SECONDS
phase_done() { echo "time: $1 $((SECONDS - phase_start)) s"; phase_start=$SECONDS; }

bash scripts/setup.sh || { echo "setup failed"; exit 1; }
phase_done setup
dotnet build Alpaca.sln -c Release -nologo -clp:ErrorsOnly || { echo "tests: 0 passed, 1 failed (build)"; exit 1; }
phase_done build

# Style is part of the build: `dotnet format` must have nothing to change.
dotnet format Alpaca.sln --verify-no-changes --no-restore || { echo "tests: 0 passed, 1 failed (dotnet format)"; exit 1; }
phase_done format

results=artifacts/test-results
rm -rf "$results"
dotnet test Alpaca.sln -c Release --no-build --nologo --results-directory "$results" --logger "trx" --logger "console;verbosity=normal" -- RunConfiguration.TreatNoTestsAsError=false
status=$?
phase_done "dotnet test"
# Each assembly's wall time and the slowest tests (scripts/trx-durations.py).
/usr/bin/python3 scripts/trx-durations.py --top 15 "$results"/*.trx 2>&1 || true

# The kernel and forward-pass conformance tests again on ARM64 (NEON/sdot), under qemu (scripts/test-arm64.sh).
arm64_log=artifacts/arm64-conformance.log
mkdir -p artifacts
bash scripts/test-arm64.sh 2>&1 | tee "$arm64_log" | grep -E '^(kernel|FAIL|  failed)' || true
arm64_summary=$(grep -E '^kernel conformance: [0-9]+ passed, [0-9]+ failed' "$arm64_log" | tail -1)
arm64_passed=$(sed -n 's/^kernel conformance: \([0-9]*\) passed.*/\1/p' <<<"$arm64_summary")
arm64_failed=$(sed -n 's/.* \([0-9]*\) failed.*/\1/p' <<<"$arm64_summary")
[ -n "$arm64_summary" ] || { echo "arm64 conformance: no result (see $arm64_log)"; arm64_passed=0; arm64_failed=1; }
phase_done "arm64 conformance"

# The gateway and inference images built onto the cached Debian bases and run with podman: health and a
# completion through the gateway container (scripts/test-images.sh; docs/deployment.md "In CI"). A machine that
# cannot build or run containers at all is reported, not counted as a failure; a broken image is a failure.
images_log=artifacts/images.log
bash scripts/test-images.sh 2>&1 | tee "$images_log"
images_status=${PIPESTATUS[0]}
phase_done images
case $images_status in
  0) images_passed=1 images_failed=0 ;;
  4) images_passed=0 images_failed=0 ;;
  3) images_passed=0 images_failed=0
     echo "images: NOT RUN on this machine: $(sed -n 's/^images: ENVIRONMENT: //p' "$images_log" | tail -1)" ;;
  *) images_passed=0 images_failed=1 ;;
esac

passed=$((arm64_passed + images_passed)); failed=$((arm64_failed + images_failed))
for trx in "$results"/*.trx; do
  [ -f "$trx" ] || continue
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -1)
  p=$(sed -n 's/.* passed="\([0-9]*\)".*/\1/p' <<<"$counters"); f=$(sed -n 's/.* failed="\([0-9]*\)".*/\1/p' <<<"$counters")
  passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0}))
done
# Name every failed test here, next to the closing line, so that the tail of a CI log says what failed.
if [ "$failed" -ne 0 ] || [ "$status" -ne 0 ]; then
  trx_files=("$results"/*.trx)
  if [ -f "${trx_files[0]}" ]; then /usr/bin/python3 scripts/trx-failures.py "${trx_files[@]}" 2>&1 || true
  else echo "FAILED: no test results in $results (dotnet test exited $status)"; fi
  [ "$arm64_failed" -eq 0 ] || echo "FAILED arm64 conformance: ${arm64_failed} (see $arm64_log)"
  [ "$images_failed" -eq 0 ] || echo "FAILED images: scripts/test-images.sh exited $images_status (see $images_log)"
fi
echo "tests: ${passed} passed, ${failed} failed"
if [ "$status" -ne 0 ] || [ "$failed" -ne 0 ] || [ "$passed" -eq 0 ]; then exit 1; fi
