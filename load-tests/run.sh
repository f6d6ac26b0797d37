#!/usr/bin/env bash
# Load test of ConsensusApi, end to end: builds Release, starts the service as a real process on a
# fresh temporary database, runs the load-test tool (which seeds what read and get need), loads
# ceiling, get, read and write with wrk as a cross-check, stops the service, and writes the reports.
#
#   load-tests/run.sh [--smoke] [--scenarios ceiling,write,...] [--model closed|open|both]
#                     [--duration 30] [--warmup 15] [--vus 100] [--out folder] [--no-wrk] [-- tool options]
#
# --smoke runs every scenario for 5 s (1 s warm-up) and enforces only errors and integrity; it
# proves the tool works. A full run (the default: 30 s per scenario and model) is a benchmark.
# Options after -- go to the tool unchanged (e.g. -- --threshold write:p99<25ms --rate write=800).
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

smoke=0
scenarios="ceiling,write,read,get,mixed,workflow"
model="both"
duration=""
warmup=""
vus=100
out=""
use_wrk=1
tool_args=()

while [ $# -gt 0 ]; do
    case "$1" in
        --smoke) smoke=1 ;;
        --scenarios) scenarios="$2"; shift ;;
        --model) model="$2"; shift ;;
        --duration) duration="$2"; shift ;;
        --warmup) warmup="$2"; shift ;;
        --vus) vus="$2"; shift ;;
        --out) out="$2"; shift ;;
        --no-wrk) use_wrk=0 ;;
        --) shift; tool_args=("$@"); break ;;
        -h|--help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "run.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done

if [ "$smoke" = 1 ]; then
    duration="${duration:-5}"
    warmup="${warmup:-1}"
else
    duration="${duration:-30}"
    # Each endpoint reaches its steady state (tiered JIT, dynamic PGO) after 10-15 s of load:
    # measured with 5 s of warm-up, the first window of reads ran a third to a half slower than the next.
    warmup="${warmup:-15}"
fi
# Whole seconds: the tool and wrk are given the same figures.
duration="${duration%s}"
warmup="${warmup%s}"
out="${out:-load-tests/reports/$(date -u +%Y%m%dT%H%M%SZ)}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"

export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1
echo "Building Release (service and load-test tool)..."
dotnet build -c Release -nologo -v q src/ConsensusApi/ConsensusApi.csproj
dotnet build -c Release -nologo -v q load-tests/ConsensusApi.LoadTests/ConsensusApi.LoadTests.csproj
service_dll="src/ConsensusApi/bin/Release/net10.0/ConsensusApi.dll"
tool_dll="load-tests/ConsensusApi.LoadTests/bin/Release/net10.0/ConsensusApi.LoadTests.dll"

data="$(mktemp -d)"
port="$(dotnet "$tool_dll" free-port)"
url="http://127.0.0.1:${port}"
service_pid=""
sampler_pid=""

