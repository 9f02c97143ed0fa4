// Copyright 2026 The pollio Authors.

#include "poller/poller.h"

#include "absl/status/status.h"
#include "gtest/gtest.h"

namespace pollio {
namespace {

TEST(BackendTest, NamesRoundTrip) {
  for (Backend backend :
       {Backend::kEpoll, Backend::kKqueue, Backend::kPoll, Backend::kUring}) {
    absl::StatusOr<Backend> parsed = ParseBackend(BackendName(backend));
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    EXPECT_EQ(*parsed, backend);
  }
  EXPECT_EQ(BackendName(Backend::kEpoll), "epoll");
  EXPECT_EQ(BackendName(Backend::kUring), "uring");
}

TEST(BackendTest, ParseRejectsUnknownNames) {
  for (const char* name : {"", "Epoll", "select", "epoll "}) {
    EXPECT_EQ(ParseBackend(name).status().code(),
              absl::StatusCode::kInvalidArgument)
        << name;
  }
}

TEST(ErrnoFromStatusTest, AbsentForStatusesWithoutPayload) {
  EXPECT_EQ(ErrnoFromStatus(absl::OkStatus()), std::nullopt);
  EXPECT_EQ(ErrnoFromStatus(absl::NotFoundError("x")), std::nullopt);
}

}  // namespace
}  // namespace pollio
