# Copyright 2026 The pollio Authors.
#
# Sourced by the per-event counting scripts (callgrind.sh, syscalls.sh):
# installs the counting tool's Debian package when missing, builds the
# optimized bench, and sets `bench` (its path) and `contenders` (the
# script's arguments, or every contender `bench --list` names).
#
#   source "$(dirname "$0")/setup.sh" <debian-package> "$@"

cd "$(dirname "${BASH_SOURCE[0]}")/../.."
tools/ensure_packages.sh "$1"
shift
tools/bazel build -c opt //tools/bench >&2
bench=bazel-bin/tools/bench/bench

contenders=("$@")
if ((${#contenders[@]} == 0)); then
  mapfile -t contenders < <("${bench}" --list)
fi