stop_service() {
    if [ -n "$sampler_pid" ]; then
        kill "$sampler_pid" 2>/dev/null || true
        wait "$sampler_pid" 2>/dev/null || true
        sampler_pid=""
    fi
    if [ -n "$service_pid" ]; then
        kill -TERM "$service_pid" 2>/dev/null || true
        for _ in $(seq 1 300); do
            kill -0 "$service_pid" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$service_pid" 2>/dev/null; then
            echo "The service did not stop within 30 s of SIGTERM; killing it." >&2
            kill -KILL "$service_pid" 2>/dev/null || true
        fi
        wait "$service_pid" 2>/dev/null || true
        service_pid=""
    fi
}
cleanup() {
    stop_service
    rm -rf "$data"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "Starting the service on ${url} with a fresh database in ${data}..."
Database__Path="$data/consensus.db" Backup__Folder="$data/backups" Logging__LogLevel__Default=Warning \
    dotnet "$service_dll" --urls "$url" >"$out/service.log" 2>&1 &
service_pid=$!

# The service's resident memory, once a second, for the whole run: Unix ms, then VmRSS, RssAnon
# (the heap and stacks) and RssFile (mapped files: the binaries and the mmap'd database), in kB.
(
    while kill -0 "$service_pid" 2>/dev/null; do
        rss="$(awk '/^(VmRSS|RssAnon|RssFile):/ {printf "\t%s", $2}' "/proc/$service_pid/status" 2>/dev/null || true)"
        [ -n "$rss" ] && printf '%s%s\n' "$(date +%s%3N)" "$rss"
        sleep 1
    done
) >"$out/service-rss.tsv" &
sampler_pid=$!

label="commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD 2>/dev/null || echo ' (uncommitted changes)')"
run_args=(--url "$url" --scenarios "$scenarios" --model "$model" --vus "$vus" --duration "$duration" --warmup "$warmup"
    --out "$out" --service-pid "$service_pid" --wait-ready 60s --label "$label")
[ "$smoke" = 1 ] && run_args+=(--smoke)

set +e
dotnet "$tool_dll" run "${run_args[@]}" "${tool_args[@]}"
status=$?
set -e

if [ "$status" -ge 2 ]; then
    echo "The load test could not run (exit $status). Service output:" >&2
    tail -n 20 "$out/service.log" >&2
    exit "$status"
fi

selected() { [[ ",${scenarios}," == *",$1,"* ]]; }

if [ "$use_wrk" = 1 ] && command -v wrk >/dev/null 2>&1; then
    mkdir -p "$out/wrk"
    threads="$(nproc)"
    [ "$threads" -gt "$vus" ] && threads="$vus"
    # utime + stime of the service, in clock ticks (fields 14 and 15 of /proc/<pid>/stat).
    service_cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$service_pid/stat" 2>/dev/null || echo 0; }
    api_header=()
    for ((i = 0; i < ${#tool_args[@]}; i++)); do
        if [ "${tool_args[$i]}" = "--api-key" ]; then api_header=(-H "X-Api-Key: ${tool_args[$((i + 1))]}"); fi
    done
    run_wrk() {
        local name="$1" path="$2" script="$3"
        shift 3
        local common=(-t "$threads" -c "$vus" --timeout 30s -s "load-tests/wrk/$script" "${api_header[@]}")
        echo "wrk: ${name} (${path}), ${warmup} s warm-up, then ${duration} s..."
        if [ "$warmup" != 0 ]; then
            wrk "${common[@]}" -d "${warmup}s" "${url}${path}" -- "$@" >/dev/null 2>&1 || true
        fi
        local start end service_start service_end
        start="$(date +%s%3N)"
        service_start="$(service_cpu_ticks)"
        TIMEFORMAT='%3U %3S'
        { time wrk "${common[@]}" -d "${duration}s" --latency "${url}${path}" -- "$@" >"$out/wrk/$name.txt" 2>&1; } 2>"$out/wrk/$name.time" || true
        service_end="$(service_cpu_ticks)"
        end="$(date +%s%3N)"
        {
            echo "command=wrk ${common[*]} -d ${duration}s --latency ${url}${path} -- $*"
            echo "start_ms=$start"
            echo "end_ms=$end"
            awk '{ printf "cpu_seconds=%.3f\n", $1 + $2 }' "$out/wrk/$name.time"
            echo "load_average=$(cut -d' ' -f1 /proc/loadavg)"
            awk -v a="$service_start" -v b="$service_end" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "service_cpu_seconds=%.3f\n", (b - a) / hz }'
        } >"$out/wrk/$name.env"
        grep -E 'Requests/sec|Non-2xx' "$out/wrk/$name.txt" | sed 's/^/    /' || true
    }
    selected ceiling && run_wrk ceiling /health/live health-live.lua
    if selected get && [ -f "$out/seed.env" ]; then
        # shellcheck disable=SC1091
        . "$out/seed.env"
        run_wrk get "/api/v1/artifacts/${SEED_FIRST_ID}" get-artifact.lua "$SEED_FIRST_ID" "$SEED_LAST_ID"
    fi
    if selected read && [ -f "$out/seed.env" ]; then
        # shellcheck disable=SC1091
        . "$out/seed.env"
        run_wrk read "/api/v1/specs/${SEED_SPEC_ID}/stages/${SEED_STAGE}/artifacts?limit=50" list-newest.lua
    fi
    selected write && run_wrk write /api/v1/artifacts post-artifact.lua "wrk$(date +%s)" "$(date +%s%3N)"
elif [ "$use_wrk" = 1 ]; then
    echo "wrk is not installed (apt-get install wrk): no cross-check." >&2
fi

stop_service
set +e
dotnet "$tool_dll" report --out "$out"
set -e

echo
echo "Reports: $out/report.md, $out/report.html, $out/report.json"
exit "$status"
