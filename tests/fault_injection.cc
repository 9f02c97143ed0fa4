// Copyright 2026 The pollio Authors.
//
// The __wrap_ functions that -Wl,--wrap binds the backends' calls to (see
// fault_injection.h). Each one counts the call while counting is on, fails
// it if it is the armed one, and otherwise calls __real_<name>, which the
// linker binds to the real function.

#include "tests/fault_injection.h"

#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/event.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <time.h>

#include <atomic>
#include <cstdarg>
#include <cstddef>
#include <string_view>
#include <vector>

namespace pollio {
namespace testing {
namespace {

constexpr int kSysCount = static_cast<int>(Sys::kCount);
constexpr int kRecordedKeventCalls = 64;

// Relaxed atomics throughout: the only cross-thread use is io_uring's set-up
// thread, whose start and end (clone and the futex its exit wakes, or
// pthread_create and pthread_join) order it with the test.
std::atomic<bool> counting{false};
std::atomic<int> counts[kSysCount];
std::atomic<int> armed_sys{-1};
std::atomic<int> armed_nth{0};
std::atomic<int> armed_error{0};
std::atomic<int> armed_receipt{-1};
std::atomic<int> armed_times{1};
std::atomic<bool> fired{false};
std::atomic<int> fired_fd{-1};
std::atomic<int> receipt_changes[kRecordedKeventCalls];

void ZeroCounts() {
  for (std::atomic<int>& count : counts) count.store(0);
  for (std::atomic<int>& changes : receipt_changes) changes.store(0);
  fired.store(false);
  fired_fd.store(-1);
}

// Counts a call of `sys` and returns the errno to fail it with, or 0 to
// call the real function. `fd` is the call's fd argument, if any.
int Intercept(Sys sys, int fd = -1) {
  if (!counting.load(std::memory_order_relaxed)) return 0;
  const int index = static_cast<int>(sys);
  const int nth = counts[index].fetch_add(1) + 1;
  const int first = armed_nth.load();
  if (armed_sys.load() != index || nth < first ||
      nth >= first + armed_times.load() || armed_receipt.load() >= 0) {
    return 0;
  }
  fired.store(true);
  fired_fd.store(fd);
  return armed_error.load();
}

}  // namespace

std::string_view SysName(Sys sys) {
  switch (sys) {
    case Sys::kEpollCreate1:
      return "epoll_create1";
    case Sys::kEpollCtl:
      return "epoll_ctl";
    case Sys::kEpollPwait:
      return "epoll_pwait";
    case Sys::kEpollPwait2:
      return "epoll_pwait2";
    case Sys::kEventfd:
      return "eventfd";
    case Sys::kRead:
      return "read";
    case Sys::kWrite:
      return "write";
    case Sys::kOpen:
      return "open";
    case Sys::kPpoll:
      return "ppoll";
    case Sys::kFcntl:
      return "fcntl";
    case Sys::kPthreadCreate:
      return "pthread_create";
    case Sys::kClone:
      return "clone";
    case Sys::kKqueue:
      return "kqueue";
    case Sys::kKevent:
      return "kevent";
    case Sys::kIoUringQueueInitParams:
      return "io_uring_queue_init_params";
    case Sys::kIoUringSubmit:
      return "io_uring_submit";
    case Sys::kIoUringSubmitAndWaitTimeout:
      return "io_uring_submit_and_wait_timeout";
    case Sys::kIoUringSubmitAndGetEvents:
      return "io_uring_submit_and_get_events";
    case Sys::kIoUringGetEvents:
      return "io_uring_get_events";
    case Sys::kIoUringRegisterEventfd:
      return "io_uring_register_eventfd";
    case Sys::kIoUringRegisterSyscall:
      return "syscall(io_uring_register)";
    case Sys::kCount:
      break;
  }
  return "?";
}

void FaultInjector::Count() {
  armed_sys.store(-1);
  ZeroCounts();
  counting.store(true);
}

int FaultInjector::Calls(Sys sys) {
  return counts[static_cast<int>(sys)].load();
}

int FaultInjector::KeventReceiptChanges(int call) {
  if (call < 0 || call >= kRecordedKeventCalls) return 0;
  return receipt_changes[call].load();
}

void FaultInjector::Arm(const Fault& fault) {
  ZeroCounts();
  armed_nth.store(fault.nth);
  armed_error.store(fault.error);
  armed_receipt.store(fault.receipt_index);
  armed_times.store(fault.times);
  armed_sys.store(static_cast<int>(fault.sys));
  counting.store(true);
}

bool FaultInjector::Fired() { return fired.load(); }

int FaultInjector::FiredFd() { return fired_fd.load(); }

void FaultInjector::Disarm() {
  counting.store(false);
  armed_sys.store(-1);
}

}  // namespace testing
}  // namespace pollio

