// Copyright 2026 The pollio Authors.

#include "backends/internal/teardown_interrupt.h"

#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <mutex>

namespace pollio {
namespace internal {

std::atomic<int> pending_teardown_announcements{0};

namespace {

// The ring's exit work waits for an RCU grace period and for every request
// to finish (the destructor cancels them first), so the interruption comes
// well inside this window; a later one ends a wait early as before.
constexpr std::int64_t kWindowNs = 1'000'000'000;

struct Announcement {
  int thread_id = 0;
  std::int64_t deadline_ns = 0;  // 0: free slot
};

std::mutex announcements_mutex;
Announcement announcements[kMaxAnnounced];

std::int64_t MonotonicNs() {
  timespec now;
  ::clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<std::int64_t>(now.tv_sec) * 1'000'000'000 + now.tv_nsec;
}

// Frees expired slots. Requires announcements_mutex.
void ExpireLocked(std::int64_t now_ns) {
  for (Announcement& slot : announcements) {
    if (slot.deadline_ns != 0 && slot.deadline_ns <= now_ns) {
      slot.deadline_ns = 0;
      pending_teardown_announcements.fetch_sub(1, std::memory_order_relaxed);
    }
  }
}

}  // namespace

int CurrentThreadId() {
  thread_local const int thread_id = static_cast<int>(::syscall(SYS_gettid));
  return thread_id;
}

void ExpectTeardownInterrupt(int thread_id) {
  const std::int64_t now_ns = MonotonicNs();
  std::lock_guard<std::mutex> lock(announcements_mutex);
  ExpireLocked(now_ns);
  Announcement* target = &announcements[0];
  for (Announcement& slot : announcements) {
    if (slot.deadline_ns != 0 && slot.thread_id == thread_id) {
      target = &slot;  // renew this thread's announcement
      break;
    }
    if (slot.deadline_ns == 0 || slot.deadline_ns < target->deadline_ns) {
      target = &slot;
    }
  }
  if (target->deadline_ns == 0) {
    pending_teardown_announcements.fetch_add(1, std::memory_order_relaxed);
  }
  target->thread_id = thread_id;
  target->deadline_ns = now_ns + kWindowNs;
}

bool TeardownInterruptExpectedSlow() {
  const std::int64_t now_ns = MonotonicNs();
  const int thread_id = CurrentThreadId();
  std::lock_guard<std::mutex> lock(announcements_mutex);
  ExpireLocked(now_ns);
  for (const Announcement& slot : announcements) {
    if (slot.deadline_ns != 0 && slot.thread_id == thread_id) return true;
  }
  return false;
}

}  // namespace internal
}  // namespace pollio
