// Copyright 2026 The pollio Authors.
//
// loadgen: an echo load generator on a pollio Poller.
//
//   tools/bazel run -c opt //tools:loadgen -- --port=PORT --connections=1000
//
// Opens --connections connections to an echo server on 127.0.0.1:--port
// (at most 9,000: the hard RLIMIT_NOFILE of the machines here is 20,000 fds
// per process), and on each keeps one message of random size
// (1..--max_message bytes) in flight for --duration_s seconds: send it, read
// back exactly as many bytes, and compare their checksum (FNV-1a) with the
// sent one. Then each connection half-closes and waits for the server's EOF.
// Prints one line:
//
//   loadgen: C connections, M messages, R msgs/s, p50 A us, p99 B us,
//   S bytes sent, V verified, L lost, X corrupted, K closed cleanly
//
// and exits 1 unless no byte was lost or corrupted and every connection
// closed cleanly. Every loop is bounded by the duration plus a grace period.

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "event/event.h"
#include "factory/factory.h"
#include "poller/poller.h"

ABSL_FLAG(int, port, 0, "echo server port on 127.0.0.1");
ABSL_FLAG(int, connections, 1000, "connections, 1..9000");
ABSL_FLAG(double, duration_s, 5.0, "seconds of load");
ABSL_FLAG(int, max_message, 4096, "largest message, bytes");
ABSL_FLAG(std::string, backend, "", "epoll, poll or uring; empty: OS poller");
ABSL_FLAG(unsigned, seed, 1, "random seed for message sizes and contents");

namespace {

using Clock = std::chrono::steady_clock;

std::uint64_t Fnv1a(const char* data, std::size_t size,
                    std::uint64_t hash = 14695981039346656037ull) {
  for (std::size_t i = 0; i < size; ++i) {
    hash ^= static_cast<unsigned char>(data[i]);
    hash *= 1099511628211ull;
  }
  return hash;
}

struct Connection {
  int fd = -1;
  std::string message;       // in flight
  std::size_t sent = 0;      // bytes of `message` sent
  std::size_t received = 0;  // bytes of its echo received
  std::uint64_t received_hash = 14695981039346656037ull;
  Clock::time_point started;
  bool closing = false;  // half-closed, waiting for EOF
  bool done = false;
};

class LoadGenerator {
 public:
  LoadGenerator(pollio::Poller& poller, int count, int max_message,
                unsigned seed)
      : poller_(poller), max_message_(max_message), random_(seed) {
    connections_.resize(static_cast<std::size_t>(count));
  }

