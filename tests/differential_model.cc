// Copyright 2026 The pollio Authors.

#include "tests/differential_model.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "backends/internal/poll_events.h"
#include "event/event.h"
#include "poller/poller.h"
#include "tests/test_util.h"

namespace pollio {
namespace testing {
namespace {

Events RandomInterest(std::mt19937& random, Trigger trigger) {
  if (trigger == Trigger::kEdge) return Events::kReadable;
  switch (random() % 3) {
    case 0:
      return Events::kReadable;
    case 1:
      return Events::kWritable;
    default:
      return Events::kReadable | Events::kWritable;
  }
}

Trigger RandomTrigger(std::mt19937& random, bool has_edge) {
  const int choice = static_cast<int>(random() % (has_edge ? 3 : 2));
  if (choice == 0) return Trigger::kLevel;
  if (choice == 1) return Trigger::kOneshot;
  return Trigger::kEdge;
}

// Reads at most `bytes` from `fd`; returns what read() returned.
ssize_t ReadSome(int fd, int bytes) {
  char buffer[4096];
  const std::size_t want =
      std::min(sizeof(buffer), static_cast<std::size_t>(bytes));
  return ::read(fd, buffer, want);
}

}  // namespace

Operation RandomOperation(std::mt19937& random, int slots, bool has_edge) {
  // The order of the draws below is the sequence a seed names: keep it.
  Operation op;
  op.slot = static_cast<int>(random() % static_cast<unsigned>(slots));
  const int choice = static_cast<int>(random() % 100);
  if (choice < 15) {
    op.op = Op::kAddOrModify;
    op.trigger = RandomTrigger(random, has_edge);
    op.kind = static_cast<EventKind>(random() % 256);
    op.interest = RandomInterest(random, op.trigger);
  } else if (choice < 22) {
    op.op = Op::kDelIfRegistered;
  } else if (choice < 50) {
    op.op = Op::kPeerWrite;
    op.bytes = 1 + static_cast<int>(random() % 3000);
  } else if (choice < 65) {
    op.op = Op::kDrain;
  } else if (choice < 72) {
    // Fill our own send buffer (not writable), or make room again.
    op.op = random() % 2 == 0 ? Op::kFillOwnSendBuffer : Op::kPeerDrain;
  } else if (choice < 76) {
    op.op = Op::kPeerShutdownWrite;
  } else if (choice < 79) {
    op.op = Op::kOwnShutdownWrite;
  } else if (choice < 85) {
    op.op = Op::kReopen;
  } else if (choice < 90) {
    op.op = Op::kWake;
  } else {
    op.op = Op::kNothing;
  }
  return op;
}

DifferentialModel::DifferentialModel(std::unique_ptr<Poller> poller,
                                     Options options, std::string* error)
    : poller_(std::move(poller)),
      backend_(poller_->backend()),
      options_(options) {
  slots_.resize(static_cast<std::size_t>(options_.slots));
  for (Slot& slot : slots_) {
    if (!Open(slot)) {
      *error = "socketpair failed";
      return;
    }
  }
}

DifferentialModel::~DifferentialModel() {
  for (Slot& slot : slots_) Close(slot);
}

bool DifferentialModel::Open(Slot& slot) {
  int fds[2];
  slot = Slot{};
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
                   fds) != 0) {
    return false;
  }
  slot.left = fds[0];
  slot.right = fds[1];
  return true;
}

void DifferentialModel::Close(Slot& slot) {
  if (slot.registered) (void)poller_->del(slot.left);
  if (slot.left >= 0) ::close(slot.left);
  if (slot.right >= 0) ::close(slot.right);
  slot = Slot{};
}

// The oracle's readiness of `slot` for `interest`, from poll(2). io_uring
// always polls for EPOLLRDHUP (the kernel's IO_POLL_UNMASK), and without
// read interest reports the half-close only when it is all there is (the
// edge registrations here all have read interest).
Events DifferentialModel::Readiness(const Slot& slot, Events interest,
                                    Trigger trigger) const {
  unsigned mask = internal::ToPollMask(interest);
  if (backend_ == Backend::kUring) mask |= internal::kPollReadHangup;
  // epoll's kExclusive leaves EPOLLRDHUP out (epoll_poller.h): no
  // kReadClosed there.
  if (backend_ == Backend::kEpoll && trigger == Trigger::kExclusive) {
    mask &= ~internal::kPollReadHangup;
  }
  pollfd entry{slot.left, static_cast<short>(mask), 0};
  ::poll(&entry, 1, 0);
  Events ready =
      internal::FromPollMask(static_cast<unsigned short>(entry.revents));
  if (backend_ == Backend::kUring && !Has(interest, Events::kReadable) &&
      ready != Events::kReadClosed) {
    ready &= ~Events::kReadClosed;
  }
  // kqueue: the hangup comes from EVFILT_WRITE's EV_EOF (nothing more can
  // be sent), so without write interest there is none; with it, the
  // filter fires on a hung-up socket even with a full send buffer, and the
  // backend reports it as writable and hung up.
  if (backend_ == Backend::kKqueue && (entry.revents & POLLHUP) != 0) {
    if (Has(interest, Events::kWritable)) {
      ready |= Events::kWritable;
    } else {
      ready &= ~Events::kHangup;
    }
  }
  return ready;
}

