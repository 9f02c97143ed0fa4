// Copyright 2026 The pollio Authors.
//
// The readiness details a runtime branches on, over real loopback TCP on
// every backend: a peer's shutdown of writing (kReadClosed), a connection
// closed both ways (kHangup), a pending error (kError) and urgent data
// (kPriority), each reported apart and never on a healthy connection.
//
// What Linux reports, as the tests below pin it down (TCP over 127.0.0.1,
// kRW interest; kPriority interest too for the last row):
//
//   the peer                      epoll                  pollio
//   shutdown(SHUT_WR)             IN OUT RDHUP           R|W|RDHUP
//   close()                       IN OUT RDHUP           R|W|RDHUP
//   close(), then we write to it  IN OUT RDHUP HUP ERR   R|W|RDHUP|HUP|ERR
//     (its kernel answers with a reset; SO_ERROR is EPIPE)
//   close() with SO_LINGER {1,0}  IN OUT RDHUP HUP ERR   R|W|RDHUP|HUP|ERR
//     (a reset at once; SO_ERROR is ECONNRESET)
//   send(MSG_OOB) of one byte     OUT PRI                W|PRI
//     (no IN: a lone urgent byte is not in the stream)
//
// Reading SO_ERROR clears the error, and kError with it.
//
// Per backend, where they differ (each header documents it):
//   * kqueue: kHangup comes from EVFILT_WRITE's EV_EOF, so a read-only
//     registration never sees it; kPriority interest is Unimplemented.
//   * io_uring: polls the half-close whatever the interest, and reports
//     kReadClosed alone on a write-only kLevel registration whose socket is
//     not writable (tested below); it drops it in every other case.
//   * A pipe's writer closing: kHangup (POLLHUP) on epoll, poll and
//     io_uring; kReadable | kReadClosed (EV_EOF on EVFILT_READ) on kqueue.
//
// Events from the peer arrive through the kernel's network stack, possibly
// a moment after the peer's call returns, so each expectation waits (in
// short, bounded waits) for the settled set and then compares it exactly;
// every report on the way must be a subset of it.

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
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
#include "tests/backend_test.h"
#include "tests/test_util.h"

