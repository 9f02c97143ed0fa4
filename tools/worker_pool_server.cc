// Copyright 2026 The pollio Authors.

#include "tools/worker_pool_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_set>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "event/event.h"
#include "factory/factory.h"
#include "poller/poller.h"
#include "tools/send_pending.h"

namespace pollio {

// Owned by one worker; the poller's token for its registration.
struct WorkerPoolServer::Connection {
  int fd;
  std::size_t worker;
  std::string pending;  // read, not yet written back

  std::uint64_t token() { return reinterpret_cast<std::uintptr_t>(this); }
  static Connection* From(std::uint64_t token) {
    return reinterpret_cast<Connection*>(static_cast<std::uintptr_t>(token));
  }
};

// A thread with a queue: new fds to adopt, and events of its connections.
class WorkerPoolServer::Worker {
 public:
  Worker(WorkerPoolServer& server, std::size_t index)
      : server_(server), index_(index), thread_([this] { Loop(); }) {}

  // Runs on the poller thread: once the worker's thread has finished its
  // queue, what it owned is closed here. (On io_uring a del from another
  // thread waits for the waiting thread to cancel the poll, so the waiting
  // thread must not be blocked joining a thread that dels.)
  ~Worker() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    ready_.notify_one();
    thread_.join();
    for (Connection* connection :
         std::vector<Connection*>(connections_.begin(), connections_.end())) {
      Close(*connection);
    }
  }

  void Adopt(int fd) { Push(Task{fd, nullptr, Events::kNone}); }
  void Dispatch(Connection* connection, Events events) {
    Push(Task{-1, connection, events});
  }

 private:
  struct Task {
    int new_fd;              // >= 0: adopt this fd
    Connection* connection;  // else: serve this connection
    Events events;
  };

  void Push(Task task) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      tasks_.push_back(task);
    }
    ready_.notify_one();
  }

  void Loop() {
    for (;;) {
      Task task;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        ready_.wait(lock, [&] { return stopping_ || !tasks_.empty(); });
        if (tasks_.empty()) break;  // stopping, and nothing left to do
        task = tasks_.front();
        tasks_.pop_front();
      }
      if (task.new_fd >= 0) {
        AdoptNow(task.new_fd);
      } else {
        Serve(*task.connection, task.events);
      }
    }
  }

  void AdoptNow(int fd) {
    auto connection = std::make_unique<Connection>(Connection{fd, index_, {}});
    // kOneshot: reported to this worker once, until it re-arms.
    if (absl::Status status = server_.poller_->add(
            EventObject::Client(fd, connection->token()), Trigger::kOneshot);
        !status.ok()) {
      std::fprintf(stderr, "worker_pool_server: %s\n",
                   status.ToString().c_str());
      ::close(fd);
      return;
    }
    connections_.insert(connection.release());
  }

  void Serve(Connection& connection, Events events) {
    if (Has(events, Events::kError)) return Close(connection);
    char buffer[16384];
    for (;;) {
      switch (tools::SendPending(connection.fd, connection.pending)) {
        case tools::SendResult::kAllSent:
          break;
        case tools::SendResult::kWouldBlock:
          return Rearm(connection, Events::kWritable);
        case tools::SendResult::kFailed:
          return Close(connection);
      }
      const ssize_t got = ::read(connection.fd, buffer, sizeof(buffer));
      if (got > 0) {
        connection.pending.assign(buffer, static_cast<std::size_t>(got));
        continue;
      }
      if (got < 0 && errno == EINTR) continue;
      if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        return Rearm(connection, Events::kReadable);
      }
      return Close(connection);  // EOF or a read error
    }
  }

  void Rearm(Connection& connection, Events interest) {
    if (absl::Status status = server_.poller_->modify(
            EventObject{connection.fd, EventKind::kClient, interest,
                        connection.token()},
            Trigger::kOneshot);
        !status.ok()) {
      std::fprintf(stderr, "worker_pool_server: %s\n",
                   status.ToString().c_str());
      Close(connection);
    }
  }

  void Close(Connection& connection) {
    (void)server_.poller_->del(connection.fd);  // before close
    ::close(connection.fd);
    connections_.erase(&connection);
    delete &connection;
    server_.closed_.fetch_add(1);
  }

  WorkerPoolServer& server_;
  const std::size_t index_;
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<Task> tasks_;  // guarded by mutex_
  bool stopping_ = false;   // guarded by mutex_
  // This worker's thread only (its destructor's, once that has joined).
  std::unordered_set<Connection*> connections_;
  std::thread thread_;  // last: starts once the rest is built
};

