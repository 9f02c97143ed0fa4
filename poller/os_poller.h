// Copyright 2026 The pollio Authors.
//
// -----------------------------------------------------------------------------
// File: poller/os_poller.h
// -----------------------------------------------------------------------------
//
// `pollio::OsPoller`: the native backend class of the target platform, for
// code that wants no virtual call and no run-time choice:
//
//   | platform                    | OsPoller                          |
//   |-----------------------------|-----------------------------------|
//   | Linux                       | EpollPoller                       |
//   | macOS, iOS, FreeBSD, OpenBSD| KqueuePoller                      |
//   | elsewhere (NetBSD too, for  | PollPoller                        |
//   | want of a Bazel constraint) |                                   |
//
// The Bazel target //poller:os_poller links the same backend through a
// select() on @platforms//os:*, so the #if below and the BUILD file agree.
//
// Example:
//
//   absl::StatusOr<std::unique_ptr<pollio::OsPoller>> poller =
//       pollio::OsPoller::Create();

#ifndef POLLIO_POLLER_OS_POLLER_H_
#define POLLIO_POLLER_OS_POLLER_H_

// The same platforms as //poller:os_poller's select() on @platforms//os:*.
#if defined(__linux__)
#include "backends/epoll/epoll_poller.h"
#elif defined(__APPLE__) || defined(__FreeBSD__) || defined(__OpenBSD__)
#include "backends/kqueue/kqueue_poller.h"
#else
#include "backends/poll/poll_poller.h"
#endif

namespace pollio {

#if defined(__linux__)
using OsPoller = EpollPoller;
#elif defined(__APPLE__) || defined(__FreeBSD__) || defined(__OpenBSD__)
using OsPoller = KqueuePoller;
#else
using OsPoller = PollPoller;
#endif

}  // namespace pollio

#endif  // POLLIO_POLLER_OS_POLLER_H_
