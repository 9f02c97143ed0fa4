// Copyright 2026 The pollio Authors.
//
// The libuv and Boost.Asio contenders, behind the Driver interface of
// drivers.h (kept apart so that file stays readable). Both run on epoll
// here, so the bench compares them with the raw epoll loop.

#ifndef POLLIO_TOOLS_BENCH_LIBUV_ASIO_DRIVERS_H_
#define POLLIO_TOOLS_BENCH_LIBUV_ASIO_DRIVERS_H_

#include <uv.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/system/error_code.hpp>
#include <cstdint>
#include <memory>
#include <vector>

#include "tools/bench/drivers.h"

// Boost 1.74 picks its reactor at compile time; on Linux it is epoll (the
// io_uring backend came in 1.78). Say so here rather than in a comment only.
#if !defined(BOOST_ASIO_HAS_EPOLL)
#error "the asio contender expects Boost.Asio's epoll reactor"
#endif

namespace pollio {
namespace bench {

// libuv 1.44 (Debian 12; its Linux loop is epoll, level-triggered), one
// uv_poll_t per fd initialised once and started and stopped, uv_async_t for
// the wake: the handles and calls libuv's guide gives for watching fds that
// libuv does not own.
class Libuv {
 public:
  static constexpr const char* kName = "libuv";
  Libuv() {
    loop_ready_ = uv_loop_init(&loop_) == 0;
    if (!loop_ready_) return;
    wake_ready_ = uv_async_init(&loop_, &wake_, &Libuv::OnWake) == 0;
  }
  ~Libuv() {
    if (!loop_ready_) return;
    // Handles are freed only after their close callbacks have run, which
    // takes a turn of the loop.
    for (auto& watch : watches_) {
      if (watch != nullptr) {
        uv_close(reinterpret_cast<uv_handle_t*>(&watch->poll), nullptr);
      }
    }
    if (wake_ready_) uv_close(reinterpret_cast<uv_handle_t*>(&wake_), nullptr);
    uv_run(&loop_, UV_RUN_DEFAULT);
    uv_loop_close(&loop_);
  }
  bool ok() const { return loop_ready_ && wake_ready_; }
  void Add(int fd) {
    if (static_cast<std::size_t>(fd) >= watches_.size()) {
      watches_.resize(static_cast<std::size_t>(fd) + 1);
    }
    // Heap handles: libuv keeps pointers to them, so they must not move;
    // initialised once per fd (uv_poll_init also sets O_NONBLOCK, one
    // ioctl), outside timed churn after the first add.
    if (watches_[fd] == nullptr) {
      watches_[fd] = std::make_unique<Watch>();
      watches_[fd]->driver = this;
      watches_[fd]->fd = fd;
      uv_poll_init(&loop_, &watches_[fd]->poll, fd);
      watches_[fd]->poll.data = watches_[fd].get();
    }
    uv_poll_start(&watches_[fd]->poll, UV_READABLE, &Libuv::OnReady);
  }
  void Del(int fd) { uv_poll_stop(&watches_[fd]->poll); }
  template <typename OnReady>
  int Poll(int timeout_ms, OnReady&& on_ready) {
    callback_.Set(on_ready);
    reported_ = 0;
    // UV_RUN_ONCE blocks (the async handle keeps the loop alive) and runs
    // one pass of the loop; libuv takes no timeout, like ev_run.
    uv_run(&loop_, timeout_ms == 0 ? UV_RUN_NOWAIT : UV_RUN_ONCE);
    return reported_;
  }
  void Wake() { uv_async_send(&wake_); }

 private:
  struct Watch {
    uv_poll_t poll;
    Libuv* driver;
    int fd;
  };
  static void OnReady(uv_poll_t* handle, int status, int /*events*/) {
    if (status != 0) return;
    auto* watch = static_cast<Watch*>(handle->data);
    Libuv* driver = watch->driver;
    ++driver->reported_;
    driver->callback_.call(driver->callback_.object, watch->fd);
  }
  static void OnWake(uv_async_t* /*handle*/) {}

