// Copyright 2026 The pollio Authors.
//
// Conversion of a wait timeout to what each kernel API takes, written once so
// every backend rounds the same way:
//   * never down: a 200 us wait must not become a 0 ms busy poll
//     (mio issue 1614), so partial units round up;
//   * zero stays zero: a poll without blocking must not gain 1 ms
//     (calloop issue 142); negative durations mean zero too;
//   * forever is forever: absl::InfiniteDuration(), and anything longer than
//     kLongestFiniteTimeout, map to the API's "no timeout" instead of
//     overflowing.

#ifndef POLLIO_BACKENDS_INTERNAL_TIMEOUT_H_
#define POLLIO_BACKENDS_INTERNAL_TIMEOUT_H_

#include <time.h>

#include "absl/time/time.h"

namespace pollio {
namespace internal {

// Longer timeouts wait forever. 2^31-1 seconds (68 years) is the largest that
// every kernel's timespec handling accepts without clamping or EINVAL.
inline constexpr absl::Duration kLongestFiniteTimeout =
    absl::Seconds(2147483647);

// ToTimespec()
//
// For ppoll, epoll_pwait2, kevent and io_uring: nullptr for forever,
// otherwise `storage` filled with the timeout rounded up to whole
// nanoseconds (zero for zero or negative).
const timespec* ToTimespec(absl::Duration timeout, timespec* storage);

// ToMilliseconds()
//
// For poll and epoll_wait: -1 for forever (including anything beyond
// INT_MAX ms), otherwise the timeout rounded up to whole milliseconds
// (zero for zero or negative).
int ToMilliseconds(absl::Duration timeout);

}  // namespace internal
}  // namespace pollio

#endif  // POLLIO_BACKENDS_INTERNAL_TIMEOUT_H_
