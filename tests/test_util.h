// Copyright 2026 The pollio Authors.
//
// Helpers shared by pollio's tests: owned fds, socketpairs, loopback TCP,
// and mio-style expectations on a Poller's results.

#ifndef POLLIO_TESTS_TEST_UTIL_H_
#define POLLIO_TESTS_TEST_UTIL_H_

#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "event/event.h"
#include "poller/poller.h"

namespace pollio {
namespace testing {

// An owned fd, closed on destruction.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept;
  ~UniqueFd() { Reset(); }

  int get() const { return fd_; }
  int Release() { return std::exchange(fd_, -1); }
  void Reset(int fd = -1);

 private:
  int fd_ = -1;
};

// A non-blocking, close-on-exec AF_UNIX stream socketpair.
struct SocketPair {
  UniqueFd left;
  UniqueFd right;
};
SocketPair MakeSocketPair();

// A non-blocking TCP listener on 127.0.0.1 with a kernel-chosen port.
struct Listener {
  UniqueFd fd;
  int port = 0;
};
Listener MakeLoopbackListener();

// A blocking TCP connection to 127.0.0.1:port.
UniqueFd ConnectLoopback(int port);

// Writes `count` bytes of 'x'; returns false if the kernel took fewer.
bool WriteBytes(int fd, int count = 1);

// Reads until EAGAIN or EOF; returns the bytes read.
int Drain(int fd);

// Waits once and returns the results with scrubbed entries (fd == -1)
// removed. Fails the current test on an error status.
std::vector<EventObject> WaitEvents(
    Poller& poller, absl::Duration timeout = absl::ZeroDuration());

// Expects the next wait (with `timeout`) to report exactly `expected`, in any
// order, and nothing else.
void ExpectEvents(Poller& poller, std::vector<EventObject> expected,
                  absl::Duration timeout = absl::ZeroDuration());

// Expects wait(0) to report nothing.
void ExpectNoEvents(Poller& poller);

// Elapsed time on the monotonic clock.
class Stopwatch {
 public:
  Stopwatch() : start_(std::chrono::steady_clock::now()) {}
  absl::Duration Elapsed() const {
    return absl::FromChrono(std::chrono::steady_clock::now() - start_);
  }

 private:
  std::chrono::steady_clock::time_point start_;
};

// Raises the soft RLIMIT_NOFILE to the hard limit; returns the new soft
// limit.
int RaiseFdLimit();

// Names a backend-parameterised test instance "epoll", "poll", ...
struct BackendTestName {
  template <typename ParamInfo>
  std::string operator()(const ParamInfo& info) const {
    return std::string(BackendName(info.param));
  }
};

}  // namespace testing
}  // namespace pollio

#endif  // POLLIO_TESTS_TEST_UTIL_H_