absl::StatusCode DifferentialModel::ExpectedCode(const Slot& slot,
                                                 const EventObject& ev,
                                                 Trigger trigger,
                                                 bool modify) const {
  // The order of PollerBase's checks: the table, then the trigger, then
  // priority, then the backend's own (epoll's kExclusive with kPriority).
  if (modify && !slot.registered) return absl::StatusCode::kNotFound;
  if (!modify && slot.registered) return absl::StatusCode::kAlreadyExists;
  if (!poller_->supports(trigger)) return absl::StatusCode::kUnimplemented;
  const bool priority = Has(ev.events, Events::kPriority);
  if (priority && !poller_->supports_priority()) {
    return absl::StatusCode::kUnimplemented;
  }
  if (priority && backend_ == Backend::kEpoll &&
      trigger == Trigger::kExclusive) {
    return absl::StatusCode::kUnimplemented;
  }
  return absl::StatusCode::kOk;
}

std::string DifferentialModel::Register(Slot& slot, const Operation& op,
                                        bool modify) {
  const EventObject ev{slot.left, op.kind, op.interest, op.token};
  const std::string call = modify ? "modify" : "add";
  const std::string description = "fd " + std::to_string(slot.left) + " " +
                                  call + " " + ToString(ev) + " " +
                                  TriggerName(op.trigger);
  const absl::Status status =
      modify ? poller_->modify(ev, op.trigger) : poller_->add(ev, op.trigger);
  if (op.op == Op::kAddOrModify) {
    if (!status.ok()) {
      failure_ = call + " failed: " + status.ToString();
      return description;
    }
  } else {
    const absl::StatusCode expected =
        ExpectedCode(slot, ev, op.trigger, modify);
    if (status.code() != expected) {
      failure_ = call + " returned " + status.ToString() + ", expected " +
                 absl::StatusCodeToString(expected);
      return description;
    }
    if (!status.ok()) {
      return description + " (" + absl::StatusCodeToString(status.code()) + ")";
    }
  }
  slot.registered = true;
  slot.registration = ev;
  slot.trigger = op.trigger;
  slot.armed = true;
  slot.edge_pending = Readiness(slot, ev.events, op.trigger) !=
                      Events::kNone;  // ready now: an edge
  slot.touched = true;
  return description;
}

std::string DifferentialModel::Del(Slot& slot, bool skip_unregistered) {
  const std::string name = "fd " + std::to_string(slot.left) + " ";
  if (!slot.registered && skip_unregistered) {
    return name + "del (not registered: skipped)";
  }
  const absl::Status status = poller_->del(slot.left);
  if (skip_unregistered) {
    if (!status.ok()) failure_ = "del failed: " + status.ToString();
  } else {
    const absl::StatusCode expected =
        slot.registered ? absl::StatusCode::kOk : absl::StatusCode::kNotFound;
    if (status.code() != expected) {
      failure_ = "del returned " + status.ToString() + ", expected " +
                 absl::StatusCodeToString(expected);
    }
  }
  if (options_.check_scrub && status.ok()) {
    for (const EventObject& ev : batch_) {
      if (ev.fd == slot.left) {
        failure_ = "del left an entry for fd " + std::to_string(slot.left) +
                   " in the current batch: " + ToString(ev);
      } else if (ev.fd < 0 && (ev.events != Events::kNone || ev.token != 0)) {
        failure_ = "a scrubbed entry keeps events or token: " + ToString(ev);
      }
    }
  }
  const bool was_registered = slot.registered;
  slot.registered = false;
  if (!was_registered) {
    return name + "del (" + absl::StatusCodeToString(status.code()) + ")";
  }
  return name + "del";
}

void DifferentialModel::MarkEdge(Slot& slot) {
  slot.touched = true;
  if (slot.registered && slot.trigger == Trigger::kEdge) {
    slot.edge_pending = true;
  }
}

