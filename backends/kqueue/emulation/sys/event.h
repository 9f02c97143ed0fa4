// Copyright 2026 The pollio Authors.
//
// A kqueue emulation for Linux, for tests only: the BSD <sys/event.h> API
// (kqueue(), kevent(), struct kevent, the EV_ / EVFILT_ / NOTE_ constants the
// kqueue backend uses) implemented on epoll, so that the backend's unchanged
// sources can be built and tested on Linux, where CI runs. Values follow
// FreeBSD's header.
//
// The semantics follow the FreeBSD and macOS kqueue(2) pages for what the
// backend relies on:
//   * registrations are per (ident, filter); EV_ADD of an existing one
//     modifies it (flags, udata) and enables it;
//   * EV_DELETE, EV_ENABLE or EV_DISABLE of a missing one fails with ENOENT;
//     EV_ADD of a closed fd with EBADF;
//   * a change that fails, or any change with EV_RECEIPT, produces an
//     EV_ERROR event with the errno in `data` (0 for success) when the event
//     list has room; if any such event was produced, kevent returns at once
//     without waiting. With no room, a failing change makes kevent return -1
//     with errno;
//   * EV_CLEAR: reported once per new activation (as edge triggering);
//     EV_ONESHOT: reported once, then deleted; EV_DISPATCH: reported once,
//     then disabled until EV_ENABLE; EV_DISABLE (also with EV_ADD): stays
//     registered and reports nothing, not even EV_EOF, until EV_ENABLE;
//   * fork(): a child inherits no kqueue. Its copies are closed in the
//     child (pthread_atfork), so kevent() on one fails with EBADF and the
//     number is free, as on BSD;
//   * EV_EOF on EVFILT_READ when the peer will send no more (it closed, or
//     shut down writing: EPOLLRDHUP or EPOLLHUP), on EVFILT_WRITE when
//     nothing more can be sent (EPOLLHUP: both directions are shut). Unlike
//     BSD, a local shutdown(SHUT_WR) alone sets no EV_EOF on EVFILT_WRITE
//     (epoll does not report it). A pending socket error sets EV_EOF with a
//     nonzero fflags, which is EIO rather than the error itself: Linux
//     cannot read SO_ERROR without clearing it, and BSD leaves it pending
//     for the caller;
//   * EVFILT_USER events, triggered with NOTE_TRIGGER from any thread;
//   * timeouts with nanosecond precision (ppoll); EINTR as -1 with errno.
//
// Not emulated: other filters, NOTE_ flags beyond NOTE_TRIGGER, kevent data
// beyond bytes readable. A kqueue fd closed with close() leaks its internal
// epoll fds until the number is reused by another kqueue() (test-only).
// Nor are the vnode and device filters: EV_ADD of a regular file, a
// directory or /dev/null fails with EPERM, as epoll_ctl does, where a BSD
// kernel accepts files and directories.

#ifndef POLLIO_BACKENDS_KQUEUE_EMULATION_SYS_EVENT_H_
#define POLLIO_BACKENDS_KQUEUE_EMULATION_SYS_EVENT_H_

#include <stdint.h>
#include <time.h>

#define EVFILT_READ (-1)
#define EVFILT_WRITE (-2)
#define EVFILT_USER (-11)

#define EV_ADD 0x0001
#define EV_DELETE 0x0002
#define EV_ENABLE 0x0004
#define EV_DISABLE 0x0008
#define EV_ONESHOT 0x0010
#define EV_CLEAR 0x0020
#define EV_RECEIPT 0x0040
#define EV_DISPATCH 0x0080
#define EV_ERROR 0x4000
#define EV_EOF 0x8000

#define NOTE_TRIGGER 0x01000000

struct kevent {
  uintptr_t ident;
  int16_t filter;
  uint16_t flags;
  uint32_t fflags;
  int64_t data;
  void* udata;
};

#define EV_SET(kevp, a, b, c, d, e, f) \
  do {                                 \
    struct kevent* ev_ = (kevp);       \
    ev_->ident = (a);                  \
    ev_->filter = (b);                 \
    ev_->flags = (c);                  \
    ev_->fflags = (d);                 \
    ev_->data = (e);                   \
    ev_->udata = (f);                  \
  } while (0)

#ifdef __cplusplus
extern "C" {
#endif

int kqueue(void);
int kevent(int kq, const struct kevent* changelist, int nchanges,
           struct kevent* eventlist, int nevents,
           const struct timespec* timeout);

#ifdef __cplusplus
}
#endif

#endif  // POLLIO_BACKENDS_KQUEUE_EMULATION_SYS_EVENT_H_
