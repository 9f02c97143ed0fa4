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

// ToPollMask() as one table load, for add: the interest bits (kReadable,
// kWritable, kPriority) are all among Events' low six, and ToPollMask reads
// no other.
struct InterestPollMasks {
  unsigned short masks[64];
};

constexpr InterestPollMasks MakeInterestPollMasks() {
  InterestPollMasks table{};
  for (unsigned bits = 0; bits < 64; ++bits) {
    table.masks[bits] =
        static_cast<unsigned short>(ToPollMask(static_cast<Events>(bits)));
  }
  return table;
}

inline constexpr InterestPollMasks kInterestPollMasks = MakeInterestPollMasks();

constexpr unsigned ToPollMaskByTable(Events interest) {
  return kInterestPollMasks.masks[static_cast<unsigned>(interest) & 63u];
}

constexpr bool InterestPollMasksAreExact() {
  for (unsigned bits = 0; bits < 256; ++bits) {
    const auto interest = static_cast<Events>(bits);
    if (ToPollMaskByTable(interest) != ToPollMask(interest)) return false;
  }
  return true;
}
static_assert(InterestPollMasksAreExact());

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

// FromPollMask() as one table load, for the per-event paths (poll's
// revents, io_uring's poll completions). POLLIN, POLLPRI, POLLOUT, POLLERR,
// POLLHUP and POLLNVAL are bits 0..5 everywhere; Linux's POLLRDHUP (bit 13)
// is folded onto bit 6 by `mask | mask >> 7`. That is exact for what the
// kernel returns: poll(2) and io_uring's poll report only the bits asked
// for (ToPollMask: none of bits 6..12) and POLLERR, POLLHUP, POLLNVAL (and
// io_uring POLLRDHUP, unasked).
inline constexpr unsigned kPollTranslationBits = 7;
static_assert(POLLIN == 0x1 && POLLPRI == 0x2 && POLLOUT == 0x4 &&
              POLLERR == 0x8 && POLLHUP == 0x10 && POLLNVAL == 0x20);
static_assert(kPollReadHangup == 0 || kPollReadHangup == 0x2000);

constexpr unsigned FoldPollMask(unsigned mask) {
  return (mask | mask >> 7) & ((1u << kPollTranslationBits) - 1);
}

struct PollTranslation {
  Events events[1u << kPollTranslationBits];
};

constexpr PollTranslation MakePollTranslation() {
  PollTranslation table{};
  for (unsigned folded = 0; folded < (1u << kPollTranslationBits); ++folded) {
    const unsigned mask =
        (folded & 0x3f) | ((folded & 0x40) != 0 ? kPollReadHangup : 0u);
    table.events[folded] = FromPollMask(mask);
  }
  return table;
}

inline constexpr PollTranslation kPollTranslation = MakePollTranslation();

constexpr Events FromPollResult(unsigned mask) {
  return kPollTranslation.events[FoldPollMask(mask)];
}

// Every combination of the bits the kernel can return translates as
// FromPollMask's tests do.
constexpr bool PollTranslationIsExact() {
  constexpr unsigned kBits[] = {POLLIN,  POLLPRI,  POLLOUT,        POLLERR,
                                POLLHUP, POLLNVAL, kPollReadHangup};
  for (unsigned subset = 0; subset < 128; ++subset) {
    unsigned mask = 0;
    for (int bit = 0; bit < 7; ++bit) {
      if ((subset >> bit) & 1) mask |= kBits[bit];
    }
    if (FromPollResult(mask) != FromPollMask(mask)) return false;
  }
  return true;
}
static_assert(PollTranslationIsExact());

}  // namespace internal
}  // namespace pollio

#endif  // POLLIO_BACKENDS_INTERNAL_POLL_EVENTS_H_
