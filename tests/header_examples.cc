// Copyright 2026 The pollio Authors.
//
// Every code example in a public header's comment, compiled: the text
// between a BEGIN EXAMPLE marker and the next END EXAMPLE marker (less two
// spaces of indentation) is what the named header shows, and
// examples_test.cc checks the two are the same. clang-format stays off
// there: the header's layout fits its comment's narrower width. The names an
// example uses without defining them (listen_fd, AcceptAll, ...) are the
// parameters and helpers here.

#include "tests/header_examples.h"

#include <iostream>
#include <memory>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "event/event.h"
#include "factory/factory.h"
#include "factory/os_poller.h"
#include "poller/poller.h"

namespace pollio {
namespace examples {
namespace {

void AcceptAll(int listen_fd) { static_cast<void>(listen_fd); }
void Serve(const EventObject& ev) { static_cast<void>(ev); }

}  // namespace

void EventHeaderExample(int listen_fd, int conn_fd) {
  // clang-format off
  // BEGIN EXAMPLE event/event.h
  pollio::EventObject listener = pollio::EventObject::Server(listen_fd);
  pollio::EventObject client = pollio::EventObject::Client(conn_fd);
  client.events = pollio::Events::kReadable | pollio::Events::kWritable;
  std::cout << client;  // {fd=8 kind=client events=R|W}
  // END EXAMPLE
  // clang-format on
  static_cast<void>(listener);
}

absl::Status PollerHeaderExample(int listen_fd) {
  // clang-format off
  // BEGIN EXAMPLE poller/poller.h
  auto poller = pollio::NewOsPoller();          // factory/factory.h
  if (!poller.ok()) return poller.status();
  absl::Status added =
      (*poller)->add(pollio::EventObject::Server(listen_fd));
  if (!added.ok()) return added;
  for (;;) {
    auto events = (*poller)->wait();
    if (!events.ok()) return events.status();
    for (const pollio::EventObject& ev : *events) {
      if (ev.fd < 0) continue;  // scrubbed by del() in this batch
      if (ev.kind == pollio::EventKind::kServer) {
        AcceptAll(ev.fd);       // accept4 until EAGAIN, add each Client
      } else {
        Serve(ev);              // read until EAGAIN; on EOF: del, close
      }
    }
  }
  // END EXAMPLE
  // clang-format on
}

absl::Status FactoryHeaderExample(std::string_view flag) {
  // clang-format off
  // BEGIN EXAMPLE factory/factory.h
  absl::StatusOr<pollio::Backend> backend = pollio::ParseBackend(flag);
  if (!backend.ok()) return backend.status();
  absl::StatusOr<std::unique_ptr<pollio::Poller>> poller =
      pollio::NewPoller(*backend, {.max_events = 256});
  // END EXAMPLE
  // clang-format on
  return poller.status();
}

absl::Status OsPollerHeaderExample() {
  // clang-format off
  // BEGIN EXAMPLE factory/os_poller.h
  absl::StatusOr<std::unique_ptr<pollio::OsPoller>> poller =
      pollio::OsPoller::Create();
  // END EXAMPLE
  // clang-format on
  return poller.status();
}

}  // namespace examples
}  // namespace pollio
