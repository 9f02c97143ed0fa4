#!/usr/bin/env bash
# User-space instructions per unit of work, counted by valgrind's callgrind:
# deterministic, whatever else the machine is doing. Each contender runs
# twice, small and large; the difference divided by the extra units is the
# cost of one unit alone, without set-up and tear-down.
#
#   tools/bench/callgrind.sh [contender ...]                # per chain event
#   WORKLOAD=churn tools/bench/callgrind.sh [contender ...] # per add+del
#
# chain: 1,000 socketpairs, 100 active, 2,000 and 12,000 writes.
# churn: 1,000 eventfds, 2 and 12 rounds of add all, del all, one wait(0);
# a unit is one add+del pair (with a thousandth of the round's wait).
#
# The default is what `bench --list` prints: every contender this machine
# can run (the raw epoll, poll and io_uring loops, pollio's backends with and
# without registration from any thread, libevent, libev, libuv, Boost.Asio).
set -euo pipefail
source "$(dirname "$0")/setup.sh" valgrind "$@"

workload="${WORKLOAD:-chain}"
case "${workload}" in
  chain) flag=--chain_once small=2000 large=12000 units=10000 unit=event ;;
  churn) flag=--churn_once small=2 large=12 units=10000 unit=add+del ;;
  *)
    echo "callgrind.sh: WORKLOAD must be chain or churn" >&2
    exit 2
    ;;
esac

instructions() {  # contender size -> total instructions
  local out
  out=$(mktemp)
  valgrind --tool=callgrind --callgrind-out-file=/dev/null \
    "${bench}" "${flag}=$1:$2" 2> "${out}" > /dev/null
  grep -o 'Collected : [0-9]*' "${out}" | grep -o '[0-9]*$'
  rm -f "${out}"
}

printf '| contender | instructions per %s |\n|---|---:|\n' "${unit}"
for contender in "${contenders[@]}"; do
  small_count=$(instructions "${contender}" "${small}")
  large_count=$(instructions "${contender}" "${large}")
  printf '| %s | %d |\n' "${contender}" \
    $(((large_count - small_count) / units))
done
