// Copyright 2026 The pollio Authors.
//
// Starts tools/echo_server on each available backend and talks to it over
// loopback: concurrent ping-pong clients with random chunk sizes, and bulk
// clients that push a megabyte while reading it back on another thread (so
// the server's partial-write path runs). Every echoed byte is checked.

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "factory/factory.h"
#include "gtest/gtest.h"
#include "poller/poller.h"
#include "tests/test_util.h"

namespace pollio {
namespace {

using ::pollio::testing::ConnectLoopback;
using ::pollio::testing::UniqueFd;

// The server process, stopped with SIGTERM on destruction.
class ServerProcess {
 public:
  explicit ServerProcess(Backend backend,
                         std::vector<std::string> extra_flags = {},
                         rlim_t fd_limit = 0) {
    int out[2];
    if (::pipe(out) != 0) return;
    pid_ = ::fork();
    if (pid_ == 0) {
      if (fd_limit != 0) {
        rlimit limit{};
        ::getrlimit(RLIMIT_NOFILE, &limit);
        limit.rlim_cur = fd_limit;
        ::setrlimit(RLIMIT_NOFILE, &limit);
      }
      ::dup2(out[1], STDOUT_FILENO);
      ::close(out[0]);
      ::close(out[1]);
      std::vector<std::string> flags = {
          "echo_server", "--backend=" + std::string(BackendName(backend)),
          "--port=0"};
      flags.insert(flags.end(), extra_flags.begin(), extra_flags.end());
      std::vector<char*> argv;
      for (std::string& flag : flags) argv.push_back(flag.data());
      argv.push_back(nullptr);
      ::execv("tools/echo_server", argv.data());
      ::_exit(127);
    }
    ::close(out[1]);
    stdout_.Reset(out[0]);
    port_ = ReadPort();
  }

  ~ServerProcess() {
    if (pid_ > 0 && !stopped_) Stop();
  }

  int port() const { return port_; }
  pid_t pid() const { return pid_; }

  // After Stop(): everything the server printed after its first line.
  std::string RemainingOutput() {
    std::string out = rest_;
    char buffer[4096];
    ssize_t got;
    while ((got = ::read(stdout_.get(), buffer, sizeof(buffer))) > 0) {
      out.append(buffer, static_cast<std::size_t>(got));
    }
    return out;
  }

  // SIGTERM, then the exit status (-1 if it did not exit within 10 s).
  int Stop() {
    stopped_ = true;
    ::kill(pid_, SIGTERM);
    for (int i = 0; i < 1000; ++i) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    return -1;
  }

 private:
  // Reads "echo_server listening on 127.0.0.1:PORT backend=NAME".
  int ReadPort() {
    std::string line;
    for (int i = 0; i < 100 && line.find('\n') == std::string::npos; ++i) {
      pollfd entry{stdout_.get(), POLLIN, 0};
      if (::poll(&entry, 1, 100) <= 0) continue;
      char buffer[256];
      const ssize_t got = ::read(stdout_.get(), buffer, sizeof(buffer));
      if (got <= 0) break;
      line.append(buffer, static_cast<std::size_t>(got));
    }
    const std::size_t newline = line.find('\n');
    if (newline != std::string::npos) {
      rest_ = line.substr(newline + 1);
      line.resize(newline);
    }
    const std::size_t colon = line.rfind(':');
    if (line.find("listening on 127.0.0.1:") == std::string::npos ||
        colon == std::string::npos) {
      ADD_FAILURE() << "no listening line from echo_server: " << line;
      return 0;
    }
    return std::atoi(line.c_str() + colon + 1);
  }

