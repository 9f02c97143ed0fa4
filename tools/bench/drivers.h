// Copyright 2026 The pollio Authors.
//
// The benchmark contenders, each behind the same small static interface so
// one workload template drives them all:
//
//   Driver driver;            // ok() false if the kernel refuses it
//   driver.Add(fd);           // readable interest, level-triggered
//   driver.Del(fd);
//   driver.Poll(timeout_ms, [](int fd) { ... });  // -1 forever, 0 no wait
//   driver.Wake();            // thread-safe: ends a Poll(-1) elsewhere
//
// Raw loops are what a careful programmer writes against the system call
// directly; the Poller drivers use the concrete final classes, so calls are
// not virtual; libevent and libev are driven the way their manuals say
// (persistent events / ev_io watchers assigned once, started and stopped).

#ifndef POLLIO_TOOLS_BENCH_DRIVERS_H_
#define POLLIO_TOOLS_BENCH_DRIVERS_H_

#include <errno.h>
#include <ev.h>

// libevent's event2/event.h #defines EV_READ (0x02, libev's EV_WRITE) over
// libev's enumerator EV_READ (0x01), so libev's value is taken first.
inline constexpr int kLibevRead = EV_READ;

#include <event2/event.h>
#include <event2/thread.h>
#include <liburing.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <thread>
#include <vector>

#include "absl/time/time.h"
#include "backends/epoll/epoll_poller.h"
#include "backends/poll/poll_poller.h"
#include "backends/uring/uring_poller.h"
#include "event/event.h"

namespace pollio {
namespace bench {

// Up to this many events per Poll, for every contender.
inline constexpr int kMaxEvents = 1024;

inline void DrainEventfd(int fd) {
  std::uint64_t count;
  (void)!::read(fd, &count, sizeof(count));
}

inline void SignalEventfd(int fd) {
  const std::uint64_t one = 1;
  (void)!::write(fd, &one, sizeof(one));
}

// ---------------------------------------------------------------------------
// Raw system-call loops.

class RawEpoll {
 public:
  static constexpr const char* kName = "epoll_raw";
  RawEpoll()
      : epoll_fd_(::epoll_create1(EPOLL_CLOEXEC)),
        wake_fd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)),
        events_(kMaxEvents) {
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.u64 = kWake;
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &event);
  }
  ~RawEpoll() {
    ::close(wake_fd_);
    ::close(epoll_fd_);
  }
  bool ok() const { return epoll_fd_ >= 0 && wake_fd_ >= 0; }
  void Add(int fd) {
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.u64 = static_cast<std::uint64_t>(fd);
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &event);
  }
  void Del(int fd) { ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr); }
  template <typename OnReady>
  int Poll(int timeout_ms, OnReady&& on_ready) {
    const int ready =
        ::epoll_wait(epoll_fd_, events_.data(), kMaxEvents, timeout_ms);
    for (int i = 0; i < ready; ++i) {
      if (events_[i].data.u64 == kWake) {
        DrainEventfd(wake_fd_);
        continue;
      }
      on_ready(static_cast<int>(events_[i].data.u64));
    }
    return ready;
  }
  void Wake() { SignalEventfd(wake_fd_); }

 private:
  static constexpr std::uint64_t kWake = ~std::uint64_t{0};
  int epoll_fd_;
  int wake_fd_;
  std::vector<epoll_event> events_;
};

class RawPoll {
 public:
  static constexpr const char* kName = "poll_raw";
  RawPoll() : wake_fd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
    pollfds_.push_back(pollfd{wake_fd_, POLLIN, 0});
  }
  ~RawPoll() { ::close(wake_fd_); }
  bool ok() const { return wake_fd_ >= 0; }
  void Add(int fd) {
    if (static_cast<std::size_t>(fd) >= slot_by_fd_.size()) {
      slot_by_fd_.resize(static_cast<std::size_t>(fd) + 1);
    }
    slot_by_fd_[fd] = pollfds_.size();
    pollfds_.push_back(pollfd{fd, POLLIN, 0});
  }
  void Del(int fd) {
    const std::size_t slot = slot_by_fd_[fd];
    pollfds_[slot] = pollfds_.back();
    slot_by_fd_[pollfds_[slot].fd] = slot;
    pollfds_.pop_back();
  }
  template <typename OnReady>
  int Poll(int timeout_ms, OnReady&& on_ready) {
    int ready = ::poll(pollfds_.data(), pollfds_.size(), timeout_ms);
    const int total = ready;
    if (ready > 0 && pollfds_[0].revents != 0) {
      DrainEventfd(wake_fd_);
      --ready;
    }
    int reported = 0;
    for (std::size_t i = 1;
         ready > 0 && i < pollfds_.size() && reported < kMaxEvents; ++i) {
      if (pollfds_[i].revents == 0) continue;
      --ready;
      ++reported;
      on_ready(pollfds_[i].fd);
    }
    return total;
  }
  void Wake() { SignalEventfd(wake_fd_); }

 private:
  int wake_fd_;
  std::vector<pollfd> pollfds_;
  std::vector<std::size_t> slot_by_fd_;
};

