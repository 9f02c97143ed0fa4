// Copyright 2026 The pollio Authors.
//
// The benchmark workloads, one template each over the drivers of
// drivers.h, all on the same fds (a Fixture) for every contender. Each run
// returns the nanoseconds of its timed part per unit (event, fd or wake);
// setting up and tearing down registrations is outside the timed part unless
// it is the thing measured (churn).

#ifndef POLLIO_TOOLS_BENCH_WORKLOADS_H_
#define POLLIO_TOOLS_BENCH_WORKLOADS_H_

#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>
#include <vector>

namespace pollio {
namespace bench {

inline std::int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Socketpairs and eventfds shared by every contender of a run.
struct Fixture {
  struct Pair {
    int read_fd;
    int write_fd;
  };
  std::vector<Pair> pairs;
  std::vector<int> eventfds;
  std::vector<int> pair_index_by_fd;  // read_fd -> index in pairs

  Fixture(int pair_count, int eventfd_count) {
    for (int i = 0; i < pair_count; ++i) {
      int fds[2];
      if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
                       fds) != 0) {
        break;
      }
      pairs.push_back(Pair{fds[0], fds[1]});
      if (static_cast<std::size_t>(fds[0]) >= pair_index_by_fd.size()) {
        pair_index_by_fd.resize(static_cast<std::size_t>(fds[0]) + 1, -1);
      }
      pair_index_by_fd[fds[0]] = i;
    }
    for (int i = 0; i < eventfd_count; ++i) {
      const int fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
      if (fd < 0) break;
      eventfds.push_back(fd);
    }
  }
  ~Fixture() {
    for (const Pair& pair : pairs) {
      ::close(pair.read_fd);
      ::close(pair.write_fd);
    }
    for (int fd : eventfds) ::close(fd);
  }
  bool complete(int pair_count, int eventfd_count) const {
    return static_cast<int>(pairs.size()) == pair_count &&
           static_cast<int>(eventfds.size()) == eventfd_count;
  }
};

// chain (libevent's bench.c shape): every pair's read end registered; each
// readable event reads one byte and writes one into the next pair, until
// `writes` bytes have gone round. `active` pairs start with a byte. ns/event.
template <typename Driver>
double RunChain(Driver& driver, Fixture& fixture, int active, int writes) {
  const int n = static_cast<int>(fixture.pairs.size());
  for (const Fixture::Pair& pair : fixture.pairs) driver.Add(pair.read_fd);
  // Nothing is readable yet: this wait only hands the registrations to the
  // kernel, so that a backend that batches them into its next wait (io_uring)
  // does not pay for set-up inside the clock.
  driver.Poll(0, [](int) {});
  int events = 0;
  int written = 0;
  auto on_ready = [&](int fd) {
    char byte;
    if (::read(fd, &byte, 1) != 1) return;
    ++events;
    if (written < writes) {
      const int next = (fixture.pair_index_by_fd[fd] + 1) % n;
      (void)!::write(fixture.pairs[next].write_fd, &byte, 1);
      ++written;
    }
  };
  const std::int64_t start = NowNs();
  for (int i = 0; i < active; ++i) {
    (void)!::write(fixture.pairs[(i * n) / active].write_fd, "x", 1);
    ++written;
  }
  while (events < written) driver.Poll(-1, on_ready);
  const std::int64_t elapsed = NowNs() - start;
  for (const Fixture::Pair& pair : fixture.pairs) driver.Del(pair.read_fd);
  return static_cast<double>(elapsed) / events;
}

// churn (the accept-loop pattern): add then del every eventfd, then one
// non-blocking poll so that batching backends submit. ns per fd.
template <typename Driver>
double RunChurn(Driver& driver, Fixture& fixture, int rounds) {
  auto ignore = [](int) {};
  // First round outside the clock: per-fd state is allocated once.
  for (int fd : fixture.eventfds) driver.Add(fd);
  for (int fd : fixture.eventfds) driver.Del(fd);
  driver.Poll(0, ignore);
  const std::int64_t start = NowNs();
  for (int round = 0; round < rounds; ++round) {
    for (int fd : fixture.eventfds) driver.Add(fd);
    for (int fd : fixture.eventfds) driver.Del(fd);
    driver.Poll(0, ignore);
  }
  const std::int64_t elapsed = NowNs() - start;
  return static_cast<double>(elapsed) /
         (static_cast<double>(rounds) * fixture.eventfds.size());
}

