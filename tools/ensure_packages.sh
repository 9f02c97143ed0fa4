#!/usr/bin/env bash
# Installs those of the named Debian packages that are not installed yet, from
# Debian's archive. A machine that has them all pays one local dpkg-query per
# package and no apt call, so callers run it every time:
#
#   tools/ensure_packages.sh cmake pkg-config libgtest-dev
#
# tools/bazel, tools/cmake_check.sh, tools/buildifier and .ci/run install what
# they need through it, so a fresh Debian 12 machine needs nothing by hand.
# Runs apt-get as root, or through sudo; never asks anything (CI has no
# terminal); waits for a dpkg lock another apt run holds. Reports what it
# installs on stderr.
set -euo pipefail

missing=()
for package in "$@"; do
  if ! dpkg-query -W -f='${Status}' "${package}" 2>/dev/null |
      grep -q 'install ok installed'; then
    missing+=("${package}")
  fi
done
if ((${#missing[@]} == 0)); then exit 0; fi

echo "tools/ensure_packages.sh: installing ${missing[*]}" >&2
sudo_cmd=()
if [[ "$(id -u)" != 0 ]]; then sudo_cmd=(sudo); fi
"${sudo_cmd[@]}" apt-get -o DPkg::Lock::Timeout=600 update -q >&2
"${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive \
  apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends \
  "${missing[@]}" >&2