// io_uring with single-shot POLL_ADD re-armed after each completion (level),
// submitted with the next wait, as UringPoller does; no stale-completion
// bookkeeping beyond dropping removals.
//
// kMultiThreaded (uring_raw_mt): the same loop in a process that has had a
// second thread, started and joined before the ring is set up: from then on
// glibc's read and write take their multi-threaded path (cancellation
// points), about 90 instructions per chain event. A runtime with worker
// threads pays that whatever it polls with; UringPoller itself no longer
// makes a process multi-threaded (its set-up thread is a bare clone,
// backends/uring/uring_poller.h), so pollio_uring sits beside uring_raw.
//
// kDeferred (uring_raw_deferred): as uring_raw, on a ring set up as
// UringPoller's is (SINGLE_ISSUER, DEFER_TASKRUN, TASKRUN_FLAG, SUBMIT_ALL;
// created on the thread that uses it, not disabled until then). The kernel
// then posts completions only inside an io_uring_enter of the ring's
// thread, so every wait enters (the default loops above find the handler's
// own write already completed the next poll); at one active pair this is
// the floor for what one wait costs.
template <bool kMultiThreaded = false, bool kDeferred = false>
class RawUring {
 public:
  static const char* const kName;
  RawUring() : wake_fd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
    if (kMultiThreaded) std::thread([] {}).join();
    io_uring_params params{};
    params.flags = IORING_SETUP_CQSIZE;
    if (kDeferred) {
      params.flags |= IORING_SETUP_SUBMIT_ALL | IORING_SETUP_SINGLE_ISSUER |
                      IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_TASKRUN_FLAG;
    }
    params.cq_entries = 8192;
    ok_ = io_uring_queue_init_params(4096, &ring_, &params) == 0;
    if (ok_) Arm(wake_fd_);
  }
  ~RawUring() {
    if (ok_) io_uring_queue_exit(&ring_);
    ::close(wake_fd_);
  }
  bool ok() const { return ok_; }
  void Add(int fd) { Arm(fd); }
  void Del(int fd) {
    io_uring_sqe* sqe = NextSqe();
    io_uring_prep_poll_remove(sqe, static_cast<std::uint64_t>(fd));
    io_uring_sqe_set_data64(sqe, kRemoval);
  }
  template <typename OnReady>
  int Poll(int timeout_ms, OnReady&& on_ready) {
    __kernel_timespec timeout{};
    timeout.tv_sec = timeout_ms < 0 ? 1 << 30 : timeout_ms / 1000;
    timeout.tv_nsec = timeout_ms < 0 ? 0 : (timeout_ms % 1000) * 1000000L;
    io_uring_cqe* first;
    io_uring_submit_and_wait_timeout(&ring_, &first, 1, &timeout, nullptr);
    unsigned head;
    unsigned seen = 0;
    int reported = 0;
    io_uring_cqe* cqe;
    io_uring_for_each_cqe(&ring_, head, cqe) {
      ++seen;
      const std::uint64_t data = io_uring_cqe_get_data64(cqe);
      if (data == kRemoval || cqe->res < 0) continue;
      const int fd = static_cast<int>(data);
      if (fd == wake_fd_) {
        DrainEventfd(wake_fd_);
      } else {
        ++reported;
        on_ready(fd);
      }
      Arm(fd);
    }
    io_uring_cq_advance(&ring_, seen);
    return reported;
  }
  void Wake() { SignalEventfd(wake_fd_); }

 private:
  static constexpr std::uint64_t kRemoval = ~std::uint64_t{0};
  io_uring_sqe* NextSqe() {
    io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
    if (sqe == nullptr) {
      io_uring_submit(&ring_);
      sqe = io_uring_get_sqe(&ring_);
    }
    return sqe;
  }
  void Arm(int fd) {
    io_uring_sqe* sqe = NextSqe();
    io_uring_prep_poll_add(sqe, fd, POLLIN);
    io_uring_sqe_set_data64(sqe, static_cast<std::uint64_t>(fd));
  }
  io_uring ring_{};
  bool ok_ = false;
  int wake_fd_;
};

