#!/usr/bin/env bash
# User-space instructions per event on the chain workload (1,000 socketpairs),
# counted by valgrind's callgrind: deterministic, whatever else the machine
# is doing. Each contender runs twice, with 2,000 and 12,000 writes; the
# difference divided by 10,000 is the cost of one event alone, without
# set-up and tear-down.
#
#   tools/bench/callgrind.sh [contender ...]   # default: every contender
#   ACTIVE="100 1" tools/bench/callgrind.sh    # the default: both columns
#
# With 100 active pairs a wait returns many events and its own cost is
# shared; with 1 every event needs a wait of its own, so the column shows
# what one wait costs on top of the event.
#
# The default is what `bench --list` prints: every contender this machine
# can run (the raw epoll, poll and io_uring loops, pollio's backends with and
# without registration from any thread, libevent, libev, libuv, Boost.Asio).
set -euo pipefail
source "$(dirname "$0")/setup.sh" valgrind "$@"
read -r -a actives <<< "${ACTIVE:-100 1}"

instructions() {  # contender writes active -> total instructions
  local out
  out=$(mktemp)
  valgrind --tool=callgrind --callgrind-out-file=/dev/null \
    "${bench}" --chain_once="$1:$2:$3" 2> "${out}" > /dev/null
  grep -o 'Collected : [0-9]*' "${out}" | grep -o '[0-9]*$'
  rm -f "${out}"
}

header='| contender |'
rule='|---|'
for active in "${actives[@]}"; do
  header+=" instructions per event, ${active} active |"
  rule+='---:|'
done
printf '%s\n%s\n' "${header}" "${rule}"
for contender in "${contenders[@]}"; do
  row="| ${contender} |"
  for active in "${actives[@]}"; do
    small=$(instructions "${contender}" 2000 "${active}")
    large=$(instructions "${contender}" 12000 "${active}")
    row+=" $(((large - small) / 10000)) |"
  done
  printf '%s\n' "${row}"
done