namespace pollio {
namespace {

using ::pollio::testing::Drain;
using ::pollio::testing::Stopwatch;
using ::pollio::testing::UniqueFd;

constexpr Events kRW = Events::kReadable | Events::kWritable;
constexpr Events kR = Events::kReadable;
constexpr Events kW = Events::kWritable;
constexpr Events kRC = Events::kReadClosed;
constexpr Events kH = Events::kHangup;
constexpr Events kE = Events::kError;
constexpr Events kP = Events::kPriority;

// How long a change made by the peer may take to show.
constexpr absl::Duration kSettle = absl::Seconds(5);

// A connected TCP pair over 127.0.0.1, both ends non-blocking.
struct TcpPair {
  UniqueFd ours;
  UniqueFd peer;
};

// `send_buffer` and `peer_receive_buffer`, when positive, are set (SO_SNDBUF
// on ours, SO_RCVBUF on the peer's listener, which its accepted socket
// inherits) before the connection exists, so that the window is small from
// the first segment and ours fills up quickly.
TcpPair MakeTcpPair(int send_buffer = 0, int peer_receive_buffer = 0) {
  TcpPair pair;
  UniqueFd listener(
      ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (peer_receive_buffer > 0) {
    ::setsockopt(listener.get(), SOL_SOCKET, SO_RCVBUF, &peer_receive_buffer,
                 sizeof(peer_receive_buffer));
  }
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  if (::bind(listener.get(), reinterpret_cast<sockaddr*>(&address),
             sizeof(address)) != 0 ||
      ::listen(listener.get(), 1) != 0 ||
      ::getsockname(listener.get(), reinterpret_cast<sockaddr*>(&address),
                    &length) != 0) {
    ADD_FAILURE() << "listener: " << std::strerror(errno);
    return pair;
  }
  pair.ours.Reset(
      ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (send_buffer > 0) {
    ::setsockopt(pair.ours.get(), SOL_SOCKET, SO_SNDBUF, &send_buffer,
                 sizeof(send_buffer));
  }
  if (::connect(pair.ours.get(), reinterpret_cast<sockaddr*>(&address),
                sizeof(address)) != 0 &&
      errno != EINPROGRESS) {
    ADD_FAILURE() << "connect: " << std::strerror(errno);
    return pair;
  }
  pollfd accepting{listener.get(), POLLIN, 0};
  if (::poll(&accepting, 1, 5000) != 1) {
    ADD_FAILURE() << "no connection to accept";
    return pair;
  }
  pair.peer.Reset(::accept4(listener.get(), nullptr, nullptr,
                            SOCK_NONBLOCK | SOCK_CLOEXEC));
  pollfd connecting{pair.ours.get(), POLLOUT, 0};
  if (pair.peer.get() < 0 || ::poll(&connecting, 1, 5000) != 1) {
    ADD_FAILURE() << "connection not established: " << std::strerror(errno);
  }
  return pair;
}

// Reads and clears the socket's pending error (and with it kError).
int TakeSocketError(int fd) {
  int error = 0;
  socklen_t length = sizeof(error);
  if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) != 0) {
    return errno;
  }
  return error;
}

// Sends into `fd` until the kernel takes no more: EAGAIN, and still EAGAIN
// after the data in flight has had a moment to move into the peer's buffer.
// Returns the bytes sent (bounded: at most 64 MiB).
long FillSendBuffer(int fd) {
  const std::string chunk(16384, 'f');
  long total = 0;
  int idle_rounds = 0;
  for (int round = 0; round < 1000 && idle_rounds < 3; ++round) {
    long sent_this_round = 0;
    for (int i = 0; i < 4096 && total < (64l << 20); ++i) {
      const ssize_t sent =
          ::send(fd, chunk.data(), chunk.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      if (sent <= 0) break;
      sent_this_round += sent;
    }
    total += sent_this_round;
    idle_rounds = sent_this_round == 0 ? idle_rounds + 1 : 0;
    ::usleep(5000);
  }
  return total;
}

// Whether `fd` shows all of `mask` to a bare poll(2) within `limit`: the
// test's own witness that something sent by the peer has arrived.
bool Arrived(int fd, short mask, absl::Duration limit = kSettle) {
  Stopwatch clock;
  while (clock.Elapsed() < limit) {
    pollfd entry{fd, mask, 0};
    if (::poll(&entry, 1, 10) == 1 && (entry.revents & mask) == mask) {
      return true;
    }
  }
  return false;
}

class ReadinessTest : public ::pollio::testing::BackendTest {
 protected:
  bool IsKqueue() const { return GetParam() == Backend::kKqueue; }
  bool IsUring() const { return GetParam() == Backend::kUring; }

  // kqueue takes no kPriority interest; elsewhere add it, to check that it
  // stays silent where there is no urgent data.
  Events WithPriority(Events interest) const {
    return IsKqueue() ? interest : interest | kP;
  }

  // What `fd` reports in one wait of up to `timeout` (kNone if nothing).
  Events Once(Poller& poller, int fd,
              absl::Duration timeout = absl::ZeroDuration()) {
    absl::StatusOr<absl::Span<const EventObject>> events = poller.wait(timeout);
    EXPECT_TRUE(events.ok()) << events.status();
    Events out = Events::kNone;
    if (!events.ok()) return out;
    for (const EventObject& ev : *events) {
      if (ev.fd == fd) out |= ev.events;
    }
    return out;
  }

  // Waits, 20 ms at a time and for at most kSettle, until `fd` reports
  // exactly `want`; returns the last report (kNone if none). Every report
  // before it must be a subset of `want`.
  Events Await(Poller& poller, int fd, Events want) {
    Stopwatch clock;
    Events got = Events::kNone;
    while (clock.Elapsed() < kSettle) {
      got = Once(poller, fd, absl::Milliseconds(20));
      if (got == want) break;
      if (got == Events::kNone) continue;
      EXPECT_TRUE(Has(want, got))
          << "on the way to " << EventsName(want) << ": " << EventsName(got);
    }
    return got;
  }
};

#define EXPECT_EVENTS(actual, expected) \
  EXPECT_EQ(EventsName(actual), EventsName(expected))

TEST_P(ReadinessTest, HealthyConnectionReportsNoConditionBits) {
  TcpPair pair = MakeTcpPair();
  const int fd = pair.ours.get();
  ASSERT_TRUE(poller()
                  .add(EventObject{fd, EventKind::kClient, WithPriority(kRW)})
                  .ok());
  EXPECT_EVENTS(Once(poller(), fd), kW);
  // Bytes both ways, with every report read back: only R and W, ever.
  char buffer[4096];
  for (int round = 0; round < 50; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    ASSERT_EQ(::send(pair.peer.get(), "ping", 4, MSG_NOSIGNAL), 4);
    EXPECT_EVENTS(Await(poller(), fd, kRW), kRW);
    EXPECT_EQ(::read(fd, buffer, sizeof(buffer)), 4);
    EXPECT_EVENTS(Once(poller(), fd), kW);
    ASSERT_EQ(::send(fd, "pong", 4, MSG_NOSIGNAL), 4);
    ASSERT_TRUE(Arrived(pair.peer.get(), POLLIN));
    EXPECT_EQ(::read(pair.peer.get(), buffer, sizeof(buffer)), 4);
  }
}

TEST_P(ReadinessTest, PeerShutdownOfWritingIsReadClosedNotHangup) {
  TcpPair pair = MakeTcpPair();
  const int fd = pair.ours.get();
  ASSERT_TRUE(poller()
                  .add(EventObject{fd, EventKind::kClient, WithPriority(kRW)})
                  .ok());
  ASSERT_EQ(::send(pair.peer.get(), "last", 4, MSG_NOSIGNAL), 4);
  ASSERT_EQ(::shutdown(pair.peer.get(), SHUT_WR), 0);
  EXPECT_EVENTS(Await(poller(), fd, kRW | kRC), kRW | kRC);
  // Data first, then EOF; read-closed throughout, never hung up: we can
  // still send, and the peer still reads.
  char buffer[16];
  EXPECT_EQ(::read(fd, buffer, sizeof(buffer)), 4);
  EXPECT_EVENTS(Once(poller(), fd), kRW | kRC);
  EXPECT_EQ(::read(fd, buffer, sizeof(buffer)), 0);
  EXPECT_EVENTS(Once(poller(), fd, absl::Milliseconds(50)), kRW | kRC);
  ASSERT_EQ(::send(fd, "reply", 5, MSG_NOSIGNAL), 5);
  ASSERT_TRUE(Arrived(pair.peer.get(), POLLIN));
  EXPECT_EQ(::read(pair.peer.get(), buffer, sizeof(buffer)), 5);
  EXPECT_EVENTS(Once(poller(), fd, absl::Milliseconds(50)), kRW | kRC);

  ASSERT_TRUE(poller().modify(EventObject::Client(fd)).ok());
  EXPECT_EVENTS(Once(poller(), fd), kR | kRC);
}

TEST_P(ReadinessTest, EdgeReportsTheHalfCloseOnce) {
  if (!HasEdge()) GTEST_SKIP() << "no edge trigger on this backend";
  TcpPair pair = MakeTcpPair();
  const int fd = pair.ours.get();
  ASSERT_TRUE(poller().add(EventObject::Client(fd), Trigger::kEdge).ok());
  EXPECT_EVENTS(Once(poller(), fd), Events::kNone);
  ASSERT_EQ(::shutdown(pair.peer.get(), SHUT_WR), 0);
  EXPECT_EVENTS(Await(poller(), fd, kR | kRC), kR | kRC);
  EXPECT_EVENTS(Once(poller(), fd, absl::Milliseconds(50)), Events::kNone);
}

// A write-only registration has no business with the read side: the peer's
// half-close leaves it reporting writable and nothing else, on every
// backend (io_uring polls for the half-close anyway and drops it).
TEST_P(ReadinessTest, WriteOnlyRegistrationSeesNoReadClosed) {
  TcpPair pair = MakeTcpPair();
  const int fd = pair.ours.get();
  const EventObject writer{fd, EventKind::kClient, kW};
  ASSERT_TRUE(poller().add(writer).ok());
  EXPECT_EVENTS(Once(poller(), fd), kW);
  ASSERT_EQ(::shutdown(pair.peer.get(), SHUT_WR), 0);
  ASSERT_TRUE(Arrived(fd, POLLIN));  // the FIN: EOF is readable
  for (int i = 0; i < 3; ++i) EXPECT_EVENTS(Once(poller(), fd), kW);

  if (!HasEdge()) return;
  ASSERT_TRUE(poller().modify(writer, Trigger::kEdge).ok());
  // The re-registration is an edge (writable now); nothing after it.
  EXPECT_EVENTS(Once(poller(), fd), kW);
  EXPECT_EVENTS(Once(poller(), fd, absl::Milliseconds(50)), Events::kNone);
}

// The one case io_uring cannot drop: a write-only kLevel registration whose
// send buffer is full when the peer shuts down writing completes on the
// half-close alone. io_uring reports kReadClosed alone then (dropping it
// would leave the fd unwatched, and the room the writer waits for would go
// unreported); epoll, poll and kqueue stay silent. Under kEdge every backend
// stays silent. Once the peer reads, every backend reports writable, without
// kReadClosed.
TEST_P(ReadinessTest, WriteOnlyWithAFullBufferWhenThePeerHalfCloses) {
  for (const Trigger trigger : {Trigger::kLevel, Trigger::kEdge}) {
    if (trigger == Trigger::kEdge && !HasEdge()) continue;
    SCOPED_TRACE(TriggerName(trigger));
    std::unique_ptr<Poller> poller = Make(PollerOptions{});
    ASSERT_NE(poller, nullptr);
    TcpPair pair = MakeTcpPair(/*send_buffer=*/4096,
                               /*peer_receive_buffer=*/4096);
    const int fd = pair.ours.get();
    ASSERT_GT(FillSendBuffer(fd), 0);
    ASSERT_TRUE(
        poller->add(EventObject{fd, EventKind::kClient, kW}, trigger).ok());
    EXPECT_EVENTS(Once(*poller, fd, absl::Milliseconds(20)), Events::kNone);

    ASSERT_EQ(::shutdown(pair.peer.get(), SHUT_WR), 0);
    ASSERT_TRUE(Arrived(fd, POLLIN));  // the FIN: EOF is readable
    const Events alone =
        IsUring() && trigger == Trigger::kLevel ? kRC : Events::kNone;
    for (int i = 0; i < 3; ++i) {
      EXPECT_EVENTS(Once(*poller, fd, absl::Milliseconds(20)), alone);
    }

    // Room again: the peer starts reading while we block in wait, which
    // must end soon after, not at its timeout: the fd is being watched.
    std::atomic<bool> writable_seen{false};
    std::thread peer_reader([&] {
      ::usleep(100 * 1000);
      Stopwatch reading;
      while (!writable_seen.load() && reading.Elapsed() < kSettle) {
        Drain(pair.peer.get());
        ::usleep(5 * 1000);
      }
    });
    Stopwatch clock;
    Events got = Events::kNone;
    while (got != kW && clock.Elapsed() < kSettle) {
      got = Once(*poller, fd, kSettle);
      EXPECT_TRUE(got == kW || got == alone) << EventsName(got);
    }
    writable_seen.store(true);
    peer_reader.join();
    EXPECT_EVENTS(got, kW);
    EXPECT_LT(clock.Elapsed(), absl::Seconds(2));
  }
}

// A close of a TCP connection is a FIN, like a shutdown of writing: the
// read side is closed, nothing else yet. Writing into it makes the peer's
// kernel answer with a reset; then the connection is gone both ways, with
// EPIPE pending.
TEST_P(ReadinessTest, PeerCloseIsReadClosedUntilAWriteDrawsAReset) {
  TcpPair pair = MakeTcpPair();
  const int fd = pair.ours.get();
  ASSERT_TRUE(poller()
                  .add(EventObject{fd, EventKind::kClient, WithPriority(kRW)})
                  .ok());
  pair.peer.Reset();
  EXPECT_EVENTS(Await(poller(), fd, kRW | kRC), kRW | kRC);
  EXPECT_EVENTS(Once(poller(), fd, absl::Milliseconds(50)), kRW | kRC);

  ASSERT_EQ(::send(fd, "x", 1, MSG_NOSIGNAL), 1);  // taken; the RST follows
  const Events reset = kRW | kRC | kH | kE;
  EXPECT_EVENTS(Await(poller(), fd, reset), reset);
  EXPECT_EVENTS(Once(poller(), fd), reset);  // level: it stays

  // Read interest only: kqueue's kHangup needs the write filter.
  ASSERT_TRUE(poller().modify(EventObject::Client(fd)).ok());
  EXPECT_EVENTS(Once(poller(), fd),
                IsKqueue() ? kR | kRC | kE : kR | kRC | kH | kE);

  EXPECT_EQ(TakeSocketError(fd), EPIPE);
  EXPECT_EVENTS(Once(poller(), fd), IsKqueue() ? kR | kRC : kR | kRC | kH);
  ASSERT_TRUE(poller().modify(EventObject{fd, EventKind::kClient, kRW}).ok());
  EXPECT_EVENTS(Once(poller(), fd), kRW | kRC | kH);
}

// SO_LINGER {1, 0}: the peer's close sends a reset at once.
TEST_P(ReadinessTest, PeerResetIsErrorAndHangup) {
  TcpPair pair = MakeTcpPair();
  const int fd = pair.ours.get();
  ASSERT_TRUE(poller()
                  .add(EventObject{fd, EventKind::kClient, WithPriority(kRW)})
                  .ok());
  const linger reset_on_close{1, 0};
  ASSERT_EQ(::setsockopt(pair.peer.get(), SOL_SOCKET, SO_LINGER,
                         &reset_on_close, sizeof(reset_on_close)),
            0);
  pair.peer.Reset();
  const Events reset = kRW | kRC | kH | kE;
  EXPECT_EVENTS(Await(poller(), fd, reset), reset);
  EXPECT_EVENTS(Once(poller(), fd), reset);

  ASSERT_TRUE(poller().modify(EventObject::Client(fd)).ok());
  EXPECT_EVENTS(Once(poller(), fd),
                IsKqueue() ? kR | kRC | kE : kR | kRC | kH | kE);
  const EventObject writer{fd, EventKind::kClient, kW};
  ASSERT_TRUE(poller().modify(writer).ok());
  // Without read interest there is no kReadClosed, on io_uring too (it
  // comes with other bits here, so it is dropped).
  EXPECT_EVENTS(Once(poller(), fd), kW | kH | kE);

  EXPECT_EQ(TakeSocketError(fd), ECONNRESET);
  EXPECT_EVENTS(Once(poller(), fd), kW | kH);
  char byte;
  EXPECT_EQ(::read(fd, &byte, 1), 0);  // the error is taken: plain EOF
}

// Urgent data is kPriority, with kPriority interest and only with it. A lone
// urgent byte is not readable (it is outside the stream), so a read-only
// registration sees nothing at all.
TEST_P(ReadinessTest, UrgentDataIsPriorityOnlyWithPriorityInterest) {
  TcpPair pair = MakeTcpPair();
  const int fd = pair.ours.get();
  const absl::Status priority =
      poller().add(EventObject{fd, EventKind::kClient, kP});
  if (IsKqueue()) {
    EXPECT_EQ(priority.code(), absl::StatusCode::kUnimplemented) << priority;
    EXPECT_EQ(poller().size(), 0u);
    EXPECT_EQ(
        poller().add(EventObject{fd, EventKind::kClient, kRW | kP}).code(),
        absl::StatusCode::kUnimplemented);
  } else {
    ASSERT_TRUE(priority.ok()) << priority;
  }
  std::unique_ptr<Poller> reader = Make(PollerOptions{});
  ASSERT_NE(reader, nullptr);
  ASSERT_TRUE(reader->add(EventObject{fd, EventKind::kClient, kRW}).ok());
  EXPECT_EVENTS(Once(*reader, fd), kW);

  ASSERT_EQ(::send(pair.peer.get(), "!", 1, MSG_OOB), 1);
  ASSERT_TRUE(Arrived(fd, POLLPRI));
  EXPECT_EVENTS(Once(*reader, fd), kW);
  char byte = 0;
  if (!IsKqueue()) {
    EXPECT_EVENTS(Once(poller(), fd), kP);
    EXPECT_EVENTS(Once(poller(), fd), kP);  // level: until it is read
    ASSERT_EQ(::recv(fd, &byte, 1, MSG_OOB), 1);
    EXPECT_EQ(byte, '!');
    EXPECT_EVENTS(Once(poller(), fd), Events::kNone);
  } else {
    ASSERT_EQ(::recv(fd, &byte, 1, MSG_OOB), 1);
  }

  // Ordinary data before the next urgent byte: readable and priority.
  ASSERT_EQ(::send(pair.peer.get(), "abc", 3, MSG_NOSIGNAL), 3);
  ASSERT_EQ(::send(pair.peer.get(), "?", 1, MSG_OOB), 1);
  ASSERT_TRUE(Arrived(fd, POLLIN | POLLPRI));
  EXPECT_EVENTS(Once(*reader, fd), kRW);
  if (IsKqueue()) return;
  ASSERT_TRUE(
      poller().modify(EventObject{fd, EventKind::kClient, kRW | kP}).ok());
  EXPECT_EVENTS(Once(poller(), fd), kRW | kP);
  ASSERT_EQ(::recv(fd, &byte, 1, MSG_OOB), 1);
  EXPECT_EQ(byte, '?');
  EXPECT_EVENTS(Once(poller(), fd), kRW);  // urgent byte taken: no kPriority
}

// Ordinary data on a read | priority registration is kReadable alone, also
// when it arrives while the poll waits (no write interest, which would
// complete it at once). io_uring completes such a poll with the wake-up's
// key, and sock_def_readable wakes readers with EPOLLIN | EPOLLPRI for any
// data: the backend asks the socket before it reports kPriority. Found by
// the fuzzer (tests/fuzz) on a socketpair; TCP wakes the same way.
TEST_P(ReadinessTest, OrdinaryDataIsNotPriority) {
  if (IsKqueue()) GTEST_SKIP() << "no kPriority interest on kqueue";
  TcpPair pair = MakeTcpPair();
  const int fd = pair.ours.get();
  ASSERT_TRUE(poller().add(EventObject{fd, EventKind::kClient, kR | kP}).ok());
  EXPECT_EVENTS(Once(poller(), fd), Events::kNone);  // armed, waiting
  char buffer[16];
  for (int round = 0; round < 20; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    ASSERT_EQ(::send(pair.peer.get(), "data", 4, MSG_NOSIGNAL), 4);
    EXPECT_EVENTS(Await(poller(), fd, kR), kR);
    EXPECT_EQ(::read(fd, buffer, sizeof(buffer)), 4);
    EXPECT_EVENTS(Once(poller(), fd), Events::kNone);
  }
  // Urgent data arriving while the poll waits is still kPriority (with
  // kReadable too on io_uring: the wake-up's key; readiness is a hint).
  ASSERT_EQ(::send(pair.peer.get(), "!", 1, MSG_OOB), 1);
  ASSERT_TRUE(Arrived(fd, POLLPRI));
  const Events urgent = Once(poller(), fd, absl::Milliseconds(50));
  EXPECT_TRUE(Has(urgent, kP)) << EventsName(urgent);
  char byte = 0;
  ASSERT_EQ(::recv(fd, &byte, 1, MSG_OOB), 1);
  EXPECT_EVENTS(Once(poller(), fd), Events::kNone);
}

// A pipe has one direction, so its writer's close is a hangup to the
// kernels that say POLLHUP, and a read-side EOF to kqueue. Either answers
// "the peer will send no more".
TEST_P(ReadinessTest, PipeWriterCloseIsHangupOrReadClosedByBackend) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  UniqueFd read_end(fds[0]);
  UniqueFd write_end(fds[1]);
  ASSERT_EQ(::fcntl(read_end.get(), F_SETFL, O_NONBLOCK), 0);
  ASSERT_TRUE(poller().add(EventObject::Client(read_end.get())).ok());
  EXPECT_EVENTS(Once(poller(), read_end.get()), Events::kNone);
  write_end.Reset();
  const Events got = Once(poller(), read_end.get(), absl::Seconds(5));
  EXPECT_TRUE(HasAny(got, kRC | kH)) << EventsName(got);
  EXPECT_EVENTS(got, IsKqueue() ? kR | kRC : kH);
}

INSTANTIATE_TEST_SUITE_P(Backends, ReadinessTest,
                         ::testing::ValuesIn(::pollio::kAllBackends),
                         ::pollio::testing::BackendTestName());

}  // namespace
}  // namespace pollio
