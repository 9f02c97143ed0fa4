// Copyright 2026 The pollio Authors.
//
// http_hello: a minimal HTTP/1.1 keep-alive "Hello, World!" responder on a
// pollio Poller, one thread, any backend: the end-to-end benchmark's server
// (tools/bench/http_bench.sh loads it with wrk beside nginx).
//
//   tools/bazel run -c opt //tools:http_hello -- --port=8080 --backend=epoll
//
// Answers every request (pipelined ones included) with the same 13-byte
// body; it does not parse beyond the end of the headers and ignores request
// bodies, so it is a benchmark responder, not a web server. Prints
// "http_hello listening on 127.0.0.1:PORT backend=NAME" once ready; stops on
// SIGINT or SIGTERM.

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "event/event.h"
#include "factory/factory.h"
#include "poller/poller.h"
#include "tools/send_pending.h"

ABSL_FLAG(std::string, bind, "127.0.0.1", "IPv4 address to listen on");
ABSL_FLAG(int, port, 0, "TCP port; 0 picks a free one and prints it");
ABSL_FLAG(std::string, backend, "", "epoll, poll or uring; empty: OS poller");
ABSL_FLAG(int, max_events, 1024, "Poller result buffer capacity");

namespace {

constexpr std::string_view kResponse =
    "HTTP/1.1 200 OK\r\n"
    "Server: pollio\r\n"
    "Content-Type: text/plain\r\n"
    "Content-Length: 13\r\n"
    "\r\n"
    "Hello, World!";

std::atomic<bool> stop_requested{false};
pollio::Poller* signal_poller = nullptr;

void RequestStop(int) {
  stop_requested = true;
  if (signal_poller != nullptr) (void)signal_poller->wake();
}

// One per client, owned by its registration: the poller's token is the
// pointer, so an event leads straight to its connection.
struct Connection {
  explicit Connection(int fd) : fd(fd) {}
  int fd;
  std::string input;    // bytes of a request not yet complete
  std::string output;   // responses not yet written
  bool parked = false;  // waiting for kWritable

  std::uint64_t token() { return reinterpret_cast<std::uintptr_t>(this); }
  static Connection* From(std::uint64_t token) {
    return reinterpret_cast<Connection*>(static_cast<std::uintptr_t>(token));
  }
};

class HelloServer {
 public:
  HelloServer(pollio::Poller& poller, int listen_fd)
      : poller_(poller), listen_fd_(listen_fd) {}

  absl::Status Run() {
    if (absl::Status status =
            poller_.add(pollio::EventObject::Server(listen_fd_));
        !status.ok()) {
      return status;
    }
    while (!stop_requested.load()) {
      auto events = poller_.wait();
      if (!events.ok()) return events.status();
      for (const pollio::EventObject& ev : *events) {
        if (ev.fd < 0) continue;
        if (ev.kind == pollio::EventKind::kServer) {
          Accept();
        } else {
          Serve(ev, *Connection::From(ev.token));
        }
      }
    }
    std::vector<Connection*> open;
    poller_.for_each([&](const pollio::Registration& registration) {
      if (registration.kind == pollio::EventKind::kClient) {
        open.push_back(Connection::From(registration.token));
      }
    });
    for (Connection* connection : open) Close(*connection);
    return absl::OkStatus();
  }

 private:
  void Accept() {
    for (;;) {
      const int fd =
          ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) return;  // EAGAIN, or out of fds for now: retried later
      const int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
      // Edge-triggered where the backend has it, as nginx registers
      // connections: a reported level-triggered fd is re-polled by the next
      // wait, one more poll of the socket per request. A read shorter than
      // the buffer drained the socket, so no extra read for EAGAIN either.
      if (!poller_.supports(client_trigger_)) {
        client_trigger_ = pollio::Trigger::kLevel;
      }
      auto connection = std::make_unique<Connection>(fd);
      if (!poller_
               .add(pollio::EventObject::Client(fd, connection->token()),
                    client_trigger_)
               .ok()) {
        ::close(fd);
        continue;
      }
      connection.release();  // owned by its registration until Close
    }
  }

