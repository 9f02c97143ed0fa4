// Copyright 2026 The pollio Authors.
//
// The BSD semantics the kqueue emulation promises (see sys/event.h), checked
// directly through kqueue() and kevent().

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/event.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace {

struct Pair {
  int left = -1;
  int right = -1;
  Pair() {
    int fds[2];
    ::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds);
    left = fds[0];
    right = fds[1];
  }
  ~Pair() {
    if (left >= 0) ::close(left);
    if (right >= 0) ::close(right);
  }
};

class KqueueEmulationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    kq_ = kqueue();
    ASSERT_GE(kq_, 0);
  }
  void TearDown() override { ::close(kq_); }

  // Applies one change with EV_RECEIPT; returns its errno (0 for success).
  int Change(uintptr_t ident, int16_t filter, uint16_t flags,
             uint32_t fflags = 0, void* udata = nullptr) {
    struct kevent change;
    EV_SET(&change, ident, filter, flags | EV_RECEIPT, fflags, 0, udata);
    struct kevent receipt {};
    const int n = kevent(kq_, &change, 1, &receipt, 1, nullptr);
    EXPECT_EQ(n, 1);
    EXPECT_TRUE(receipt.flags & EV_ERROR);
    return static_cast<int>(receipt.data);
  }

  // Events available now (zero timeout).
  std::vector<struct kevent> Poll(int capacity = 16) {
    std::vector<struct kevent> events(static_cast<std::size_t>(capacity));
    const timespec zero{0, 0};
    const int n = kevent(kq_, nullptr, 0, events.data(), capacity, &zero);
    EXPECT_GE(n, 0);
    events.resize(static_cast<std::size_t>(n < 0 ? 0 : n));
    return events;
  }

  int kq_ = -1;
};

TEST_F(KqueueEmulationTest, ReceiptsAndErrorsPerChange) {
  Pair pair;
  int tag = 0;
  EXPECT_EQ(Change(pair.left, EVFILT_READ, EV_ADD, 0, &tag), 0);
  EXPECT_EQ(Change(pair.left, EVFILT_WRITE, EV_DELETE), ENOENT);
  EXPECT_EQ(Change(pair.left, EVFILT_WRITE, EV_ENABLE), ENOENT);
  EXPECT_EQ(Change(12345, EVFILT_READ, EV_ADD), EBADF);
  EXPECT_EQ(Change(7, EVFILT_USER, EV_DELETE), ENOENT);
  EXPECT_EQ(Change(pair.left, EVFILT_READ, EV_DELETE), 0);
  EXPECT_EQ(Change(pair.left, EVFILT_READ, EV_DELETE), ENOENT);
}

TEST_F(KqueueEmulationTest, FailingChangeWithoutRoomReturnsMinusOne) {
  struct kevent change;
  EV_SET(&change, 3, EVFILT_READ, EV_DELETE, 0, 0, nullptr);
  errno = 0;
  EXPECT_EQ(kevent(kq_, &change, 1, nullptr, 0, nullptr), -1);
  EXPECT_EQ(errno, ENOENT);
}

TEST_F(KqueueEmulationTest, AddOfAnExistingRegistrationModifiesIt) {
  Pair pair;
  int first = 1;
  int second = 2;
  ASSERT_EQ(Change(pair.left, EVFILT_READ, EV_ADD, 0, &first), 0);
  ASSERT_EQ(Change(pair.left, EVFILT_READ, EV_ADD, 0, &second), 0);
  ASSERT_EQ(::write(pair.right, "x", 1), 1);
  const std::vector<struct kevent> events = Poll();
  ASSERT_EQ(events.size(), 1u);  // one registration, not two
  EXPECT_EQ(events[0].udata, &second);
  EXPECT_EQ(events[0].data, 1);  // bytes readable
}

