// Copyright 2026 The pollio Authors.
//
// tools/bazel run //tools:worker_pool_server -- --workers=4
//
// The multi-threaded echo server of tools/worker_pool_server.h on
// 127.0.0.1: prints "worker_pool_server listening on 127.0.0.1:PORT
// backend=epoll workers=N" and serves until SIGINT or SIGTERM.

#include <signal.h>

#include <atomic>
#include <cstdio>
#include <string>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "factory/factory.h"
#include "poller/poller.h"
#include "tools/worker_pool_server.h"

ABSL_FLAG(int, port, 0, "TCP port on 127.0.0.1; 0 picks a free one");
ABSL_FLAG(std::string, backend, "", "epoll, poll, uring or kqueue; empty: OS");
ABSL_FLAG(int, workers, 4, "worker threads that own the connections");

namespace {

std::atomic<pollio::WorkerPoolServer*> running{nullptr};

void RequestStop(int /*signal*/) {
  // Stop() is an atomic store and a wake(): both async-signal-safe.
  if (pollio::WorkerPoolServer* server = running.load()) server->Stop();
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  pollio::Backend backend = pollio::Backend::kEpoll;
  if (const std::string name = absl::GetFlag(FLAGS_backend); !name.empty()) {
    absl::StatusOr<pollio::Backend> parsed = pollio::ParseBackend(name);
    if (!parsed.ok()) {
      std::fprintf(stderr, "%s\n", parsed.status().ToString().c_str());
      return 2;
    }
    backend = *parsed;
  } else if (!pollio::AvailableBackends().empty()) {
    backend = pollio::AvailableBackends().front();
  }
  absl::StatusOr<std::unique_ptr<pollio::WorkerPoolServer>> server =
      pollio::WorkerPoolServer::Create(backend, absl::GetFlag(FLAGS_workers),
                                       absl::GetFlag(FLAGS_port));
  if (!server.ok()) {
    std::fprintf(stderr, "worker_pool_server: %s\n",
                 server.status().ToString().c_str());
    return 1;
  }
  running.store(server->get());
  struct sigaction action {};
  action.sa_handler = RequestStop;
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
  std::printf(
      "worker_pool_server listening on 127.0.0.1:%d backend=%s "
      "workers=%d\n",
      (*server)->port(), std::string(pollio::BackendName(backend)).c_str(),
      absl::GetFlag(FLAGS_workers));
  std::fflush(stdout);
  const absl::Status status = (*server)->Run();
  running.store(nullptr);
  std::printf("worker_pool_server served %d connections\n",
              (*server)->accepted());
  if (!status.ok()) {
    std::fprintf(stderr, "worker_pool_server: %s\n", status.ToString().c_str());
    return 1;
  }
  return 0;
}
