// Copyright 2026 The pollio Authors.
//
// The fuzzer's seed corpus (tests/fuzz/corpus/) as a regression test in the
// ordinary build: every file, decoded as the fuzzer decodes it
// (tests/fuzz/fuzz_input.h), must match the oracle on every backend, kqueue
// over the emulation. An input the fuzzer found, once fixed, goes into the
// corpus and so into this test.

#include <dirent.h>

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "factory/factory.h"
#include "gtest/gtest.h"
#include "poller/poller.h"
#include "tests/fuzz/fuzz_input.h"
#include "tests/test_util.h"

namespace pollio {
namespace {

constexpr char kCorpus[] = "tests/fuzz/corpus";

std::vector<std::string> CorpusFiles() {
  std::vector<std::string> files;
  DIR* dir = ::opendir(kCorpus);
  if (dir == nullptr) return files;
  while (const dirent* entry = ::readdir(dir)) {
    const std::string name = entry->d_name;
    if (name != "." && name != "..") files.push_back(name);
  }
  ::closedir(dir);
  std::sort(files.begin(), files.end());
  return files;
}

std::vector<std::uint8_t> ReadFile(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  return std::vector<std::uint8_t>(std::istreambuf_iterator<char>(file),
                                   std::istreambuf_iterator<char>());
}

class CorpusTest : public ::testing::TestWithParam<Backend> {};

TEST_P(CorpusTest, EverySeedMatchesTheOracle) {
  if (!NewPoller(GetParam()).ok()) {
    GTEST_SKIP() << BackendName(GetParam()) << " unavailable here";
  }
  const std::vector<std::string> files = CorpusFiles();
  ASSERT_GE(files.size(), 5u) << kCorpus << " is not in the runfiles";
  for (const std::string& name : files) {
    const std::vector<std::uint8_t> input =
        ReadFile(std::string(kCorpus) + "/" + name);
    absl::StatusOr<std::unique_ptr<Poller>> poller = NewPoller(GetParam());
    ASSERT_TRUE(poller.ok()) << poller.status();
    EXPECT_EQ(::pollio::testing::RunFuzzInput(*std::move(poller),
                                              absl::MakeConstSpan(input)),
              "")
        << name;
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, CorpusTest,
                         ::testing::ValuesIn(::pollio::kAllBackends),
                         ::pollio::testing::BackendTestName());

}  // namespace
}  // namespace pollio
