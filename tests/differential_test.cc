// Copyright 2026 The pollio Authors.
//
// Differential random test: seeded sequences of operations on 64 socketpairs
// (add / modify / del with random interest, kind and trigger; write; drain;
// shutdown of either direction; close and reopen, so fd numbers get reused;
// wake), checked after every step with wait(0) against an oracle:
//
//   * kLevel: exactly what poll(2) reports for the same fds and interests at
//     that moment (readable, writable, read-closed, hangup and error bits
//     alike).
//   * kOneshot: while armed, as kLevel, and disarmed once reported; never
//     reported while disarmed (until modify re-arms it).
//   * kEdge (read interest only): reported after a new edge (data written by
//     the peer, the peer's shutdown, or registration while ready) if still
//     readable; never reported without one.
//   * Nothing is reported for an fd that is not registered, kinds always
//     match the registration, and no fd appears twice in one wait.
//
// io_uring also reports a peer's half-close (kReadClosed) without read
// interest when that is all the fd is ready for (uring_poller.h). And it
// reports the readiness the kernel recorded when the fd woke, so
// an fd made ready and drained again between two waits may still be
// reported once (documented in uring_poller.h); for that backend such a
// report is allowed for fds touched since the last wait, and only for them.
// Nothing ready may ever be missed.
//
// kqueue runs in //tests:differential_emulated_kqueue_test, this file built
// against the kqueue backend on the emulation (backends/kqueue/emulation).
// kqueue's hangup is its write filter's EV_EOF (kqueue_poller.h), so the oracle
// drops kHangup without write interest. With it, the filter fires on a hung-up
// socket even while the send buffer is full, and the backend reports that as
// kWritable | kHangup; the BSDs' poll(2) agrees (a socket that can send no more
// is writable there), Linux's leaves POLLOUT out, so for kqueue the oracle adds
// kWritable to a POLLHUP fd with write interest. What the emulation cannot
// express, so this test does not check: a BSD kernel sets EV_EOF on the write
// filter as soon as the socket can send no more, after the fd's own
// shutdown(SHUT_WR) too, while the emulation, on epoll, sees only a full hangup
// (EPOLLHUP). On a BSD, "shuts down own writing" alone would report kHangup
// (and kWritable) to write interest, where this oracle expects Linux poll(2)'s
// answer.
//
// On failure the seed, the failing step (the shortest failing prefix of that
// sequence) and the operations before it are printed. Long runs (steps per
// backend, first seed):
//   tools/bazel test //tests:differential_test
//       --test_env=POLLIO_DIFFERENTIAL_STEPS=10000000
//       --test_env=POLLIO_DIFFERENTIAL_SEED=7

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <deque>
#include <map>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "backends/internal/poll_events.h"
#include "event/event.h"
#include "factory/factory.h"
#include "gtest/gtest.h"
#include "poller/poller.h"
#include "tests/test_util.h"

namespace pollio {
namespace {

constexpr int kPairs = 64;
constexpr int kStepsPerSeed = 5000;

long EnvOr(const char* name, long fallback) {
  const char* value = std::getenv(name);
  return value != nullptr ? std::atol(value) : fallback;
}

struct Slot {
  int left = -1;   // registered end
  int right = -1;  // peer
  bool registered = false;
  EventObject registration;
  Trigger trigger = Trigger::kLevel;
  bool armed = false;         // oneshot: may fire
  bool edge_pending = false;  // edge: a new edge since the last wait
  bool touched = false;       // readiness may have changed since last wait
};

class Differential {
 public:
  Differential(Backend backend, std::uint32_t seed)
      : backend_(backend), random_(seed), seed_(seed) {}

  ~Differential() {
    for (Slot& slot : slots_) Close(slot);
  }

  // Runs `steps` steps; returns "" or a description of the first failure.
  std::string Run(int steps) {
    absl::StatusOr<std::unique_ptr<Poller>> made = NewPoller(backend_);
    if (!made.ok()) return "cannot create poller: " + made.status().ToString();
    poller_ = *std::move(made);
    slots_.resize(kPairs);
    for (Slot& slot : slots_) Open(slot);
    for (int step = 0; step < steps; ++step) {
      const std::string op = Step();
      history_.push_back(std::to_string(step) + ": " + op);
      if (history_.size() > 25) history_.pop_front();
      const std::string failure = Check();
      if (!failure.empty()) {
        std::ostringstream out;
        out << "backend " << BackendName(backend_) << ", seed " << seed_
            << ": fails after step " << step << " (steps 0.." << step
            << " are the shortest failing prefix of this sequence)\n"
            << failure << "\nlast operations:\n";
        for (const std::string& line : history_) out << "  " << line << "\n";
        return out.str();
      }
    }
    return "";
  }