// churn armed: as churn, but with a non-blocking poll between the adds and
// the dels, so every registration is armed in the kernel when it is
// deleted (a connection that lived through at least one wait). ns per fd.
template <typename Driver>
double RunChurnArmed(Driver& driver, Fixture& fixture, int rounds) {
  auto ignore = [](int) {};
  for (int fd : fixture.eventfds) driver.Add(fd);
  driver.Poll(0, ignore);
  for (int fd : fixture.eventfds) driver.Del(fd);
  driver.Poll(0, ignore);
  const std::int64_t start = NowNs();
  for (int round = 0; round < rounds; ++round) {
    for (int fd : fixture.eventfds) driver.Add(fd);
    driver.Poll(0, ignore);
    for (int fd : fixture.eventfds) driver.Del(fd);
    driver.Poll(0, ignore);
  }
  const std::int64_t elapsed = NowNs() - start;
  return static_cast<double>(elapsed) /
         (static_cast<double>(rounds) * fixture.eventfds.size());
}

// idle: every pair readable and never drained, among many idle eventfds;
// each wait reports the ready pairs. ns per wait: O(ready) backends stay
// flat as the idle count grows, O(registered) ones do not.
template <typename Driver>
double RunIdle(Driver& driver, Fixture& fixture, int waits) {
  for (const Fixture::Pair& pair : fixture.pairs) {
    (void)!::write(pair.write_fd, "x", 1);
    driver.Add(pair.read_fd);
  }
  for (int fd : fixture.eventfds) driver.Add(fd);
  int reported = 0;
  auto count = [&](int) { ++reported; };
  driver.Poll(0, count);  // warm: first arming
  const std::int64_t start = NowNs();
  for (int i = 0; i < waits; ++i) driver.Poll(-1, count);
  const std::int64_t elapsed = NowNs() - start;
  for (const Fixture::Pair& pair : fixture.pairs) {
    driver.Del(pair.read_fd);
    char byte;
    (void)!::read(pair.read_fd, &byte, 1);
  }
  for (int fd : fixture.eventfds) driver.Del(fd);
  return static_cast<double>(elapsed) / waits;
}

// wake: two threads, each blocked in its own driver's Poll(-1), wake each
// other in turn. ns per one-way wake (wake() to return from the wait).
// Each side counts what it was sent and polls until the count moves, so a
// wait that returns early (EINTR: the kernel interrupts a thread once when
// an io_uring it used is torn down) never loses a turn of the exchange.
template <typename Driver>
double RunWake(int round_trips) {
  std::atomic<Driver*> remote{nullptr};
  std::atomic<int> pings{0};
  std::atomic<int> pongs{0};
  std::atomic<bool> done{false};
  Driver local;
  auto ignore = [](int) {};
  // The other side's driver lives on its own thread (a UringPoller belongs
  // to the thread that waits on it) and answers exactly round_trips wakes,
  // so neither side touches the other's driver after it is gone.
  std::thread other([&] {
    Driver driver;
    remote = &driver;
    for (int i = 0; i < round_trips; ++i) {
      while (pings.load() <= i) driver.Poll(-1, ignore);
      pongs.store(i + 1);
      local.Wake();
    }
    while (!done.load()) std::this_thread::yield();
  });
  while (remote.load() == nullptr) std::this_thread::yield();
  const std::int64_t start = NowNs();
  for (int i = 0; i < round_trips; ++i) {
    pings.store(i + 1);
    remote.load()->Wake();
    while (pongs.load() <= i) local.Poll(-1, ignore);
  }
  const std::int64_t elapsed = NowNs() - start;
  done = true;
  other.join();
  return static_cast<double>(elapsed) / (2.0 * round_trips);
}

}  // namespace bench
}  // namespace pollio

#endif  // POLLIO_TOOLS_BENCH_WORKLOADS_H_
