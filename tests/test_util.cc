// Copyright 2026 The pollio Authors.

#include "tests/test_util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace pollio {
namespace testing {

UniqueFd& UniqueFd::operator=(UniqueFd&& other) noexcept {
  if (this != &other) Reset(other.Release());
  return *this;
}

void UniqueFd::Reset(int fd) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
}

SocketPair MakeSocketPair() {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
                   fds) != 0) {
    ADD_FAILURE() << "socketpair: " << std::strerror(errno);
    return {};
  }
  return SocketPair{UniqueFd(fds[0]), UniqueFd(fds[1])};
}

Listener MakeLoopbackListener() {
  Listener listener;
  listener.fd.Reset(
      ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof(address);
  if (listener.fd.get() < 0 ||
      ::bind(listener.fd.get(), reinterpret_cast<sockaddr*>(&address),
             sizeof(address)) != 0 ||
      ::listen(listener.fd.get(), 128) != 0 ||
      ::getsockname(listener.fd.get(), reinterpret_cast<sockaddr*>(&address),
                    &length) != 0) {
    ADD_FAILURE() << "listener: " << std::strerror(errno);
    return {};
  }
  listener.port = ntohs(address.sin_port);
  return listener;
}

UniqueFd ConnectLoopback(int port) {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<uint16_t>(port));
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&address),
                sizeof(address)) != 0) {
    ADD_FAILURE() << "connect: " << std::strerror(errno);
  }
  return fd;
}

bool WriteBytes(int fd, int count) {
  const std::string bytes(static_cast<std::size_t>(count), 'x');
  return ::write(fd, bytes.data(), bytes.size()) == count;
}

int Drain(int fd) {
  char buffer[4096];
  int total = 0;
  for (;;) {
    const ssize_t got = ::read(fd, buffer, sizeof(buffer));
    if (got <= 0) return total;
    total += static_cast<int>(got);
  }
}

std::vector<EventObject> WaitEvents(Poller& poller, absl::Duration timeout) {
  std::vector<EventObject> out;
  absl::StatusOr<absl::Span<const EventObject>> events = poller.wait(timeout);
  if (!events.ok()) {
    ADD_FAILURE() << "wait: " << events.status();
    return out;
  }
  for (const EventObject& ev : *events) {
    if (ev.fd >= 0) out.push_back(ev);
  }
  return out;
}

namespace {

bool ByFd(const EventObject& a, const EventObject& b) { return a.fd < b.fd; }

}  // namespace

void ExpectEvents(Poller& poller, std::vector<EventObject> expected,
                  absl::Duration timeout) {
  std::vector<EventObject> actual = WaitEvents(poller, timeout);
  std::sort(actual.begin(), actual.end(), ByFd);
  std::sort(expected.begin(), expected.end(), ByFd);
  EXPECT_EQ(actual, expected);
}

void ExpectNoEvents(Poller& poller) {
  EXPECT_EQ(WaitEvents(poller), std::vector<EventObject>{});
}

int RaiseFdLimit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return 1024;
  if (limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &limit);
    ::getrlimit(RLIMIT_NOFILE, &limit);
  }
  return static_cast<int>(std::min<rlim_t>(limit.rlim_cur, 1 << 30));
}

}  // namespace testing
}  // namespace pollio
