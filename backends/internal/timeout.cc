// Copyright 2026 The pollio Authors.

#include "backends/internal/timeout.h"

#include <time.h>

#include <climits>
#include <cstdint>

#include "absl/time/time.h"

namespace pollio {
namespace internal {

const timespec* ToTimespec(absl::Duration timeout, timespec* storage) {
  if (timeout > kLongestFiniteTimeout) return nullptr;  // includes infinite
  if (timeout <= absl::ZeroDuration()) {
    *storage = timespec{0, 0};
    return storage;
  }
  // absl::Duration resolves a quarter nanosecond; Ceil keeps the remainder.
  *storage = absl::ToTimespec(absl::Ceil(timeout, absl::Nanoseconds(1)));
  return storage;
}

int ToMilliseconds(absl::Duration timeout) {
  if (timeout <= absl::ZeroDuration()) return 0;
  if (timeout > absl::Milliseconds(INT_MAX)) return -1;  // includes infinite
  const std::int64_t ms =
      absl::ToInt64Milliseconds(absl::Ceil(timeout, absl::Milliseconds(1)));
  return static_cast<int>(ms);
}

}  // namespace internal
}  // namespace pollio
