#!/usr/bin/env bash
# User-space instructions per event on the chain workload (1,000 socketpairs,
# 100 active), counted by valgrind's callgrind: deterministic, whatever else
# the machine is doing. Each contender runs twice, with 2,000 and 12,000
# writes; the difference divided by 10,000 is the cost of one event alone,
# without set-up and tear-down.
#
#   tools/bench/callgrind.sh [contender ...]   # default: every contender
#
# The default is what `bench --list` prints: every contender this machine
# can run (the raw epoll, poll and io_uring loops, pollio's backends with and
# without registration from any thread, libevent, libev, libuv, Boost.Asio).
set -euo pipefail
source "$(dirname "$0")/setup.sh" valgrind "$@"

instructions() {  # contender writes -> total instructions
  local out
  out=$(mktemp)
  valgrind --tool=callgrind --callgrind-out-file=/dev/null \
    "${bench}" --chain_once="$1:$2" 2> "${out}" > /dev/null
  grep -o 'Collected : [0-9]*' "${out}" | grep -o '[0-9]*$'
  rm -f "${out}"
}

printf '| contender | instructions per event |\n|---|---:|\n'
for contender in "${contenders[@]}"; do
  small=$(instructions "${contender}" 2000)
  large=$(instructions "${contender}" 12000)
  printf '| %s | %d |\n' "${contender}" $(((large - small) / 10000))
done
