// Copyright 2026 The pollio Authors.
//
// -----------------------------------------------------------------------------
// File: event/event.h
// -----------------------------------------------------------------------------
//
// The value types every poller speaks: what a registered fd is for
// (`EventKind`), what it is ready for (`Events`), how readiness is reported
// (`Trigger`), and the registration / result record (`EventObject`). Also the
// packing of fd and kind into the 64-bit user data the kernel hands back
// (`Encode`, `DecodeFd`, `DecodeKind`), so a wait result says whether an fd is
// a listener or a client without a table lookup.
//
// Everything here is header-only, trivially copyable and constexpr where the
// language allows.
//
// Example:
//
//   pollio::EventObject listener = pollio::EventObject::Server(listen_fd);
//   pollio::EventObject client = pollio::EventObject::Client(conn_fd);
//   client.events = pollio::Events::kReadable | pollio::Events::kWritable;
//   std::cout << client;  // {fd=8 kind=client events=R|W}

#ifndef POLLIO_EVENT_EVENT_H_
#define POLLIO_EVENT_EVENT_H_

#include <cstdint>
#include <ostream>
#include <string>
#include <type_traits>

namespace pollio {

// EventKind
//
// The application-defined role of a registered fd, returned with every event
// for it. Every value 0..255 is valid: cast your own roles
// (`static_cast<EventKind>(7)`); the two classic ones are named.
enum class EventKind : std::uint8_t { kServer = 0, kClient = 1 };

// Events
//
// A bitmask of readiness.
//
// As an interest (for `add` and `modify`) it combines kReadable, kWritable
// and kPriority, at least one of them; any other bit makes `add` and `modify`
// fail with InvalidArgument.
//
// In `wait` results it says what the fd is ready for. kReadable, kWritable
// and kPriority come only with that interest, kReadClosed with kReadable
// interest; kHangup and kError need none, so a registration may see them
// whatever it asked for:
//
//   kReadable    "R"      a read will not block: data, EOF or an error.
//   kWritable    "W"      a write will not block (it may fail at once).
//   kReadClosed  "RDHUP"  the peer shut down its sending side: once the data
//                         already received is read, read() returns 0
//                         (EPOLLRDHUP, POLLRDHUP, EV_EOF of EVFILT_READ).
//                         Comes with kReadable. Only with kReadable interest
//                         (io_uring may also report it alone without it).
//   kHangup      "HUP"    the connection is closed in both directions, or
//                         the other end of a pipe is gone (EPOLLHUP, POLLHUP,
//                         EV_EOF of EVFILT_WRITE, so on kqueue only with
//                         kWritable interest). A pipe reports it without
//                         kReadable once its data is read.
//   kError       "ERR"    an error is pending on the fd (getsockopt SO_ERROR
//                         returns it, and clears it), or the fd is not open.
//   kPriority    "PRI"    priority data: TCP urgent (out-of-band) data, read
//                         with recv(MSG_OOB) (EPOLLPRI, POLLPRI). Opt-in:
//                         only with kPriority interest. kqueue has no
//                         out-of-band filter pollio uses: Unimplemented.
//
// The condition bits are best effort with no false positives: each is set
// only when the kernel said so, but not every kernel can tell each apart,
// and kHangup does not imply kReadClosed. The table of what each backend
// reports is in poller/poller.h. To learn that the peer will send nothing
// more, test `HasAny(events, Events::kReadClosed | Events::kHangup)` (or read
// until read() returns 0, which works everywhere).
enum class Events : std::uint8_t {
  kNone = 0,
  kReadable = 1,
  kWritable = 2,
  kHangup = 4,
  kError = 8,
  kReadClosed = 16,
  kPriority = 32,
};

constexpr Events operator|(Events a, Events b) {
  return static_cast<Events>(static_cast<std::uint8_t>(a) |
                             static_cast<std::uint8_t>(b));
}

constexpr Events operator&(Events a, Events b) {
  return static_cast<Events>(static_cast<std::uint8_t>(a) &
                             static_cast<std::uint8_t>(b));
}

constexpr Events operator~(Events a) {
  return static_cast<Events>(~static_cast<std::uint8_t>(a));
}

constexpr Events& operator|=(Events& a, Events b) { return a = a | b; }

constexpr Events& operator&=(Events& a, Events b) { return a = a & b; }

// Has()
//
// True when every bit of `bits` is set in `set` (so `Has(x, Events::kNone)` is
// always true).
constexpr bool Has(Events set, Events bits) { return (set & bits) == bits; }

// HasAny()
//
// True when at least one bit of `bits` is set in `set` (so
// `HasAny(x, Events::kNone)` is always false).
constexpr bool HasAny(Events set, Events bits) {
  return (set & bits) != Events::kNone;
}

// Trigger
//
// How a registration reports readiness:
//   kLevel:   in every `wait` while the fd is ready.
//   kEdge:    once per transition to ready (drain until EAGAIN before waiting
//             for more). Not every backend has it: poll(2) does not.
//   kOneshot: once, then silent until `modify` re-arms it.
//   kExclusive: level, for one fd (a listener) registered with several
//             pollers, one per thread: a readiness change wakes one of the
//             waiting pollers rather than all (EPOLLEXCLUSIVE; no
//             EPOLLRDHUP, so no kReadClosed on half-close, and no
//             kPriority: Unimplemented on epoll). poll(2) and io_uring
//             have no exclusive wake-up and treat it as kLevel: every
//             waiting poller wakes.
enum class Trigger : std::uint8_t { kLevel, kEdge, kOneshot, kExclusive };

// EventObject
//
// An fd with its kind, events and token. For `add` and `modify`, `events` is
// the interest (kReadable, kWritable, kPriority); in `wait` results it is
// the readiness, which may also carry kReadClosed, kHangup and kError (see
// Events). A result with `fd == -1` was scrubbed by `del` during the current
// batch: skip it.
//
// `token` is the caller's own 64-bit value for the registration (mio's
// Token, polling's key, what epoll_event.data carries in C): a connection's
// index or pointer, so an event leads to its connection without a second
// table. pollio never interprets it; every result of the registration
// carries it back unchanged, and `modify` may change it. 16 bytes, trivially
// copyable.
struct EventObject {
  int fd = -1;
  EventKind kind = EventKind::kServer;
  Events events = Events::kReadable;
  std::uint64_t token = 0;