 private:
  void Open(Slot& slot) {
    int fds[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
                           0, fds),
              0);
    slot = Slot{};
    slot.left = fds[0];
    slot.right = fds[1];
  }

  void Close(Slot& slot) {
    if (slot.registered) (void)poller_->del(slot.left);
    if (slot.left >= 0) ::close(slot.left);
    if (slot.right >= 0) ::close(slot.right);
    slot = Slot{};
  }

  // The oracle's readiness of `slot` for `interest`, from poll(2). io_uring
  // always polls for EPOLLRDHUP (the kernel's IO_POLL_UNMASK), and without
  // read interest reports the half-close only when it is all there is (the
  // edge registrations here all have read interest).
  Events Readiness(const Slot& slot, Events interest) const {
    unsigned mask = internal::ToPollMask(interest);
    if (backend_ == Backend::kUring) mask |= internal::kPollReadHangup;
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

  Events RandomInterest(Trigger trigger) {
    if (trigger == Trigger::kEdge) return Events::kReadable;
    switch (random_() % 3) {
      case 0:
        return Events::kReadable;
      case 1:
        return Events::kWritable;
      default:
        return Events::kReadable | Events::kWritable;
    }
  }

  Trigger RandomTrigger() {
    const bool has_edge = poller_->supports(Trigger::kEdge);
    const int choice = static_cast<int>(random_() % (has_edge ? 3 : 2));
    if (choice == 0) return Trigger::kLevel;
    if (choice == 1) return Trigger::kOneshot;
    return Trigger::kEdge;
  }

  void Register(Slot& slot, bool modify) {
    const Trigger trigger = RandomTrigger();
    const EventObject ev{slot.left, static_cast<EventKind>(random_() % 256),
                         RandomInterest(trigger)};
    const absl::Status status =
        modify ? poller_->modify(ev, trigger) : poller_->add(ev, trigger);
    if (!status.ok()) {
      failure_ = std::string(modify ? "modify" : "add") +
                 " failed: " + status.ToString();
      return;
    }
    slot.registered = true;
    slot.registration = ev;
    slot.trigger = trigger;
    slot.armed = true;
    slot.edge_pending =
        Readiness(slot, ev.events) != Events::kNone;  // ready now: an edge
    slot.touched = true;
  }

  void MarkEdge(Slot& slot) {
    slot.touched = true;
    if (slot.registered && slot.trigger == Trigger::kEdge) {
      slot.edge_pending = true;
    }
  }

  std::string Step() {
    Slot& slot = slots_[random_() % kPairs];
    const int choice = static_cast<int>(random_() % 100);
    std::string name = "fd " + std::to_string(slot.left) + " ";
    if (choice < 15) {
      if (slot.registered) {
        Register(slot, /*modify=*/true);
        return name + "modify " + ToString(slot.registration) + " " +
               TriggerName(slot.trigger);
      }
      Register(slot, /*modify=*/false);
      return name + "add " + ToString(slot.registration) + " " +
             TriggerName(slot.trigger);
    }
    if (choice < 22) {
      if (!slot.registered) return name + "del (not registered: skipped)";
      const absl::Status status = poller_->del(slot.left);
      if (!status.ok()) failure_ = "del failed: " + status.ToString();
      slot.registered = false;
      return name + "del";
    }
    if (choice < 50) {
      const int bytes = 1 + static_cast<int>(random_() % 3000);
      const std::string data(static_cast<std::size_t>(bytes), 'x');
      const ssize_t written =
          ::send(slot.right, data.data(), data.size(), MSG_NOSIGNAL);
      if (written > 0) MarkEdge(slot);
      return name + "peer writes " + std::to_string(written);
    }
    if (choice < 65) {
      ::pollio::testing::Drain(slot.left);
      slot.touched = true;
      return name + "drain";
    }
    if (choice < 72) {
      // Fill our own send buffer (not writable), or make room again.
      if (random_() % 2 == 0) {
        const std::string chunk(65536, 'y');
        while (::send(slot.left, chunk.data(), chunk.size(), MSG_NOSIGNAL) >
               0) {
        }
        slot.touched = true;
        return name + "fill own send buffer";
      }
      ::pollio::testing::Drain(slot.right);
      slot.touched = true;
      return name + "peer drains";
    }
    if (choice < 76) {
      ::shutdown(slot.right, SHUT_WR);
      MarkEdge(slot);
      return name + "peer shuts down writing";
    }
    if (choice < 79) {
      // Wakes the fd's own waiters too (sk_state_change): an edge.
      ::shutdown(slot.left, SHUT_WR);
      MarkEdge(slot);
      return name + "shuts down own writing";
    }
    if (choice < 85) {
      // del before close, as the contract asks; the new pair likely reuses
      // both fd numbers.
      Close(slot);
      Open(slot);
      return name + "close and reopen as fd " + std::to_string(slot.left);
    }
    if (choice < 90) {
      (void)poller_->wake();
      return "wake";
    }
    return "nothing";
  }

  std::string Check() {
    if (!failure_.empty()) return failure_;
    absl::StatusOr<absl::Span<const EventObject>> events = poller_->wait(0);
    if (!events.ok()) return "wait failed: " + events.status().ToString();
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
    }
    const bool stale_allowed = backend_ == Backend::kUring;
    for (Slot& slot : slots_) {
      if (!slot.registered) continue;
      const auto it = reported.find(slot.left);
      const Events got = it == reported.end() ? Events::kNone : it->second;
      const Events ready = Readiness(slot, slot.registration.events);
      std::string problem;
      switch (slot.trigger) {
        case Trigger::kLevel:
        case Trigger::kExclusive:
          if (got != ready &&
              !(stale_allowed && slot.touched && Has(got, ready))) {
            problem = "level: expected " + EventsName(ready);
          }
          break;
        case Trigger::kOneshot:
          if (!slot.armed && got != Events::kNone) {
            problem = "oneshot reported while disarmed";
          } else if (slot.armed && got != ready &&
                     !(stale_allowed && slot.touched && Has(got, ready))) {
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
      if (!problem.empty()) {
        return "fd " + std::to_string(slot.left) + " " +
               ToString(slot.registration) + " " + TriggerName(slot.trigger) +
               ": " + problem + ", got " + EventsName(got);
      }
    }
    return "";
  }

  Slot* Find(int fd) {
    for (Slot& slot : slots_) {
      if (slot.left == fd) return &slot;
    }
    return nullptr;
  }

  Backend backend_;
  std::mt19937 random_;
  std::uint32_t seed_;
  std::unique_ptr<Poller> poller_;
  std::vector<Slot> slots_;
  std::deque<std::string> history_;
  std::string failure_;
};

class DifferentialTest : public ::testing::TestWithParam<Backend> {};

TEST_P(DifferentialTest, MatchesTheOracleAfterEveryStep) {
  if (!NewPoller(GetParam()).ok()) {
    GTEST_SKIP() << BackendName(GetParam()) << " unavailable here";
  }
  const long total = EnvOr("POLLIO_DIFFERENTIAL_STEPS", 100000);
  const long first_seed = EnvOr("POLLIO_DIFFERENTIAL_SEED", 1);
  long steps_run = 0;
  for (long seed = first_seed; steps_run < total; ++seed) {
    const int steps =
        static_cast<int>(std::min<long>(kStepsPerSeed, total - steps_run));
    Differential differential(GetParam(), static_cast<std::uint32_t>(seed));
    const std::string failure = differential.Run(steps);
    ASSERT_EQ(failure, "");
    steps_run += steps;
  }
  std::cout << BackendName(GetParam()) << ": " << steps_run
            << " steps matched the oracle\n";
}

INSTANTIATE_TEST_SUITE_P(Backends, DifferentialTest,
                         ::testing::ValuesIn(::pollio::kAllBackends),
                         ::pollio::testing::BackendTestName());

}  // namespace
}  // namespace pollio
