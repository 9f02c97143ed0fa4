// Copyright 2026 The pollio Authors.
//
// echo_server: a real accept loop on a pollio Poller.
//
//   tools/bazel run //tools:echo_server -- --port=7000 --backend=poll
//   tools/bazel run //tools:echo_server -- --threads=2
//
// Listens on --bind:--port (default 127.0.0.1, port 0 = kernel's choice),
// prints "echo_server listening on 127.0.0.1:PORT backend=NAME threads=N"
// once ready, and echoes every byte back to its sender until SIGINT or
// SIGTERM, which end it cleanly through Poller::wake(). On exit it prints
// "echo_server thread I served N connections" for each thread.
//
// --threads=N runs N threads, each with its own Poller and, by default, its
// own listening socket bound with SO_REUSEPORT to the same port, so the
// kernel spreads connections and nothing is shared on the hot path.
// --shared_listener instead registers one listener with every thread's
// poller with Trigger::kExclusive, so a connection wakes one thread
// (EPOLLEXCLUSIVE), not all.
//
// The loop is the pattern pollio is built for:
//   * one listener registered as kServer, connections as kClient, so a result
//     says what it is without a lookup;
//   * accept4 until EAGAIN, every socket non-blocking;
//   * read until EAGAIN, write back; a partial write parks the rest and
//     switches the connection's interest to kWritable (no reading meanwhile:
//     a client that does not read cannot make the server buffer without
//     bound), and back to kReadable once flushed;
//   * EOF, hangup or error: del before close;
//   * out of fds (EMFILE/ENFILE): a reserved fd is given up to accept and at
//     once close the pending connection, so the backlog drains and the
//     level-triggered listener does not spin; existing clients are served
//     throughout, and the exit line counts the connections shed.

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "event/event.h"
#include "factory/factory.h"
#include "poller/poller.h"
#include "tools/send_pending.h"

ABSL_FLAG(std::string, bind, "127.0.0.1",
          "IPv4 address to listen on; listening on every interface "
          "(0.0.0.0) is an explicit choice");
ABSL_FLAG(int, port, 0, "TCP port; 0 picks a free one and prints it");
ABSL_FLAG(std::string, backend, "",
          "epoll, poll, kqueue or uring; empty for the OS poller");
ABSL_FLAG(int, max_events, 1024, "Poller result buffer capacity");
ABSL_FLAG(int, threads, 1, "accept loops, one Poller each");
ABSL_FLAG(bool, shared_listener, false,
          "one listener shared by every thread with Trigger::kExclusive, "
          "instead of one SO_REUSEPORT listener per thread");

namespace {

std::atomic<bool> stop_requested{false};
// Held by main while it wakes the workers' pollers at shutdown, and by a
// worker while it unpublishes its poller before destroying it.
std::mutex pollers_mutex;

// One per client, owned by its registration: the poller's token is the
// pointer, so an event leads straight to its connection and the poller's
// table is the only one.
struct Connection {
  explicit Connection(int fd) : fd(fd) {}
  int fd;
  std::string pending;  // bytes read but not yet written back
  pollio::Events interest = pollio::Events::kReadable;

  std::uint64_t token() { return reinterpret_cast<std::uintptr_t>(this); }
  static Connection& From(const pollio::EventObject& ev) {
    return *reinterpret_cast<Connection*>(
        static_cast<std::uintptr_t>(ev.token));
  }
};

class EchoServer {
 public:
  EchoServer(pollio::Poller& poller, int listen_fd)
      : poller_(poller),
        listen_fd_(listen_fd),
        reserved_fd_(::open("/dev/null", O_RDONLY | O_CLOEXEC)) {}
  ~EchoServer() {
    if (reserved_fd_ >= 0) ::close(reserved_fd_);
  }

  // Registers the listener; kExclusive when several pollers share it.
  absl::Status Listen(pollio::Trigger trigger) {
    return poller_.add(pollio::EventObject::Server(listen_fd_), trigger);
  }

  int served() const { return served_; }
  int shed() const { return shed_; }

  absl::Status Run() {
    while (!stop_requested.load()) {
      absl::StatusOr<absl::Span<const pollio::EventObject>> events =
          poller_.wait();
      if (!events.ok()) return events.status();
      for (const pollio::EventObject& ev : *events) {
        if (ev.fd < 0) continue;  // scrubbed by a del in this batch
        if (ev.kind == pollio::EventKind::kServer) {
          if (absl::Status status = AcceptAll(); !status.ok()) return status;
        } else {
          Serve(ev, Connection::From(ev));
        }
      }
    }
    // Every connection is a registration: the poller lists them.
    std::vector<Connection*> open;
    poller_.for_each([&](const pollio::Registration& registration) {
      if (registration.kind != pollio::EventKind::kClient) return;
      open.push_back(reinterpret_cast<Connection*>(
          static_cast<std::uintptr_t>(registration.token)));
    });
    for (Connection* connection : open) Close(*connection);
    return absl::OkStatus();
  }

