#!/usr/bin/env bash
# Runs every SlateSharp test against real servers: installs the Debian packages a fresh machine lacks, starts a
# Ceph RGW (S3) gateway, two s3fs FUSE mounts of its buckets (filesystems without hard links: one with the options
# below, one with s3fs defaults) and the firebase-tools Cloud Storage emulator (installed from npm into a cache outside the repo), runs `dotnet test`, stops
# what it started by pid, and prints "N passed, N failed[, N skipped]" as its last line.
# Exits non-zero when any test failed. Extra arguments go to `dotnet test` (e.g. --filter Name~Conformance), except
# `--cycles N`: N process-kill cycles per store instead of 30 (SLATESHARP_CRASH_CYCLES; docs/reliability.md).
#
# Ports and places, each with a default, so that two runs on one machine do not collide:
#   SLATESHARP_TEST_WORK  work directory (/tmp/slatesharp-test-run)     SLATESHARP_RGW_PORT  S3 gateway (7480)
#   CEPH_MON_PORT         Ceph monitor (6789)                           SLATESHARP_GCS_PORT  GCS emulator (9199)
#   SLATESHARP_TOOLS_DIR  npm cache for firebase-tools (~/.cache/slatesharp-tools)
# SLATESHARP_TEST_SERVERS=gcs starts only the GCS emulator (no Ceph, no s3fs), for a run filtered to the GCS tests,
# e.g. SLATESHARP_TEST_SERVERS=gcs bash Engine.Tests/run-tests.sh --filter "FullyQualifiedName~Gcs|FullyQualifiedName~gcs-emulator";
# tests of the servers not started are then ignored instead of failed. The default, all, starts everything.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
servers="$repo/Engine.Tests/Servers"
work=${SLATESHARP_TEST_WORK:-/tmp/slatesharp-test-run}
rgw_port=${SLATESHARP_RGW_PORT:-7480}
gcs_port=${SLATESHARP_GCS_PORT:-9199}
export CEPH_MON_PORT=${CEPH_MON_PORT:-6789}
tools=${SLATESHARP_TOOLS_DIR:-$HOME/.cache/slatesharp-tools}
firebase_version=15.34.2
only_gcs=false
case "${SLATESHARP_TEST_SERVERS:-all}" in
  all) ;;
  gcs) only_gcs=true ;;
  *) echo "run-tests: SLATESHARP_TEST_SERVERS must be all or gcs (got ${SLATESHARP_TEST_SERVERS})" >&2; exit 2 ;;
esac
log() { echo "run-tests: $*" >&2; }

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

