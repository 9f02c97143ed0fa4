// Copyright 2026 The pollio Authors.
//
// wait() allocates nothing once the poller is warm: every operator new in
// this binary is counted while the count is switched on.

#include <atomic>
#include <cstdlib>
#include <memory>
#include <new>
#include <vector>

#include "absl/status/statusor.h"
#include "event/event.h"
#include "factory/factory.h"
#include "gtest/gtest.h"
#include "poller/poller.h"
#include "tests/test_util.h"

namespace {

std::atomic<bool> counting{false};
std::atomic<long> allocations{0};

void* CountedAllocate(std::size_t size) {
  if (counting.load(std::memory_order_relaxed)) {
    allocations.fetch_add(1, std::memory_order_relaxed);
  }
  void* memory = std::malloc(size == 0 ? 1 : size);
  if (memory == nullptr) throw std::bad_alloc();
  return memory;
}

}  // namespace

void* operator new(std::size_t size) { return CountedAllocate(size); }
void* operator new[](std::size_t size) { return CountedAllocate(size); }
void operator delete(void* memory) noexcept { std::free(memory); }
void operator delete[](void* memory) noexcept { std::free(memory); }
void operator delete(void* memory, std::size_t) noexcept { std::free(memory); }
void operator delete[](void* memory, std::size_t) noexcept {
  std::free(memory);
}

namespace pollio {
namespace {

using ::pollio::testing::Drain;
using ::pollio::testing::MakeSocketPair;
using ::pollio::testing::SocketPair;
using ::pollio::testing::WriteBytes;

class AllocTest : public ::testing::TestWithParam<Backend> {};

TEST_P(AllocTest, WarmWaitsAllocateNothing) {
  absl::StatusOr<std::unique_ptr<Poller>> made = NewPoller(GetParam());
  if (!made.ok()) GTEST_SKIP() << made.status();
  Poller& poller = **made;
  std::vector<SocketPair> pairs;
  for (int i = 0; i < 64; ++i) {
    pairs.push_back(MakeSocketPair());
    // Tokens ride along: the results carry them without allocating.
    ASSERT_TRUE(poller
                    .add(EventObject::Client(pairs.back().left.get(),
                                             1000 + static_cast<unsigned>(i)))
                    .ok());
  }
  // Warm up: the first waits may size lazily-grown state.
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(poller.wait(0).ok());

  // The counter itself works: one visible allocation is seen.
  counting = true;
  auto probe = std::make_unique<int>(1);
  counting = false;
  ASSERT_EQ(allocations.exchange(0), 1);

  // No gtest assertion inside the counted region: they allocate.
  long reported = 0;
  long right_tokens = 0;
  bool all_ok = true;
  allocations = 0;
  counting = true;
  for (int i = 0; i < 1000; ++i) {
    SocketPair& pair = pairs[static_cast<std::size_t>(i) % pairs.size()];
    WriteBytes(pair.right.get());
    if (i % 100 == 0) all_ok = all_ok && poller.wake().ok();
    absl::StatusOr<absl::Span<const EventObject>> events = poller.wait(0);
    all_ok = all_ok && events.ok();
    if (events.ok()) {
      reported += static_cast<long>(events->size());
      for (const EventObject& ev : *events) {
        const std::size_t index = ev.token - 1000;
        if (index < pairs.size() && pairs[index].left.get() == ev.fd) {
          ++right_tokens;
        }
      }
    }
    Drain(pair.left.get());
  }
  counting = false;
  EXPECT_TRUE(all_ok);
  EXPECT_GE(reported, 1000 - 10);  // the waits did see the writes
  EXPECT_EQ(right_tokens, reported);
  EXPECT_EQ(allocations.load(), 0);
}

INSTANTIATE_TEST_SUITE_P(Backends, AllocTest,
                         ::testing::ValuesIn(::pollio::kAllBackends),
                         ::pollio::testing::BackendTestName());

}  // namespace
}  // namespace pollio
