// Copyright 2026 The pollio Authors.
//
// epoll specifics beyond the conformance suite: modify into kExclusive,
// which the kernel cannot do in place (EPOLL_CTL_MOD refuses EPOLLEXCLUSIVE).
#include "backends/epoll/epoll_poller.h"

#include <errno.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "event/event.h"
#include "gtest/gtest.h"
#include "poller/poller.h"
#include "tests/test_util.h"

namespace pollio {
namespace {

using ::pollio::testing::ExpectEvents;
using ::pollio::testing::ExpectNoEvents;
using ::pollio::testing::UniqueFd;

std::unique_ptr<EpollPoller> MakePoller() {
  absl::StatusOr<std::unique_ptr<EpollPoller>> poller = EpollPoller::Create();
  EXPECT_TRUE(poller.ok()) << poller.status();
  return poller.ok() ? *std::move(poller) : nullptr;
}

// An epoll instance that is readable: it holds an eventfd with a count.
// EPOLLEXCLUSIVE refuses an epoll instance as its target (EINVAL).
struct ReadyEpoll {
  UniqueFd epoll;
  UniqueFd eventfd;
};

ReadyEpoll MakeReadyEpoll() {
  ReadyEpoll out{UniqueFd(::epoll_create1(EPOLL_CLOEXEC)),
                 UniqueFd(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC))};
  EXPECT_GE(out.epoll.get(), 0);
  EXPECT_GE(out.eventfd.get(), 0);
  epoll_event event{};
  event.events = EPOLLIN;
  EXPECT_EQ(
      ::epoll_ctl(out.epoll.get(), EPOLL_CTL_ADD, out.eventfd.get(), &event),
      0);
  const std::uint64_t one = 1;
  EXPECT_EQ(::write(out.eventfd.get(), &one, sizeof(one)),
            static_cast<ssize_t>(sizeof(one)));
  return out;
}

// Modifies `fd` into kExclusive, which must fail with EINVAL naming the call
// and fd, and leave the registration `before` as it was.
void ExpectRefusedModifyIntoExclusive(EpollPoller& poller,
                                      const Registration& before) {
  const absl::Status status =
      poller.modify(EventObject::Client(before.fd), Trigger::kExclusive);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_EQ(ErrnoFromStatus(status), EINVAL) << status;
  EXPECT_NE(status.message().find(
                "epoll_ctl(ADD, fd=" + std::to_string(before.fd) + ")"),
            absl::string_view::npos)
      << status;
  EXPECT_EQ(poller.size(), 1u);
  absl::StatusOr<Registration> after = poller.find(before.fd);
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_EQ(after->kind, before.kind);
  EXPECT_EQ(after->interest, before.interest);
  EXPECT_EQ(after->trigger, before.trigger);
}

TEST(EpollPollerTest, RefusedModifyIntoExclusiveLeavesALevelFdReporting) {
  std::unique_ptr<EpollPoller> poller = MakePoller();
  ASSERT_NE(poller, nullptr);
  ReadyEpoll inner = MakeReadyEpoll();
  const EventObject server = EventObject::Server(inner.epoll.get());
  ASSERT_TRUE(poller->add(server).ok());
  ExpectEvents(*poller, {server});

  ExpectRefusedModifyIntoExclusive(
      *poller, {server.fd, server.kind, server.events, Trigger::kLevel});
  ExpectEvents(*poller, {server});
  ExpectEvents(*poller, {server});
}

TEST(EpollPollerTest, RefusedModifyIntoExclusiveKeepsAFiredOneshotSilent) {
  std::unique_ptr<EpollPoller> poller = MakePoller();
  ASSERT_NE(poller, nullptr);
  ReadyEpoll inner = MakeReadyEpoll();
  const EventObject server = EventObject::Server(inner.epoll.get());
  ASSERT_TRUE(poller->add(server, Trigger::kOneshot).ok());
  ExpectEvents(*poller, {server});
  ExpectNoEvents(*poller);

  ExpectRefusedModifyIntoExclusive(
      *poller, {server.fd, server.kind, server.events, Trigger::kOneshot});
  ExpectNoEvents(*poller);  // a fresh ADD would have re-armed it

  // Still registered as before: modify re-arms it.
  ASSERT_TRUE(poller->modify(server, Trigger::kOneshot).ok());
  ExpectEvents(*poller, {server});
  ExpectNoEvents(*poller);
}

TEST(EpollPollerTest, RefusedModifyIntoExclusiveDoesNotReReportAnEdge) {
  std::unique_ptr<EpollPoller> poller = MakePoller();
  ASSERT_NE(poller, nullptr);
  ReadyEpoll inner = MakeReadyEpoll();
  const EventObject server = EventObject::Server(inner.epoll.get());
  ASSERT_TRUE(poller->add(server, Trigger::kEdge).ok());
  ExpectEvents(*poller, {server});
  ExpectNoEvents(*poller);

  ExpectRefusedModifyIntoExclusive(
      *poller, {server.fd, server.kind, server.events, Trigger::kEdge});
  ExpectNoEvents(*poller);  // a fresh ADD would have reported it again

  // The registration still reports the next edge: more to read on the
  // inner epoll's eventfd wakes it again.
  const std::uint64_t one = 1;
  ASSERT_EQ(::write(inner.eventfd.get(), &one, sizeof(one)),
            static_cast<ssize_t>(sizeof(one)));
  ExpectEvents(*poller, {server});
  ExpectNoEvents(*poller);
}

// The path that works: into kExclusive and back out, each a DEL and an ADD.
TEST(EpollPollerTest, ModifyIntoAndOutOfExclusive) {
  std::unique_ptr<EpollPoller> poller = MakePoller();
  ASSERT_NE(poller, nullptr);
  ::pollio::testing::SocketPair pair = ::pollio::testing::MakeSocketPair();
  const EventObject client = EventObject::Client(pair.left.get());
  ASSERT_TRUE(poller->add(client, Trigger::kOneshot).ok());
  ASSERT_TRUE(::pollio::testing::WriteBytes(pair.right.get()));
  ExpectEvents(*poller, {client});
  ExpectNoEvents(*poller);

  ASSERT_TRUE(poller->modify(client, Trigger::kExclusive).ok());
  EXPECT_EQ(poller->find(client.fd)->trigger, Trigger::kExclusive);
  ExpectEvents(*poller, {client});
  ExpectEvents(*poller, {client});  // level

  ASSERT_TRUE(poller->modify(client, Trigger::kOneshot).ok());
  EXPECT_EQ(poller->find(client.fd)->trigger, Trigger::kOneshot);
  ExpectEvents(*poller, {client});
  ExpectNoEvents(*poller);
  EXPECT_EQ(poller->size(), 1u);
}

}  // namespace
}  // namespace pollio
