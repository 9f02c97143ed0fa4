// Copyright 2026 The pollio Authors.
//
// Triggers and readiness, a topic of the conformance suite (fixture:
// tests/conformance.h; every backend). Readiness under each trigger: level,
// edge and oneshot; readable and writable merged; peer close, shutdown and
// errors.

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "event/event.h"
#include "gtest/gtest.h"
#include "poller/poller.h"
#include "tests/conformance.h"
#include "tests/test_util.h"

namespace pollio {
namespace {

using ::pollio::testing::ConformanceTest;
using ::pollio::testing::Drain;
using ::pollio::testing::ExpectEvents;
using ::pollio::testing::ExpectNoEvents;
using ::pollio::testing::kRW;
using ::pollio::testing::MakeSocketPair;
using ::pollio::testing::OnFreshThread;
using ::pollio::testing::SocketPair;
using ::pollio::testing::Stopwatch;
using ::pollio::testing::UniqueFd;
using ::pollio::testing::WaitEvents;
using ::pollio::testing::WriteBytes;

TEST_P(ConformanceTest, ReadableAfterWriteAndNotAfterDrain) {
  SocketPair pair = MakeSocketPair();
  ASSERT_TRUE(poller().add(EventObject::Client(pair.left.get())).ok());
  EXPECT_EQ(poller().size(), 1u);
  ExpectNoEvents(poller());

  ASSERT_TRUE(WriteBytes(pair.right.get(), 3));
  ExpectEvents(poller(), {EventObject::Client(pair.left.get())});
  // Level: still reported while data is left.
  ExpectEvents(poller(), {EventObject::Client(pair.left.get())});

  EXPECT_EQ(Drain(pair.left.get()), 3);
  ExpectNoEvents(poller());
}

TEST_P(ConformanceTest, WritableOnAFreshSocket) {
  SocketPair pair = MakeSocketPair();
  const EventObject writer{pair.left.get(), EventKind::kClient,
                           Events::kWritable};
  ASSERT_TRUE(poller().add(writer).ok());
  ExpectEvents(poller(), {writer});
}

TEST_P(ConformanceTest, ReadAndWriteInterestMergeIntoOneEntry) {
  SocketPair pair = MakeSocketPair();
  const EventObject both{pair.left.get(), EventKind::kClient, kRW};
  ASSERT_TRUE(poller().add(both).ok());
  ExpectEvents(poller(), {EventObject{pair.left.get(), EventKind::kClient,
                                      Events::kWritable}});
  ASSERT_TRUE(WriteBytes(pair.right.get()));
  ExpectEvents(poller(), {both});
}

TEST_P(ConformanceTest, EdgeFiresOncePerNewData) {
  SocketPair pair = MakeSocketPair();
  const EventObject client = EventObject::Client(pair.left.get());
  const absl::Status added = poller().add(client, Trigger::kEdge);
  if (!HasEdge()) {
    EXPECT_EQ(added.code(), absl::StatusCode::kUnimplemented) << added;
    EXPECT_EQ(poller().size(), 0u);
    return;
  }
  ASSERT_TRUE(added.ok()) << added;
  ExpectNoEvents(poller());
  ASSERT_TRUE(WriteBytes(pair.right.get()));
  ExpectEvents(poller(), {client});
  ExpectNoEvents(poller());  // still readable, but no new edge
  ASSERT_TRUE(WriteBytes(pair.right.get()));
  ExpectEvents(poller(), {client});
  ExpectNoEvents(poller());
}

TEST_P(ConformanceTest, OneshotFiresOnceUntilModifyRearms) {
  SocketPair pair = MakeSocketPair();
  const EventObject client = EventObject::Client(pair.left.get());
  ASSERT_TRUE(poller().add(client, Trigger::kOneshot).ok());
  ASSERT_TRUE(WriteBytes(pair.right.get()));
  ExpectEvents(poller(), {client});
  ExpectNoEvents(poller());
  ASSERT_TRUE(WriteBytes(pair.right.get()));
  ExpectNoEvents(poller());
  EXPECT_EQ(poller().size(), 1u);  // disarmed, still registered

  ASSERT_TRUE(poller().modify(client, Trigger::kOneshot).ok());
  ExpectEvents(poller(), {client});
  ExpectNoEvents(poller());
}

TEST_P(ConformanceTest, OneshotWithBothInterestsReportsOnceInAll) {
  // Readable first, writable later: the interest that did not fire stays
  // silent until modify, and does not end a later wait early either. On a
  // fresh thread, as a timed wait must be (see TimeoutIsNotCutShort).
  OnFreshThread([&] {
    std::unique_ptr<Poller> poller = Make(PollerOptions{});
    ASSERT_NE(poller, nullptr);
    SocketPair pair = MakeSocketPair();
    const int fd = pair.left.get();
    const EventObject both{fd, EventKind::kClient, kRW};
    const std::string chunk(65536, 'y');
    while (::send(fd, chunk.data(), chunk.size(), MSG_NOSIGNAL) > 0) {
    }
    ASSERT_TRUE(poller->add(both, Trigger::kOneshot).ok());
    ASSERT_TRUE(WriteBytes(pair.right.get()));
    ExpectEvents(*poller, {EventObject::Client(fd)});  // readable only

    Drain(pair.right.get());  // now writable too
    const absl::Duration timeout = absl::Milliseconds(50);
    Stopwatch stopwatch;
    ExpectEvents(*poller, {}, timeout);
    EXPECT_GE(stopwatch.Elapsed(), timeout);

    ASSERT_TRUE(poller->modify(both, Trigger::kOneshot).ok());
    ExpectEvents(*poller, {both});
    ExpectNoEvents(*poller);
  });
}

// Closing one end of an AF_UNIX stream pair shuts the other end both ways
// at once (the kernel sets both shutdown bits on the survivor), so it is
// read-closed and hung up together. tests/readiness_test.cc covers TCP,
// where a close alone is only a read-side close.
TEST_P(ConformanceTest, PeerCloseGivesReadClosedAndHangup) {
  SocketPair pair = MakeSocketPair();
  const int fd = pair.left.get();
  ASSERT_TRUE(poller().add(EventObject{fd, EventKind::kClient, kRW}).ok());
  pair.right.Reset();
  ExpectEvents(poller(),
               {EventObject{fd, EventKind::kClient,
                            kRW | Events::kReadClosed | Events::kHangup}});
  // With read interest only, kqueue's read filter cannot tell a close from
  // a half-close (its kHangup comes from EVFILT_WRITE).
  ASSERT_TRUE(poller().modify(EventObject::Client(fd)).ok());
  const Events read_only =
      GetParam() == Backend::kKqueue
          ? Events::kReadable | Events::kReadClosed
          : Events::kReadable | Events::kReadClosed | Events::kHangup;
  ExpectEvents(poller(), {EventObject{fd, EventKind::kClient, read_only}});
}

// A shutdown of writing closes only the read side here: read-closed,
// readable (EOF) and still writable, but not hung up. Without read interest
// there is nothing to report but writable, on io_uring too (which polls for
// the half-close whatever the interest, and drops it).
TEST_P(ConformanceTest, PeerShutdownOfWritingGivesReadClosedNotHangup) {
  SocketPair pair = MakeSocketPair();
  const int fd = pair.left.get();
  ASSERT_TRUE(poller().add(EventObject{fd, EventKind::kClient, kRW}).ok());
  ASSERT_EQ(::shutdown(pair.right.get(), SHUT_WR), 0);
  ExpectEvents(poller(), {EventObject{fd, EventKind::kClient,
                                      kRW | Events::kReadClosed}});
  ASSERT_TRUE(poller().modify(EventObject::Client(fd)).ok());
  ExpectEvents(poller(),
               {EventObject{fd, EventKind::kClient,
                            Events::kReadable | Events::kReadClosed}});
  const EventObject writer{fd, EventKind::kClient, Events::kWritable};
  ASSERT_TRUE(poller().modify(writer).ok());
  ExpectEvents(poller(), {writer});
}

TEST_P(ConformanceTest, RefusedConnectGivesError) {
  // A port with no listener: take one from a listener, then close it.
  int port;
  {
    ::pollio::testing::Listener listener =
        ::pollio::testing::MakeLoopbackListener();
    port = listener.port;
  }
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<uint16_t>(port));
  const int rc = ::connect(fd.get(), reinterpret_cast<sockaddr*>(&address),
                           sizeof(address));
  ASSERT_TRUE(rc == 0 || errno == EINPROGRESS || errno == ECONNREFUSED);
  ASSERT_TRUE(
      poller()
          .add(EventObject{fd.get(), EventKind::kClient, Events::kWritable})
          .ok());
  const std::vector<EventObject> events =
      WaitEvents(poller(), absl::Seconds(5));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_TRUE(Has(events[0].events, Events::kError)) << events[0];
}

TEST_P(ConformanceTest, ListenerBecomesReadableOnConnect) {
  ::pollio::testing::Listener listener =
      ::pollio::testing::MakeLoopbackListener();
  ASSERT_TRUE(poller().add(EventObject::Server(listener.fd.get())).ok());
  ExpectNoEvents(poller());
  UniqueFd client = ::pollio::testing::ConnectLoopback(listener.port);
  ExpectEvents(poller(), {EventObject::Server(listener.fd.get())},
               absl::Seconds(5));
}

}  // namespace
}  // namespace pollio
