// Copyright 2026 The pollio Authors.
//
// Error construction shared by every backend, so that all of them word the
// same failure the same way: the call, the fd, and the OS's own text.

#ifndef POLLIO_BACKENDS_INTERNAL_ERRORS_H_
#define POLLIO_BACKENDS_INTERNAL_ERRORS_H_

#include <climits>
#include <string_view>

#include "absl/status/status.h"
#include "poller/poller.h"

namespace pollio {
namespace internal {

// Passed as `fd` when a call has no fd to name.
inline constexpr int kNoFd = INT_MIN;

// ErrnoError()
//
// The status for a failed system call: the code absl::ErrnoToStatusCode picks
// for `error_number`, the message "call(op, fd=7): <strerror>" (op and fd
// left out when empty / kNoFd), and the errno as a payload that
// pollio::ErrnoFromStatus() reads back. A non-empty `consequence` (what the
// failure did to the poller, when it could not leave it unchanged) is
// appended as "call(op, fd=7): <strerror>; <consequence>".
absl::Status ErrnoError(int error_number, std::string_view call,
                        std::string_view op = {}, int fd = kNoFd,
                        std::string_view consequence = {});

// CallError()
//
// The status for a public method refusing its arguments:
// "method(fd=7): message".
absl::Status CallError(absl::StatusCode code, std::string_view method, int fd,
                       std::string_view message);

// CheckOptions()
//
// InvalidArgument naming `backend` when `options` are out of range.
absl::Status CheckOptions(std::string_view backend,
                          const PollerOptions& options);

}  // namespace internal
}  // namespace pollio

#endif  // POLLIO_BACKENDS_INTERNAL_ERRORS_H_
