// Copyright 2026 The pollio Authors.
//
// tools/worker_pool_server over loopback on every backend: concurrent
// clients send messages of random sizes and check every echoed byte, while
// the workers register, re-arm and delete their connections from their own
// threads and one thread waits.

#include "tools/worker_pool_server.h"

#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "factory/factory.h"
#include "gtest/gtest.h"
#include "poller/poller.h"
#include "tests/test_util.h"

namespace pollio {
namespace {

using ::pollio::testing::ConnectLoopback;
using ::pollio::testing::UniqueFd;

// Sends `messages` random messages on one connection and checks each echo.
bool EchoClient(int port, int messages, std::uint32_t seed) {
  UniqueFd fd = ConnectLoopback(port);
  if (fd.get() < 0) return false;
  timeval limit{5, 0};  // a lost echo fails the client instead of hanging
  ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof(limit));
  std::mt19937 random(seed);
  for (int i = 0; i < messages; ++i) {
    std::string message(1 + random() % 20000, '\0');
    for (char& c : message) c = static_cast<char>('a' + random() % 26);
    if (::send(fd.get(), message.data(), message.size(), MSG_NOSIGNAL) !=
        static_cast<ssize_t>(message.size())) {
      return false;
    }
    std::string echoed;
    while (echoed.size() < message.size()) {
      char buffer[65536];
      const ssize_t got = ::recv(fd.get(), buffer, sizeof(buffer), 0);
      if (got <= 0) {
        if (got < 0 && errno == EINTR) continue;
        return false;
      }
      echoed.append(buffer, static_cast<std::size_t>(got));
    }
    if (echoed != message) return false;
  }
  return true;
}

class WorkerPoolServerTest : public ::testing::TestWithParam<Backend> {};

TEST_P(WorkerPoolServerTest, EchoesEveryByteForConcurrentClients) {
  absl::StatusOr<std::unique_ptr<WorkerPoolServer>> server =
      WorkerPoolServer::Create(GetParam(), /*workers=*/3, /*port=*/0);
  if (server.status().code() == absl::StatusCode::kUnimplemented ||
      server.status().code() == absl::StatusCode::kUnavailable) {
    GTEST_SKIP() << server.status();
  }
  ASSERT_TRUE(server.ok()) << server.status();
  std::thread poller([&] { EXPECT_TRUE((*server)->Run().ok()); });

  constexpr int kClients = 8;
  constexpr int kRounds = 3;  // each client connects this many times
  std::atomic<int> failures{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      for (int round = 0; round < kRounds; ++round) {
        if (!EchoClient((*server)->port(), 20,
                        static_cast<std::uint32_t>(c * 100 + round))) {
          failures.fetch_add(1);
        }
      }
    });
  }
  for (std::thread& client : clients) client.join();
  (*server)->Stop();
  poller.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ((*server)->accepted(), kClients * kRounds);
  EXPECT_EQ((*server)->closed(), kClients * kRounds)
      << "every connection closed by its worker";
}

INSTANTIATE_TEST_SUITE_P(Backends, WorkerPoolServerTest,
                         ::testing::Values(Backend::kEpoll, Backend::kPoll,
                                           Backend::kUring),
                         testing::BackendTestName());

}  // namespace
}  // namespace pollio