TEST_F(KqueueEmulationTest, LevelClearOneshotAndDispatch) {
  Pair level, clear, oneshot, dispatch;
  ASSERT_EQ(Change(level.left, EVFILT_READ, EV_ADD), 0);
  ASSERT_EQ(Change(clear.left, EVFILT_READ, EV_ADD | EV_CLEAR), 0);
  ASSERT_EQ(Change(oneshot.left, EVFILT_READ, EV_ADD | EV_ONESHOT), 0);
  ASSERT_EQ(Change(dispatch.left, EVFILT_READ, EV_ADD | EV_DISPATCH), 0);
  for (Pair* pair : {&level, &clear, &oneshot, &dispatch}) {
    ASSERT_EQ(::write(pair->right, "x", 1), 1);
  }
  EXPECT_EQ(Poll().size(), 4u);
  // Still readable: only the level registration reports again.
  std::vector<struct kevent> events = Poll();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].ident, static_cast<uintptr_t>(level.left));
  // New data: clear reports again; oneshot is gone, dispatch disabled.
  for (Pair* pair : {&clear, &oneshot, &dispatch}) {
    ASSERT_EQ(::write(pair->right, "y", 1), 1);
  }
  events = Poll();
  ASSERT_EQ(events.size(), 2u);  // level and clear
  EXPECT_EQ(Change(oneshot.left, EVFILT_READ, EV_DELETE), ENOENT);
  ASSERT_EQ(Change(dispatch.left, EVFILT_READ, EV_ENABLE), 0);
  events = Poll();
  ASSERT_EQ(events.size(), 2u);  // level and the re-enabled dispatch
}

TEST_F(KqueueEmulationTest, ReadAndWriteFiltersReportSeparately) {
  Pair pair;
  ASSERT_EQ(Change(pair.left, EVFILT_READ, EV_ADD), 0);
  ASSERT_EQ(Change(pair.left, EVFILT_WRITE, EV_ADD), 0);
  ASSERT_EQ(::write(pair.right, "x", 1), 1);
  const std::vector<struct kevent> events = Poll();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_NE(events[0].filter, events[1].filter);
}

TEST_F(KqueueEmulationTest, PeerCloseSetsEof) {
  Pair pair;
  ASSERT_EQ(Change(pair.left, EVFILT_READ, EV_ADD), 0);
  ::close(pair.right);
  pair.right = -1;
  const std::vector<struct kevent> events = Poll();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_TRUE(events[0].flags & EV_EOF);
}

// BSD's EV_EOF is per filter: the read filter's says the peer will send no
// more, the write filter's that nothing more can be sent.
TEST_F(KqueueEmulationTest, HalfCloseSetsEofOnTheReadFilterOnly) {
  Pair pair;
  ASSERT_EQ(Change(pair.left, EVFILT_READ, EV_ADD), 0);
  ASSERT_EQ(Change(pair.left, EVFILT_WRITE, EV_ADD), 0);
  ASSERT_EQ(::shutdown(pair.right, SHUT_WR), 0);
  std::vector<struct kevent> events = Poll();
  ASSERT_EQ(events.size(), 2u);
  for (const struct kevent& event : events) {
    EXPECT_EQ((event.flags & EV_EOF) != 0, event.filter == EVFILT_READ)
        << "filter " << event.filter;
    EXPECT_EQ(event.fflags, 0u);
  }
  // A close shuts an AF_UNIX stream both ways: both filters see EV_EOF.
  ::close(pair.right);
  pair.right = -1;
  events = Poll();
  ASSERT_EQ(events.size(), 2u);
  for (const struct kevent& event : events) {
    EXPECT_TRUE(event.flags & EV_EOF) << "filter " << event.filter;
  }
}

// A refused connect: the error shows in fflags on both filters and in every
// poll, and stays pending for the caller's getsockopt, as on BSD.
TEST_F(KqueueEmulationTest, SocketErrorSetsFflagsAndStaysPending) {
  const int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(listener, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  ASSERT_EQ(
      ::bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof(address)),
      0);
  ASSERT_EQ(
      ::getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length),
      0);
  ::close(listener);  // nothing listens on that port now
  const int fd =
      ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  const int rc =
      ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
  ASSERT_TRUE(rc != 0 && errno == EINPROGRESS) << std::strerror(errno);
  ASSERT_EQ(Change(fd, EVFILT_READ, EV_ADD), 0);
  ASSERT_EQ(Change(fd, EVFILT_WRITE, EV_ADD), 0);
  std::vector<struct kevent> events;
  for (int i = 0; i < 100 && events.size() < 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    events = Poll();
  }
  for (int round = 0; round < 2; ++round) {
    ASSERT_EQ(events.size(), 2u) << "round " << round;
    for (const struct kevent& event : events) {
      EXPECT_TRUE(event.flags & EV_EOF) << "filter " << event.filter;
      EXPECT_NE(event.fflags, 0u) << "filter " << event.filter;
    }
    events = Poll();
  }
  int error = 0;
  length = sizeof(error);
  ASSERT_EQ(::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length), 0);
  EXPECT_EQ(error, ECONNREFUSED);
  ::close(fd);
}

