#!/usr/bin/env bash
# The CMake build, checked end to end (run by .ci/run after the Bazel steps):
#
#   1. every C++ source of the Bazel build is named in a CMakeLists.txt, so
#      the two builds cannot drift apart silently;
#   2. configure, build (warnings are errors in pollio's code, as in Bazel)
#      and run the tests through ctest;
#   3. cmake --install into a temporary prefix;
#   4. configure, build and run tests/cmake_consumer against that prefix,
#      once through find_package(pollio) and once through pkg-config;
#   5. the same install and consumers for shared libraries (versioned, soname
#      .so.MAJOR.MINOR) built without io_uring (liburing hidden), the other
#      path of the configure.
#
#   tools/cmake_check.sh
#
# Installs cmake, pkg-config and the libraries it builds against from
# Debian's archive when missing (tools/ensure_packages.sh), as tools/bazel
# does. Exits nonzero on the first failure.
set -euo pipefail
cd "$(dirname "$0")/.."
readonly root="${PWD}"

readonly packages=(cmake pkg-config g++ libabsl-dev libgtest-dev liburing-dev)
"${root}/tools/ensure_packages.sh" "${packages[@]}"

step() { echo "=== tools/cmake_check.sh: $*" >&2; }

# 1. Drift: each library source the Bazel build compiles from event/,
# factory/, poller/, backends/ must appear by its path in CMakeLists.txt;
# each test source (and the kqueue emulation, tests only) in
# tests/CMakeLists.txt, by its path or, for tests/*.cc, by its name.
step "every source is in a CMakeLists.txt"
drift=0
while IFS= read -r source; do
  cmakelists=CMakeLists.txt
  if [[ "${source}" == *_test.cc || "${source}" == */emulation/* ]]; then
    cmakelists=tests/CMakeLists.txt
  fi
  if ! grep -qF "${source}" "${cmakelists}"; then
    echo "  ${source} is in the Bazel build but not in ${cmakelists}" >&2
    drift=1
  fi
done < <(git ls-files 'event/*.cc' 'factory/*.cc' 'poller/*.cc' 'backends/*.cc')
while IFS= read -r source; do
  if ! grep -qwF "$(basename "${source}")" tests/CMakeLists.txt; then
    echo "  ${source} is in the Bazel build but not in tests/CMakeLists.txt" >&2
    drift=1
  fi
done < <(git ls-files 'tests/*.cc' | grep -v '^tests/[^/]*/')
if ((drift)); then exit 1; fi

work="$(mktemp -d "${TMPDIR:-/tmp}/pollio-cmake.XXXXXX")"
trap 'rm -rf "${work}"' EXIT
generator=()
if command -v ninja >/dev/null; then generator=(-G Ninja); fi
jobs="$(nproc)"

# 2. Build and test.
step "configure, build, ctest"
cmake -S "${root}" -B "${work}/build" "${generator[@]}" \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPOLLIO_WERROR=ON
cmake --build "${work}/build" -j "${jobs}"
ctest --test-dir "${work}/build" -j "${jobs}" --output-on-failure

# 3. Install.
step "install into ${work}/prefix"
cmake --install "${work}/build" --prefix "${work}/prefix"

# 4. The consumer, against the installed package only: find_package through
# CMAKE_PREFIX_PATH; pkg-config through PKG_CONFIG_PATH alone.
check_consumer() {  # <installed prefix> <name>
  local prefix="$1" name="$2"
  local pc_dir
  pc_dir="$(dirname "$(find "${prefix}" -name pollio.pc | head -n 1)")"
  step "${name}: consumer through find_package(pollio)"
  cmake -S tests/cmake_consumer -B "${work}/${name}-cmake" "${generator[@]}" \
    -DCMAKE_PREFIX_PATH="${prefix}" -DPOLLIO_CONSUMER_USE_PKG_CONFIG=OFF
  cmake --build "${work}/${name}-cmake" -j "${jobs}"
  "${work}/${name}-cmake/accept_loop"

  step "${name}: consumer through pkg-config (pollio.pc)"
  PKG_CONFIG_PATH="${pc_dir}" cmake -S tests/cmake_consumer \
    -B "${work}/${name}-pkg-config" "${generator[@]}" \
    -DPOLLIO_CONSUMER_USE_PKG_CONFIG=ON
  PKG_CONFIG_PATH="${pc_dir}" cmake --build "${work}/${name}-pkg-config" \
    -j "${jobs}"
  "${work}/${name}-pkg-config/accept_loop"
}
check_consumer "${work}/prefix" static

# 5. The other configuration a user may pick: shared libraries, and no
# io_uring (liburing hidden from pkg-config for pollio's configure only, so
# the io_uring-OFF path is built and installed too). Libraries only.
step "shared libraries without io_uring"
mkdir -p "${work}/no-pkg-config"
PKG_CONFIG_LIBDIR="${work}/no-pkg-config" cmake -S "${root}" \
  -B "${work}/build-shared" "${generator[@]}" -DBUILD_SHARED_LIBS=ON \
  -DPOLLIO_BUILD_TESTS=OFF -DPOLLIO_WERROR=ON |
  tee "${work}/build-shared.log"
grep -q 'io_uring backend OFF' "${work}/build-shared.log"
cmake --build "${work}/build-shared" -j "${jobs}"
cmake --install "${work}/build-shared" --prefix "${work}/prefix-shared"
# Versioned: libpollio_poller.so -> .so.MAJOR.MINOR -> .so.VERSION, the
# soname MAJOR.MINOR, from project(pollio VERSION ...).
version="$(sed -n 's/^project(pollio VERSION \([0-9.]*\).*/\1/p' \
  CMakeLists.txt)"
poller_so="$(find "${work}/prefix-shared" -name libpollio_poller.so)"
dynamic="$(readelf -d "${poller_so}")"
so_file="$(readlink -f "${poller_so}")"
if [[ "${so_file}" != */libpollio_poller.so."${version}" ]] ||
    ! grep -qF "[libpollio_poller.so.${version%.*}]" <<<"${dynamic}"; then
  echo "tools/cmake_check.sh: libpollio_poller.so is not versioned" \
    "${version} with soname .so.${version%.*}" >&2
  exit 1
fi
if [[ -e "${work}/prefix-shared/include/backends/uring" ]]; then
  echo "tools/cmake_check.sh: io_uring installed though switched off" >&2
  exit 1
fi
check_consumer "${work}/prefix-shared" shared

step "OK"
