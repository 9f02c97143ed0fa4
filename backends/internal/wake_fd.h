// Copyright 2026 The pollio Authors.
//
// The fd a poller watches so that wake() can end a wait from another thread
// or a signal handler: an eventfd on Linux, a non-blocking pipe elsewhere.
// Shared by the epoll and poll backends (kqueue uses EVFILT_USER instead,
// io_uring an eventfd of its own ring).

#ifndef POLLIO_BACKENDS_INTERNAL_WAKE_FD_H_
#define POLLIO_BACKENDS_INTERNAL_WAKE_FD_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace pollio {
namespace internal {

class WakeFd {
 public:
  // Opens the fds (close-on-exec, non-blocking).
  static absl::StatusOr<WakeFd> Create();

  WakeFd(WakeFd&& other) noexcept;
  WakeFd& operator=(WakeFd&& other) noexcept;
  ~WakeFd();

  // The fd to poll for readability.
  int read_fd() const { return read_fd_; }

  // WakeFd::Signal()
  //
  // Makes read_fd() readable. Thread-safe and async-signal-safe (one write,
  // errno preserved); signals before a Drain() coalesce: once the counter or
  // pipe is full the fd is readable already, so EAGAIN counts as success.
  absl::Status Signal();

  // WakeFd::Drain()
  //
  // Makes read_fd() unreadable again, consuming every pending Signal().
  void Drain();

 private:
  WakeFd(int read_fd, int write_fd) : read_fd_(read_fd), write_fd_(write_fd) {}

  int read_fd_ = -1;
  int write_fd_ = -1;  // equal to read_fd_ for an eventfd
};

}  // namespace internal
}  // namespace pollio

#endif  // POLLIO_BACKENDS_INTERNAL_WAKE_FD_H_
