#!/usr/bin/env bash
# Chart of ns/event against N for every contender, from Google Benchmark's
# JSON output: chain (A=100) and idle (100 ready among N).
#
#   tools/bench/plot.sh [out.png]   # default tools/bench/results/chart.png
#   JSON=tools/bench/results/bench.json tools/bench/plot.sh   # no new run
#
# Without JSON=, runs the benchmarks and keeps their output in
# tools/bench/results/bench.json.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-tools/bench/results/chart.png}
command -v gnuplot >/dev/null || {
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q gnuplot-nox >&2
}
workdir=$(mktemp -d)
trap 'rm -rf "${workdir}"' EXIT
if [[ -n "${JSON:-}" ]]; then
  cp "${JSON}" "${workdir}/bench.json"
else
  tools/bazel build -c opt //tools/bench >&2
  bazel-bin/tools/bench/bench --benchmark_filter='^(chain_A100|idle)/' \
    --benchmark_format=json > "${workdir}/bench.json"
  mkdir -p tools/bench/results
  cp "${workdir}/bench.json" tools/bench/results/bench.json
fi

# One data file per (workload, contender): "N ns".
python3 - "${workdir}" <<'PY'
import json, sys, collections
workdir = sys.argv[1]
rows = collections.defaultdict(list)
for b in json.load(open(f"{workdir}/bench.json"))["benchmarks"]:
    group, contender, n = b["name"].split("/")[:3]
    rows[(group, contender)].append((int(n), b["real_time"]))
for (group, contender), points in rows.items():
    with open(f"{workdir}/{group}.{contender}.dat", "w") as f:
        for n, ns in sorted(points):
            f.write(f"{n} {ns}\n")
PY

mkdir -p "$(dirname "${out}")"
{
  echo "set terminal pngcairo size 1200,500 font ',10' noenhanced"
  echo "set output '${out}'"
  echo "set multiplot layout 1,2"
  echo "set logscale xy; set grid; set key top left; set xlabel 'N (registered fds)'"
  for group in chain_A100 idle; do
    if [[ ${group} == chain_A100 ]]; then
      echo "set title 'chain, 100 active: ns per event'; set ylabel 'ns/event'"
    else
      echo "set title 'idle, 100 ready among N: ns per wait'; set ylabel 'ns/wait'"
    fi
    plots=()
    for dat in "${workdir}/${group}".*.dat; do
      name=$(basename "${dat}" .dat); name=${name#${group}.}
      plots+=("'${dat}' using 1:2 with linespoints title '${name}'")
    done
    (IFS=,; echo "plot ${plots[*]}")
  done
  echo "unset multiplot"
} | gnuplot
echo "wrote ${out}"
