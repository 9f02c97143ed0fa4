// Copyright 2026 The pollio Authors.
//
// The public headers' code examples as functions (tests/header_examples.cc),
// so the build compiles each and examples_test.cc can run the ones that end.

#ifndef POLLIO_TESTS_HEADER_EXAMPLES_H_
#define POLLIO_TESTS_HEADER_EXAMPLES_H_

#include <string_view>

#include "absl/status/status.h"

namespace pollio {
namespace examples {

// event/event.h's example: prints `client` to std::cout.
void EventHeaderExample(int listen_fd, int conn_fd);

// poller/poller.h's accept loop. Never returns OK: it loops until an error.
absl::Status PollerHeaderExample(int listen_fd);

// factory/factory.h's: a poller of the backend named by `flag`.
absl::Status FactoryHeaderExample(std::string_view flag);

// factory/os_poller.h's: an OsPoller.
absl::Status OsPollerHeaderExample();

}  // namespace examples
}  // namespace pollio

#endif  // POLLIO_TESTS_HEADER_EXAMPLES_H_
