#!/usr/bin/env bash
# User-space instructions per unit of work, counted by valgrind's callgrind:
# deterministic, whatever else the machine is doing. Each contender runs
# twice, small and large; the difference divided by the extra units is the
# cost of one unit alone, without set-up and tear-down.
#
#   tools/bench/callgrind.sh [contender ...]                # per chain event
#   ACTIVE="100 1" tools/bench/callgrind.sh                 # the default
#   WORKLOAD=churn tools/bench/callgrind.sh [contender ...] # per add+del
#
# chain: 1,000 socketpairs, 2,000 and 12,000 writes, one column per number
# of active pairs: with 100 a wait returns many events and its own cost is
# shared; with 1 every event needs a wait of its own, so the column shows
# what one wait costs on top of the event.
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
  chain)
    flag=--chain_once small=2000 large=12000 units=10000 unit=event
    read -r -a columns <<< "${ACTIVE:-100 1}"
    ;;
  churn)
    flag=--churn_once small=2 large=12 units=10000 unit=add+del
    columns=(1000)
    ;;
  *)
    echo "callgrind.sh: WORKLOAD must be chain or churn" >&2
    exit 2
    ;;
esac

instructions() {  # contender size column -> total instructions
  local out
  out=$(mktemp)
  valgrind --tool=callgrind --callgrind-out-file=/dev/null \
    "${bench}" "${flag}=$1:$2:$3" 2> "${out}" > /dev/null
  grep -o 'Collected : [0-9]*' "${out}" | grep -o '[0-9]*$'
  rm -f "${out}"
}

header='| contender |'
rule='|---|'
for column in "${columns[@]}"; do
  if [[ "${workload}" == chain ]]; then
    header+=" instructions per event, ${column} active |"
  else
    header+=" instructions per ${unit}, ${column} fds |"
  fi
  rule+='---:|'
done
printf '%s\n%s\n' "${header}" "${rule}"
for contender in "${contenders[@]}"; do
  row="| ${contender} |"
  for column in "${columns[@]}"; do
    small_count=$(instructions "${contender}" "${small}" "${column}")
    large_count=$(instructions "${contender}" "${large}" "${column}")
    row+=" $(((large_count - small_count) / units)) |"
  done
  printf '%s\n' "${row}"
done
