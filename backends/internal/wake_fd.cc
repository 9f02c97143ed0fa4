// Copyright 2026 The pollio Authors.

#include "backends/internal/wake_fd.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstdint>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "backends/internal/errors.h"

// Linux: one eventfd, one 8-byte counter. Elsewhere: a pipe.
#if defined(__linux__)
#include <sys/eventfd.h>
#define POLLIO_WAKE_EVENTFD 1
#endif

namespace pollio {
namespace internal {

absl::StatusOr<WakeFd> WakeFd::Create() {
#if defined(POLLIO_WAKE_EVENTFD)
  const int fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (fd < 0) return ErrnoError(errno, "eventfd");
  return WakeFd(fd, fd);
#else
  int fds[2];
  if (::pipe(fds) != 0) return ErrnoError(errno, "pipe");
  for (int fd : fds) {
    if (::fcntl(fd, F_SETFD, FD_CLOEXEC) != 0 ||
        ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK) != 0) {
      const int error_number = errno;
      ::close(fds[0]);
      ::close(fds[1]);
      return ErrnoError(error_number, "fcntl", "O_NONBLOCK", fd);
    }
  }
  return WakeFd(fds[0], fds[1]);
#endif
}

WakeFd::WakeFd(WakeFd&& other) noexcept
    : read_fd_(std::exchange(other.read_fd_, -1)),
      write_fd_(std::exchange(other.write_fd_, -1)) {}

WakeFd& WakeFd::operator=(WakeFd&& other) noexcept {
  if (this != &other) {
    this->~WakeFd();
    read_fd_ = std::exchange(other.read_fd_, -1);
    write_fd_ = std::exchange(other.write_fd_, -1);
  }
  return *this;
}

WakeFd::~WakeFd() {
  if (write_fd_ >= 0 && write_fd_ != read_fd_) ::close(write_fd_);
  if (read_fd_ >= 0) ::close(read_fd_);
}

absl::Status WakeFd::Signal() {
  const int saved_errno = errno;  // a signal handler must not clobber errno
#if defined(POLLIO_WAKE_EVENTFD)
  const std::uint64_t one = 1;
#else
  const char one = 1;
#endif
  ssize_t written;
  do {
    written = ::write(write_fd_, &one, sizeof(one));
  } while (written < 0 && errno == EINTR);
  const int error_number = errno;
  errno = saved_errno;
  if (written >= 0 || error_number == EAGAIN) {
    // EAGAIN: the counter or pipe is full, so the fd is readable already.
    return absl::OkStatus();
  }
  return ErrnoError(error_number, "write", "wake", write_fd_);
}

void WakeFd::Drain() {
#if defined(POLLIO_WAKE_EVENTFD)
  std::uint64_t count;
  (void)!::read(read_fd_, &count, sizeof(count));  // resets the counter
#else
  char buffer[256];
  while (::read(read_fd_, buffer, sizeof(buffer)) > 0) {
  }
#endif
}

}  // namespace internal
}  // namespace pollio
