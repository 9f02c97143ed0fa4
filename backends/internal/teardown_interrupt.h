// Copyright 2026 The pollio Authors.
//
// Closing an io_uring instance interrupts every thread the kernel linked to
// it (the one that created it and the ones that submitted to it): the
// ring's exit work, which runs some 15-30 ms after close(), queues task work
// with TWA_SIGNAL to each of them. A system call the kernel restarts on its
// own (ppoll, io_uring_enter with a timeout) never notices; epoll_wait and
// epoll_pwait2 return EINTR although no signal arrived. No system call
// removes a thread's link to a ring before it closes, so pollio cannot stop
// the interruption; what it can do is not end an epoll wait early for it.
//
// The UringPoller destructor announces each interruption it causes here,
// naming the thread; an epoll wait on that thread shortly after waits in a
// restartable ppoll on the epoll fd instead (two system calls instead of
// one), so the interruption passes unseen while a real signal still ends the
// wait with EINTR. Nothing is ever swallowed: the only cost of a wrong guess
// is one extra system call per wait during the window.

#ifndef POLLIO_BACKENDS_INTERNAL_TEARDOWN_INTERRUPT_H_
#define POLLIO_BACKENDS_INTERNAL_TEARDOWN_INTERRUPT_H_

#include <atomic>

#include "absl/base/optimization.h"

namespace pollio {
namespace internal {

// The kernel thread id of the calling thread (gettid), cached per thread.
int CurrentThreadId();

// ExpectTeardownInterrupt()
//
// Announces that thread `thread_id` will be interrupted once by a ring's
// teardown within the next second or so. Thread-safe; never fails (past
// kMaxAnnounced pending announcements the oldest is dropped).
void ExpectTeardownInterrupt(int thread_id);

// TeardownInterruptExpected()
//
// Whether the calling thread has an announcement that has not yet expired.
// One relaxed atomic load when no announcement is pending anywhere.
inline bool TeardownInterruptExpected();

// --- Implementation details ------------------------------------------------

inline constexpr int kMaxAnnounced = 64;
extern std::atomic<int> pending_teardown_announcements;
bool TeardownInterruptExpectedSlow();

inline bool TeardownInterruptExpected() {
  if (ABSL_PREDICT_TRUE(pending_teardown_announcements.load(
                            std::memory_order_relaxed) == 0)) {
    return false;
  }
  return TeardownInterruptExpectedSlow();
}

}  // namespace internal
}  // namespace pollio

#endif  // POLLIO_BACKENDS_INTERNAL_TEARDOWN_INTERRUPT_H_
