#!/usr/bin/env bash
# Copyright 2026 The pollio Authors.
#
# System calls per event on the chain workload (1,000 socketpairs), counted
# by strace -f -c, for every contender: each backend beside its raw loop and
# the peers. As in callgrind.sh, each contender runs twice, with 2,000 and
# 12,000 writes, and the difference divided by 10,000 is the count for one
# event alone, without set-up and tear-down. Every event includes the
# workload's own read of one byte and write into the next pair (1 read and
# 1 write per event); the rest is the contender's. Counts are of calls made,
# failed ones included (strace's errors column, shown when not zero). The
# chain is single-threaded and a write makes its peer readable at once, so
# the counts do not depend on the machine's load.
#
#   tools/bench/syscalls.sh [contender ...]   # default: every contender
#   ACTIVE="100 1" tools/bench/syscalls.sh    # the default: both tables
#
# One markdown table per number of active pairs: with 100 a wait returns
# many events and its cost is shared; with 1 every event needs a wait of
# its own.
set -euo pipefail
source "$(dirname "$0")/setup.sh" strace "$@"
read -r -a actives <<< "${ACTIVE:-100 1}"
readonly small=2000 large=12000

work="$(mktemp -d "${TMPDIR:-/tmp}/pollio-syscalls.XXXXXX")"
trap 'rm -rf "${work}"' EXIT

counts() {  # contender writes active -> "syscall calls errors" lines
  strace -f -c -o "${work}/summary" \
    "${bench}" --chain_once="$1:$2:$3" > /dev/null 2>&1
  # Rows between the two dashed rules: % time, seconds, usecs/call, calls,
  # [errors,] syscall; the errors column is blank when there are none.
  awk '/^-----/ { rule++; next }
       rule == 1 { print $NF, $4, (NF == 6 ? $5 : 0) }' "${work}/summary"
}

for active in "${actives[@]}"; do
  printf '\nchain, 1,000 pairs, %d active:\n\n' "${active}"
  printf '| contender | syscalls per event | which calls (per event) |\n'
  printf '|---|---:|---|\n'
  for contender in "${contenders[@]}"; do
    counts "${contender}" "${small}" "${active}" > "${work}/small"
    counts "${contender}" "${large}" "${active}" > "${work}/large"
    awk -v contender="${contender}" -v events=$((large - small)) '
      FNR == NR { calls[$1] -= $2; errors[$1] -= $3; next }
      { calls[$1] += $2; errors[$1] += $3 }
      END {
        total = 0
        n = 0
        for (name in calls) {
          per = calls[name] / events
          if (per < 0.005) continue
          total += per
          names[++n] = name
        }
        # Most frequent first, then by name.
        for (i = 1; i <= n; i++) {
          for (j = i + 1; j <= n; j++) {
            a = names[i]; b = names[j]
            if (calls[b] > calls[a] || (calls[b] == calls[a] && b < a)) {
              names[i] = b; names[j] = a
            }
          }
        }
        which = ""
        for (i = 1; i <= n; i++) {
          name = names[i]
          entry = sprintf("%s %.2f", name, calls[name] / events)
          if (errors[name] / events >= 0.005) {
            entry = entry sprintf(" (%.2f failed)", errors[name] / events)
          }
          which = which (i > 1 ? ", " : "") entry
        }
        printf "| %s | %.2f | %s |\n", contender, total, which
      }' "${work}/small" "${work}/large"
  done
done
