#!/usr/bin/env bash
# Copyright 2026 The pollio Authors.
#
# Soak: tools/loadgen against tools/echo_server for a given time on every
# backend echo_server has on Linux (epoll, poll, uring), one after another,
# while sampling the server's memory once a second from /proc/PID/status.
#
#   tools/soak.sh [seconds] [connections]   default: 600 s, 9000 connections
#
# Per backend it reports loadgen's totals (messages, bytes sent and verified,
# lost, corrupted, connections closed cleanly) and the server's RSS: after
# warm-up (the sample at a fifth of the run, at most 60 s in), at the end of
# the load, and its peak (VmHWM, or a larger sample). It fails (exit 1) if a byte is lost or
# corrupted, a connection does not close cleanly, or the RSS at the end
# exceeds the RSS after warm-up by more than a quarter or 16 MiB, whichever
# is more (growth under steady load is a leak).
#
# At most 9,000 connections: the hard fd limit here is 20,000 per process,
# and loadgen and the server each hold one fd per connection. SOAK_BACKENDS
# (e.g. "uring") picks backends; the binaries are built with -c opt; loadgen
# itself runs on epoll (the OS poller), so only the server's backend varies.
# Logs stay in $SOAK_DIR (default ${TMPDIR:-/tmp}/pollio-soak).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-600}"
connections="${2:-9000}"
if ! [[ "${seconds}" =~ ^[0-9]+$ && "${connections}" =~ ^[0-9]+$ ]] ||
    ((seconds < 5 || connections < 1 || connections > 9000)); then
  sed -n '4,8p' "$0" | sed 's/^# \{0,1\}//' >&2
  echo "tools/soak.sh: seconds >= 5, connections 1..9000" >&2
  exit 2
fi
read -r -a backends <<<"${SOAK_BACKENDS:-epoll poll uring}"
out="${SOAK_DIR:-${TMPDIR:-/tmp}/pollio-soak}"
mkdir -p "${out}"

tools/bazel build -c opt //tools:echo_server //tools:loadgen >&2
bin="$(tools/bazel info -c opt bazel-bin 2>/dev/null)/tools"

# Each process gets the hard limit as its soft limit (loadgen raises its own).
ulimit -n "$(ulimit -Hn)"

server_pid=""
loadgen_pid=""
cleanup() {
  # Only the processes this script started, by their ids.
  if [[ -n "${loadgen_pid}" ]]; then kill "${loadgen_pid}" 2>/dev/null || true; fi
  if [[ -n "${server_pid}" ]]; then kill "${server_pid}" 2>/dev/null || true; fi
}
trap cleanup EXIT

# The number before $1 in loadgen's line ("loadgen: C connections, M
# messages, R msgs/s, ..., S bytes sent, V verified, L lost, X corrupted, K
# closed cleanly").
field() { sed -n "s|.* \([0-9]*\) $1.*|\1|p" <<<"${line}"; }

# KiB as MiB with one decimal.
mib() { awk -v kib="$1" 'BEGIN { printf "%.1f", kib / 1024 }'; }

# KiB of field $2 (VmRSS, VmHWM) in /proc/$1/status, or nothing.
status_kib() {
  awk -v field="$2:" '$1 == field { print $2 }' "/proc/$1/status" 2>/dev/null
}

