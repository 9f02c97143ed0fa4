// Copyright 2026 The pollio Authors.
//
// pollio benchmarks: pollio's backends against the raw system-call loops
// and against libevent, libev, libuv and Boost.Asio, on the same fds.
//
//   tools/bazel run -c opt //tools/bench                 # Google Benchmark
//   tools/bazel run -c opt //tools/bench -- --summary    # interleaved table
//   tools/bazel run -c opt //tools/bench -- --list       # contender names
//
// Workloads (workloads.h): chain (ns/event), churn and churn armed (ns/fd),
// idle (ns/wait), wake (ns per one-way wake). In Google Benchmark mode the
// reported time of each benchmark is that per-unit figure (manual time).
// --summary runs the contenders interleaved, A B C A B C ..., for --rounds
// rounds (each round starting one contender later), each sample on a fresh
// thread (pinned to one CPU with --cpu=K) followed by a 40 ms pause, and
// prints one table: the median time of each contender, and the median over
// the rounds of its ratio to the raw loop of the same kernel API in the same
// round (with the middle half of those ratios, the run's own noise) and to
// libev. On a noisy machine only ratios from one run mean anything.
//
// chain's largest size is 9,900 socketpairs, not 10,000: 10,000 pairs are
// 20,000 fds, the hard RLIMIT_NOFILE of the machines this runs on, which
// leaves none for the pollers themselves.

#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "benchmark/benchmark.h"
#include "tools/bench/drivers.h"
#include "tools/bench/libuv_asio_drivers.h"
#include "tools/bench/workloads.h"