std::string DifferentialModel::Apply(const Operation& op) {
  std::string description = ApplyOne(op);
  if (backend_ == Backend::kUring && options_.several_changes_per_wait) {
    for (Slot& slot : slots_) {
      if (!slot.registered) continue;
      slot.seen |= Readiness(slot, slot.registration.events, slot.trigger);
    }
  }
  return description;
}

std::string DifferentialModel::ApplyOne(const Operation& op) {
  Slot& slot = slots_[static_cast<std::size_t>(op.slot) % slots_.size()];
  const std::string name = "fd " + std::to_string(slot.left) + " ";
  // Operations on a closed peer do nothing.
  const bool peer_op = op.op == Op::kPeerWrite || op.op == Op::kPeerDrain ||
                       op.op == Op::kPeerShutdownWrite ||
                       op.op == Op::kPeerShutdownRead ||
                       op.op == Op::kClosePeer || op.op == Op::kPeerReadSome;
  if (peer_op && slot.right < 0) return name + "(peer closed: skipped)";
  switch (op.op) {
    case Op::kAddOrModify:
      return Register(slot, op, /*modify=*/slot.registered);
    case Op::kAdd:
      return Register(slot, op, /*modify=*/false);
    case Op::kModify:
      return Register(slot, op, /*modify=*/true);
    case Op::kDelIfRegistered:
      return Del(slot, /*skip_unregistered=*/true);
    case Op::kDel:
      return Del(slot, /*skip_unregistered=*/false);
    case Op::kPeerWrite: {
      const std::string data(static_cast<std::size_t>(op.bytes), 'x');
      const ssize_t written =
          ::send(slot.right, data.data(), data.size(), MSG_NOSIGNAL);
      if (written > 0) MarkEdge(slot);
      return name + "peer writes " + std::to_string(written);
    }
    case Op::kDrain:
      ::pollio::testing::Drain(slot.left);
      slot.touched = true;
      return name + "drain";
    case Op::kFillOwnSendBuffer: {
      const std::string chunk(65536, 'y');
      while (::send(slot.left, chunk.data(), chunk.size(), MSG_NOSIGNAL) > 0) {
      }
      slot.touched = true;
      return name + "fill own send buffer";
    }
    case Op::kPeerDrain:
      ::pollio::testing::Drain(slot.right);
      slot.touched = true;
      return name + "peer drains";
    case Op::kPeerShutdownWrite:
      ::shutdown(slot.right, SHUT_WR);
      MarkEdge(slot);
      return name + "peer shuts down writing";
    case Op::kOwnShutdownWrite:
      // Wakes the fd's own waiters too (sk_state_change): an edge.
      ::shutdown(slot.left, SHUT_WR);
      MarkEdge(slot);
      return name + "shuts down own writing";
    case Op::kPeerShutdownRead:
      // The fd can send no more; unix_shutdown wakes its waiters.
      ::shutdown(slot.right, SHUT_RD);
      MarkEdge(slot);
      return name + "peer shuts down reading";
    case Op::kOwnShutdownRead:
      ::shutdown(slot.left, SHUT_RD);
      MarkEdge(slot);
      return name + "shuts down own reading";
    case Op::kClosePeer:
      // Both directions shut for the fd (a hangup), and its waiters woken.
      ::close(slot.right);
      slot.right = -1;
      MarkEdge(slot);
      return name + "peer closes";
    case Op::kReopen: {
      // del before close, as the contract asks; the new pair likely reuses
      // both fd numbers.
      if (slot.registered && options_.check_scrub) {
        (void)Del(slot, /*skip_unregistered=*/false);
      }
      Close(slot);
      if (!Open(slot)) failure_ = "socketpair failed";
      return name + "close and reopen as fd " + std::to_string(slot.left);
    }
    case Op::kOwnWrite: {
      const std::string data(static_cast<std::size_t>(op.bytes), 'z');
      const ssize_t written =
          ::send(slot.left, data.data(), data.size(), MSG_NOSIGNAL);
      slot.touched = true;
      return name + "writes " + std::to_string(written);
    }
    case Op::kReadSome:
      slot.touched = true;
      return name + "reads " + std::to_string(ReadSome(slot.left, op.bytes));
    case Op::kPeerReadSome:
      slot.touched = true;
      return name + "peer reads " +
             std::to_string(ReadSome(slot.right, op.bytes));
    case Op::kWake:
      (void)poller_->wake();
      return "wake";
    case Op::kNothing:
      break;
  }
  return "nothing";
}

