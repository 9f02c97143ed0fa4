// Copyright 2026 The pollio Authors.
//
// What `del` hands back, on every backend: once `del` has returned, the
// caller's `close` releases the file at once (a listener's port can be bound
// again, a connection's peer reads EOF) whether or not a wait runs later;
// and the requests a backend makes for its own bookkeeping (io_uring's
// cancellations) never end a wait early.
//
// Also the documented effect of closing an fd without `del`: epoll, poll
// and kqueue hold no reference that keeps the file open; io_uring's armed
// poll does, until `del` or the poller's destruction.

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "event/event.h"
#include "factory/factory.h"
#include "gtest/gtest.h"
#include "poller/poller.h"
#include "tests/test_util.h"

namespace pollio {
namespace {

using ::pollio::testing::ConnectLoopback;
using ::pollio::testing::Listener;
using ::pollio::testing::MakeLoopbackListener;
using ::pollio::testing::MakeSocketPair;
using ::pollio::testing::SocketPair;
using ::pollio::testing::Stopwatch;
using ::pollio::testing::UniqueFd;
using ::pollio::testing::WaitEvents;
using ::pollio::testing::WriteBytes;

// A listener on 127.0.0.1:`port` without SO_REUSEADDR, so that the bind
// fails with EADDRINUSE while any other socket still holds the port; -1 then.
int ListenOn(int port) {
  const int fd =
      ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
      ::listen(fd, 16) != 0) {
    const int error = errno;
    ::close(fd);
    errno = error;
    return -1;
  }
  return fd;
}

// Whether a connect to 127.0.0.1:`port` is accepted by a listener (false:
// refused, nothing listens).
bool SomethingListensOn(int port) {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  return ::connect(fd.get(), reinterpret_cast<sockaddr*>(&address),
                   sizeof(address)) == 0;
}

// Whether `fd` reads EOF within `timeout`.
bool ReadsEofWithin(int fd, absl::Duration timeout) {
  pollfd entry{fd, POLLIN, 0};
  if (::poll(&entry, 1, static_cast<int>(absl::ToInt64Milliseconds(timeout))) !=
      1) {
    return false;
  }
  char byte;
  return ::recv(fd, &byte, 1, MSG_DONTWAIT) == 0;
}

// A connected TCP pair on loopback: `client` from ConnectLoopback, `server`
// accepted (non-blocking).
struct TcpPair {
  UniqueFd client;
  UniqueFd server;
};

TcpPair MakeTcpPair() {
  Listener listener = MakeLoopbackListener();
  TcpPair pair;
  pair.client = ConnectLoopback(listener.port);
  for (int attempt = 0; attempt < 1000 && pair.server.get() < 0; ++attempt) {
    pair.server.Reset(::accept4(listener.fd.get(), nullptr, nullptr,
                                SOCK_NONBLOCK | SOCK_CLOEXEC));
    if (pair.server.get() < 0) absl::SleepFor(absl::Milliseconds(1));
  }
  EXPECT_GE(pair.server.get(), 0) << std::strerror(errno);
  return pair;
}

// Whether the registration was handed to the kernel (by a wait) before del.
enum class Armed { kQueuedOnly, kByAWait, kFiredNotReaped };

struct Case {
  Backend backend;
  Trigger trigger;
  Armed armed;
};

std::string CaseName(const ::testing::TestParamInfo<Case>& info) {
  const char* trigger = info.param.trigger == Trigger::kLevel  ? "level"
                        : info.param.trigger == Trigger::kEdge ? "edge"
                                                               : "oneshot";
  const char* armed = info.param.armed == Armed::kQueuedOnly ? "queued"
                      : info.param.armed == Armed::kByAWait  ? "armed"
                                                             : "fired";
  return std::string(BackendName(info.param.backend)) + "_" + trigger + "_" +
         armed;
}

class ReleaseTest : public ::testing::TestWithParam<Case> {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<Poller>> poller =
        NewPoller(GetParam().backend);
    if (poller.status().code() == absl::StatusCode::kUnimplemented ||
        poller.status().code() == absl::StatusCode::kUnavailable) {
      GTEST_SKIP() << poller.status();
    }
    ASSERT_TRUE(poller.ok()) << poller.status();
    poller_ = *std::move(poller);
  }