warmup=$((seconds / 5))
if ((warmup > 60)); then warmup=60; fi
summary=()
failed=()
for backend in "${backends[@]}"; do
  log="${out}/${backend}"
  echo "=== tools/soak.sh: ${backend}, ${connections} connections, ${seconds} s" >&2
  "${bin}/echo_server" --backend="${backend}" >"${log}.server" 2>&1 &
  server_pid=$!
  port=""
  for _ in $(seq 100); do
    port="$(sed -n 's/^echo_server listening on [0-9.]*:\([0-9]*\) .*/\1/p' \
      "${log}.server")"
    if [[ -n "${port}" ]] || ! kill -0 "${server_pid}" 2>/dev/null; then
      break
    fi
    sleep 0.1
  done
  if [[ -z "${port}" ]]; then
    echo "tools/soak.sh: echo_server --backend=${backend} did not start:" >&2
    cat "${log}.server" >&2
    failed+=("${backend}")
    server_pid=""
    continue
  fi

  "${bin}/loadgen" --port="${port}" --connections="${connections}" \
    --duration_s="${seconds}" >"${log}.loadgen" 2>&1 &
  loadgen_pid=$!
  start=${SECONDS}
  rss_warm=""
  rss_end=0
  : >"${log}.rss"
  while kill -0 "${loadgen_pid}" 2>/dev/null; do
    elapsed=$((SECONDS - start))
    rss="$(status_kib "${server_pid}" VmRSS)"
    if [[ -n "${rss}" ]]; then
      echo "${elapsed} ${rss}" >>"${log}.rss"
      if [[ -z "${rss_warm}" ]] && ((elapsed >= warmup)); then
        rss_warm="${rss}"
      fi
      # The end of the load: loadgen stops sending at `seconds`, then closes.
      if ((elapsed <= seconds)); then rss_end="${rss}"; fi
    fi
    sleep 1
  done
  set +e
  wait "${loadgen_pid}"
  loadgen_status=$?
  set -e
  loadgen_pid=""
  # The kernel updates VmHWM lazily (it can trail VmRSS): the peak is the
  # larger of it and every sample.
  peak="$(status_kib "${server_pid}" VmHWM)"
  peak="$(awk -v hwm="${peak:-0}" '$2 > hwm { hwm = $2 } END { print hwm }' \
    "${log}.rss")"
  kill -TERM "${server_pid}"
  wait "${server_pid}" || true
  server_pid=""

  line="$(grep '^loadgen:' "${log}.loadgen" || true)"
  echo "  ${line:-loadgen printed no totals}" >&2
  messages="$(field messages)"
  rate="$(field msgs/s)"
  sent="$(field 'bytes sent')"
  lost="$(field lost)"
  corrupted="$(field corrupted)"
  clean="$(field 'closed cleanly')"
  rss_warm="${rss_warm:-${rss_end}}"
  limit=$((rss_warm + (rss_warm / 4 > 16384 ? rss_warm / 4 : 16384)))
  verdict=ok
  if ((loadgen_status != 0)) || [[ "${lost}" != 0 || "${corrupted}" != 0 ||
      "${clean}" != "${connections}" ]]; then
    verdict="FAILED: loadgen exit ${loadgen_status}"
  elif ((rss_end > limit)); then
    verdict="FAILED: RSS grew from ${rss_warm} to ${rss_end} KiB"
  fi
  summary+=("$(printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |' \
    "${backend}" "${connections}" "${seconds}" "${messages:-?}" \
    "${rate:-?}" "${sent:-?}" "${lost:-?}" "${corrupted:-?}" \
    "$(mib "${rss_warm}")" "$(mib "${rss_end}")" "$(mib "${peak:-0}")")")
  echo "  server RSS: ${rss_warm} KiB after warm-up (${warmup} s)," \
    "${rss_end} KiB at the end, peak ${peak:-?} KiB: ${verdict}" >&2
  if [[ "${verdict}" != ok ]]; then failed+=("${backend}"); fi
done

echo "| backend | connections | seconds | messages | msgs/s | bytes sent | lost | corrupted | RSS after warm-up (MiB) | RSS at end (MiB) | peak RSS (MiB) |"
echo "|---|---|---|---|---|---|---|---|---|---|---|"
printf '%s\n' "${summary[@]}"
if ((${#failed[@]} > 0)); then
  echo "tools/soak.sh: failed on ${failed[*]} (logs in ${out})" >&2
  exit 1
fi
echo "tools/soak.sh: OK (logs in ${out})" >&2
