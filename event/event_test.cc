// Copyright 2026 The pollio Authors.

#include "event/event.h"

#include <climits>
#include <sstream>
#include <string>

#include "gtest/gtest.h"

namespace pollio {
namespace {

TEST(EncodeTest, RoundTripsEveryKindAndBoundaryFd) {
  for (int fd : {0, 1, 1 << 20, INT_MAX}) {
    for (int k = 0; k <= 255; ++k) {
      const auto kind = static_cast<EventKind>(k);
      const std::uint64_t data = Encode(fd, kind);
      EXPECT_EQ(DecodeFd(data), fd) << "fd=" << fd << " kind=" << k;
      EXPECT_EQ(DecodeKind(data), kind) << "fd=" << fd << " kind=" << k;
    }
  }
}

TEST(EncodeTest, BackendBitsAboveTheFdAreIgnoredByDecoding) {
  const std::uint64_t generation = std::uint64_t{0xabcdef} << 40;
  const std::uint64_t data = Encode(INT_MAX, EventKind::kClient) | generation;
  EXPECT_EQ(DecodeFd(data), INT_MAX);
  EXPECT_EQ(DecodeKind(data), EventKind::kClient);
}

TEST(EncodeTest, IsConstexpr) {
  static_assert(DecodeFd(Encode(42, EventKind::kClient)) == 42);
  static_assert(DecodeKind(Encode(42, static_cast<EventKind>(200))) ==
                static_cast<EventKind>(200));
}

TEST(EventsTest, BitOperators) {
  Events events = Events::kReadable;
  events |= Events::kWritable;
  EXPECT_TRUE(Has(events, Events::kReadable));
  EXPECT_TRUE(Has(events, Events::kWritable));
  EXPECT_TRUE(Has(events, Events::kReadable | Events::kWritable));
  EXPECT_FALSE(Has(events, Events::kHangup));
  EXPECT_FALSE(Has(events, Events::kReadable | Events::kError));
  EXPECT_EQ(events & Events::kWritable, Events::kWritable);
  EXPECT_EQ(events & Events::kError, Events::kNone);
  static_assert(Has(Events::kHangup | Events::kError, Events::kError));
}

TEST(EventsTest, BitValuesAreStable) {
  // Part of the ABI of anything that stores or transmits an Events value.
  static_assert(static_cast<int>(Events::kReadable) == 1);
  static_assert(static_cast<int>(Events::kWritable) == 2);
  static_assert(static_cast<int>(Events::kHangup) == 4);
  static_assert(static_cast<int>(Events::kError) == 8);
  static_assert(static_cast<int>(Events::kReadClosed) == 16);
  static_assert(static_cast<int>(Events::kPriority) == 32);
}

TEST(EventsTest, HasAnyAndComplement) {
  constexpr Events peer_done = Events::kReadClosed | Events::kHangup;
  static_assert(HasAny(Events::kReadable | Events::kReadClosed, peer_done));
  static_assert(HasAny(Events::kHangup, peer_done));
  static_assert(!HasAny(Events::kReadable | Events::kError, peer_done));
  static_assert(!HasAny(Events::kReadable, Events::kNone));
  static_assert(!Has(Events::kReadable | Events::kReadClosed, peer_done));

  Events events = Events::kReadable | Events::kReadClosed | Events::kWritable;
  events &= ~Events::kReadClosed;
  EXPECT_EQ(events, Events::kReadable | Events::kWritable);
  EXPECT_EQ(~Events::kNone & Events::kPriority, Events::kPriority);
}

TEST(EventObjectTest, ConstructorsSayTheRole) {
  constexpr EventObject server = EventObject::Server(3);
  constexpr EventObject client = EventObject::Client(4);
  static_assert(server.kind == EventKind::kServer);
  static_assert(client.kind == EventKind::kClient);
  EXPECT_EQ(server.fd, 3);
  EXPECT_EQ(server.events, Events::kReadable);
  EXPECT_EQ(client.fd, 4);
  EXPECT_EQ(client.events, Events::kReadable);
}

TEST(EventObjectTest, EqualityComparesEveryField) {
  const EventObject a{5, EventKind::kClient, Events::kReadable};
  EXPECT_EQ(a, (EventObject{5, EventKind::kClient, Events::kReadable}));
  EXPECT_NE(a, (EventObject{6, EventKind::kClient, Events::kReadable}));
  EXPECT_NE(a, (EventObject{5, EventKind::kServer, Events::kReadable}));
  EXPECT_NE(a, (EventObject{5, EventKind::kClient, Events::kWritable}));
}

TEST(EventObjectTest, Prints) {
  std::ostringstream os;
  os << EventObject{7, EventKind::kClient,
                    Events::kReadable | Events::kWritable};
  EXPECT_EQ(os.str(), "{fd=7 kind=client events=R|W}");
  EXPECT_EQ(ToString(EventObject::Server(3)), "{fd=3 kind=server events=R}");
  EXPECT_EQ(ToString(EventObject{-1, static_cast<EventKind>(9), Events::kNone}),
            "{fd=-1 kind=9 events=none}");
  EXPECT_EQ(EventsName(Events::kReadable | Events::kHangup | Events::kError),
            "R|HUP|ERR");
  EXPECT_EQ(
      EventsName(Events::kPriority | Events::kError | Events::kHangup |
                 Events::kReadClosed | Events::kWritable | Events::kReadable),
      "R|W|RDHUP|HUP|ERR|PRI");
  EXPECT_EQ(EventsName(Events::kReadable | Events::kReadClosed), "R|RDHUP");
  EXPECT_EQ(EventsName(Events::kReadable | static_cast<Events>(0xc0)),
            "R|0xc0");
  EXPECT_EQ(EventsName(static_cast<Events>(0x40)), "0x40");
  EXPECT_STREQ(TriggerName(Trigger::kOneshot), "oneshot");
}

struct StringSink {
  void Append(const std::string& text) { out += text; }
  std::string out;
};

TEST(EventObjectTest, AbslStringifyAppendsToTheSink) {
  StringSink sink;
  AbslStringify(sink, EventObject::Client(12));
  EXPECT_EQ(sink.out, "{fd=12 kind=client events=R}");
}

}  // namespace
}  // namespace pollio