  uv_loop_t loop_{};
  uv_async_t wake_{};
  bool loop_ready_ = false;
  bool wake_ready_ = false;
  std::vector<std::unique_ptr<Watch>> watches_;
  ReadyCallback callback_;
  int reported_ = 0;
};

// Boost.Asio 1.74 (Asio 1.18) on its default reactor, epoll: one
// posix::stream_descriptor per fd, assigned on Add and released on Del (the
// way to stop watching an fd Asio must not close), readiness through
// async_wait(wait_read) issued again from its own handler, as Asio's
// examples do. Asio registers each descriptor edge-triggered once; each
// async_wait then re-arms it with an epoll_ctl(MOD), which is what makes a
// still-readable fd report again: that call per event is Asio's cost, and it
// is kept.
class Asio {
 public:
  static constexpr const char* kName = "asio";
  // Concurrency hint 1: one thread runs this io_context, the hint Asio
  // documents for that case (posts from within handlers skip the lock);
  // posts from another thread, Wake's, stay safe.
  Asio() : context_(1), work_(context_.get_executor()) {}
  ~Asio() {
    // Released, not closed: the fds belong to the Fixture. Handlers still
    // queued are destroyed, not run, with the io_context.
    for (Registration& registration : registrations_) {
      if (registration.descriptor != nullptr &&
          registration.descriptor->is_open()) {
        registration.descriptor->release();
      }
    }
  }
  bool ok() const { return true; }
  void Add(int fd) {
    if (static_cast<std::size_t>(fd) >= registrations_.size()) {
      registrations_.resize(static_cast<std::size_t>(fd) + 1);
    }
    Registration& registration = registrations_[fd];
    if (registration.descriptor == nullptr) {
      registration.descriptor =
          std::make_unique<boost::asio::posix::stream_descriptor>(context_);
    }
    boost::system::error_code error;
    registration.descriptor->assign(fd, error);
    if (!error) Wait(fd);
  }
  void Del(int fd) {
    Registration& registration = registrations_[fd];
    // A completion already queued for this registration must not be
    // reported after its del; the generation tells it apart.
    ++registration.generation;
    registration.descriptor->release();
  }
  // One pass of the reactor, as ev_run(EVRUN_ONCE) is for libev: every
  // handler its epoll_wait made ready runs, then Poll returns. Asio has no
  // such call (run_one runs one handler, poll runs until nothing is ready,
  // which with level readiness may be never), so the first handler of the
  // pass posts a marker behind the reactor's next turn and the pass ends
  // when the marker runs. From inside a handler, with hint 1, that post is
  // a push onto the thread's private queue: no lock and no system call.
  template <typename OnReady>
  int Poll(int timeout_ms, OnReady&& on_ready) {
    callback_.Set(on_ready);
    reported_ = 0;
    pass_started_ = false;
    pass_over_ = false;
    if (timeout_ms == 0) {
      while (!pass_over_ && context_.poll_one() != 0) {
      }
    } else {
      while (!pass_over_ && context_.run_one() != 0) {
      }
    }
    return reported_;
  }
  // The wake handler ends the pass itself: a marker would make the
  // reactor's next turn a non-blocking epoll_wait that run() would not make.
  void Wake() {
    boost::asio::post(context_, [this] { pass_over_ = true; });
  }

 private:
  struct Registration {
    std::unique_ptr<boost::asio::posix::stream_descriptor> descriptor;
    std::uint32_t generation = 0;
  };
  void StartPass() {
    if (pass_started_) return;
    pass_started_ = true;
    boost::asio::post(context_, [this] { pass_over_ = true; });
  }
  void Wait(int fd) {
    const std::uint32_t generation = registrations_[fd].generation;
    registrations_[fd].descriptor->async_wait(
        boost::asio::posix::stream_descriptor::wait_read,
        [this, fd, generation](const boost::system::error_code& error) {
          StartPass();
          // operation_aborted: released by Del.
          if (error || registrations_[fd].generation != generation) return;
          ++reported_;
          callback_.call(callback_.object, fd);
          // Waiting again after the callback, which has read the fd, so a
          // drained fd is not reported twice.
          if (registrations_[fd].generation == generation) Wait(fd);
        });
  }

  boost::asio::io_context context_;
  // Keeps run_one blocking when no wait is pending (the wake workload).
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type>
      work_;
  std::vector<Registration> registrations_;
  ReadyCallback callback_;
  int reported_ = 0;
  bool pass_started_ = false;
  bool pass_over_ = false;
};

}  // namespace bench
}  // namespace pollio

#endif  // POLLIO_TOOLS_BENCH_LIBUV_ASIO_DRIVERS_H_
