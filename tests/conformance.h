// Copyright 2026 The pollio Authors.
//
// The conformance suite: the contract of poller/poller.h, checked once on
// every backend, one topic per file (tests/conformance_*_test.cc:
// registration and errors, triggers, batch and scrub, timing / wake /
// signals, introspection), all in one test binary per build of the
// backends. This is the fixture they share; tests/conformance_test.cc
// instantiates it over every Backend: a backend that is not compiled into
// this build, or that the kernel refuses, is skipped with the reason
// printed, never silently dropped.

#ifndef POLLIO_TESTS_CONFORMANCE_H_
#define POLLIO_TESTS_CONFORMANCE_H_

#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "event/event.h"
#include "factory/factory.h"
#include "gtest/gtest.h"
#include "poller/poller.h"
#include "tests/backend_test.h"

namespace pollio {
namespace testing {

inline constexpr Events kRW = Events::kReadable | Events::kWritable;

// The suite's fixture: BackendTest's poller, under the suite's own name.
class ConformanceTest : public BackendTest {};

// Timing floors are measured on a thread of their own, with a poller made,
// used and destroyed there. Closing an io_uring (an earlier uring test on the
// main thread) makes the kernel interrupt each thread that used it once,
// ending a wait early with EINTR: allowed by the contract, but not what these
// tests measure. And a UringPoller belongs to the thread that first waits.
inline void OnFreshThread(const std::function<void()>& body) {
  std::thread thread(body);
  thread.join();
}

}  // namespace testing
}  // namespace pollio

#endif  // POLLIO_TESTS_CONFORMANCE_H_