absl::StatusOr<std::unique_ptr<WorkerPoolServer>> WorkerPoolServer::Create(
    Backend backend, int workers, int port) {
  if (workers < 1) {
    return absl::InvalidArgumentError("WorkerPoolServer: workers < 1");
  }
  PollerOptions options;
  options.registration_from_any_thread = true;
  absl::StatusOr<std::unique_ptr<Poller>> poller = NewPoller(backend, options);
  if (!poller.ok()) return poller.status();
  const int fd =
      ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::ErrnoToStatus(errno, "socket");
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  socklen_t length = sizeof(address);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
      ::listen(fd, SOMAXCONN) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    const int error = errno;
    ::close(fd);
    return absl::ErrnoToStatus(error, "bind/listen on 127.0.0.1");
  }
  std::unique_ptr<WorkerPoolServer> server(
      new WorkerPoolServer(*std::move(poller), fd, ntohs(address.sin_port)));
  if (absl::Status status =
          server->poller_->add(EventObject::Server(server->listen_fd_));
      !status.ok()) {
    return status;
  }
  for (int i = 0; i < workers; ++i) {
    server->workers_.push_back(
        std::make_unique<Worker>(*server, static_cast<std::size_t>(i)));
  }
  return server;
}

WorkerPoolServer::WorkerPoolServer(std::unique_ptr<Poller> poller,
                                   int listen_fd, int port)
    : poller_(std::move(poller)), listen_fd_(listen_fd), port_(port) {}

WorkerPoolServer::~WorkerPoolServer() {
  workers_.clear();  // if Run never ran: joins them, closes what they own
  if (listening_) (void)poller_->del(listen_fd_);
  ::close(listen_fd_);
}

absl::Status WorkerPoolServer::Run() {
  absl::Status result = absl::OkStatus();
  while (!stop_.load()) {
    absl::StatusOr<absl::Span<const EventObject>> events = poller_->wait();
    if (!events.ok()) {
      result = events.status();
      break;
    }
    for (const EventObject& ev : *events) {
      // Scrubbing is the waiting thread's alone; a connection its worker
      // closed meanwhile cannot be in this batch: it was oneshot, and
      // reported at most once before its worker re-armed or deleted it.
      if (ev.fd < 0) continue;
      if (ev.kind == EventKind::kServer) {
        AcceptAll();
        continue;
      }
      Connection* connection = Connection::From(ev.token);
      workers_[connection->worker]->Dispatch(connection, ev.events);
    }
  }
  workers_.clear();  // each worker drains its queue; its destructor closes
  // The listener too, here on the waiting thread: on io_uring only it may
  // cancel a poll, and no wait follows.
  (void)poller_->del(listen_fd_);
  listening_ = false;
  return result;
}

void WorkerPoolServer::Stop() {
  stop_.store(true);
  (void)poller_->wake();
}

void WorkerPoolServer::AcceptAll() {
  for (;;) {
    const int fd =
        ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      return;  // EAGAIN, or out of fds for now: retried on the next event
    }
    accepted_.fetch_add(1);
    workers_[next_worker_]->Adopt(fd);
    next_worker_ = (next_worker_ + 1) % workers_.size();
  }
}

}  // namespace pollio
