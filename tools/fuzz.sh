#!/usr/bin/env bash
# Copyright 2026 The pollio Authors.
#
# Builds the poller fuzzer (//tests/fuzz:poller_fuzzer, --config=fuzz: clang
# with -fsanitize=fuzzer,address,undefined) and runs it from the seed corpus
# for a bounded time, or reproduces one input.
#
#   tools/fuzz.sh [backend|all] [seconds]   default: all, 60 s per backend
#   tools/fuzz.sh --reproduce FILE [backend]
#   POLLIO_FUZZ_SEED=N tools/fuzz.sh ...     libFuzzer's -seed (default: a
#                                           new one each run)
#
# CI runs with POLLIO_FUZZ_SEED=1 from an empty corpus directory, so that
# the gate explores the same inputs each time and a red run reproduces;
# explore with other seeds (and longer) by hand.
#
# backend: epoll, poll, uring or kqueue (the kqueue backend over the Linux
# emulation); "all" runs each in turn, skipping one this kernel lacks.
# Inputs that reach new code go to $POLLIO_FUZZ_DIR/<backend>/corpus (default
# ${TMPDIR:-/tmp}/pollio-fuzz), never into tests/fuzz/corpus, which is only
# read. A difference from the oracle, a sanitizer report, a leak or a hang
# (10 s for one input) saves the input as $POLLIO_FUZZ_DIR/<backend>/crash-*
# (leak-*, timeout-*), prints the command that reproduces it, and makes the
# script exit 1 after the remaining backends have run.
#
# --reproduce runs FILE once on the given backend, or on every backend, and
# prints its operations as the oracle saw them; it exits 1 if any run fails.
#
# Installs clang, libFuzzer's runtime and lld from Debian's archive when
# missing, as tools/bazel does for the rest of the build.
set -euo pipefail
cd "$(dirname "$0")/.."

readonly packages=(clang libclang-rt-14-dev lld)
missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "${package}" 2>/dev/null |
      grep -q 'install ok installed'; then
    missing+=("${package}")
  fi
done
if ((${#missing[@]} > 0)); then
  echo "tools/fuzz.sh: installing ${missing[*]}" >&2
  sudo_cmd=()
  if [[ "$(id -u)" != 0 ]]; then sudo_cmd=(sudo); fi
  "${sudo_cmd[@]}" apt-get update -q >&2
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" \
    apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
fi

readonly all_backends=(epoll poll uring kqueue)

usage() {
  sed -n '4,10p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

check_backend() {
  local backend="$1" known
  for known in "${all_backends[@]}"; do
    [[ "${backend}" == "${known}" ]] && return 0
  done
  echo "tools/fuzz.sh: unknown backend '${backend}'" >&2
  usage
}

build() {
  tools/bazel build --config=fuzz //tests/fuzz:poller_fuzzer >&2
  fuzzer="$(tools/bazel info --config=fuzz bazel-bin 2>/dev/null)"
  fuzzer+=/tests/fuzz/poller_fuzzer
}

if [[ "${1:-}" == --reproduce ]]; then
  (($# >= 2 && $# <= 3)) || usage
  input="$(realpath "$2")"
  backends=("${all_backends[@]}")
  if (($# == 3)); then
    check_backend "$3"
    backends=("$3")
  fi
  build
  status=0
  for backend in "${backends[@]}"; do
    echo "=== tools/fuzz.sh: ${input} on ${backend}" >&2
    POLLIO_FUZZ_BACKEND="${backend}" POLLIO_FUZZ_TRACE=1 \
      "${fuzzer}" "${input}" || status=1
  done
  exit "${status}"
fi

(($# <= 2)) || usage
target="${1:-all}"
seconds="${2:-60}"
[[ "${seconds}" =~ ^[0-9]+$ ]] || usage
if [[ "${target}" == all ]]; then
  backends=("${all_backends[@]}")
else
  check_backend "${target}"
  backends=("${target}")
fi

build
out="${POLLIO_FUZZ_DIR:-${TMPDIR:-/tmp}/pollio-fuzz}"
seeds="${PWD}/tests/fuzz/corpus"
failed=()
for backend in "${backends[@]}"; do
  dir="${out}/${backend}"
  mkdir -p "${dir}/corpus"
  log="${dir}/fuzz.log"
  echo "=== tools/fuzz.sh: ${backend} for ${seconds} s (log ${log})" >&2
  # One process, no -jobs: the machine is shared. -timeout catches an input
  # that hangs a wait; -rss_limit_mb a poller that grows without bound.
  # Inputs of up to 512 bytes (about 200 operations) from the start: left to
  # grow its length limit (-len_control), libFuzzer stays under 100 bytes
  # for a minute, and short sequences reach fewer states.
  set +e
  POLLIO_FUZZ_BACKEND="${backend}" "${fuzzer}" "${dir}/corpus" "${seeds}" \
    -max_total_time="${seconds}" -max_len=512 -len_control=0 \
    -timeout=10 -rss_limit_mb=2048 ${POLLIO_FUZZ_SEED:+-seed="${POLLIO_FUZZ_SEED}"} \
    -artifact_prefix="${dir}/" -print_final_stats=1 >"${log}" 2>&1
  result=$?
  set -e
  if grep -q 'unavailable:' "${log}" && ((result == 2)); then
    echo "tools/fuzz.sh: ${backend} unavailable here, skipped" >&2
    continue
  fi
  grep -E '^stat::(number_of_executed_units|average_exec_per_sec|new_units_added|peak_rss_mb)' \
    "${log}" | sed "s/^/  ${backend} /" >&2 || true
  if ((result != 0)); then
    failed+=("${backend}")
    grep -E 'differs from the oracle|ERROR: |SUMMARY: ' "${log}" |
      head -n 5 >&2 || true
    artifact="$(sed -n "s/.*Test unit written to \(.*\)$/\1/p" "${log}" |
      tail -n 1)"
    echo "tools/fuzz.sh: ${backend} FAILED (exit ${result}); reproduce:" >&2
    echo "  tools/fuzz.sh --reproduce ${artifact:-<input>} ${backend}" >&2
  fi
done
if ((${#failed[@]} > 0)); then
  echo "tools/fuzz.sh: failed on ${failed[*]}" >&2
  exit 1
fi
echo "tools/fuzz.sh: OK (${backends[*]}, ${seconds} s each)" >&2