using ::pollio::testing::Intercept;
using ::pollio::testing::Sys;

// The real functions, as the linker binds __real_<name>.
extern "C" {
int __real_epoll_create1(int flags);
int __real_epoll_ctl(int epfd, int op, int fd, epoll_event* event);
int __real_epoll_pwait(int epfd, epoll_event* events, int maxevents,
                       int timeout, const sigset_t* sigmask);
int __real_epoll_pwait2(int epfd, epoll_event* events, int maxevents,
                        const timespec* timeout, const sigset_t* sigmask);
int __real_eventfd(unsigned int initval, int flags);
ssize_t __real_read(int fd, void* buffer, size_t count);
ssize_t __real_write(int fd, const void* buffer, size_t count);
int __real_open(const char* path, int flags, ...);
int __real_ppoll(pollfd* fds, nfds_t count, const timespec* timeout,
                 const sigset_t* sigmask);
int __real_fcntl(int fd, int command, ...);
int __real_pthread_create(pthread_t* thread, const pthread_attr_t* attributes,
                          void* (*start)(void*), void* argument);
int __real_clone(int (*start)(void*), void* stack, int flags, void* argument,
                 ...);
int __real_kqueue(void);
int __real_kevent(int kq, const struct kevent* changelist, int nchanges,
                  struct kevent* eventlist, int nevents,
                  const struct timespec* timeout);
int __real_io_uring_queue_init_params(unsigned entries, io_uring* ring,
                                      io_uring_params* params);
int __real_io_uring_submit(io_uring* ring);
int __real_io_uring_submit_and_wait_timeout(io_uring* ring,
                                            io_uring_cqe** cqe_ptr,
                                            unsigned wait_nr,
                                            __kernel_timespec* timeout,
                                            sigset_t* sigmask);
int __real_io_uring_submit_and_get_events(io_uring* ring);
int __real_io_uring_get_events(io_uring* ring);
int __real_io_uring_register_eventfd(io_uring* ring, int fd);
long __real_syscall(long number, ...);  // NOLINT(runtime/int): libc's type
}

namespace {

// The libc convention: -1 with errno.
template <typename T>
T FailWith(int error) {
  errno = error;
  return static_cast<T>(-1);
}

}  // namespace