  bool SkipUnsupportedTrigger() {
    return !poller_->supports(GetParam().trigger);
  }

  // A wait of 100 ms returns nothing, and not before the 100 ms: `after`
  // (del, modify) left nothing behind that ends it early.
  void ExpectQuietWait(const char* after) {
    Stopwatch stopwatch;
    absl::StatusOr<absl::Span<const EventObject>> events =
        poller_->wait(absl::Milliseconds(100));
    ASSERT_TRUE(events.ok()) << events.status();
    EXPECT_TRUE(events->empty());
    EXPECT_GE(stopwatch.Elapsed(), absl::Milliseconds(100))
        << "the wait after " << after << " ended early with nothing to report";
  }

  // Registers `fd` under the case's trigger and brings it to the case's
  // state: only queued, armed by a wait, or fired with its completion not
  // yet collected (`ready` makes it ready).
  void Register(int fd, EventKind kind, const std::function<void()>& ready) {
    ASSERT_TRUE(
        poller_
            ->add(EventObject{fd, kind, Events::kReadable}, GetParam().trigger)
            .ok());
    if (GetParam().armed == Armed::kQueuedOnly) return;
    EXPECT_TRUE(WaitEvents(*poller_).empty());
    if (GetParam().armed == Armed::kFiredNotReaped) {
      ready();
      absl::SleepFor(absl::Milliseconds(5));  // let the kernel see it
    }
  }

  std::unique_ptr<Poller> poller_;
};

TEST_P(ReleaseTest, DelThenCloseFreesAListenersPortAtOnce) {
  if (SkipUnsupportedTrigger()) GTEST_SKIP() << "poll has no edge trigger";
  Listener listener = MakeLoopbackListener();
  UniqueFd connected;
  Register(listener.fd.get(), EventKind::kServer,
           [&] { connected = ConnectLoopback(listener.port); });

  ASSERT_TRUE(poller_->del(listener.fd.get()).ok());
  listener.fd.Reset();  // no wait runs between del and close, or after

  const int again = ListenOn(listener.port);
  EXPECT_GE(again, 0) << "bind/listen on port " << listener.port
                      << " right after del + close: " << std::strerror(errno);
  if (again >= 0) ::close(again);
}

TEST_P(ReleaseTest, DelThenCloseSendsThePeerEofWithoutAWait) {
  if (SkipUnsupportedTrigger()) GTEST_SKIP() << "poll has no edge trigger";
  TcpPair pair = MakeTcpPair();
  ASSERT_GE(pair.server.get(), 0);
  Register(pair.server.get(), EventKind::kClient,
           [&] { ASSERT_EQ(::send(pair.client.get(), "x", 1, 0), 1); });

  ASSERT_TRUE(poller_->del(pair.server.get()).ok());
  pair.server.Reset();

  // The server side had unread data in the "fired" case, so the kernel
  // answers with a reset instead of a FIN: either way the peer sees the
  // connection end.
  if (GetParam().armed == Armed::kFiredNotReaped) {
    pollfd entry{pair.client.get(), POLLIN, 0};
    ASSERT_EQ(::poll(&entry, 1, 100), 1) << "the peer saw nothing in 100 ms";
    char byte;
    EXPECT_LE(::recv(pair.client.get(), &byte, 1, MSG_DONTWAIT), 0);
  } else {
    EXPECT_TRUE(ReadsEofWithin(pair.client.get(), absl::Milliseconds(100)))
        << "no EOF at the peer within 100 ms of del + close";
  }
}

TEST_P(ReleaseTest, DelNeverEndsTheNextWaitEarly) {
  if (SkipUnsupportedTrigger()) GTEST_SKIP() << "poll has no edge trigger";
  SocketPair pair = MakeSocketPair();
  SocketPair other = MakeSocketPair();
  ASSERT_TRUE(poller_->add(EventObject::Client(other.left.get())).ok());
  Register(pair.left.get(), EventKind::kClient,
           [&] { ASSERT_TRUE(WriteBytes(pair.right.get())); });
  ASSERT_TRUE(poller_->del(pair.left.get()).ok());

  ExpectQuietWait("del");
}