install_missing() {
  local missing=()
  if ! $only_gcs; then
    command -v radosgw >/dev/null || missing+=(radosgw)
    command -v ceph-mon >/dev/null || missing+=(ceph-mon)
    command -v ceph-osd >/dev/null || missing+=(ceph-osd)
    command -v s3fs >/dev/null || missing+=(s3fs)
    command -v fusermount >/dev/null || command -v fusermount3 >/dev/null || missing+=(fuse3)
  fi
  command -v curl >/dev/null || missing+=(curl)
  command -v lz4 >/dev/null || missing+=(lz4)
  command -v zstd >/dev/null || missing+=(zstd)
  [ -e /usr/lib/x86_64-linux-gnu/liblz4.so.1 ] || [ -e /usr/lib/aarch64-linux-gnu/liblz4.so.1 ] || missing+=(liblz4-1)
  [ -e /usr/lib/x86_64-linux-gnu/libzstd.so.1 ] || [ -e /usr/lib/aarch64-linux-gnu/libzstd.so.1 ] || missing+=(libzstd1)
  if ((${#missing[@]})); then
    log "installing ${missing[*]}"
    as_root apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
  fi
  command -v dotnet >/dev/null || { log "the .NET SDK is missing: install .NET 10 (https://dot.net)"; exit 1; }
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    log "installing nodejs and npm"
    as_root apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends nodejs npm >&2
  fi
  if [ ! -f "$tools/firebase-tools-$firebase_version/node_modules/firebase-tools/package.json" ]; then
    log "installing firebase-tools $firebase_version from npm into $tools (for the GCS emulator)"
    mkdir -p "$tools/firebase-tools-$firebase_version"
    (cd "$tools/firebase-tools-$firebase_version" && npm install --no-audit --no-fund --loglevel=error "firebase-tools@$firebase_version" >&2)
  fi
}

s3fs_pid=""
s3fs_defaults_pid=""
gcs_pid=""
fuse_dir="$work/fuse"
fuse_defaults_dir="$work/fuse-defaults"
# Unmounts $2 and stops its s3fs daemon, pid $1.
stop_mount() {
  local pid=$1 dir=$2
  fusermount -u "$dir" 2>/dev/null || fusermount3 -u "$dir" 2>/dev/null || umount "$dir" 2>/dev/null || true
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
}
# A run that was killed leaves its mount points behind with no s3fs daemon ("Transport endpoint is not
# connected"): detach them lazily so the next run can mount again.
clear_stale_mount() {
  local dir=$1
  if awk -v d="$dir" '$2 == d { found = 1 } END { exit !found }' /proc/mounts; then
    log "detaching a mount left at $dir by an earlier run"
    fusermount -uz "$dir" 2>/dev/null || fusermount3 -uz "$dir" 2>/dev/null || umount -l "$dir" 2>/dev/null || true
  fi
}
stop_servers() {
  if [ -n "$gcs_pid" ]; then
    kill "$gcs_pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$gcs_pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$gcs_pid" 2>/dev/null || true
    gcs_pid=""
  fi
  if [ -n "$s3fs_pid" ]; then stop_mount "$s3fs_pid" "$fuse_dir"; s3fs_pid=""; fi
  if [ -n "$s3fs_defaults_pid" ]; then stop_mount "$s3fs_defaults_pid" "$fuse_defaults_dir"; s3fs_defaults_pid=""; fi
  if ! $only_gcs; then CEPH_DIR="$work/ceph" bash "$servers/ceph-down.sh" || true; fi
}
trap stop_servers EXIT

start_servers() {
  if ! $only_gcs; then start_ceph_and_mounts; fi
  start_gcs_emulator
  if ! $only_gcs; then export SLATESHARP_REQUIRE_ALL_TARGETS=1; fi
}

start_ceph_and_mounts() {
  log "starting Ceph RGW on port $rgw_port"
  # A fresh OSD occasionally reports 'wrong fsid' to a fresh monitor and exits; another start has always worked.
  : > "$work/ceph-up.log"
  local attempt
  for attempt in 1 2 3; do
    echo "=== attempt $attempt" >> "$work/ceph-up.log"
    if CEPH_DIR="$work/ceph" RGW_PORT=$rgw_port timeout 180 bash "$servers/ceph-up.sh" >> "$work/ceph-up.log" 2>&1; then
      break
    fi
    CEPH_DIR="$work/ceph" bash "$servers/ceph-down.sh" || true
    if [ "$attempt" = 3 ]; then
      cat "$work/ceph-up.log" >&2; log "Ceph RGW did not start"; exit 1
    fi
    log "Ceph RGW did not start (attempt $attempt); trying again"
  done
  local endpoint="http://127.0.0.1:$rgw_port"
  bash "$servers/s3-bucket.sh" "$endpoint" slatesharp-fuse
  bash "$servers/s3-bucket.sh" "$endpoint" slatesharp-fuse-defaults
  bash "$servers/s3-bucket.sh" "$endpoint" slatesharp-test

  log "mounting bucket slatesharp-fuse with s3fs at $fuse_dir"
  clear_stale_mount "$fuse_dir"
  mkdir -p "$fuse_dir"
  printf 'test:testsecret\n' > "$work/passwd-s3fs"; chmod 600 "$work/passwd-s3fs"
  # notsup_compat_dir and enable_noobj_cache keep a missing-name lookup to one request (else ~50 ms each).
  s3fs slatesharp-fuse "$fuse_dir" -f -o passwd_file="$work/passwd-s3fs" -o url="$endpoint" \
    -o use_path_request_style -o nomultipart -o notsup_compat_dir -o enable_noobj_cache > "$work/s3fs.log" 2>&1 &
  s3fs_pid=$!
  for _ in $(seq 1 100); do mountpoint -q "$fuse_dir" && break; sleep 0.1; done
  mountpoint -q "$fuse_dir" || { cat "$work/s3fs.log" >&2; log "s3fs did not mount"; exit 1; }

  # The same with s3fs defaults: only what it needs to reach the gateway (slow: ~3 s to open a db, ~0.5 s a put).
  log "mounting bucket slatesharp-fuse-defaults with s3fs defaults at $fuse_defaults_dir"
  clear_stale_mount "$fuse_defaults_dir"
  mkdir -p "$fuse_defaults_dir"
  s3fs slatesharp-fuse-defaults "$fuse_defaults_dir" -f -o passwd_file="$work/passwd-s3fs" -o url="$endpoint" \
    -o use_path_request_style > "$work/s3fs-defaults.log" 2>&1 &
  s3fs_defaults_pid=$!
  for _ in $(seq 1 100); do mountpoint -q "$fuse_defaults_dir" && break; sleep 0.1; done
  mountpoint -q "$fuse_defaults_dir" || { cat "$work/s3fs-defaults.log" >&2; log "s3fs (defaults) did not mount"; exit 1; }
  export SLATESHARP_TEST_FUSE_DIR="$fuse_dir"
  export SLATESHARP_TEST_FUSE_DEFAULTS_DIR="$fuse_defaults_dir"
  export SLATESHARP_TEST_S3_ENDPOINT="$endpoint"
  export SLATESHARP_TEST_S3_BUCKET=slatesharp-test
}

start_gcs_emulator() {
  log "starting the GCS emulator on port $gcs_port"
  if (echo > "/dev/tcp/127.0.0.1/$gcs_port") 2>/dev/null; then
    log "port $gcs_port is taken by another process; set SLATESHARP_GCS_PORT"; exit 1
  fi
  NODE_PATH="$tools/firebase-tools-$firebase_version/node_modules" PORT=$gcs_port \
    node "$servers/gcs-emulator.js" > "$work/gcs-emulator.log" 2>&1 &
  gcs_pid=$!
  for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$gcs_port/" && break; sleep 0.2; done
  curl -s -o /dev/null "http://127.0.0.1:$gcs_port/" || { cat "$work/gcs-emulator.log" >&2; log "the GCS emulator did not start"; exit 1; }
  export SLATESHARP_TEST_GCS_EMULATOR="http://127.0.0.1:$gcs_port"
}

# Prints, for each failed result in the TRX file $1, its name and the first lines of its error message.
failure_messages() {
  awk '
    /<UnitTestResult / && /outcome="(Failed|Error|Timeout|Aborted)"/ {
      failing = 1; shown = 0
      if (match($0, /testName="[^"]*"/)) print "  --- " substr($0, RSTART + 10, RLENGTH - 11)
    }
    failing && /<Message>/ { inmessage = 1; sub(/.*<Message>/, "") }
    failing && inmessage {
      line = $0; ended = sub(/<\/Message>.*/, "", line)
      if (shown < 12) { gsub(/&lt;/, "<", line); gsub(/&gt;/, ">", line); gsub(/&quot;/, "\"", line); gsub(/&amp;/, "\\&", line); print "    " line; shown++ }
      if (ended) inmessage = 0
    }
    failing && /<\/UnitTestResult>/ { failing = 0; inmessage = 0 }
  ' "$1" | head -n 400
}

summarize() {
  # Counts from the TRX file: failed includes errors, timeouts and aborts; skipped is what did not run.
  local trx=$1 counters total passed failed skipped
  counters=$(grep -o '<Counters [^>]*>' "$trx" 2>/dev/null | head -n 1 || true)
  if [ -z "$counters" ]; then echo "0 passed, 1 failed"; return; fi
  attr() { echo "$counters" | sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p"; }
  total=$(attr total); passed=$(attr passed)
  failed=$(( $(attr failed) + $(attr error) + $(attr timeout) + $(attr aborted) ))
  skipped=$(( total - passed - failed ))
  if ((failed > 0)); then
    # Named again right above the summary, where a log cut to its tail still shows them.
    grep -o '<UnitTestResult [^>]*outcome="\(Failed\|Error\|Timeout\|Aborted\)"' "$trx" \
      | sed -n 's/.* testName="\([^"]*\)".*outcome="\([A-Za-z]*\)".*/\2: \1/p' | head -n 50 | sed 's/^/  /' >&2 || true
    # And what each failure said (its first lines), since the console log above may be cut away.
    failure_messages "$trx" >&2 || true
  fi
  if ((skipped > 0)); then echo "$passed passed, $failed failed, $skipped skipped"; else echo "$passed passed, $failed failed"; fi
}

args=()
while (($#)); do
  if [ "$1" = --cycles ] && [ $# -ge 2 ]; then export SLATESHARP_CRASH_CYCLES=$2; shift 2; else args+=("$1"); shift; fi
done
set -- ${args[@]+"${args[@]}"}

mkdir -p "$work"
install_missing
start_servers
results="$work/results"; rm -rf "$results"
status=0
# A test that hangs is stopped after 20 minutes and named in the log (vstest's blame), instead of eating the CI budget.
dotnet test "$repo/Engine.Tests/Engine.Tests.csproj" --logger "trx;LogFileName=results.trx" \
  --logger "console;verbosity=normal" --results-directory "$results" \
  --blame-hang-timeout 20m --blame-hang-dump-type none "$@" >&2 || status=$?
summary=$(summarize "$results/results.trx")
if [ "$status" != 0 ] && [[ "$summary" == *" 0 failed"* ]]; then
  # The test host died or was stopped (a hang): what it was running did not pass.
  log "dotnet test exited with $status without a failed result: counting the run as failed (see 'blame' above)"
  summary=$(echo "$summary" | sed 's/ 0 failed/ 1 failed/')
fi
stop_servers
trap - EXIT
if [[ "$summary" != *" 0 failed"* ]] && [ "$status" = 0 ]; then status=1; fi
echo "$summary"
exit "$status"