  pid_t pid_ = -1;
  bool stopped_ = false;
  UniqueFd stdout_;
  std::string rest_;
  int port_ = 0;
};

void SetTimeouts(int fd) {
  timeval timeout{10, 0};  // bounds every blocking call of a client
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
}

// Both retry EINTR: closing an io_uring (AvailableBackends() probes one)
// interrupts this thread once, and with SO_RCVTIMEO / SO_SNDTIMEO set the
// kernel reports that as EINTR instead of restarting the call.
bool SendAll(int fd, const char* data, std::size_t size) {
  while (size > 0) {
    const ssize_t sent = ::send(fd, data, size, MSG_NOSIGNAL);
    if (sent < 0 && errno == EINTR) continue;
    if (sent <= 0) return false;
    data += sent;
    size -= static_cast<std::size_t>(sent);
  }
  return true;
}

bool ReceiveAll(int fd, char* data, std::size_t size) {
  while (size > 0) {
    const ssize_t got = ::recv(fd, data, size, 0);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return false;
    data += got;
    size -= static_cast<std::size_t>(got);
  }
  return true;
}

std::string RandomBytes(std::mt19937& random, std::size_t size) {
  std::string bytes(size, '\0');
  for (char& byte : bytes) byte = static_cast<char>(random());
  return bytes;
}

// Sends random chunks and reads each back; returns mismatching bytes, or -1
// on an I/O failure.
long PingPong(int port, unsigned seed) {
  UniqueFd fd = ConnectLoopback(port);
  SetTimeouts(fd.get());
  std::mt19937 random(seed);
  long mismatches = 0;
  for (int round = 0; round < 100; ++round) {
    const std::string sent = RandomBytes(random, 1 + random() % 8192);
    std::string received(sent.size(), '\0');
    if (!SendAll(fd.get(), sent.data(), sent.size()) ||
        !ReceiveAll(fd.get(), received.data(), received.size())) {
      return -1;
    }
    for (std::size_t i = 0; i < sent.size(); ++i) {
      mismatches += sent[i] != received[i];
    }
  }
  return mismatches;
}

// Pushes 1 MiB while another thread reads it back; returns mismatching
// bytes, or -1 on an I/O failure.
long Bulk(int port, unsigned seed) {
  UniqueFd fd = ConnectLoopback(port);
  SetTimeouts(fd.get());
  std::mt19937 random(seed);
  const std::string sent = RandomBytes(random, 1 << 20);
  std::string received(sent.size(), '\0');
  bool received_ok = false;
  std::thread reader([&] {
    received_ok = ReceiveAll(fd.get(), received.data(), received.size());
  });
  const bool sent_ok = SendAll(fd.get(), sent.data(), sent.size());
  reader.join();
  if (!sent_ok || !received_ok) return -1;
  long mismatches = 0;
  for (std::size_t i = 0; i < sent.size(); ++i) {
    mismatches += sent[i] != received[i];
  }
  return mismatches;
}

class EchoServerTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    const std::vector<Backend> available = AvailableBackends();
    if (std::find(available.begin(), available.end(), GetParam()) ==
        available.end()) {
      GTEST_SKIP() << "backend " << BackendName(GetParam())
                   << " is not available in this build or kernel";
    }
  }
};

// The connections each thread served, from the lines printed at exit.
std::vector<int> ServedPerThread(const std::string& output) {
  std::vector<int> served;
  std::size_t at = 0;
  while ((at = output.find("echo_server thread ", at)) != std::string::npos) {
    const std::size_t count = output.find(" served ", at);
    if (count == std::string::npos) break;
    served.push_back(std::atoi(output.c_str() + count + 8));
    at = count;
  }
  return served;
}

// Opens `count` connections one after another, each echoing one message.
int ServeSequentially(int port, int count) {
  int echoed = 0;
  for (int i = 0; i < count; ++i) {
    UniqueFd fd = ConnectLoopback(port);
    SetTimeouts(fd.get());
    char reply[5] = {};
    if (!SendAll(fd.get(), "hello", 5)) {
      ADD_FAILURE() << "connection " << i << ": send: " << std::strerror(errno);
    } else if (!ReceiveAll(fd.get(), reply, 5)) {
      ADD_FAILURE() << "connection " << i << ": receive: "
                    << (errno == 0 ? "EOF" : std::strerror(errno));
    } else if (std::string(reply, 5) == "hello") {
      ++echoed;
    }
    errno = 0;
  }
  return echoed;
}

TEST_P(EchoServerTest, ThreadsWithReusePortListenersShareTheLoad) {
  ServerProcess server(GetParam(), {"--threads=2"});
  ASSERT_GT(server.port(), 0);
  constexpr int kConnections = 64;
  EXPECT_EQ(ServeSequentially(server.port(), kConnections), kConnections);
  EXPECT_EQ(server.Stop(), 0);
  const std::vector<int> served = ServedPerThread(server.RemainingOutput());
  ASSERT_EQ(served.size(), 2u);
  EXPECT_EQ(served[0] + served[1], kConnections);
  // SO_REUSEPORT hashes each connection to a listener: with 64 connections
  // the chance that one thread gets none is 2^-63.
  EXPECT_GT(served[0], 0);
  EXPECT_GT(served[1], 0);
}

TEST_P(EchoServerTest, ThreadsSharingOneExclusiveListenerServeEveryone) {
  ServerProcess server(GetParam(), {"--threads=3", "--shared_listener"});
  ASSERT_GT(server.port(), 0);
  constexpr int kConnections = 30;
  EXPECT_EQ(ServeSequentially(server.port(), kConnections), kConnections);
  EXPECT_EQ(server.Stop(), 0);
  const std::vector<int> served = ServedPerThread(server.RemainingOutput());
  ASSERT_EQ(served.size(), 3u);
  EXPECT_EQ(served[0] + served[1] + served[2], kConnections);
}

// User plus system CPU seconds of a process, from /proc/<pid>/stat.
double CpuSeconds(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(stat)),
                   std::istreambuf_iterator<char>());
  std::istringstream fields(text.substr(text.rfind(')') + 2));
  std::string field;
  long utime = 0;
  long stime = 0;
  for (int i = 3; i <= 15 && fields >> field; ++i) {
    if (i == 14) utime = std::atol(field.c_str());
    if (i == 15) stime = std::atol(field.c_str());
  }
  return static_cast<double>(utime + stime) / ::sysconf(_SC_CLK_TCK);
}