 private:
  // Accepts one pending connection with the reserved fd's slot and closes
  // it. False if that was impossible (nothing reserved, or nothing pending).
  bool ShedOneConnection() {
    if (reserved_fd_ < 0) return false;
    ::close(reserved_fd_);
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd >= 0) {
      ::close(fd);
      ++shed_;
    }
    reserved_fd_ = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    return fd >= 0;
  }

  absl::Status AcceptAll() {
    for (;;) {
      const int fd =
          ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) return absl::OkStatus();
        if (errno == EINTR || errno == ECONNABORTED) continue;
        if (errno == EMFILE || errno == ENFILE) {
          // Out of fds. Left pending, the connection keeps a level-triggered
          // listener readable and the loop spins; so free the reserved fd,
          // take the connection, close it at once (the client sees a reset),
          // and reserve again. Existing clients are served meanwhile.
          if (!ShedOneConnection()) return absl::OkStatus();
          continue;
        }
        // ENOBUFS, ENOMEM: transient; the listener stays readable.
        std::fprintf(stderr, "echo_server: accept4(listener fd=%d): %s\n",
                     listen_fd_, std::strerror(errno));
        return absl::OkStatus();
      }
      auto connection = std::make_unique<Connection>(fd);
      if (absl::Status status =
              poller_.add(pollio::EventObject::Client(fd, connection->token()));
          !status.ok()) {
        std::fprintf(stderr, "echo_server: %s\n", status.ToString().c_str());
        ::close(fd);
        continue;
      }
      connection.release();  // owned by its registration until Close
      ++served_;
    }
  }

  void Serve(const pollio::EventObject& ev, Connection& connection) {
    if (pollio::Has(ev.events, pollio::Events::kError)) {
      Close(connection);
      return;
    }
    // Parked on kWritable: flush before reading more.
    if (!connection.pending.empty() && !Flush(connection)) return;
    char buffer[16384];
    for (;;) {
      const ssize_t got = ::read(connection.fd, buffer, sizeof(buffer));
      if (got > 0) {
        connection.pending.append(buffer, static_cast<std::size_t>(got));
        if (!Flush(connection)) return;  // parked or closed
        continue;
      }
      if (got < 0 && errno == EINTR) continue;
      if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
      // EOF or a read error. Nothing is pending: every read was flushed or
      // parked, and a parked connection does not read.
      Close(connection);
      return;
    }
  }

  // Writes out `pending`. Returns true when all of it went; false when the
  // connection was parked on kWritable or closed.
  bool Flush(Connection& connection) {
    switch (pollio::tools::SendPending(connection.fd, connection.pending)) {
      case pollio::tools::SendResult::kAllSent:
        return Park(connection, pollio::Events::kReadable);
      case pollio::tools::SendResult::kWouldBlock:
        Park(connection, pollio::Events::kWritable);
        return false;
      case pollio::tools::SendResult::kFailed:
        break;
    }
    Close(connection);
    return false;
  }

  // Sets the connection's interest, skipping the system call when unchanged.
  // Returns false if the connection had to be closed.
  bool Park(Connection& connection, pollio::Events interest) {
    if (connection.interest == interest) return true;
    if (absl::Status status = poller_.modify(
            pollio::EventObject{connection.fd, pollio::EventKind::kClient,
                                interest, connection.token()});
        !status.ok()) {
      std::fprintf(stderr, "echo_server: %s\n", status.ToString().c_str());
      Close(connection);
      return false;
    }
    connection.interest = interest;
    return true;
  }

  void Close(Connection& connection) {
    (void)poller_.del(connection.fd);  // before close: see poller/poller.h
    ::close(connection.fd);
    delete &connection;
  }

  pollio::Poller& poller_;
  int listen_fd_;
  int reserved_fd_;  // given up for a moment on EMFILE/ENFILE
  int served_ = 0;
  int shed_ = 0;
};

absl::StatusOr<int> Listen(const std::string& bind, int port, bool reuse_port,
                           int* bound_port) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  if (::inet_pton(AF_INET, bind.c_str(), &address.sin_addr) != 1) {
    return absl::InvalidArgumentError("--bind=" + bind +
                                      " is not an IPv4 address");
  }
  const int fd =
      ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::ErrnoToStatus(errno, "socket");
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (reuse_port) ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
  socklen_t length = sizeof(address);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
      ::listen(fd, SOMAXCONN) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    const int error_number = errno;
    ::close(fd);
    return absl::ErrnoToStatus(
        error_number, "bind/listen " + bind + ":" + std::to_string(port));
  }
  *bound_port = ntohs(address.sin_port);
  return fd;
}

