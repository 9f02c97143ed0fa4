// Copyright 2026 The pollio Authors.
//
// Translation between pollio's Events and poll(2) event masks, shared by the
// poll backend (pollfd.events / revents) and the io_uring backend (the mask
// of IORING_OP_POLL_ADD and the res of its completion).

#ifndef POLLIO_BACKENDS_INTERNAL_POLL_EVENTS_H_
#define POLLIO_BACKENDS_INTERNAL_POLL_EVENTS_H_

#include <poll.h>

#include "event/event.h"

namespace pollio {
namespace internal {

// POLLRDHUP (the peer shut down writing) is Linux's, and glibc declares it
// only under _GNU_SOURCE (which g++ defines). Elsewhere a half-close shows
// only as readable EOF, and kReadClosed is never reported.
#if defined(POLLRDHUP)
inline constexpr unsigned kPollReadHangup = POLLRDHUP;
#else
inline constexpr unsigned kPollReadHangup = 0;
#endif

// The mask to ask for. POLLRDHUP only with read interest, so a writer-only
// registration is not woken, level-triggered and forever, by a half-close.
// POLLHUP, POLLERR and POLLNVAL need no asking.
constexpr unsigned ToPollMask(Events interest) {
  unsigned mask = 0;
  if (Has(interest, Events::kReadable)) mask |= POLLIN | kPollReadHangup;
  if (Has(interest, Events::kWritable)) mask |= POLLOUT;
  if (Has(interest, Events::kPriority)) mask |= POLLPRI;
  return mask;
}

// The readiness a returned mask means, bit for bit: POLLRDHUP is
// kReadClosed, POLLHUP kHangup (on a Linux socket: both directions shut, or
// never connected), POLLPRI kPriority, and POLLNVAL (the fd is not open) is
// an error like POLLERR.
constexpr Events FromPollMask(unsigned mask) {
  Events out = Events::kNone;
  if (mask & POLLIN) out |= Events::kReadable;
  if (mask & POLLOUT) out |= Events::kWritable;
  if (mask & kPollReadHangup) out |= Events::kReadClosed;
  if (mask & POLLHUP) out |= Events::kHangup;
  if (mask & (POLLERR | POLLNVAL)) out |= Events::kError;
  if (mask & POLLPRI) out |= Events::kPriority;
  return out;
}

}  // namespace internal
}  // namespace pollio

#endif  // POLLIO_BACKENDS_INTERNAL_POLL_EVENTS_H_