namespace pollio {
namespace bench {
namespace {

struct Contender {
  const char* name;
  const char* api;  // the kernel API it stands on: its raw loop's family
  std::function<bool()> available;
  std::function<double(Fixture&, int active, int writes)> chain;
  std::function<double(Fixture&, int rounds)> churn;
  std::function<double(Fixture&, int rounds)> churn_armed;
  std::function<double(Fixture&, int waits)> idle;
  std::function<double(int round_trips)> wake;
};

template <typename Driver>
Contender Make(const char* api) {
  Contender contender;
  contender.name = Driver::kName;
  contender.api = api;
  contender.available = [] { return Driver().ok(); };
  contender.chain = [](Fixture& fixture, int active, int writes) {
    Driver driver;
    return RunChain(driver, fixture, active, writes);
  };
  contender.churn = [](Fixture& fixture, int rounds) {
    Driver driver;
    return RunChurn(driver, fixture, rounds);
  };
  contender.churn_armed = [](Fixture& fixture, int rounds) {
    Driver driver;
    return RunChurnArmed(driver, fixture, rounds);
  };
  contender.idle = [](Fixture& fixture, int waits) {
    Driver driver;
    return RunIdle(driver, fixture, waits);
  };
  contender.wake = [](int round_trips) { return RunWake<Driver>(round_trips); };
  return contender;
}

// --contenders=a,b: only these (empty: all).
std::string& ContenderFilter() {
  static std::string filter;
  return filter;
}

std::vector<Contender> AllContenders() {
  std::vector<Contender> all = {
      Make<RawEpoll>("epoll"),
      Make<PollioDriver<EpollPoller>>("epoll"),
      Make<RawPoll>("poll"),
      Make<PollioDriver<PollPoller>>("poll"),
      Make<RawUring<>>("uring"),
      Make<PollioDriver<UringPoller>>("uring"),
      Make<RawUring<true>>("uring"),
      Make<RawUring<false, true>>("uring"),
      Make<PollioDriver<EpollPoller, true>>("epoll"),
      Make<PollioDriver<PollPoller, true>>("poll"),
      Make<PollioDriver<UringPoller, true>>("uring"),
      Make<Libevent>("epoll"),
      Make<Libev>("epoll"),
      Make<Libuv>("epoll"),
      Make<Asio>("epoll"),
  };
  std::vector<Contender> available;
  for (Contender& contender : all) {
    const std::string& filter = ContenderFilter();
    if (!filter.empty() &&
        ("," + filter + ",").find("," + std::string(contender.name) + ",") ==
            std::string::npos) {
      continue;
    }
    if (contender.available()) {
      available.push_back(std::move(contender));
    } else {
      std::fprintf(stderr, "bench: %s unavailable here, left out\n",
                   contender.name);
    }
  }
  return available;
}

// One workload at one size: how to build its fds and run one contender.
struct Workload {
  std::string name;   // e.g. "chain N=1000 A=100"
  std::string group;  // chain, churn, idle, wake
  int size = 0;       // N, for plots
  int pairs = 0;
  int eventfds = 0;
  std::function<double(const Contender&, Fixture&)> run;
};

std::vector<Workload> AllWorkloads() {
  std::vector<Workload> workloads;
  for (int n : {100, 1000, 9900}) {
    for (int active : {1, 100}) {
      Workload w;
      w.name = "chain N=" + std::to_string(n) + " A=" + std::to_string(active);
      w.group = active == 1 ? "chain_A1" : "chain_A100";
      w.size = n;
      w.pairs = n;
      // Fewer writes at the largest size: poll(2) costs O(N) per event.
      const int writes = n > 5000 ? 2000 : 10000;
      w.run = [active, writes](const Contender& c, Fixture& f) {
        return c.chain(f, active, writes);
      };
      workloads.push_back(w);
    }
  }
  for (int n : {100, 1000}) {
    Workload w;
    w.name = "churn N=" + std::to_string(n);
    w.group = "churn";
    w.size = n;
    w.eventfds = n;
    const int rounds = 20000 / n;
    w.run = [rounds](const Contender& c, Fixture& f) {
      return c.churn(f, rounds);
    };
    workloads.push_back(w);
    w.name = "churn armed N=" + std::to_string(n);
    w.run = [rounds](const Contender& c, Fixture& f) {
      return c.churn_armed(f, rounds);
    };
    workloads.push_back(w);
  }
  for (int n : {1000, 5000, 19000}) {
    Workload w;
    w.name = "idle N=" + std::to_string(n) + " ready=100";
    w.group = "idle";
    w.size = n;
    w.pairs = 100;
    w.eventfds = n - 100;
    const int waits = n > 1000 ? 500 : 2000;  // poll(2): O(N) per wait
    w.run = [waits](const Contender& c, Fixture& f) {
      return c.idle(f, waits);
    };
    workloads.push_back(w);
  }
  Workload wake;
  wake.name = "wake";
  wake.group = "wake";
  wake.run = [](const Contender& c, Fixture&) { return c.wake(20000); };
  workloads.push_back(wake);
  return workloads;
}

void RaiseFdLimit() {
  rlimit limit{};
  getrlimit(RLIMIT_NOFILE, &limit);
  limit.rlim_cur = limit.rlim_max;
  setrlimit(RLIMIT_NOFILE, &limit);
}

double Median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const std::size_t middle = values.size() / 2;
  return values.size() % 2 == 1 ? values[middle]
                                : (values[middle - 1] + values[middle]) / 2.0;
}

// The value below which `fraction` of the sorted `values` lie (nearest rank).
double Quantile(std::vector<double> values, double fraction) {
  std::sort(values.begin(), values.end());
  const std::size_t rank = static_cast<std::size_t>(
      fraction * static_cast<double>(values.size() - 1) + 0.5);
  return values[std::min(rank, values.size() - 1)];
}

// Runs `body` on a thread of its own, pinned to `cpu` when it is not -1.
void RunOnFreshThread(int cpu, const std::function<void()>& body) {
  std::thread thread([&] {
    if (cpu >= 0) {
      cpu_set_t set;
      CPU_ZERO(&set);
      CPU_SET(cpu, &set);
      const int error =
          pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
      if (error != 0) {
        std::fprintf(stderr, "bench: --cpu=%d: %s (sample not pinned)\n", cpu,
                     std::strerror(error));
      }
    }
    body();
  });
  thread.join();
}

int RunSummary(int rounds, const std::string& only, int cpu) {
  const std::vector<Contender> contenders = AllContenders();
  std::printf(
      "| workload | contender | median ns | vs raw loop | middle half | "
      "vs libev |\n"
      "|---|---|---:|---:|---:|---:|\n");
  for (const Workload& workload : AllWorkloads()) {
    if (!only.empty() && workload.name.find(only) == std::string::npos) {
      continue;
    }
    Fixture fixture(workload.pairs, workload.eventfds);
    if (!fixture.complete(workload.pairs, workload.eventfds)) {
      std::fprintf(stderr, "bench: could not open the fds for %s\n",
                   workload.name.c_str());
      return 1;
    }
    std::map<std::string, std::vector<double>> samples;
    for (int round = 0; round < rounds; ++round) {
      // Each round starts one contender later than the last, so that no
      // contender always runs just after the same neighbour.
      for (std::size_t i = 0; i < contenders.size(); ++i) {
        const Contender& contender =
            contenders[(i + static_cast<std::size_t>(round)) %
                       contenders.size()];
        // Each sample on a thread of its own, then a pause, so that no
        // contender's teardown lands in the next one's clock: an io_uring
        // ring's exit runs in a kernel worker 15-30 ms after it is closed
        // and interrupts the threads that used it once, and EpollPoller
        // waits in ppoll on a thread that tore down a UringPoller for about
        // a second after (backends/uring/uring_poller.h, "Teardown").
        double sample = 0;
        RunOnFreshThread(cpu,
                         [&] { sample = workload.run(contender, fixture); });
        samples[contender.name].push_back(sample);
        std::this_thread::sleep_for(std::chrono::milliseconds(40));
      }
    }
    // The ratio to the raw loop is taken within each round, where the two
    // samples are under a second apart, and then the median over the rounds:
    // the machine's drift over a run (the same raw loop moved 1.6x between
    // two runs of one afternoon) moves both samples of a round together and
    // largely cancels out.
    const auto ratios = [&](const std::string& name,
                            const std::string& baseline) {
      std::vector<double> values;
      const std::vector<double>& mine = samples[name];
      const std::vector<double>& theirs = samples[baseline];
      for (std::size_t round = 0; round < mine.size(); ++round) {
        values.push_back(mine[round] / theirs[round]);
      }
      return values;
    };
    for (const Contender& contender : contenders) {
      const double ns = Median(samples[contender.name]);
      const std::string raw = std::string(contender.api) + "_raw";
      std::string vs_raw = "-";
      std::string middle_half = "-";
      if (samples.count(raw)) {
        const std::vector<double> to_raw = ratios(contender.name, raw);
        char text[64];
        std::snprintf(text, sizeof(text), "%.2f", Median(to_raw));
        vs_raw = text;
        std::snprintf(text, sizeof(text), "%.2f-%.2f", Quantile(to_raw, 0.25),
                      Quantile(to_raw, 0.75));
        middle_half = text;
      }
      std::string vs_libev = "-";
      if (samples.count("libev")) {
        char text[32];
        std::snprintf(text, sizeof(text), "%.2f",
                      Median(ratios(contender.name, "libev")));
        vs_libev = text;
      }
      std::printf("| %s | %s | %.0f | %s | %s | %s |\n", workload.name.c_str(),
                  contender.name, ns, vs_raw.c_str(), middle_half.c_str(),
                  vs_libev.c_str());
    }
    std::fflush(stdout);
  }
  return 0;
}

// For tools/bench/callgrind.sh and syscalls.sh: the contenders this machine
// can run, one name a line.
int ListContenders() {
  for (const Contender& contender : AllContenders()) {
    std::printf("%s\n", contender.name);
  }
  return 0;
}

// For tools/bench/callgrind.sh and syscalls.sh: one chain run of `writes`
// bytes over 1,000 pairs with `active` of them started, nothing else, so the
// counts of two runs differ by the events alone.
int RunChainOnce(const std::string& name, int writes, int active) {
  // Only this contender is constructed, even to probe: UringPoller sets its
  // ring up on a thread of its own, and once a process has had a second
  // thread glibc's read and write take their multi-threaded path for good,
  // which would charge every contender for io_uring's probe.
  ContenderFilter() = name;
  for (const Contender& contender : AllContenders()) {
    if (name != contender.name) continue;
    Fixture fixture(1000, 0);
    contender.chain(fixture, active, writes);
    return 0;
  }
  std::fprintf(stderr, "bench: no contender %s\n", name.c_str());
  return 1;
}

// For tools/bench/callgrind.sh: `rounds` churn rounds (add and del each of
// `n` eventfds, one wait(0)) after churn's untimed first round, nothing
// else, so the counts of two runs differ by the add+del pairs alone.
int RunChurnOnce(const std::string& name, int rounds, int n) {
  // Only this contender is constructed, as in RunChainOnce.
  ContenderFilter() = name;
  for (const Contender& contender : AllContenders()) {
    if (name != contender.name) continue;
    Fixture fixture(0, n);
    if (!fixture.complete(0, n)) {
      std::fprintf(stderr, "bench: could not open %d eventfds\n", n);
      return 1;
    }
    contender.churn(fixture, rounds);
    return 0;
  }
  std::fprintf(stderr, "bench: no contender %s\n", name.c_str());
  return 1;
}

void RegisterBenchmarks() {
  static const std::vector<Contender> contenders = AllContenders();
  static const std::vector<Workload> workloads = AllWorkloads();
  for (const Workload& workload : workloads) {
    for (const Contender& contender : contenders) {
      const std::string name = workload.group + "/" + contender.name + "/" +
                               std::to_string(workload.size);
      benchmark::RegisterBenchmark(
          name.c_str(),
          [&workload, &contender](benchmark::State& state) {
            Fixture fixture(workload.pairs, workload.eventfds);
            if (!fixture.complete(workload.pairs, workload.eventfds)) {
              state.SkipWithError("could not open the fds");
              return;
            }
            for (auto _ : state) {
              // Reported time: nanoseconds per unit of this workload.
              state.SetIterationTime(workload.run(contender, fixture) * 1e-9);
            }
            state.counters["N"] = workload.size;
          })
          ->UseManualTime()
          ->Iterations(3)
          ->Unit(benchmark::kNanosecond);
    }
  }
}

}  // namespace
}  // namespace bench
}  // namespace pollio

