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
cd "$(dirname "$0")/../.."

command -v valgrind >/dev/null || {
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q valgrind >&2
}
tools/bazel build -c opt //tools/bench >&2
bench=bazel-bin/tools/bench/bench

contenders=("$@")
if ((${#contenders[@]} == 0)); then
  mapfile -t contenders < <("${bench}" --list)
fi

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