TEST_P(ReleaseTest, ModifyNeverEndsTheNextWaitEarly) {
  if (SkipUnsupportedTrigger()) GTEST_SKIP() << "poll has no edge trigger";
  SocketPair pair = MakeSocketPair();
  Register(pair.left.get(), EventKind::kClient, [] {});
  ASSERT_TRUE(
      poller_->modify(EventObject::Server(pair.left.get()), Trigger::kLevel)
          .ok());
  ASSERT_TRUE(
      poller_->modify(EventObject::Client(pair.left.get()), GetParam().trigger)
          .ok());

  ExpectQuietWait("modify");
}

TEST_P(ReleaseTest, UntimedWaitAfterDelReturnsForTheNextRealEvent) {
  if (SkipUnsupportedTrigger()) GTEST_SKIP() << "poll has no edge trigger";
  SocketPair pair = MakeSocketPair();
  SocketPair next = MakeSocketPair();
  ASSERT_TRUE(poller_->add(EventObject::Client(next.left.get())).ok());
  Register(pair.left.get(), EventKind::kClient,
           [&] { ASSERT_TRUE(WriteBytes(pair.right.get())); });
  ASSERT_TRUE(poller_->del(pair.left.get()).ok());

  // The wait may only return once the write has happened: a flag set just
  // before the write says so without timing (a loaded machine can start the
  // thread late).
  std::atomic<bool> written{false};
  std::thread writer([&] {
    absl::SleepFor(absl::Milliseconds(50));
    written.store(true);
    WriteBytes(next.right.get());
  });
  absl::StatusOr<absl::Span<const EventObject>> events = poller_->wait();
  const bool returned_after_write = written.load();
  writer.join();
  ASSERT_TRUE(events.ok()) << events.status();
  ASSERT_EQ(events->size(), 1u) << "an untimed wait returned with nothing";
  EXPECT_EQ((*events)[0].fd, next.left.get());
  EXPECT_TRUE(returned_after_write) << "the wait returned before the write";
}

// Closing without del: what each backend's header says happens.
TEST_P(ReleaseTest, CloseWithoutDelHasTheDocumentedEffect) {
  if (SkipUnsupportedTrigger()) GTEST_SKIP() << "poll has no edge trigger";
  if (GetParam().armed != Armed::kByAWait)
    GTEST_SKIP() << "one state is enough";
  Listener listener = MakeLoopbackListener();
  const int fd = listener.fd.get();
  Register(fd, EventKind::kServer, [] {});
  listener.fd.Reset();  // closed while registered

  if (GetParam().backend == Backend::kUring) {
    // The armed poll holds the file: the socket still listens (and the
    // kernel completes connections on it) until del.
    EXPECT_TRUE(SomethingListensOn(listener.port));
    ASSERT_TRUE(poller_->del(fd).ok());
    EXPECT_FALSE(SomethingListensOn(listener.port))
        << "del must release the file of an fd closed while registered";
  } else {
    EXPECT_FALSE(SomethingListensOn(listener.port))
        << "this backend holds no reference that keeps a closed fd open";
    ASSERT_TRUE(poller_->del(fd).ok());  // and del still forgets it
  }
  EXPECT_EQ(poller_->size(), 0u);
}

::testing::internal::ParamGenerator<Case> AllCases() {
  std::vector<Case> cases;
  for (Backend backend : kAllBackends) {
    for (Trigger trigger :
         {Trigger::kLevel, Trigger::kEdge, Trigger::kOneshot}) {
      for (Armed armed :
           {Armed::kQueuedOnly, Armed::kByAWait, Armed::kFiredNotReaped}) {
        cases.push_back(Case{backend, trigger, armed});
      }
    }
  }
  return ::testing::ValuesIn(cases);
}

INSTANTIATE_TEST_SUITE_P(Backends, ReleaseTest, AllCases(), CaseName);

}  // namespace
}  // namespace pollio
