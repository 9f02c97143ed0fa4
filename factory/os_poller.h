// Copyright 2026 The pollio Authors.
//
// -----------------------------------------------------------------------------
// File: factory/os_poller.h
// -----------------------------------------------------------------------------
//
// `pollio::OsPoller`: the native backend class of the target platform, for
// code that wants no virtual call and no run-time choice:
//
//   | platform                     | OsPoller     |
//   |------------------------------|--------------|
//   | Linux                        | EpollPoller  |
//   | macOS, iOS, FreeBSD, OpenBSD | KqueuePoller |
//   | elsewhere                    | PollPoller   |
//
// The choice is made by the build, from the one platform table in
// //backends:platforms.bzl (the CMake build: CMAKE_SYSTEM_NAME), through a
// header generated from it; the target //factory:os_poller links the same
// backend. NewOsPoller() (factory/factory.h) creates the same class.
//
// Example:
//
//   absl::StatusOr<std::unique_ptr<pollio::OsPoller>> poller =
//       pollio::OsPoller::Create();

#ifndef POLLIO_FACTORY_OS_POLLER_H_
#define POLLIO_FACTORY_OS_POLLER_H_

#include "factory/native_backend.h"  // IWYU pragma: export

#endif  // POLLIO_FACTORY_OS_POLLER_H_
