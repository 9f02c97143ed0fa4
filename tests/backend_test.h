// Copyright 2026 The pollio Authors.
//
// BackendTest: the fixture of a suite parameterised over every Backend
// (tests/backend_suite_test.bzl). Its poller comes from the factory the
// suite links (//factory, or the one with the emulated kqueue); a backend
// that is not compiled in or that the kernel refuses skips the test with
// the reason printed, never silently.

#ifndef POLLIO_TESTS_BACKEND_TEST_H_
#define POLLIO_TESTS_BACKEND_TEST_H_

#include <memory>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "factory/factory.h"
#include "gtest/gtest.h"
#include "poller/poller.h"

namespace pollio {
namespace testing {

class BackendTest : public ::testing::TestWithParam<Backend> {
 protected:
  // poller_ on the backend under test; skips the test where the backend is
  // missing here, fails it on any other error.
  void SetUp() override {
    poller_ = Make(PollerOptions{});
    if (poller_ == nullptr && !skip_reason_.empty()) {
      GTEST_SKIP() << skip_reason_;
    }
    ASSERT_NE(poller_, nullptr);
  }

  // Another poller on the backend under test; null (with skip_reason_ set
  // when the backend is missing here) if it cannot be made.
  std::unique_ptr<Poller> Make(PollerOptions options) {
    absl::StatusOr<std::unique_ptr<Poller>> poller =
        NewPoller(GetParam(), options);
    if (poller.status().code() == absl::StatusCode::kUnimplemented ||
        poller.status().code() == absl::StatusCode::kUnavailable) {
      skip_reason_ = "backend " + std::string(BackendName(GetParam())) +
                     " skipped: " + poller.status().ToString();
      return nullptr;
    }
    EXPECT_TRUE(poller.ok()) << poller.status();
    return poller.ok() ? *std::move(poller) : nullptr;
  }

  // The capability query, not the backend's name.
  bool HasEdge() const { return poller_->supports(Trigger::kEdge); }

  Poller& poller() { return *poller_; }

  std::unique_ptr<Poller> poller_;
  std::string skip_reason_;
};

}  // namespace testing
}  // namespace pollio

#endif  // POLLIO_TESTS_BACKEND_TEST_H_
