// Copyright 2026 The pollio Authors.
//
// Introspection, a topic of the conformance suite (fixture:
// tests/conformance.h; every backend). What a poller says about itself: find,
// for_each and its printed form.

#include <algorithm>
#include <sstream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "event/event.h"
#include "gtest/gtest.h"
#include "poller/poller.h"
#include "tests/conformance.h"
#include "tests/test_util.h"

namespace pollio {
namespace {

using ::pollio::testing::ConformanceTest;
using ::pollio::testing::kRW;
using ::pollio::testing::MakeSocketPair;
using ::pollio::testing::SocketPair;

TEST_P(ConformanceTest, FindReportsWhatAddAndModifySet) {
  SocketPair pair = MakeSocketPair();
  const int fd = pair.left.get();
  EXPECT_EQ(poller().find(fd).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(poller().find(-1).status().code(),
            absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE(poller().add(EventObject::Server(fd), Trigger::kOneshot).ok());
  absl::StatusOr<Registration> found = poller().find(fd);
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_EQ(found->fd, fd);
  EXPECT_EQ(found->kind, EventKind::kServer);
  EXPECT_EQ(found->interest, Events::kReadable);
  EXPECT_EQ(found->trigger, Trigger::kOneshot);

  ASSERT_TRUE(poller()
                  .modify(EventObject{fd, static_cast<EventKind>(77), kRW},
                          Trigger::kLevel)
                  .ok());
  found = poller().find(fd);
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->kind, static_cast<EventKind>(77));
  EXPECT_EQ(found->interest, kRW);
  EXPECT_EQ(found->trigger, Trigger::kLevel);

  if (GetParam() != Backend::kKqueue) {
    const Events all = kRW | Events::kPriority;
    ASSERT_TRUE(poller().modify(EventObject{fd, EventKind::kClient, all}).ok());
    found = poller().find(fd);
    ASSERT_TRUE(found.ok());
    EXPECT_EQ(found->interest, all);
    EXPECT_NE(poller().DebugString().find(std::to_string(fd) + "=client RWP"),
              std::string::npos)
        << poller();
  }

  ASSERT_TRUE(poller().del(fd).ok());
  EXPECT_EQ(poller().find(fd).status().code(), absl::StatusCode::kNotFound);
}

TEST_P(ConformanceTest, ForEachVisitsEveryRegistrationInFdOrder) {
  std::vector<SocketPair> pairs;
  for (int i = 0; i < 5; ++i) pairs.push_back(MakeSocketPair());
  for (int i = 4; i >= 0; --i) {  // added in descending order
    ASSERT_TRUE(poller()
                    .add(EventObject{pairs[i].left.get(),
                                     static_cast<EventKind>(i), kRW})
                    .ok());
  }
  ASSERT_TRUE(poller().del(pairs[2].left.get()).ok());
  std::vector<Registration> visited;
  poller().for_each([&](const Registration& registration) {
    visited.push_back(registration);
  });
  ASSERT_EQ(visited.size(), 4u);
  for (std::size_t i = 1; i < visited.size(); ++i) {
    EXPECT_LT(visited[i - 1].fd, visited[i].fd);
  }
  for (const Registration& registration : visited) {
    EXPECT_NE(registration.fd, pairs[2].left.get());
    EXPECT_EQ(registration.interest, kRW);
  }
}

TEST_P(ConformanceTest, PrintsItsBackendAndRegistrations) {
  EXPECT_EQ(poller().DebugString(),
            std::string(BackendName(GetParam())) + "{0 fds}");
  SocketPair first = MakeSocketPair();
  SocketPair second = MakeSocketPair();
  const int low = std::min(first.left.get(), second.left.get());
  const int high = std::max(first.left.get(), second.left.get());
  ASSERT_TRUE(poller().add(EventObject::Server(low)).ok());
  ASSERT_TRUE(
      poller()
          .add(EventObject{high, EventKind::kClient, kRW}, Trigger::kOneshot)
          .ok());
  const std::string expected =
      std::string(BackendName(GetParam())) + "{2 fds: " + std::to_string(low) +
      "=server R, " + std::to_string(high) + "=client RW oneshot}";
  EXPECT_EQ(poller().DebugString(), expected);
  std::ostringstream os;
  os << poller();
  EXPECT_EQ(os.str(), expected);

  // Long tables are cut after 32 entries, and the rest counted.
  std::vector<SocketPair> many;
  for (int i = 0; i < 38; ++i) {
    many.push_back(MakeSocketPair());
    ASSERT_TRUE(poller().add(EventObject::Client(many.back().left.get())).ok());
  }
  const std::string long_form = poller().DebugString();
  EXPECT_EQ(long_form.rfind(", ... 8 more}"), long_form.size() - 13)
      << long_form;
}

}  // namespace
}  // namespace pollio
