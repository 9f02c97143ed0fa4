// Copyright 2026 The pollio Authors.

#include "tests/fuzz/fuzz_input.h"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "absl/types/span.h"
#include "event/event.h"
#include "poller/poller.h"
#include "tests/differential_model.h"

namespace pollio {
namespace testing {
namespace {

// An operation of the model, or (`wait`) a wait(0) checked by the oracle.
struct Entry {
  bool wait = false;
  Op op = Op::kNothing;
};

// Indexed by the low five bits of an operation's first byte. Waits and the
// calls under test come more than once, so that random bytes exercise them
// more often than the rarer kernel-state changes.
constexpr Entry kOperations[32] = {
    {false, Op::kAdd},
    {false, Op::kAdd},
    {false, Op::kAdd},
    {false, Op::kModify},
    {false, Op::kModify},
    {false, Op::kDel},
    {false, Op::kDel},
    {true, Op::kNothing},  // wait
    {true, Op::kNothing},  // wait
    {true, Op::kNothing},  // wait
    {true, Op::kNothing},  // wait
    {false, Op::kWake},
    {false, Op::kPeerWrite},
    {false, Op::kPeerWrite},
    {false, Op::kPeerWrite},
    {false, Op::kDrain},
    {false, Op::kDrain},
    {false, Op::kFillOwnSendBuffer},
    {false, Op::kPeerDrain},
    {false, Op::kPeerShutdownWrite},
    {false, Op::kOwnShutdownWrite},
    {false, Op::kPeerShutdownRead},
    {false, Op::kOwnShutdownRead},
    {false, Op::kClosePeer},
    {false, Op::kReopen},
    {false, Op::kReopen},
    {false, Op::kOwnWrite},
    {false, Op::kReadSome},
    {false, Op::kPeerReadSome},
    {false, Op::kPeerReadSome},
    {false, Op::kNothing},
    {false, Op::kWake},
};

constexpr Trigger kTriggers[4] = {Trigger::kLevel, Trigger::kEdge,
                                  Trigger::kOneshot, Trigger::kExclusive};

constexpr Events kInterests[5] = {
    Events::kReadable,
    Events::kWritable,
    Events::kReadable | Events::kWritable,
    Events::kReadable | Events::kPriority,
    Events::kWritable | Events::kPriority,
};

// Reads the input a byte at a time.
class Reader {
 public:
  explicit Reader(absl::Span<const std::uint8_t> input) : input_(input) {}

  std::optional<std::uint8_t> Next() {
    if (position_ >= input_.size()) return std::nullopt;
    return input_[position_++];
  }

 private:
  absl::Span<const std::uint8_t> input_;
  std::size_t position_ = 0;
};

// Decodes the next operation; nullopt at the end of the input, including an
// operation cut short by it. `token` is the token a registration gets.
std::optional<Entry> Decode(Reader& reader, std::uint64_t token,
                            Operation& op) {
  const std::optional<std::uint8_t> first = reader.Next();
  if (!first) return std::nullopt;
  const Entry entry = kOperations[*first & 31];
  op = Operation{};
  op.op = entry.op;
  op.slot = (*first >> 5) % kFuzzSlots;
  switch (entry.op) {
    case Op::kAdd:
    case Op::kModify: {
      const std::optional<std::uint8_t> how = reader.Next();
      const std::optional<std::uint8_t> kind = reader.Next();
      if (!how || !kind) return std::nullopt;
      op.trigger = kTriggers[*how & 3];
      op.interest = op.trigger == Trigger::kEdge
                        ? Events::kReadable
                        : kInterests[((*how >> 2) & 7) % 5];
      op.kind = static_cast<EventKind>(*kind);
      op.token = token;
      break;
    }
    case Op::kPeerWrite:
    case Op::kOwnWrite:
    case Op::kReadSome:
    case Op::kPeerReadSome: {
      const std::optional<std::uint8_t> size = reader.Next();
      if (!size) return std::nullopt;
      op.bytes = 1 + 16 * *size;
      break;
    }
    default:
      break;
  }
  return entry;
}

// Runs the operations of `input` on `model`, appending each to `history`;
// returns "" or the first failure.
std::string Run(DifferentialModel& model, absl::Span<const std::uint8_t> input,
                std::string& history) {
  Reader reader(input);
  Operation op;
  for (int step = 0; step < kMaxFuzzOperations; ++step) {
    // Tokens start at 1, new for every operation, so a stale one shows.
    const std::optional<Entry> entry =
        Decode(reader, static_cast<std::uint64_t>(step) + 1, op);
    if (!entry) break;
    history += "  " + std::to_string(step) + ": ";
    if (entry->wait) {
      history += "wait(0)\n";
      if (std::string failure = model.Check(); !failure.empty()) {
        return failure;
      }
      continue;
    }
    history += model.Apply(op) + "\n";
    if (std::string failure = model.CheckRegistrations(); !failure.empty()) {
      return failure;
    }
  }
  history += "  end: wait(0)\n";
  return model.Check();
}

}  // namespace

std::string RunFuzzInput(std::unique_ptr<Poller> poller,
                         absl::Span<const std::uint8_t> input,
                         std::string* operations) {
  const std::string backend(BackendName(poller->backend()));
  DifferentialModel::Options options;
  options.slots = kFuzzSlots;
  options.check_scrub = true;
  options.check_tokens = true;
  options.several_changes_per_wait = true;
  std::string error;
  DifferentialModel model(std::move(poller), options, &error);
  if (!error.empty()) return backend + ": " + error;

  std::string history;
  const std::string failure = Run(model, input, history);
  if (operations != nullptr) *operations = history;
  if (failure.empty()) return "";
  return "backend " + backend + ": " + failure + "\noperations:\n" + history;
}

}  // namespace testing
}  // namespace pollio
