// Copyright 2026 The pollio Authors.
//
// System-call fault injection for tests, at no cost to production code.
//
// The test binary is linked with `-Wl,--wrap=<function>` for every function
// below (this library's linkopts, so only a test that depends on it gets
// them): each call a backend's object makes to, say, epoll_ctl is bound by
// the linker to __wrap_epoll_ctl in fault_injection.cc, which calls the real
// function unless a fault is armed for it. The backends themselves are
// compiled exactly as in production; no indirection, flag or hook exists
// there. It only works on code linked statically into the test (the target
// must have linkstatic = True): calls made from inside a shared library, such
// as liburing's own io_uring_enter, are not wrapped, which is why io_uring is
// wrapped at the liburing functions the backend calls.
//
// Usage, single-threaded around one call of the code under test:
//
//   FaultInjector::Count();                 // zero the counters, count
//   ASSERT_OK(poller->del(fd));
//   int calls = FaultInjector::Calls(Sys::kEpollCtl);
//   ...
//   FaultInjector::Arm({Sys::kEpollCtl, /*nth=*/1, ENOMEM});
//   absl::Status status = poller->del(fd);  // epoll_ctl fails: ENOMEM
//   bool injected = FaultInjector::Fired();
//   FaultInjector::Disarm();
//
// Counting and faults apply to every thread of the process (io_uring sets up
// its ring on a thread of its own); the counters are atomic.

#ifndef POLLIO_TESTS_FAULT_INJECTION_H_
#define POLLIO_TESTS_FAULT_INJECTION_H_

#include <string_view>

namespace pollio {
namespace testing {

// Sys
//
// The wrapped functions. The libc ones fail as libc does (-1 and errno); the
// liburing ones as liburing does (-errno); pthread_create returns the error;
// clone fails as libc does.
enum class Sys : int {
  kEpollCreate1,
  kEpollCtl,
  kEpollPwait,
  kEpollPwait2,
  kEventfd,
  kRead,
  kWrite,
  kOpen,
  kPpoll,
  kFcntl,
  kPthreadCreate,  // io_uring's set-up thread under ThreadSanitizer
  kClone,          // io_uring's set-up thread otherwise (a bare clone)
  kKqueue,         // the kqueue emulation's, in a Linux test
  kKevent,
  kIoUringQueueInitParams,  // io_uring_setup(2)
  kIoUringSubmit,           // io_uring_enter(2) ...
  kIoUringSubmitAndWaitTimeout,
  kIoUringSubmitAndGetEvents,
  kIoUringGetEvents,
  kIoUringRegisterEventfd,  // io_uring_register(2)
  kIoUringRegisterSyscall,  // syscall(__NR_io_uring_register, ...) only
  kCount,
};

// The wrapped function's name, e.g. "epoll_ctl".
std::string_view SysName(Sys sys);

// Fault
//
// Fail the `nth` call (1-based, counted from Arm) of `sys` with `error`, and
// the `times` - 1 calls after it (a condition that persists, such as a
// completion queue that stays backed up). For
// kKevent with `receipt_index` >= 0, the call itself succeeds instead, and
// only change number `receipt_index` of its changelist fails: it is left out
// of the call, and its EV_RECEIPT row carries EV_ERROR with `error`, as a
// kernel reports one filter of two it refused.
struct Fault {
  Sys sys = Sys::kCount;
  int nth = 0;
  int error = 0;
  int receipt_index = -1;
  int times = 1;
};

class FaultInjector {
 public:
  // Disarms, zeroes every counter and starts counting.
  static void Count();

  // Calls of `sys` since Count() or Arm().
  static int Calls(Sys sys);

  // For the i-th kevent call (0-based) since Count() or Arm(): how many of
  // its changes asked for EV_RECEIPT (0 for a call that only waits). Calls
  // past the 64th are not recorded (0).
  static int KeventReceiptChanges(int call);

  // Zeroes the counters and arms `fault`.
  static void Arm(const Fault& fault);

  // Whether the armed fault was injected (the nth call happened).
  static bool Fired();

  // The fd argument of the call the fault hit, or -1 for a call without
  // one. For kevent, the ident of the failed change (a receipt fault) or
  // of the first change (the call failed).
  static int FiredFd();

  // Disarms and stops counting.
  static void Disarm();
};

}  // namespace testing
}  // namespace pollio

#endif  // POLLIO_TESTS_FAULT_INJECTION_H_