template <>
inline const char* const RawUring<false>::kName = "uring_raw";
template <>
inline const char* const RawUring<true>::kName = "uring_raw_mt";
template <>
inline const char* const RawUring<false, true>::kName = "uring_raw_deferred";

// ---------------------------------------------------------------------------
// pollio, through the concrete backend class.

// kAnyThread: PollerOptions::registration_from_any_thread, to show what the
// table lock costs a single-threaded loop.
template <typename Backend, bool kAnyThread = false>
class PollioDriver {
 public:
  static const char* const kName;
  PollioDriver() {
    // Like the raw loops, no fcntl check of each added fd (see
    // PollerOptions::check_fd_on_add; epoll ignores it).
    PollerOptions options;
    options.max_events = kMaxEvents;
    options.check_fd_on_add = false;
    options.registration_from_any_thread = kAnyThread;
    auto made = Backend::Create(options);
    if (made.ok()) poller_ = *std::move(made);
  }
  bool ok() const { return poller_ != nullptr; }
  void Add(int fd) { (void)poller_->add(EventObject::Client(fd)); }
  void Del(int fd) { (void)poller_->del(fd); }
  template <typename OnReady>
  int Poll(int timeout_ms, OnReady&& on_ready) {
    auto events =
        poller_->wait(timeout_ms < 0 ? absl::InfiniteDuration()
                                     : absl::Milliseconds(timeout_ms));
    if (!events.ok()) return -1;
    for (const EventObject& ev : *events) {
      if (ev.fd >= 0) on_ready(ev.fd);
    }
    return static_cast<int>(events->size());
  }
  void Wake() { (void)poller_->wake(); }

 private:
  std::unique_ptr<Backend> poller_;
};

template <>
inline const char* const PollioDriver<EpollPoller>::kName = "pollio_epoll";
template <>
inline const char* const PollioDriver<PollPoller>::kName = "pollio_poll";
template <>
inline const char* const PollioDriver<UringPoller>::kName = "pollio_uring";
template <>
inline const char* const PollioDriver<EpollPoller, true>::kName =
    "pollio_epoll_any_thread";
template <>
inline const char* const PollioDriver<PollPoller, true>::kName =
    "pollio_poll_any_thread";
template <>
inline const char* const PollioDriver<UringPoller, true>::kName =
    "pollio_uring_any_thread";

// ---------------------------------------------------------------------------
// The peers.

// Calls a lambda stored as (object, trampoline) from a C callback.
struct ReadyCallback {
  void* object = nullptr;
  void (*call)(void* object, int fd) = nullptr;
  template <typename OnReady>
  void Set(OnReady& on_ready) {
    object = &on_ready;
    call = [](void* o, int fd) { (*static_cast<OnReady*>(o))(fd); };
  }
};

