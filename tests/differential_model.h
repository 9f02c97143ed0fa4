// Copyright 2026 The pollio Authors.
//
// The differential test's oracle and driver, shared by
// tests/differential_test.cc (seeded random sequences) and
// tests/fuzz/poller_fuzzer.cc (sequences decoded from fuzzer input).
//
// A DifferentialModel owns a poller under test and a fixed number of
// socketpairs ("slots"). The left end of each pair is the fd that gets
// registered; the right end is its peer. Apply() performs one Operation on
// the poller or on the kernel state of a pair and updates the model of what
// each registration may report; Check() calls wait(0) and compares the batch
// with that model:
//
//   * kLevel (and kExclusive, which is level with one poller): exactly what
//     poll(2) reports for the same fd and interest at that moment.
//   * kOneshot: while armed, as kLevel, and disarmed once reported; never
//     reported while disarmed (until modify re-arms it).
//   * kEdge (read interest only): reported after a new edge (data written by
//     the peer, a shutdown of either end, the peer's close, or registration
//     while ready) if still readable; never reported without one.
//   * Nothing is reported for an fd that is not registered, kinds always
//     match the registration, and no fd appears twice in one wait.
//
// The backend-specific allowances (io_uring's half-close without read
// interest and its stale reports of fds touched since the last wait;
// kqueue's hangup on the write filter; epoll's kExclusive without
// EPOLLRDHUP) are in Readiness() and Check(), each with its reason;
// tests/differential_test.cc describes them.
//
// Not thread-safe. Not for production: testonly.

#ifndef POLLIO_TESTS_DIFFERENTIAL_MODEL_H_
#define POLLIO_TESTS_DIFFERENTIAL_MODEL_H_

#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/types/span.h"
#include "event/event.h"
#include "poller/poller.h"

namespace pollio {
namespace testing {

// What one step does to slot `Operation::slot`.
enum class Op : std::uint8_t {
  // Registration. kAddOrModify is the random test's: add when the slot is
  // not registered, modify when it is, and either must succeed. kAdd and
  // kModify make exactly that call whatever the state, and the model
  // expects the documented status (AlreadyExists, NotFound, Unimplemented
  // for a trigger or interest the backend lacks) and no change on failure.
  kAddOrModify,
  kAdd,
  kModify,
  // del when registered, skipped otherwise (the random test's).
  kDelIfRegistered,
  // del whatever the state: NotFound when not registered. With
  // Options::check_scrub, the last batch's entries for the fd must be
  // scrubbed afterwards.
  kDel,
  // Kernel state.
  kPeerWrite,          // the peer sends `bytes`
  kDrain,              // the fd reads until EAGAIN or EOF
  kFillOwnSendBuffer,  // the fd sends until EAGAIN (not writable)
  kPeerDrain,          // the peer reads until EAGAIN or EOF
  kPeerShutdownWrite,  // shutdown(peer, SHUT_WR)
  kOwnShutdownWrite,   // shutdown(fd, SHUT_WR)
  kPeerShutdownRead,   // shutdown(peer, SHUT_RD)
  kOwnShutdownRead,    // shutdown(fd, SHUT_RD)
  kClosePeer,          // close(peer): the fd sees a hangup
  kReopen,             // del if registered, close both, open a new pair
  kOwnWrite,           // the fd sends `bytes`
  kReadSome,           // the fd reads up to `bytes`
  kPeerReadSome,       // the peer reads up to `bytes`
  kWake,               // poller.wake()
  kNothing,
};

struct Operation {
  Op op = Op::kNothing;
  int slot = 0;  // taken modulo the number of slots
  // kAddOrModify, kAdd, kModify. The oracle models read-side edges only:
  // a kEdge registration must have kReadable interest alone.
  Trigger trigger = Trigger::kLevel;
  EventKind kind = EventKind::kServer;
  Events interest = Events::kReadable;
  std::uint64_t token = 0;
  // kPeerWrite, kOwnWrite, kReadSome, kPeerReadSome.
  int bytes = 1;
};

// RandomOperation()
//
// The random test's generator: one Operation drawn from `random` in the
// order the test has always drawn, so that a seed names the same sequence
// it always did. `has_edge`: whether the backend supports kEdge.
Operation RandomOperation(std::mt19937& random, int slots, bool has_edge);

class DifferentialModel {
 public:
  struct Options {
    int slots = 64;  // socketpairs: two fds each
    // kDel checks that the previous batch's entries for the fd were
    // scrubbed (fd = -1, events = kNone).
    bool check_scrub = false;
    // Check() compares each result's token with its registration's.
    bool check_tokens = false;
    // Several kernel-state changes may come between two waits (the
    // fuzzer's sequences; the random test waits after every step). Then
    // io_uring, whose completion carries the readiness of the wake-up that
    // completed the poll, may report a touched fd with a subset of what it
    // is ready for now (data arrived, then the peer shut down: kReadable
    // without kReadClosed), or with what it was ready for after an earlier
    // change only (the peer drained, the fd refilled its send buffer, the
    // peer shut down: kWritable, as uring_poller.h's "hint semantics" say);
    // the next wait polls afresh. Allowed with this.
    bool several_changes_per_wait = false;
  };