std::string DifferentialModel::Check() {
  if (!failure_.empty()) return failure_;
  batch_ = {};
  absl::StatusOr<absl::Span<const EventObject>> events = poller_->wait(0);
  if (!events.ok()) return "wait failed: " + events.status().ToString();
  batch_ = *events;
  std::map<int, Events> reported;
  for (const EventObject& ev : *events) {
    if (ev.fd < 0) return "scrubbed entry without a del in this batch";
    if (!reported.emplace(ev.fd, ev.events).second) {
      return "fd " + std::to_string(ev.fd) + " reported twice in one wait";
    }
    const Slot* slot = Find(ev.fd);
    if (slot == nullptr || !slot->registered) {
      return "reported an fd that is not registered: " + ToString(ev);
    }
    if (ev.kind != slot->registration.kind) {
      return "wrong kind: " + ToString(ev) + ", registered " +
             ToString(slot->registration);
    }
    if (options_.check_tokens && ev.token != slot->registration.token) {
      return "wrong token: " + ToString(ev) + ", registered " +
             ToString(slot->registration);
    }
  }
  const bool stale_allowed = backend_ == Backend::kUring;
  const bool earlier_allowed =
      stale_allowed && options_.several_changes_per_wait;
  for (Slot& slot : slots_) {
    if (!slot.registered) continue;
    const auto it = reported.find(slot.left);
    const Events got = it == reported.end() ? Events::kNone : it->second;
    const Events ready =
        Readiness(slot, slot.registration.events, slot.trigger);
    // io_uring's allowances for a touched fd: more than is ready now (a
    // readiness since drained), and with several changes per wait an
    // earlier part of it.
    const bool stale =
        slot.touched && ((stale_allowed && Has(got, ready)) ||
                         (earlier_allowed && got != Events::kNone &&
                          Has(ready | slot.seen, got)));
    std::string problem;
    switch (slot.trigger) {
      case Trigger::kLevel:
      case Trigger::kExclusive:
        if (got != ready && !stale) {
          problem = "level: expected " + EventsName(ready);
        }
        break;
      case Trigger::kOneshot:
        if (!slot.armed && got != Events::kNone) {
          problem = "oneshot reported while disarmed";
        } else if (slot.armed && got != ready && !stale) {
          problem = "oneshot (armed): expected " + EventsName(ready);
        }
        if (got != Events::kNone) slot.armed = false;
        break;
      case Trigger::kEdge:
        if (!slot.edge_pending && got != Events::kNone) {
          problem = "edge reported without a new edge";
        } else if (slot.edge_pending && ready != Events::kNone &&
                   got == Events::kNone) {
          problem = "edge lost: ready (" + EventsName(ready) +
                    ") after a new edge, not reported";
        }
        slot.edge_pending = false;
        break;
    }
    slot.touched = false;
    slot.seen = ready;
    if (!problem.empty()) {
      return "fd " + std::to_string(slot.left) + " " +
             ToString(slot.registration) + " " + TriggerName(slot.trigger) +
             ": " + problem + ", got " + EventsName(got);
    }
  }
  return "";
}

std::string DifferentialModel::CheckRegistrations() const {
  if (!failure_.empty()) return failure_;
  std::size_t registered = 0;
  for (const Slot& slot : slots_) {
    if (slot.left < 0) continue;
    const absl::StatusOr<Registration> found = poller_->find(slot.left);
    if (!slot.registered) {
      if (found.status().code() != absl::StatusCode::kNotFound) {
        return "find(" + std::to_string(slot.left) +
               ") of an fd not registered: " + found.status().ToString();
      }
      continue;
    }
    ++registered;
    if (!found.ok()) {
      return "find(" + std::to_string(slot.left) +
             ") of a registered fd: " + found.status().ToString();
    }
    if (found->kind != slot.registration.kind ||
        found->interest != slot.registration.events ||
        found->trigger != slot.trigger ||
        found->token != slot.registration.token) {
      return "find(" + std::to_string(slot.left) + ") returned kind " +
             KindName(found->kind) + " interest " +
             EventsName(found->interest) + " " + TriggerName(found->trigger) +
             " token " + std::to_string(found->token) + ", registered " +
             ToString(slot.registration) + " " + TriggerName(slot.trigger);
    }
  }
  if (poller_->size() != registered) {
    return "size() is " + std::to_string(poller_->size()) + ", " +
           std::to_string(registered) + " registered";
  }
  return "";
}

const DifferentialModel::Slot* DifferentialModel::Find(int fd) const {
  for (const Slot& slot : slots_) {
    if (slot.left == fd) return &slot;
  }
  return nullptr;
}

}  // namespace testing
}  // namespace pollio