// libevent 2.1, event_base on epoll, persistent events assigned once per fd.
class Libevent {
 public:
  static constexpr const char* kName = "libevent";
  Libevent() {
    static const bool threads_ready = evthread_use_pthreads() == 0;
    (void)threads_ready;
    event_config* config = event_config_new();
    event_config_avoid_method(config, "poll");
    event_config_avoid_method(config, "select");
    base_ = event_base_new_with_config(config);
    event_config_free(config);
    if (base_ == nullptr) return;
    wake_ = event_new(base_, -1, EV_PERSIST, &Libevent::OnWake, this);
    event_add(wake_, nullptr);
  }
  ~Libevent() {
    for (event* ev : by_fd_) {
      if (ev != nullptr) event_free(ev);
    }
    if (wake_ != nullptr) event_free(wake_);
    if (base_ != nullptr) event_base_free(base_);
  }
  bool ok() const {
    return base_ != nullptr &&
           std::strcmp(event_base_get_method(base_), "epoll") == 0;
  }
  void Add(int fd) {
    if (static_cast<std::size_t>(fd) >= by_fd_.size()) {
      by_fd_.resize(static_cast<std::size_t>(fd) + 1, nullptr);
    }
    if (by_fd_[fd] == nullptr) {
      by_fd_[fd] =
          event_new(base_, fd, EV_READ | EV_PERSIST, &Libevent::OnReady, this);
    }
    event_add(by_fd_[fd], nullptr);
  }
  void Del(int fd) { event_del(by_fd_[fd]); }
  template <typename OnReady>
  int Poll(int timeout_ms, OnReady&& on_ready) {
    callback_.Set(on_ready);
    reported_ = 0;
    // NO_EXIT_ON_EMPTY: the wake event alone (no fd) must keep a blocking
    // loop waiting.
    event_base_loop(base_, timeout_ms == 0
                               ? EVLOOP_NONBLOCK | EVLOOP_ONCE
                               : EVLOOP_ONCE | EVLOOP_NO_EXIT_ON_EMPTY);
    return reported_;
  }
  void Wake() { event_active(wake_, EV_READ, 0); }

 private:
  static void OnReady(evutil_socket_t fd, short, void* self) {
    auto* driver = static_cast<Libevent*>(self);
    ++driver->reported_;
    driver->callback_.call(driver->callback_.object, static_cast<int>(fd));
  }
  static void OnWake(evutil_socket_t, short, void*) {}

  event_base* base_ = nullptr;
  event* wake_ = nullptr;
  std::vector<event*> by_fd_;
  ReadyCallback callback_;
  int reported_ = 0;
};

// libev 4.33 on EVBACKEND_EPOLL, ev_io watchers initialised once per fd.
class Libev {
 public:
  static constexpr const char* kName = "libev";
  Libev() : loop_(ev_loop_new(EVBACKEND_EPOLL)) {
    if (loop_ == nullptr) return;
    ev_async_init(&wake_, &Libev::OnWake);
    ev_async_start(loop_, &wake_);
  }
  ~Libev() {
    if (loop_ == nullptr) return;
    for (auto& watcher : watchers_) {
      if (watcher != nullptr && ev_is_active(watcher.get())) {
        ev_io_stop(loop_, watcher.get());
      }
    }
    ev_async_stop(loop_, &wake_);
    ev_loop_destroy(loop_);
  }
  bool ok() const {
    return loop_ != nullptr && ev_backend(loop_) == EVBACKEND_EPOLL;
  }
  void Add(int fd) {
    if (static_cast<std::size_t>(fd) >= watchers_.size()) {
      watchers_.resize(static_cast<std::size_t>(fd) + 1);
    }
    // Heap watchers: libev keeps pointers to active ones, so they must not
    // move; allocated once per fd, outside timed churn after the first add.
    if (watchers_[fd] == nullptr) {
      watchers_[fd] = std::make_unique<ev_io>();
      ev_io_init(watchers_[fd].get(), &Libev::OnReady, fd, kLibevRead);
      watchers_[fd]->data = this;
    }
    ev_io_start(loop_, watchers_[fd].get());
  }
  void Del(int fd) { ev_io_stop(loop_, watchers_[fd].get()); }
  template <typename OnReady>
  int Poll(int timeout_ms, OnReady&& on_ready) {
    callback_.Set(on_ready);
    reported_ = 0;
    ev_run(loop_, timeout_ms == 0 ? EVRUN_NOWAIT : EVRUN_ONCE);
    return reported_;
  }
  void Wake() { ev_async_send(loop_, &wake_); }

 private:
  static void OnReady(struct ev_loop*, ev_io* watcher, int) {
    auto* driver = static_cast<Libev*>(watcher->data);
    ++driver->reported_;
    driver->callback_.call(driver->callback_.object, watcher->fd);
  }
  static void OnWake(struct ev_loop*, ev_async*, int) {}

  struct ev_loop* loop_;
  ev_async wake_{};
  std::vector<std::unique_ptr<ev_io>> watchers_;
  ReadyCallback callback_;
  int reported_ = 0;
};

}  // namespace bench
}  // namespace pollio

#endif  // POLLIO_TOOLS_BENCH_DRIVERS_H_
