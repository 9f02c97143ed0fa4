// Copyright 2026 The pollio Authors.
//
// poller_fuzzer: a libFuzzer target over sequences of add / modify / del /
// wait / wake and kernel-state changes (writes, drains, shutdowns, closes,
// fd reuse) on socketpairs, each checked against the differential test's
// oracle. tests/fuzz/fuzz_input.h describes the input format.
//
//   tools/fuzz.sh [backend] [seconds]     build, then fuzz from the corpus
//   tools/fuzz.sh --reproduce FILE        run one input on every backend
//
// The backend comes from POLLIO_FUZZ_BACKEND (epoll, poll, uring, or kqueue,
// which is the kqueue backend over the Linux emulation); without it every
// input runs on every backend this kernel has, one after another. On a
// difference from the oracle it prints the backend, the difference and the
// operations, then aborts, so that libFuzzer saves the input.
// POLLIO_FUZZ_TRACE=1 prints every input's operations, failing or not.
//
// Built only with --config=fuzz (clang, -fsanitize=fuzzer,address,undefined:
// see .bazelrc); tagged manual, so `tools/bazel test //...` leaves it out.
// The seed corpus (tests/fuzz/corpus/) also runs in the ordinary build, in
// //tests/fuzz:corpus_test.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "factory/factory.h"
#include "poller/poller.h"
#include "tests/fuzz/fuzz_input.h"

namespace {

// The backends each input runs on, chosen once.
std::vector<pollio::Backend>& Backends() {
  static auto* backends = new std::vector<pollio::Backend>;
  return *backends;
}

// POLLIO_FUZZ_TRACE=1: print each input's operations (for a reproduction).
bool Trace() {
  static const bool trace = [] {
    const char* value = std::getenv("POLLIO_FUZZ_TRACE");
    return value != nullptr && *value != '\0' && *value != '0';
  }();
  return trace;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  const char* name = std::getenv("POLLIO_FUZZ_BACKEND");
  if (name == nullptr || *name == '\0') {
    Backends() = pollio::AvailableBackends();
  } else {
    const absl::StatusOr<pollio::Backend> backend = pollio::ParseBackend(name);
    if (!backend.ok()) {
      std::fprintf(stderr, "poller_fuzzer: POLLIO_FUZZ_BACKEND: %s\n",
                   backend.status().ToString().c_str());
      std::exit(2);
    }
    if (absl::StatusOr<std::unique_ptr<pollio::Poller>> poller =
            pollio::NewPoller(*backend);
        !poller.ok()) {
      std::fprintf(stderr, "poller_fuzzer: %s unavailable: %s\n", name,
                   poller.status().ToString().c_str());
      std::exit(2);
    }
    Backends() = {*backend};
  }
  std::string names;
  for (pollio::Backend backend : Backends()) {
    names += " " + std::string(pollio::BackendName(backend));
  }
  std::fprintf(stderr, "poller_fuzzer: backends%s\n", names.c_str());
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  for (pollio::Backend backend : Backends()) {
    absl::StatusOr<std::unique_ptr<pollio::Poller>> poller =
        pollio::NewPoller(backend);
    if (!poller.ok()) {
      std::fprintf(stderr, "poller_fuzzer: NewPoller(%s): %s\n",
                   std::string(pollio::BackendName(backend)).c_str(),
                   poller.status().ToString().c_str());
      std::abort();
    }
    std::string operations;
    const std::string failure = pollio::testing::RunFuzzInput(
        *std::move(poller), absl::MakeConstSpan(data, size),
        Trace() ? &operations : nullptr);
    if (Trace()) {
      std::fprintf(stderr, "poller_fuzzer: %s:\n%s",
                   std::string(pollio::BackendName(backend)).c_str(),
                   operations.c_str());
    }
    if (!failure.empty()) {
      std::fprintf(stderr, "poller_fuzzer: differs from the oracle: %s\n",
                   failure.c_str());
      std::abort();
    }
  }
  return 0;
}