  bool Connect(int port) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(static_cast<uint16_t>(port));
    for (std::size_t i = 0; i < connections_.size(); ++i) {
      const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&address),
                              sizeof(address)) != 0) {
        std::fprintf(stderr, "loadgen: connection %zu: %s\n", i,
                     std::strerror(errno));
        return false;
      }
      // Non-blocking once connected; kind = 1 (client), index in a table.
      ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
      connections_[i].fd = fd;
      if (static_cast<std::size_t>(fd) >= index_by_fd_.size()) {
        index_by_fd_.resize(static_cast<std::size_t>(fd) + 1, -1);
      }
      index_by_fd_[fd] = static_cast<int>(i);
      if (!poller_
               .add(pollio::EventObject{
                   fd, pollio::EventKind::kClient,
                   pollio::Events::kReadable | pollio::Events::kWritable})
               .ok()) {
        return false;
      }
      NextMessage(connections_[i]);
    }
    return true;
  }

  void Run(double duration_s) {
    const Clock::time_point start = Clock::now();
    const Clock::time_point stop_sending =
        start + std::chrono::duration_cast<Clock::duration>(
                    std::chrono::duration<double>(duration_s));
    const Clock::time_point give_up = stop_sending + std::chrono::seconds(10);
    std::size_t open = connections_.size();
    while (open > 0 && Clock::now() < give_up) {
      sending_ = Clock::now() < stop_sending;
      auto events = poller_.wait(absl::Milliseconds(100));
      if (!events.ok()) break;
      for (const pollio::EventObject& ev : *events) {
        if (ev.fd < 0) continue;
        Connection& connection = connections_[index_by_fd_[ev.fd]];
        if (connection.done) continue;
        Serve(connection);
        if (connection.done) --open;
      }
      if (!sending_) {
        // Connections idle between messages start closing now.
        for (Connection& connection : connections_) {
          if (!connection.done && !connection.closing &&
              connection.message.empty()) {
            BeginClose(connection);
          }
        }
      }
    }
    elapsed_s_ = std::chrono::duration<double>(Clock::now() - start).count();
  }

  int Report() const {
    std::vector<double> latencies = latencies_us_;
    std::sort(latencies.begin(), latencies.end());
    auto percentile = [&](double p) {
      return latencies.empty()
                 ? 0.0
                 : latencies[static_cast<std::size_t>(
                       p * static_cast<double>(latencies.size() - 1))];
    };
    long clean = 0;
    for (const Connection& connection : connections_) {
      clean += connection.done && connection.closing;
    }
    // Sent but never echoed back intact.
    const long lost = bytes_sent_ - bytes_verified_ - corrupted_;
    std::printf(
        "loadgen: %zu connections, %ld messages, %.0f msgs/s, p50 %.0f us, "
        "p99 %.0f us, %ld bytes sent, %ld verified, %ld lost, %ld corrupted, "
        "%ld closed cleanly\n",
        connections_.size(), messages_, messages_ / elapsed_s_,
        percentile(0.50), percentile(0.99), bytes_sent_, bytes_verified_, lost,
        corrupted_, clean);
    std::fflush(stdout);
    const bool ok = lost == 0 && corrupted_ == 0 &&
                    clean == static_cast<long>(connections_.size());
    return ok ? 0 : 1;
  }

 private:
  void NextMessage(Connection& connection) {
    std::uniform_int_distribution<int> size(1, max_message_);
    connection.message.resize(static_cast<std::size_t>(size(random_)));
    for (char& byte : connection.message) {
      byte = static_cast<char>(random_());
    }
    connection.sent = 0;
    connection.received = 0;
    connection.received_hash = 14695981039346656037ull;
    connection.started = Clock::now();
  }

  void BeginClose(Connection& connection) {
    connection.message.clear();
    connection.closing = true;
    ::shutdown(connection.fd, SHUT_WR);
    (void)poller_.modify(pollio::EventObject::Client(connection.fd));
  }

  void Finish(Connection& connection) {
    (void)poller_.del(connection.fd);
    ::close(connection.fd);
    connection.done = true;
  }

  // Sends what is left of the message in flight and reads its echo; when a
  // message completes, starts the next (or the close) in the same call. A
  // loop, not recursion: a fast connection completes many in a row.
  void Serve(Connection& connection) {
    char buffer[65536];
    for (;;) {
      while (!connection.closing &&
             connection.sent < connection.message.size()) {
        const ssize_t sent =
            ::send(connection.fd, connection.message.data() + connection.sent,
                   connection.message.size() - connection.sent, MSG_NOSIGNAL);
        if (sent <= 0) break;
        connection.sent += static_cast<std::size_t>(sent);
        bytes_sent_ += sent;
      }
      const ssize_t got = ::read(connection.fd, buffer, sizeof(buffer));
      if (got == 0) {
        // EOF: clean only after our half-close, with nothing outstanding.
        if (!connection.closing) ++corrupted_;
        return Finish(connection);
      }
      if (got < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) return;
        if (errno == EINTR) continue;
        connection.closing = false;  // reset or error: not a clean close
        return Finish(connection);
      }
      const std::size_t expected =
          connection.message.size() - connection.received;
      if (static_cast<std::size_t>(got) > expected) {
        corrupted_ += got;  // more bytes than were sent
        connection.closing = false;
        return Finish(connection);
      }
      connection.received_hash = Fnv1a(buffer, static_cast<std::size_t>(got),
                                       connection.received_hash);
      connection.received += static_cast<std::size_t>(got);
      if (connection.received < connection.message.size()) continue;
      if (connection.received_hash !=
          Fnv1a(connection.message.data(), connection.message.size())) {
        corrupted_ += static_cast<long>(connection.message.size());
      } else {
        bytes_verified_ += static_cast<long>(connection.message.size());
      }
      ++messages_;
      latencies_us_.push_back(std::chrono::duration<double, std::micro>(
                                  Clock::now() - connection.started)
                                  .count());
      if (sending_) {
        NextMessage(connection);
      } else {
        BeginClose(connection);
      }
    }
  }

  pollio::Poller& poller_;
  int max_message_;
  std::mt19937 random_;
  std::vector<Connection> connections_;
  std::vector<int> index_by_fd_;
  std::vector<double> latencies_us_;
  bool sending_ = true;
  long messages_ = 0;
  long bytes_sent_ = 0;
  long bytes_verified_ = 0;
  long corrupted_ = 0;
  double elapsed_s_ = 1;
};

int Main() {
  const int count = absl::GetFlag(FLAGS_connections);
  if (count < 1 || count > 9000) {
    std::fprintf(stderr, "loadgen: --connections=%d is outside 1..9000\n",
                 count);
    return 2;
  }
  rlimit limit{};
  ::getrlimit(RLIMIT_NOFILE, &limit);
  limit.rlim_cur = limit.rlim_max;
  ::setrlimit(RLIMIT_NOFILE, &limit);

  const std::string backend_flag = absl::GetFlag(FLAGS_backend);
  absl::StatusOr<std::unique_ptr<pollio::Poller>> poller =
      pollio::NewOsPoller();
  if (!backend_flag.empty()) {
    absl::StatusOr<pollio::Backend> backend =
        pollio::ParseBackend(backend_flag);
    if (!backend.ok()) {
      std::fprintf(stderr, "loadgen: %s\n",
                   backend.status().ToString().c_str());
      return 2;
    }
    poller = pollio::NewPoller(*backend);
  }
  if (!poller.ok()) {
    std::fprintf(stderr, "loadgen: %s\n", poller.status().ToString().c_str());
    return 2;
  }
  LoadGenerator generator(**poller, count, absl::GetFlag(FLAGS_max_message),
                          absl::GetFlag(FLAGS_seed));
  if (!generator.Connect(absl::GetFlag(FLAGS_port))) return 2;
  generator.Run(absl::GetFlag(FLAGS_duration_s));
  return generator.Report();
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return Main();
}
