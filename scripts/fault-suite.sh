#!/usr/bin/env bash
# The fault tests (tests/ConsensusApi.Tests/Faults) at sizes too big for CI, printing every figure
# they measure. CI runs the same tests with small defaults as part of `dotnet test`.
#
#   scripts/fault-suite.sh                 # all fault tests, big sizes
#   scripts/fault-suite.sh KillTests       # one class
#
# Sizes (environment, defaults below): FAULTS_KILL_CYCLES, FAULTS_FUZZ_REQUESTS,
# FAULTS_LONG_RUN_OPERATIONS, FAULTS_LEGACY_ARTIFACTS, FAULTS_LEGACY_CHURN_PERCENT.
# FAULTS_SEED replays a run's random choices (each test prints its seed).
set -euo pipefail
cd "$(dirname "$0")/.."

export FAULTS_KILL_CYCLES="${FAULTS_KILL_CYCLES:-20}"
export FAULTS_FUZZ_REQUESTS="${FAULTS_FUZZ_REQUESTS:-30000}"
export FAULTS_LONG_RUN_OPERATIONS="${FAULTS_LONG_RUN_OPERATIONS:-5000}"
export FAULTS_LEGACY_ARTIFACTS="${FAULTS_LEGACY_ARTIFACTS:-50000}"
export FAULTS_LEGACY_CHURN_PERCENT="${FAULTS_LEGACY_CHURN_PERCENT:-60}"

dotnet build tests/ConsensusApi.Tests -v quiet -nologo
runner=(dotnet tests/ConsensusApi.Tests/bin/Debug/net10.0/ConsensusApi.Tests.dll -showLiveOutput -noColor)
if [ $# -gt 0 ]; then
    exec "${runner[@]}" -class "ConsensusApi.Tests.Faults.$1"
fi
exec "${runner[@]}" -namespace ConsensusApi.Tests.Faults
