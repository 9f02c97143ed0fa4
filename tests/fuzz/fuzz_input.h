// Copyright 2026 The pollio Authors.
//
// How the poller fuzzer (tests/fuzz/poller_fuzzer.cc) reads its input: bytes
// decoded into a sequence of poller calls and kernel-state changes on
// kFuzzSlots socketpairs, run against one backend and checked against the
// differential test's oracle (tests/differential_model.h). Shared by the
// fuzzer and by //tests/fuzz:corpus_test, which runs the seed corpus through
// every backend in the ordinary build.
//
// Input format, one operation after another until the input (or
// kMaxFuzzOperations) ends:
//
//   byte 0: bits 7..5 the slot (0..7), bits 4..0 the operation, an index
//           into the table in fuzz_input.cc (kOperations), which names each;
//   then, for add and modify, two bytes: the trigger (bits 1..0: level,
//           edge, oneshot, exclusive) and interest (bits 4..2, modulo 5: R,
//           W, RW, R|P, W|P), then the kind. An edge registration gets read
//           interest whatever the byte says: the oracle models read edges
//           only;
//   for writes and partial reads, one byte n: 1 + 16 * n bytes.
//
// An operation cut short by the end of the input is dropped. After every
// operation the poller's registrations (size(), find()) must match the
// model's; after "wait" and at the end, a wait(0) batch must match the
// oracle. Tokens are checked (each registration gets a new one), and `del`
// must scrub the current batch.

#ifndef POLLIO_TESTS_FUZZ_FUZZ_INPUT_H_
#define POLLIO_TESTS_FUZZ_FUZZ_INPUT_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/types/span.h"
#include "poller/poller.h"

namespace pollio {
namespace testing {

// Socketpairs per input: 16 fds, plus the poller's own.
inline constexpr int kFuzzSlots = 8;

// Operations decoded from one input at most; the rest is ignored.
inline constexpr int kMaxFuzzOperations = 1024;

// RunFuzzInput()
//
// Decodes `input` and runs it on `poller` (fresh, nothing registered).
// Returns "" if every check passed, or a report: the backend, the first
// difference from the oracle, and every operation up to it. If `operations`
// is not null, it receives the operations run, one a line, either way.
std::string RunFuzzInput(std::unique_ptr<Poller> poller,
                         absl::Span<const std::uint8_t> input,
                         std::string* operations = nullptr);

}  // namespace testing
}  // namespace pollio

#endif  // POLLIO_TESTS_FUZZ_FUZZ_INPUT_H_