  // Opens the slots' socketpairs. `poller` must be fresh (nothing
  // registered). Returns an error string in `*error` if a socketpair cannot
  // be made; the model is then unusable.
  DifferentialModel(std::unique_ptr<Poller> poller, Options options,
                    std::string* error);
  ~DifferentialModel();

  DifferentialModel(const DifferentialModel&) = delete;
  DifferentialModel& operator=(const DifferentialModel&) = delete;

  // Applies `op` and returns a description of what was done ("fd 7 add
  // {...} level", "fd 7 peer writes 120"). A call that did not return what
  // the model expects is recorded and returned by the next Check().
  std::string Apply(const Operation& op);

  // Waits with timeout 0 and compares the batch with the model. Returns ""
  // or a description of the first difference.
  std::string Check();

  // Compares poller().size() and poller().find() for every slot with the
  // model's registrations. Returns "" or the first difference (also a
  // failure recorded by Apply()).
  std::string CheckRegistrations() const;

  Poller& poller() { return *poller_; }
  Backend backend() const { return backend_; }
  int slots() const { return static_cast<int>(slots_.size()); }

 private:
  struct Slot {
    int left = -1;   // registered end
    int right = -1;  // peer
    bool registered = false;
    EventObject registration;
    Trigger trigger = Trigger::kLevel;
    bool armed = false;         // oneshot: may fire
    bool edge_pending = false;  // edge: a new edge since the last wait
    bool touched = false;       // readiness may have changed since last wait
    // io_uring with several changes per wait: what the fd was ready for
    // after each change since the last wait, and at it.
    Events seen = Events::kNone;
  };

  bool Open(Slot& slot);
  void Close(Slot& slot);
  std::string ApplyOne(const Operation& op);
  Events Readiness(const Slot& slot, Events interest, Trigger trigger) const;
  // The status code `add` (or `modify`) of `ev` with `trigger` on `slot`
  // must return.
  absl::StatusCode ExpectedCode(const Slot& slot, const EventObject& ev,
                                Trigger trigger, bool modify) const;
  std::string Register(Slot& slot, const Operation& op, bool modify);
  std::string Del(Slot& slot, bool skip_unregistered);
  void MarkEdge(Slot& slot);
  const Slot* Find(int fd) const;

  std::unique_ptr<Poller> poller_;
  Backend backend_;
  Options options_;
  std::vector<Slot> slots_;
  // The last batch wait(0) returned: valid until the next wait.
  absl::Span<const EventObject> batch_;
  std::string failure_;
};

}  // namespace testing
}  // namespace pollio

#endif  // POLLIO_TESTS_DIFFERENTIAL_MODEL_H_
