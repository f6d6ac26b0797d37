#!/usr/bin/env bash
# Soak test (a benchmark, not a CI test): CLIENTS concurrent clients send a mix of writes, reads and
# deletes to the service, built in Release and run as its own process on a fresh database on
# 127.0.0.1, for SECONDS. Every 10 s the driver samples the service's RSS, GC heap, threads, file
# descriptors, pooled connections, file, free pages and WAL size; at the end it checks the bounds
# stated in docs/faults.md and exits non-zero if one is exceeded.
#
#   load-tests/soak.sh [SECONDS=300] [CLIENTS=100]
#
# The samples go to a CSV in the run's folder (printed at the end).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-300}"
clients="${2:-100}"
port="${PORT:-5180}"
work="$(mktemp -d /tmp/consensus-soak.XXXXXX)"

echo "Building the service (Release)..."
dotnet build src/ConsensusApi -c Release -o "$work/app" -v quiet -nologo >/dev/null
dotnet build load-tests/soak-driver.cs -v quiet -nologo >/dev/null

Database__Path="$work/soak.db" \
Backup__Folder="$work/backups" \
Vacuum__Interval="00:01:00" \
Logging__LogLevel__Default="Warning" \
    dotnet "$work/app/ConsensusApi.dll" --urls "http://127.0.0.1:${port}" >"$work/service.log" 2>&1 &
service=$!
trap 'kill -TERM "$service" 2>/dev/null || true; wait "$service" 2>/dev/null || true' EXIT

for _ in $(seq 1 120); do
    if curl -fsS "http://127.0.0.1:${port}/health/ready" >/dev/null 2>&1; then
        break
    fi
    sleep 0.5
done
curl -fsS "http://127.0.0.1:${port}/health/ready" >/dev/null

echo "Soaking: ${clients} clients for ${seconds} s against pid ${service} (folder ${work})"
set +e
dotnet run load-tests/soak-driver.cs -- --url "http://127.0.0.1:${port}" --pid "$service" --db "$work/soak.db" \
    --clients "$clients" --seconds "$seconds" --csv "$work/soak.csv"
status=$?
set -e

kill -TERM "$service"
wait "$service"
echo "service exit code $?; WAL after shutdown: $(stat -c %s "$work/soak.db-wal" 2>/dev/null || echo 0) bytes"
echo "samples: $work/soak.csv; service log: $work/service.log"
exit "$status"