  void Serve(const pollio::EventObject& ev, Connection& connection) {
    if (pollio::Has(ev.events, pollio::Events::kError)) {
      return Close(connection);
    }
    if (connection.parked) {
      if (!Flush(connection)) return;
    }
    char buffer[16384];
    for (;;) {
      const ssize_t got = ::read(connection.fd, buffer, sizeof(buffer));
      if (got > 0) {
        const std::string_view data(buffer, static_cast<std::size_t>(got));
        if (connection.input.empty() && connection.output.empty() &&
            data.size() >= 4 && data.substr(data.size() - 4) == "\r\n\r\n" &&
            data.find("\r\n\r\n") == data.size() - 4) {
          // The common case, one whole request per read: answer straight
          // from the constant, no buffering.
          const ssize_t sent = ::send(connection.fd, kResponse.data(),
                                      kResponse.size(), MSG_NOSIGNAL);
          if (sent == static_cast<ssize_t>(kResponse.size())) {
            if (static_cast<std::size_t>(got) < sizeof(buffer)) return;
            continue;
          }
          connection.output.assign(kResponse.substr(sent > 0 ? sent : 0));
          break;
        }
        connection.input.append(data);
        // One response per complete header block; keep any partial rest.
        std::size_t start = 0;
        std::size_t end;
        while ((end = connection.input.find("\r\n\r\n", start)) !=
               std::string::npos) {
          connection.output.append(kResponse);
          start = end + 4;
        }
        connection.input.erase(0, start);
        if (static_cast<std::size_t>(got) < sizeof(buffer)) break;
        continue;
      }
      if (got < 0 && errno == EINTR) continue;
      if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
      return Close(connection);  // EOF or error
    }
    Flush(connection);
  }

  // Writes pending responses; parks on kWritable if the socket is full.
  // Returns false if the connection is parked or closed.
  bool Flush(Connection& connection) {
    switch (pollio::tools::SendPending(connection.fd, connection.output)) {
      case pollio::tools::SendResult::kAllSent:
        break;
      case pollio::tools::SendResult::kWouldBlock:
        if (!connection.parked) {
          connection.parked = true;
          (void)poller_.modify(
              pollio::EventObject{connection.fd, pollio::EventKind::kClient,
                                  pollio::Events::kWritable,
                                  connection.token()},
              client_trigger_);
        }
        return false;
      case pollio::tools::SendResult::kFailed:
        Close(connection);
        return false;
    }
    if (connection.parked) {
      connection.parked = false;
      (void)poller_.modify(
          pollio::EventObject::Client(connection.fd, connection.token()),
          client_trigger_);
    }
    return true;
  }

  void Close(Connection& connection) {
    (void)poller_.del(connection.fd);  // before close: see poller/poller.h
    ::close(connection.fd);
    delete &connection;
  }

  pollio::Poller& poller_;
  int listen_fd_;
  pollio::Trigger client_trigger_ = pollio::Trigger::kEdge;
};

int Main() {
  const std::string backend_flag = absl::GetFlag(FLAGS_backend);
  const pollio::PollerOptions options{absl::GetFlag(FLAGS_max_events)};
  absl::StatusOr<std::unique_ptr<pollio::Poller>> poller;
  if (backend_flag.empty()) {
    poller = pollio::NewOsPoller(options);
  } else {
    absl::StatusOr<pollio::Backend> backend =
        pollio::ParseBackend(backend_flag);
    poller =
        backend.ok()
            ? pollio::NewPoller(*backend, options)
            : absl::StatusOr<std::unique_ptr<pollio::Poller>>(backend.status());
  }
  if (!poller.ok()) {
    std::fprintf(stderr, "http_hello: %s\n",
                 poller.status().ToString().c_str());
    return 2;
  }

  const int fd =
      ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(absl::GetFlag(FLAGS_port)));
  socklen_t length = sizeof(address);
  if (::inet_pton(AF_INET, absl::GetFlag(FLAGS_bind).c_str(),
                  &address.sin_addr) != 1 ||
      ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
      ::listen(fd, SOMAXCONN) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    std::fprintf(stderr, "http_hello: cannot listen on %s:%d: %s\n",
                 absl::GetFlag(FLAGS_bind).c_str(), absl::GetFlag(FLAGS_port),
                 std::strerror(errno));
    return 2;
  }

  signal_poller = poller->get();
  struct sigaction action {};
  action.sa_handler = RequestStop;
  sigemptyset(&action.sa_mask);
  ::sigaction(SIGINT, &action, nullptr);
  ::sigaction(SIGTERM, &action, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
  std::printf("http_hello listening on %s:%d backend=%s\n",
              absl::GetFlag(FLAGS_bind).c_str(), ntohs(address.sin_port),
              std::string(pollio::BackendName((*poller)->backend())).c_str());
  std::fflush(stdout);

  HelloServer server(**poller, fd);
  const absl::Status status = server.Run();
  signal_poller = nullptr;
  ::close(fd);
  if (!status.ok()) {
    std::fprintf(stderr, "http_hello: %s\n", status.ToString().c_str());
    return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return Main();
}
