// Copyright 2026 The pollio Authors.

#include "factory/factory.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "factory/os_poller.h"
#include "poller/poller.h"

// POLLIO_HAVE_<BACKEND> comes from //backends:platforms.bzl through
// //factory's local_defines, so this file compiles only the backends the
// target platform has.
#if defined(POLLIO_HAVE_EPOLL)
#include "backends/epoll/epoll_poller.h"
#endif
#if defined(POLLIO_HAVE_POLL)
#include "backends/poll/poll_poller.h"
#endif
#if defined(POLLIO_HAVE_URING)
#include "backends/uring/uring_poller.h"
#endif
#if defined(POLLIO_HAVE_KQUEUE)
#include "backends/kqueue/kqueue_poller.h"
#endif

namespace pollio {
namespace {

// Widens StatusOr<unique_ptr<Derived>> to StatusOr<unique_ptr<Poller>>.
template <typename Derived>
absl::StatusOr<std::unique_ptr<Poller>> Widen(
    absl::StatusOr<std::unique_ptr<Derived>> poller) {
  if (!poller.ok()) return poller.status();
  return std::unique_ptr<Poller>(*std::move(poller));
}

}  // namespace

absl::StatusOr<std::unique_ptr<Poller>> NewPoller(Backend backend,
                                                  PollerOptions options) {
  switch (backend) {
    case Backend::kEpoll:
#if defined(POLLIO_HAVE_EPOLL)
      return Widen(EpollPoller::Create(options));
#else
      break;
#endif
    case Backend::kPoll:
#if defined(POLLIO_HAVE_POLL)
      return Widen(PollPoller::Create(options));
#else
      break;
#endif
    case Backend::kUring:
#if defined(POLLIO_HAVE_URING)
      return Widen(UringPoller::Create(options));
#else
      break;
#endif
    case Backend::kKqueue:
#if defined(POLLIO_HAVE_KQUEUE)
      return Widen(KqueuePoller::Create(options));
#else
      break;
#endif
  }
  return absl::UnimplementedError("NewPoller: backend " +
                                  std::string(BackendName(backend)) +
                                  " is not compiled into this build");
}

absl::StatusOr<std::unique_ptr<Poller>> NewOsPoller(PollerOptions options) {
  return Widen(OsPoller::Create(options));
}

std::vector<Backend> AvailableBackends() {
  // Probed once per process: a probe is a poller made and dropped, and a
  // pure query should not cost that on every call.
  static const std::vector<Backend>* const available = [] {
    auto* backends = new std::vector<Backend>();
    // The native backend first, then the rest in kAllBackends' order.
    absl::StatusOr<std::unique_ptr<OsPoller>> native =
        OsPoller::Create(PollerOptions{1});
    if (native.ok()) backends->push_back((*native)->backend());
    for (Backend backend : kAllBackends) {
      if (native.ok() && backend == (*native)->backend()) continue;
      if (NewPoller(backend, PollerOptions{1}).ok()) {
        backends->push_back(backend);
      }
    }
    return backends;
  }();
  return *available;
}

}  // namespace pollio