  // A listener: kind kServer, readable interest.
  static constexpr EventObject Server(int fd, std::uint64_t token = 0) {
    return EventObject{fd, EventKind::kServer, Events::kReadable, token};
  }
  // A connection: kind kClient, readable interest.
  static constexpr EventObject Client(int fd, std::uint64_t token = 0) {
    return EventObject{fd, EventKind::kClient, Events::kReadable, token};
  }

  friend constexpr bool operator==(const EventObject& a, const EventObject& b) {
    return a.fd == b.fd && a.kind == b.kind && a.events == b.events &&
           a.token == b.token;
  }
  friend constexpr bool operator!=(const EventObject& a, const EventObject& b) {
    return !(a == b);
  }

  // Prints e.g. "{fd=7 kind=client events=R|W}", with " token=42" before
  // the brace when the token is not 0.
  template <typename Sink>
  friend void AbslStringify(Sink& sink, const EventObject& ev);
};

static_assert(sizeof(EventObject) == 16, "keep the result entry small");
static_assert(std::is_trivially_copyable_v<EventObject>);

// Human-readable names: "server", "client", or the number for other kinds;
// for events the names of the Events table joined with '|', in the order
// "R|W|RDHUP|HUP|ERR|PRI", bits outside the enum in hex ("R|0x80"), and
// "none" for kNone; "level", "edge", "oneshot", "exclusive".
inline std::string KindName(EventKind kind) {
  switch (kind) {
    case EventKind::kServer:
      return "server";
    case EventKind::kClient:
      return "client";
  }
  return std::to_string(static_cast<unsigned>(kind));
}

inline std::string EventsName(Events events) {
  if (events == Events::kNone) return "none";
  std::string out;
  auto append = [&](Events bit, const char* name) {
    if (!Has(events, bit)) return;
    if (!out.empty()) out += '|';
    out += name;
  };
  append(Events::kReadable, "R");
  append(Events::kWritable, "W");
  append(Events::kReadClosed, "RDHUP");
  append(Events::kHangup, "HUP");
  append(Events::kError, "ERR");
  append(Events::kPriority, "PRI");
  constexpr Events kNamed = Events::kReadable | Events::kWritable |
                            Events::kReadClosed | Events::kHangup |
                            Events::kError | Events::kPriority;
  const auto unnamed = static_cast<unsigned>(events & ~kNamed);
  if (unnamed != 0) {
    static constexpr char kHex[] = "0123456789abcdef";
    if (!out.empty()) out += '|';
    out += "0x";
    out += kHex[unnamed >> 4];
    out += kHex[unnamed & 0xf];
  }
  return out;
}

inline const char* TriggerName(Trigger trigger) {
  switch (trigger) {
    case Trigger::kLevel:
      return "level";
    case Trigger::kEdge:
      return "edge";
    case Trigger::kOneshot:
      return "oneshot";
    case Trigger::kExclusive:
      return "exclusive";
  }
  return "invalid";
}

inline std::string ToString(const EventObject& ev) {
  std::string out = "{fd=" + std::to_string(ev.fd) +
                    " kind=" + KindName(ev.kind) +
                    " events=" + EventsName(ev.events);
  if (ev.token != 0) out += " token=" + std::to_string(ev.token);
  return out + "}";
}

template <typename Sink>
void AbslStringify(Sink& sink, const EventObject& ev) {
  sink.Append(ToString(ev));
}

inline std::ostream& operator<<(std::ostream& os, const EventObject& ev) {
  return os << ToString(ev);
}

// -----------------------------------------------------------------------------
// Kernel user-data packing (epoll_event.data.u64, kevent.udata,
// io_uring sqe->user_data)
// -----------------------------------------------------------------------------
//
// Bits 0..7 hold the kind, bits 8..39 the fd (any non-negative int), and bits
// 40..63 are left to the backend (epoll, kqueue and io_uring keep a
// generation there, so that an event of an older registration of the same
// fd number is recognised). Decoding ignores the backend bits. The caller's
// token does not fit beside them: it stays in the poller's table, read once
// per event from the entry the fd already leads to.

inline constexpr int kKindBits = 8;
inline constexpr int kFdBits = 32;
inline constexpr std::uint64_t kFdMask = (std::uint64_t{1} << kFdBits) - 1;

// Encode()
//
// Precondition: fd >= 0.
constexpr std::uint64_t Encode(int fd, EventKind kind) {
  return (static_cast<std::uint64_t>(static_cast<std::uint32_t>(fd))
          << kKindBits) |
         static_cast<std::uint8_t>(kind);
}

constexpr int DecodeFd(std::uint64_t data) {
  return static_cast<int>((data >> kKindBits) & kFdMask);
}

constexpr EventKind DecodeKind(std::uint64_t data) {
  return static_cast<EventKind>(data & 0xff);
}

}  // namespace pollio

#endif  // POLLIO_EVENT_EVENT_H_
