#!/usr/bin/env bash
# End-to-end: requests/s of tools/http_hello (one thread, a pollio backend)
# and of nginx (one worker, access_log off, the same 13-byte body), both
# loaded by wrk over 127.0.0.1 in the same run, alternating, then the ratio.
# Starts and stops both servers itself; touches only 127.0.0.1.
#
#   tools/bench/http_bench.sh                    # epoll, 3 rounds of 10 s
#   BACKEND=uring ROUNDS=5 DURATION=5s CONNECTIONS=100 tools/bench/http_bench.sh
set -euo pipefail
cd "$(dirname "$0")/../.."

backend=${BACKEND:-epoll}
rounds=${ROUNDS:-3}
duration=${DURATION:-10s}
connections=${CONNECTIONS:-64}

missing=()
command -v wrk >/dev/null || missing+=(wrk)
command -v nginx >/dev/null || missing+=(nginx-light)
if ((${#missing[@]} > 0)); then
  apt-get update -q >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >&2
fi
tools/bazel build -c opt //tools:http_hello >&2

workdir=$(mktemp -d)
hello_pid=""
nginx_pid=""
cleanup() {
  [[ -n "${hello_pid}" ]] && kill "${hello_pid}" 2>/dev/null || true
  [[ -n "${nginx_pid}" ]] && kill "${nginx_pid}" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "${workdir}"
}
trap cleanup EXIT

# http_hello on a kernel-chosen port.
bazel-bin/tools/http_hello --backend="${backend}" --port=0 \
  > "${workdir}/hello.out" &
hello_pid=$!
for _ in $(seq 100); do
  grep -q listening "${workdir}/hello.out" 2>/dev/null && break
  sleep 0.1
done
hello_port=$(grep -o ':[0-9]*' "${workdir}/hello.out" | head -1 | tr -d :)

# nginx on a free port, one worker, no access log, everything in workdir.
nginx_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat > "${workdir}/nginx.conf" <<CONF
worker_processes 1;
daemon off;
user root;
pid ${workdir}/nginx.pid;
error_log ${workdir}/error.log;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${workdir}/body;
  proxy_temp_path ${workdir}/proxy;
  fastcgi_temp_path ${workdir}/fastcgi;
  uwsgi_temp_path ${workdir}/uwsgi;
  scgi_temp_path ${workdir}/scgi;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:${nginx_port};
    location / {
      default_type text/plain;
      return 200 "Hello, World!";
    }
  }
}
CONF
nginx -c "${workdir}/nginx.conf" -p "${workdir}" &
nginx_pid=$!
for _ in $(seq 100); do
  (exec 3<>"/dev/tcp/127.0.0.1/${nginx_port}") 2>/dev/null && break
  sleep 0.1
done

load() {  # port -> requests/s
  wrk -t1 -c"${connections}" -d"${duration}" "http://127.0.0.1:$1/" |
    awk '/Requests\/sec/ {print $2}'
}

hello_runs=()
nginx_runs=()
for round in $(seq "${rounds}"); do
  hello_runs+=("$(load "${hello_port}")")
  nginx_runs+=("$(load "${nginx_port}")")
  echo "round ${round}: http_hello ${hello_runs[-1]} req/s, nginx ${nginx_runs[-1]} req/s" >&2
done

median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
hello=$(median "${hello_runs[@]}")
nginx=$(median "${nginx_runs[@]}")
printf '| server | requests/s (median of %s) |\n|---|---:|\n' "${rounds}"
printf '| http_hello (%s) | %.0f |\n' "${backend}" "${hello}"
printf '| nginx (1 worker) | %.0f |\n' "${nginx}"
awk -v h="${hello}" -v n="${nginx}" 'BEGIN {printf "ratio http_hello / nginx: %.2f\n", h / n}'