extern "C" {

int __wrap_epoll_create1(int flags) {
  if (const int error = Intercept(Sys::kEpollCreate1)) {
    return FailWith<int>(error);
  }
  return __real_epoll_create1(flags);
}

int __wrap_epoll_ctl(int epfd, int op, int fd, epoll_event* event) {
  if (const int error = Intercept(Sys::kEpollCtl, fd)) {
    return FailWith<int>(error);
  }
  return __real_epoll_ctl(epfd, op, fd, event);
}

int __wrap_epoll_pwait(int epfd, epoll_event* events, int maxevents,
                       int timeout, const sigset_t* sigmask) {
  if (const int error = Intercept(Sys::kEpollPwait, epfd)) {
    return FailWith<int>(error);
  }
  return __real_epoll_pwait(epfd, events, maxevents, timeout, sigmask);
}

int __wrap_epoll_pwait2(int epfd, epoll_event* events, int maxevents,
                        const timespec* timeout, const sigset_t* sigmask) {
  if (const int error = Intercept(Sys::kEpollPwait2, epfd)) {
    return FailWith<int>(error);
  }
  return __real_epoll_pwait2(epfd, events, maxevents, timeout, sigmask);
}

int __wrap_eventfd(unsigned int initval, int flags) {
  if (const int error = Intercept(Sys::kEventfd)) return FailWith<int>(error);
  return __real_eventfd(initval, flags);
}

ssize_t __wrap_read(int fd, void* buffer, size_t count) {
  if (const int error = Intercept(Sys::kRead, fd)) {
    return FailWith<ssize_t>(error);
  }
  return __real_read(fd, buffer, count);
}

ssize_t __wrap_write(int fd, const void* buffer, size_t count) {
  if (const int error = Intercept(Sys::kWrite, fd)) {
    return FailWith<ssize_t>(error);
  }
  return __real_write(fd, buffer, count);
}

int __wrap_open(const char* path, int flags, ...) {
  // The mode argument exists only with O_CREAT or O_TMPFILE.
  mode_t mode = 0;
  if ((flags & O_CREAT) != 0 || (flags & O_TMPFILE) == O_TMPFILE) {
    va_list arguments;
    va_start(arguments, flags);
    mode = static_cast<mode_t>(va_arg(arguments, unsigned int));
    va_end(arguments);
  }
  if (const int error = Intercept(Sys::kOpen)) return FailWith<int>(error);
  return __real_open(path, flags, mode);
}

int __wrap_ppoll(pollfd* fds, nfds_t count, const timespec* timeout,
                 const sigset_t* sigmask) {
  if (const int error = Intercept(Sys::kPpoll)) return FailWith<int>(error);
  return __real_ppoll(fds, count, timeout, sigmask);
}

int __wrap_fcntl(int fd, int command, ...) {
  // Every fcntl argument is an int or a pointer, passed in one register.
  va_list arguments;
  va_start(arguments, command);
  void* argument = va_arg(arguments, void*);
  va_end(arguments);
  if (const int error = Intercept(Sys::kFcntl, fd)) {
    return FailWith<int>(error);
  }
  return __real_fcntl(fd, command, argument);
}

int __wrap_pthread_create(pthread_t* thread, const pthread_attr_t* attributes,
                          void* (*start)(void*), void* argument) {
  if (const int error = Intercept(Sys::kPthreadCreate)) return error;
  return __real_pthread_create(thread, attributes, start, argument);
}

// clone's optional arguments are read whether the caller passed them or
// not; the io_uring set-up thread, the only caller here, passes all three.
int __wrap_clone(int (*start)(void*), void* stack, int flags, void* argument,
                 ...) {
  va_list arguments;
  va_start(arguments, argument);
  pid_t* parent_thread_id = va_arg(arguments, pid_t*);
  void* thread_local_storage = va_arg(arguments, void*);
  pid_t* child_thread_id = va_arg(arguments, pid_t*);
  va_end(arguments);
  if (const int error = Intercept(Sys::kClone)) return FailWith<int>(error);
  return __real_clone(start, stack, flags, argument, parent_thread_id,
                      thread_local_storage, child_thread_id);
}

int __wrap_kqueue(void) {
  if (const int error = Intercept(Sys::kKqueue)) return FailWith<int>(error);
  return __real_kqueue();
}

int __wrap_kevent(int kq, const struct kevent* changelist, int nchanges,
                  struct kevent* eventlist, int nevents,
                  const struct timespec* timeout) {
  using ::pollio::testing::armed_error;
  using ::pollio::testing::armed_nth;
  using ::pollio::testing::armed_receipt;
  using ::pollio::testing::armed_sys;
  using ::pollio::testing::counting;
  using ::pollio::testing::counts;
  using ::pollio::testing::fired;
  using ::pollio::testing::fired_fd;
  using ::pollio::testing::kRecordedKeventCalls;
  using ::pollio::testing::receipt_changes;
  if (!counting.load(std::memory_order_relaxed)) {
    return __real_kevent(kq, changelist, nchanges, eventlist, nevents, timeout);
  }
  const int index = static_cast<int>(Sys::kKevent);
  const int nth = counts[index].fetch_add(1) + 1;
  int receipts = 0;
  for (int i = 0; i < nchanges; ++i) {
    if ((changelist[i].flags & EV_RECEIPT) != 0) ++receipts;
  }
  if (nth <= kRecordedKeventCalls) receipt_changes[nth - 1].store(receipts);
  using ::pollio::testing::armed_times;
  const int first = armed_nth.load();
  if (armed_sys.load() != index || nth < first ||
      nth >= first + armed_times.load()) {
    return __real_kevent(kq, changelist, nchanges, eventlist, nevents, timeout);
  }
  const int failed = armed_receipt.load();
  if (failed < 0) {
    fired.store(true);
    // The fd the call was about: its first change's, if it has one.
    fired_fd.store(nchanges > 0 ? static_cast<int>(changelist[0].ident) : -1);
    return FailWith<int>(armed_error.load());
  }
  // A receipt fault needs a receipt for every change (so the rest cannot
  // start a wait) and room for them all; otherwise the call runs as is.
  if (failed >= nchanges || receipts != nchanges || nevents < nchanges) {
    return __real_kevent(kq, changelist, nchanges, eventlist, nevents, timeout);
  }
  fired.store(true);
  fired_fd.store(static_cast<int>(changelist[failed].ident));
  std::vector<struct kevent> rest(changelist, changelist + nchanges);
  rest.erase(rest.begin() + failed);
  std::vector<struct kevent> rows(static_cast<std::size_t>(nchanges));
  int placed = 0;
  if (!rest.empty()) {
    placed = __real_kevent(kq, rest.data(), static_cast<int>(rest.size()),
                           rows.data(), nchanges - 1, timeout);
    if (placed < 0) return -1;
  }
  // One receipt per change, in changelist order: the refused change's row
  // goes back at its own position.
  int out = 0;
  for (int i = 0; i < placed + 1; ++i) {
    if (i == failed) {
      eventlist[i] = changelist[failed];
      eventlist[i].flags = EV_ERROR;
      eventlist[i].data = armed_error.load();
    } else {
      eventlist[i] = rows[static_cast<std::size_t>(out++)];
    }
  }
  return placed + 1;
}

int __wrap_io_uring_queue_init_params(unsigned entries, io_uring* ring,
                                      io_uring_params* params) {
  if (const int error = Intercept(Sys::kIoUringQueueInitParams)) {
    return -error;
  }
  return __real_io_uring_queue_init_params(entries, ring, params);
}

int __wrap_io_uring_submit(io_uring* ring) {
  if (const int error = Intercept(Sys::kIoUringSubmit)) return -error;
  return __real_io_uring_submit(ring);
}

int __wrap_io_uring_submit_and_wait_timeout(io_uring* ring,
                                            io_uring_cqe** cqe_ptr,
                                            unsigned wait_nr,
                                            __kernel_timespec* timeout,
                                            sigset_t* sigmask) {
  if (const int error = Intercept(Sys::kIoUringSubmitAndWaitTimeout)) {
    return -error;
  }
  return __real_io_uring_submit_and_wait_timeout(ring, cqe_ptr, wait_nr,
                                                 timeout, sigmask);
}

int __wrap_io_uring_submit_and_get_events(io_uring* ring) {
  if (const int error = Intercept(Sys::kIoUringSubmitAndGetEvents)) {
    return -error;
  }
  return __real_io_uring_submit_and_get_events(ring);
}

int __wrap_io_uring_get_events(io_uring* ring) {
  if (const int error = Intercept(Sys::kIoUringGetEvents)) return -error;
  return __real_io_uring_get_events(ring);
}

int __wrap_io_uring_register_eventfd(io_uring* ring, int fd) {
  if (const int error = Intercept(Sys::kIoUringRegisterEventfd, fd)) {
    return -error;
  }
  return __real_io_uring_register_eventfd(ring, fd);
}

// NOLINTNEXTLINE(runtime/int): libc's type
long __wrap_syscall(long number, ...) {
  // Five arguments cover every system call pollio makes through syscall()
  // (io_uring_register takes four, a FUTEX_WAIT four, gettid none); they are
  // read from the register save area, so reading more than were passed reads no
  // memory the caller does not own.
  va_list arguments;
  va_start(arguments, number);
  long argument[5];  // NOLINT(runtime/int)
  for (long& value : argument) value = va_arg(arguments, long);  // NOLINT
  va_end(arguments);
  if (number == __NR_io_uring_register) {
    if (const int error = Intercept(Sys::kIoUringRegisterSyscall,
                                    static_cast<int>(argument[0]))) {
      return FailWith<long>(error);  // NOLINT(runtime/int)
    }
  }
  return __real_syscall(number, argument[0], argument[1], argument[2],
                        argument[3], argument[4]);
}

}  // extern "C"