TEST_F(KqueueEmulationTest, UserEventTriggeredFromAnotherThread) {
  int tag = 0;
  ASSERT_EQ(Change(1, EVFILT_USER, EV_ADD | EV_CLEAR, 0, &tag), 0);
  std::thread trigger([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    struct kevent change;
    EV_SET(&change, 1, EVFILT_USER, 0, NOTE_TRIGGER, 0, nullptr);
    EXPECT_EQ(kevent(kq_, &change, 1, nullptr, 0, nullptr), 0);
  });
  struct kevent event {};
  const timespec limit{10, 0};
  const int n = kevent(kq_, nullptr, 0, &event, 1, &limit);
  trigger.join();
  ASSERT_EQ(n, 1);
  EXPECT_EQ(event.filter, EVFILT_USER);
  EXPECT_EQ(event.udata, &tag);
  EXPECT_TRUE(Poll().empty());  // EV_CLEAR: reset once retrieved
}

TEST_F(KqueueEmulationTest, TimeoutIsNotCutShort) {
  Pair pair;
  ASSERT_EQ(Change(pair.left, EVFILT_READ, EV_ADD), 0);
  struct kevent event {};
  const timespec wait{0, 20000000};
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(kevent(kq_, nullptr, 0, &event, 1, &wait), 0);
  EXPECT_GE(std::chrono::steady_clock::now() - start,
            std::chrono::milliseconds(20));
}

TEST_F(KqueueEmulationTest, DisabledRegistrationStaysSilent) {
  Pair pair;
  ASSERT_EQ(Change(pair.left, EVFILT_READ, EV_ADD | EV_DISABLE), 0);
  ASSERT_EQ(::write(pair.right, "x", 1), 1);
  EXPECT_TRUE(Poll().empty());
  ASSERT_EQ(Change(pair.left, EVFILT_READ, EV_ENABLE), 0);
  EXPECT_EQ(Poll().size(), 1u);
}

// epoll reports EPOLLHUP whatever the mask: a disabled registration must not
// keep the kqueue readable with nothing to report (kevent would spin).
TEST_F(KqueueEmulationTest, DisabledRegistrationStaysSilentThroughAHangup) {
  Pair pair;
  ASSERT_EQ(Change(pair.left, EVFILT_READ, EV_ADD | EV_DISABLE), 0);
  ::close(pair.right);
  pair.right = -1;
  timespec cpu_before;
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu_before);
  struct kevent event;
  const timespec wait{0, 100'000'000};
  EXPECT_EQ(kevent(kq_, nullptr, 0, &event, 1, &wait), 0);
  timespec cpu_after;
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu_after);
  const long cpu_ns = (cpu_after.tv_sec - cpu_before.tv_sec) * 1'000'000'000L +
                      (cpu_after.tv_nsec - cpu_before.tv_nsec);
  // A spin burns tens of milliseconds of the 100 even on a loaded machine;
  // a blocked wait, well under one.
  EXPECT_LT(cpu_ns, 5'000'000L) << "kevent spun while waiting";
  ASSERT_EQ(Change(pair.left, EVFILT_READ, EV_ENABLE), 0);
  const std::vector<struct kevent> events = Poll();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_TRUE(events[0].flags & EV_EOF);
}

// As on BSD, a fork child has no kqueue of its parent's, and the parent's
// is left as it was.
TEST_F(KqueueEmulationTest, ForkChildInheritsNoKqueue) {
  Pair pair;
  ASSERT_EQ(Change(pair.left, EVFILT_READ, EV_ADD), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // No gtest assertions in the child: its exit status says it all.
    const timespec zero{0, 0};
    struct kevent event;
    const bool gone = kevent(kq_, nullptr, 0, &event, 1, &zero) == -1 &&
                      errno == EBADF && ::fcntl(kq_, F_GETFD) == -1;
    const int fresh = kqueue();
    ::_exit(gone && fresh >= 0 ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  ASSERT_EQ(::write(pair.right, "x", 1), 1);
  EXPECT_EQ(Poll().size(), 1u);
}

// A kqueue number its owner closed and a socket reused is the socket's:
// the fork handler must not close it in the child.
TEST_F(KqueueEmulationTest, ForkLeavesAReusedNumberAlone) {
  const int closed = kqueue();
  ASSERT_GE(closed, 0);
  ASSERT_EQ(::close(closed), 0);
  Pair pair;  // takes the lowest free numbers, `closed` among them
  ASSERT_TRUE(pair.left == closed || pair.right == closed);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::_exit(::fcntl(closed, F_GETFD) >= 0 ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
}

}  // namespace