bool Ping(int fd) {
  char reply[4] = {};
  return SendAll(fd, "ping", 4) && ReceiveAll(fd, reply, 4) &&
         std::string(reply, 4) == "ping";
}

TEST_P(EchoServerTest, FdExhaustionKeepsServingAndDoesNotSpin) {
  ServerProcess server(GetParam(), {}, /*fd_limit=*/64);
  ASSERT_GT(server.port(), 0);
  std::vector<UniqueFd> existing;
  for (int i = 0; i < 8; ++i) {
    existing.push_back(ConnectLoopback(server.port()));
    SetTimeouts(existing.back().get());
    ASSERT_TRUE(Ping(existing.back().get())) << "client " << i;
  }

  // The flood: far more connections than the server has fds, held open,
  // while the existing clients keep talking to it.
  const double cpu_before = CpuSeconds(server.pid());
  const auto start = std::chrono::steady_clock::now();
  std::vector<UniqueFd> flood;
  for (int i = 0; i < 300; ++i) {
    UniqueFd fd(
        ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(static_cast<uint16_t>(server.port()));
    ::connect(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof(address));
    flood.push_back(std::move(fd));
  }
  int pings = 0;
  int failed_pings = 0;
  while (std::chrono::steady_clock::now() - start < std::chrono::seconds(2)) {
    for (UniqueFd& client : existing) {
      if (Ping(client.get())) {
        ++pings;
      } else {
        ++failed_pings;
        ADD_FAILURE() << "ping on client fd " << client.get()
                      << " failed: " << std::strerror(errno);
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  const double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  const double cpu = CpuSeconds(server.pid()) - cpu_before;
  std::cout << BackendName(GetParam()) << ": " << pings
            << " pings through the flood, server CPU " << cpu << " s over "
            << wall << " s\n";
  EXPECT_EQ(failed_pings, 0);
  EXPECT_GT(pings, 0);
  EXPECT_LT(cpu, 0.5 * wall) << "the server spins while out of fds";

  // The flood ends: the server recovers and takes new clients again.
  flood.clear();
  bool recovered = false;
  for (int attempt = 0; attempt < 50 && !recovered; ++attempt) {
    UniqueFd fresh = ConnectLoopback(server.port());
    SetTimeouts(fresh.get());
    recovered = Ping(fresh.get());
    if (!recovered) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  EXPECT_TRUE(recovered);
  for (UniqueFd& client : existing) EXPECT_TRUE(Ping(client.get()));
  existing.clear();
  EXPECT_EQ(server.Stop(), 0);
  const std::string output = server.RemainingOutput();
  EXPECT_NE(output.find("shed "), std::string::npos) << output;
  EXPECT_EQ(output.find("shed 0\n"), std::string::npos)
      << "the flood never exhausted the server's fds: " << output;
}

// tools/loadgen against echo_server: 1,000 connections with checksummed
// random-size messages for a few seconds; nothing lost or corrupted, every
// connection closed cleanly.
TEST_P(EchoServerTest, LoadgenLosesNothing) {
  ServerProcess server(GetParam());
  ASSERT_GT(server.port(), 0);
  const std::string command =
      "tools/loadgen --port=" + std::to_string(server.port()) +
      " --connections=1000 --duration_s=3 --max_message=4096 --backend=" +
      std::string(BackendName(GetParam()));
  FILE* pipe = ::popen(command.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string output;
  char buffer[512];
  while (std::fgets(buffer, sizeof(buffer), pipe) != nullptr) output += buffer;
  const int status = ::pclose(pipe);
  std::cout << output;
  EXPECT_EQ(WEXITSTATUS(status), 0) << output;
  EXPECT_NE(output.find(" 0 lost, 0 corrupted, 1000 closed cleanly"),
            std::string::npos)
      << output;
  EXPECT_EQ(server.Stop(), 0);
}

TEST_P(EchoServerTest, EchoesEveryByteToConcurrentClients) {
  ServerProcess server(GetParam());
  ASSERT_GT(server.port(), 0);

  constexpr int kPingPongClients = 16;
  constexpr int kBulkClients = 4;
  std::vector<long> results(kPingPongClients + kBulkClients, -2);
  std::vector<std::thread> clients;
  for (int i = 0; i < kPingPongClients; ++i) {
    clients.emplace_back(
        [&, i] { results[i] = PingPong(server.port(), 1000 + i); });
  }
  for (int i = 0; i < kBulkClients; ++i) {
    clients.emplace_back([&, i] {
      results[kPingPongClients + i] = Bulk(server.port(), 2000 + i);
    });
  }
  for (std::thread& client : clients) client.join();
  for (std::size_t i = 0; i < results.size(); ++i) {
    EXPECT_EQ(results[i], 0)
        << "client " << i << (results[i] < 0 ? " failed I/O" : " corrupt");
  }
  EXPECT_EQ(server.Stop(), 0);
}

INSTANTIATE_TEST_SUITE_P(Backends, EchoServerTest,
                         ::testing::ValuesIn(::pollio::kAllBackends),
                         ::pollio::testing::BackendTestName());

}  // namespace
}  // namespace pollio
