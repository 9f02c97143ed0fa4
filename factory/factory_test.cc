// Copyright 2026 The pollio Authors.

#include "factory/factory.h"

#include <algorithm>
#include <memory>
#include <type_traits>
#include <vector>

#include "absl/status/status.h"
#include "factory/os_poller.h"
#include "gtest/gtest.h"
#include "poller/poller.h"

namespace pollio {
namespace {

bool Contains(const std::vector<Backend>& backends, Backend backend) {
  return std::find(backends.begin(), backends.end(), backend) != backends.end();
}

TEST(FactoryTest, AvailableBackendsAreUsableAndNativeFirst) {
  const std::vector<Backend> available = AvailableBackends();
  ASSERT_FALSE(available.empty());
  EXPECT_TRUE(Contains(available, Backend::kPoll));  // every POSIX system
#if defined(__linux__)
  EXPECT_EQ(available.front(), Backend::kEpoll);
#endif
  for (Backend backend : available) {
    absl::StatusOr<std::unique_ptr<Poller>> poller = NewPoller(backend);
    ASSERT_TRUE(poller.ok()) << BackendName(backend) << poller.status();
    EXPECT_EQ((*poller)->backend(), backend);
  }
}

TEST(FactoryTest, BackendsNotBuiltAreUnimplemented) {
  const std::vector<Backend> available = AvailableBackends();
  for (Backend backend :
       {Backend::kEpoll, Backend::kKqueue, Backend::kPoll, Backend::kUring}) {
    if (Contains(available, backend)) continue;
    const absl::Status status = NewPoller(backend).status();
    EXPECT_TRUE(status.code() == absl::StatusCode::kUnimplemented ||
                status.code() == absl::StatusCode::kUnavailable)
        << status;
  }
}

TEST(FactoryTest, OsPollerMatchesNewOsPoller) {
  absl::StatusOr<std::unique_ptr<Poller>> dynamic = NewOsPoller();
  ASSERT_TRUE(dynamic.ok()) << dynamic.status();
  absl::StatusOr<std::unique_ptr<OsPoller>> native = OsPoller::Create();
  ASSERT_TRUE(native.ok()) << native.status();
  EXPECT_EQ((*dynamic)->backend(), (*native)->backend());
  static_assert(std::is_final_v<OsPoller>);
}

TEST(FactoryTest, OutOfRangeOptionsAreInvalidArgument) {
  for (Backend backend : AvailableBackends()) {
    for (int max_events : {0, -1, PollerOptions::kMaxEvents + 1}) {
      EXPECT_EQ(NewPoller(backend, PollerOptions{max_events}).status().code(),
                absl::StatusCode::kInvalidArgument)
          << BackendName(backend) << " max_events=" << max_events;
    }
  }
}

}  // namespace
}  // namespace pollio
