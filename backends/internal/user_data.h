// Copyright 2026 The pollio Authors.
//
// The kernel user data of epoll, kqueue and io_uring, written once:
// Encode(fd, kind) in bits 0..39 (event/event.h), the fd number's generation
// in bits 40..62, and bit 63 left to each backend for a marker of its own
// (epoll: a registration no longer in the kernel; io_uring: a removal). The
// generation is advanced by every add (and, on io_uring, every modify), so
// an event of an older registration of the same fd number is recognised.
// 23 bits: a number must be re-registered 8 million times before a
// generation repeats, and the older registration's event must still be in
// flight then.

#ifndef POLLIO_BACKENDS_INTERNAL_USER_DATA_H_
#define POLLIO_BACKENDS_INTERNAL_USER_DATA_H_

#include <cstdint>

#include "event/event.h"

namespace pollio {
namespace internal {

inline constexpr int kGenerationShift = kKindBits + kFdBits;
inline constexpr std::uint32_t kGenerationMask = (1u << 23) - 1;

// The user data of (fd, kind) at `generation` (masked to its 23 bits).
constexpr std::uint64_t UserData(int fd, EventKind kind,
                                 std::uint32_t generation) {
  return Encode(fd, kind) |
         (static_cast<std::uint64_t>(generation & kGenerationMask)
          << kGenerationShift);
}

constexpr std::uint32_t GenerationOf(std::uint64_t data) {
  return static_cast<std::uint32_t>(data >> kGenerationShift) & kGenerationMask;
}

// The generation after `generation`. Generations run 1..2^23-1, skipping 0,
// so that a registration's user data always has a generation bit: user data
// with none (Encode(fd, kind) alone, with or without bit 63) is free for a
// backend's own requests (epoll's wake eventfd).
constexpr std::uint32_t NextGeneration(std::uint32_t generation) {
  const std::uint32_t next = (generation + 1) & kGenerationMask;
  return next == 0 ? 1 : next;
}
static_assert(NextGeneration(0) == 1 && NextGeneration(kGenerationMask) == 1);

}  // namespace internal
}  // namespace pollio

#endif  // POLLIO_BACKENDS_INTERNAL_USER_DATA_H_