absl::StatusOr<std::unique_ptr<pollio::Poller>> MakePoller() {
  const pollio::PollerOptions options{absl::GetFlag(FLAGS_max_events)};
  const std::string backend_flag = absl::GetFlag(FLAGS_backend);
  if (backend_flag.empty()) return pollio::NewOsPoller(options);
  absl::StatusOr<pollio::Backend> backend = pollio::ParseBackend(backend_flag);
  if (!backend.ok()) return backend.status();
  return pollio::NewPoller(*backend, options);
}

// One accept loop: its own poller, made on its own thread (a UringPoller
// belongs to the thread that waits on it).
struct Worker {
  int listen_fd = -1;
  std::atomic<pollio::Poller*> poller{nullptr};
  absl::Status status;
  int served = 0;
  int shed = 0;  // connections closed at once for lack of fds
  std::thread thread;
};

void RunWorker(Worker& worker, pollio::Trigger trigger,
               std::atomic<int>& ready) {
  absl::StatusOr<std::unique_ptr<pollio::Poller>> poller = MakePoller();
  if (!poller.ok()) {
    worker.status = poller.status();
    ready.fetch_add(1);
    return;
  }
  EchoServer server(**poller, worker.listen_fd);
  worker.status = server.Listen(trigger);
  if (worker.status.ok()) worker.poller = poller->get();
  ready.fetch_add(1);
  if (!worker.status.ok()) return;
  worker.status = server.Run();
  worker.served = server.served();
  worker.shed = server.shed();
  // Unpublished under the lock main holds while it wakes the pollers, so
  // the poller is never destroyed in the middle of a wake().
  std::lock_guard<std::mutex> lock(pollers_mutex);
  worker.poller = nullptr;
}

int Main() {
  const int threads = absl::GetFlag(FLAGS_threads);
  const bool shared = absl::GetFlag(FLAGS_shared_listener);
  if (threads < 1 || threads > 256) {
    std::fprintf(stderr, "echo_server: --threads=%d is outside 1..256\n",
                 threads);
    return 2;
  }
  // Signals are taken by sigwait on this thread only, so no handler ever
  // races a poller's destruction.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  ::signal(SIGPIPE, SIG_IGN);

  std::vector<Worker> workers(static_cast<std::size_t>(threads));
  int port = absl::GetFlag(FLAGS_port);
  for (std::size_t i = 0; i < workers.size(); ++i) {
    if (shared && i > 0) {
      workers[i].listen_fd = workers[0].listen_fd;
      continue;
    }
    absl::StatusOr<int> listen_fd =
        Listen(absl::GetFlag(FLAGS_bind), port, threads > 1 && !shared, &port);
    if (!listen_fd.ok()) {
      std::fprintf(stderr, "echo_server: %s\n",
                   listen_fd.status().ToString().c_str());
      return 2;
    }
    workers[i].listen_fd = *listen_fd;
  }

  const pollio::Trigger trigger = shared && threads > 1
                                      ? pollio::Trigger::kExclusive
                                      : pollio::Trigger::kLevel;
  std::atomic<int> ready{0};
  for (Worker& worker : workers) {
    worker.thread =
        std::thread(RunWorker, std::ref(worker), trigger, std::ref(ready));
  }
  while (ready.load() < threads) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  bool started = true;
  for (Worker& worker : workers) {
    if (!worker.status.ok()) {
      std::fprintf(stderr, "echo_server: %s\n",
                   worker.status.ToString().c_str());
      started = false;
    }
  }
  if (started) {
    std::printf(
        "echo_server listening on %s:%d backend=%s threads=%d\n",
        absl::GetFlag(FLAGS_bind).c_str(), port,
        std::string(pollio::BackendName(workers[0].poller.load()->backend()))
            .c_str(),
        threads);
    std::fflush(stdout);
    int signal_number = 0;
    sigwait(&stop_signals, &signal_number);
  }

  stop_requested = true;
  {
    std::lock_guard<std::mutex> lock(pollers_mutex);
    for (Worker& worker : workers) {
      if (pollio::Poller* poller = worker.poller.load()) (void)poller->wake();
    }
  }
  int exit_code = started ? 0 : 2;
  // Every thread first: a shared listener must outlive all its users.
  for (Worker& worker : workers) worker.thread.join();
  for (std::size_t i = 0; i < workers.size(); ++i) {
    if (!workers[i].status.ok()) {
      if (started) {
        std::fprintf(stderr, "echo_server: %s\n",
                     workers[i].status.ToString().c_str());
      }
      exit_code = started ? 1 : 2;
    }
    std::printf("echo_server thread %zu served %d connections, shed %d\n", i,
                workers[i].served, workers[i].shed);
    if (!shared || i == 0) ::close(workers[i].listen_fd);
  }
  std::fflush(stdout);
  return exit_code;
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return Main();
}