int main(int argc, char** argv) {
  pollio::bench::RaiseFdLimit();
  int rounds = 5;
  std::string only;
  std::string callgrind_contender;
  int callgrind_writes = 0;
  int callgrind_active = 100;
  std::string churn_contender;
  int churn_rounds = 0;
  int churn_fds = 1000;
  bool summary = false;
  bool list = false;
  int cpu = -1;
  std::vector<char*> rest = {argv[0]};
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--summary") {
      summary = true;
    } else if (arg == "--list") {
      list = true;
    } else if (arg.rfind("--rounds=", 0) == 0) {
      rounds = std::max(1, std::atoi(arg.c_str() + 9));
    } else if (arg.rfind("--cpu=", 0) == 0) {
      cpu = std::atoi(arg.c_str() + 6);
    } else if (arg.rfind("--contenders=", 0) == 0) {
      pollio::bench::ContenderFilter() = arg.substr(13);
    } else if (arg.rfind("--only=", 0) == 0) {
      only = arg.substr(7);
    } else if (arg.rfind("--chain_once=", 0) == 0) {
      // --chain_once=CONTENDER:WRITES[:ACTIVE]
      const std::string value = arg.substr(13);
      const std::size_t colon = value.find(':');
      callgrind_contender = value.substr(0, colon);
      callgrind_writes = std::atoi(value.c_str() + colon + 1);
      const std::size_t second = value.find(':', colon + 1);
      if (second != std::string::npos) {
        callgrind_active = std::max(1, std::atoi(value.c_str() + second + 1));
      }
    } else if (arg.rfind("--churn_once=", 0) == 0) {
      // --churn_once=CONTENDER:ROUNDS[:N]
      const std::string value = arg.substr(13);
      const std::size_t colon = value.find(':');
      churn_contender = value.substr(0, colon);
      churn_rounds = std::atoi(value.c_str() + colon + 1);
      const std::size_t second = value.find(':', colon + 1);
      if (second != std::string::npos) {
        churn_fds = std::max(1, std::atoi(value.c_str() + second + 1));
      }
    } else {
      rest.push_back(argv[i]);
    }
  }
  if (list) return pollio::bench::ListContenders();
  if (!callgrind_contender.empty()) {
    return pollio::bench::RunChainOnce(callgrind_contender, callgrind_writes,
                                       callgrind_active);
  }
  if (!churn_contender.empty()) {
    return pollio::bench::RunChurnOnce(churn_contender, churn_rounds,
                                       churn_fds);
  }
  if (summary) return pollio::bench::RunSummary(rounds, only, cpu);
  int rest_count = static_cast<int>(rest.size());
  benchmark::Initialize(&rest_count, rest.data());
  pollio::bench::RegisterBenchmarks();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
