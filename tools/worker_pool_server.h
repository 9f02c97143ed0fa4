// Copyright 2026 The pollio Authors.
//
// -----------------------------------------------------------------------------
// File: tools/worker_pool_server.h
// -----------------------------------------------------------------------------
//
// The shape a multi-threaded runtime starts from, as a small echo server:
// one poller thread that only waits and dispatches, and a pool of worker
// threads that own the connections and register, re-arm and delete them
// themselves, with PollerOptions::registration_from_any_thread.
//
//   * The poller thread accepts (the listener is kServer, level-triggered)
//     and hands each new fd to a worker, round robin. It never touches a
//     connection: an event's token is the Connection, and the event goes to
//     the queue of the worker that owns it.
//   * A worker registers its connection kOneshot, so the poller thread
//     dispatches it to that one worker at a time; after serving, the worker
//     re-arms it with modify (kReadable, or kWritable while a reply is
//     pending), or deletes and closes it on EOF or error. No lock guards a
//     connection: only its worker touches it.
//   * Stop() (any thread) wakes the poller thread; workers finish their
//     queues, and the poller thread, once it has joined them, deletes and
//     closes what they owned. (Not the workers: on io_uring a del from
//     another thread waits for the waiting thread to cancel the poll, so
//     the waiting thread must not block on a thread that dels.)
//
// Example:
//
//   auto server = WorkerPoolServer::Create(pollio::Backend::kEpoll,
//                                          /*workers=*/4, /*port=*/8080);
//   std::thread poller([&] { (void)(*server)->Run(); });
//   ...
//   (*server)->Stop();
//   poller.join();

#ifndef POLLIO_TOOLS_WORKER_POOL_SERVER_H_
#define POLLIO_TOOLS_WORKER_POOL_SERVER_H_

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "poller/poller.h"

namespace pollio {

class WorkerPoolServer {
 public:
  // A listener on 127.0.0.1:`port` (0: the kernel picks), a poller of
  // `backend` with registration from any thread, and `workers` threads.
  static absl::StatusOr<std::unique_ptr<WorkerPoolServer>> Create(
      Backend backend, int workers, int port);

  WorkerPoolServer(const WorkerPoolServer&) = delete;
  WorkerPoolServer& operator=(const WorkerPoolServer&) = delete;
  ~WorkerPoolServer();

  int port() const { return port_; }

  // The poller thread's loop, until Stop(). Joins the workers before it
  // returns, so every connection is closed by then.
  absl::Status Run();

  // Any thread: makes Run() return.
  void Stop();

  // Connections accepted, and closed by their workers, so far.
  int accepted() const { return accepted_.load(); }
  int closed() const { return closed_.load(); }

 private:
  class Worker;
  struct Connection;

  WorkerPoolServer(std::unique_ptr<Poller> poller, int listen_fd, int port);
  void AcceptAll();

  std::unique_ptr<Poller> poller_;
  int listen_fd_;
  int port_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::size_t next_worker_ = 0;
  bool listening_ = true;  // registered with the poller
  std::atomic<bool> stop_{false};
  std::atomic<int> accepted_{0};
  std::atomic<int> closed_{0};
};

}  // namespace pollio

#endif  // POLLIO_TOOLS_WORKER_POOL_SERVER_H_
