// Copyright 2026 The pollio Authors.
//
// -----------------------------------------------------------------------------
// File: factory/factory.h
// -----------------------------------------------------------------------------
//
// Run-time choice of a backend, for programs that take it from a flag or a
// config file. The target //factory links every backend the target
// platform can build; which of those the running kernel accepts is only known
// at run time (io_uring may be switched off), so AvailableBackends() probes.
//
// Example:
//
//   absl::StatusOr<pollio::Backend> backend = pollio::ParseBackend(flag);
//   if (!backend.ok()) return backend.status();
//   absl::StatusOr<std::unique_ptr<pollio::Poller>> poller =
//       pollio::NewPoller(*backend, {.max_events = 256});

#ifndef POLLIO_FACTORY_FACTORY_H_
#define POLLIO_FACTORY_FACTORY_H_

#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "poller/poller.h"

namespace pollio {

// NewPoller()
//
// A new poller on `backend`. Unimplemented when the backend is not compiled
// into this build (kqueue on Linux, epoll on macOS); Unavailable when the
// kernel refuses it; InvalidArgument for out-of-range options.
absl::StatusOr<std::unique_ptr<Poller>> NewPoller(Backend backend,
                                                  PollerOptions options = {});

// NewOsPoller()
//
// A new poller on the platform's native backend: epoll on Linux, kqueue on
// macOS, iOS, FreeBSD and OpenBSD, poll(2) elsewhere. The same backend as
// factory/os_poller.h's OsPoller.
absl::StatusOr<std::unique_ptr<Poller>> NewOsPoller(PollerOptions options = {});

// AvailableBackends()
//
// The backends compiled in and usable on this kernel, native one first.
// Probed once per process, at the first call, by creating and destroying
// one poller per backend; later calls return that answer (a sysctl such as
// kernel.io_uring_disabled changed afterwards is not seen: NewPoller still
// tells the truth). Thread-safe. The probe has no effect on the caller: its
// io_uring ring is set up on a short-lived thread of its own and never
// used, so its teardown interrupts none of the caller's waits.
std::vector<Backend> AvailableBackends();

}  // namespace pollio

#endif  // POLLIO_FACTORY_FACTORY_H_
