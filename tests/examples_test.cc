// Copyright 2026 The pollio Authors.
//
// Every code example a user reads is one the build compiles, so none can
// drift: the README's is tools/accept_loop_example.cc; each public header's
// "Example:" block is a marked region of tests/header_examples.cc, and a
// header gaining an example without one there fails here.

#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "gtest/gtest.h"
#include "tests/header_examples.h"

namespace pollio {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream file(path);
  EXPECT_TRUE(file) << path << " is not in the test's runfiles";
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream stream(text);
  for (std::string line; std::getline(stream, line);) lines.push_back(line);
  return lines;
}

bool StartsWith(const std::string& text, const std::string& prefix) {
  return text.compare(0, prefix.size(), prefix) == 0;
}

// The code of each "// Example..." block of a header, in order: the
// comment lines after it indented by three spaces, less "//   ".
std::vector<std::string> ExamplesInHeader(const std::string& header) {
  std::vector<std::string> examples;
  const std::vector<std::string> lines = Lines(header);
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (!StartsWith(lines[i], "// Example")) continue;
    std::string code;
    std::size_t j = i + 1;
    if (j < lines.size() && lines[j] == "//") ++j;
    for (; j < lines.size() && StartsWith(lines[j], "//   "); ++j) {
      code += lines[j].substr(5) + "\n";
    }
    examples.push_back(code);
    i = j;
  }
  return examples;
}

// The compiled regions of tests/header_examples.cc for `header`, in order,
// less the two spaces of a function body's indentation.
std::vector<std::string> CompiledExamples(const std::string& source,
                                          const std::string& header) {
  std::vector<std::string> examples;
  const std::vector<std::string> lines = Lines(source);
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (lines[i] != "  // BEGIN EXAMPLE " + header) continue;
    std::string code;
    std::size_t j = i + 1;
    for (; j < lines.size() && lines[j] != "  // END EXAMPLE"; ++j) {
      code +=
          (StartsWith(lines[j], "  ") ? lines[j].substr(2) : lines[j]) + "\n";
    }
    examples.push_back(code);
    i = j;
  }
  return examples;
}

TEST(ExamplesTest, TheReadmeShowsTheCompiledExample) {
  const std::string source = ReadFile("tools/accept_loop_example.cc");
  const std::string readme = ReadFile("README.md");
  // The file's leading comment is not part of the example.
  const std::size_t start = source.find("#include");
  ASSERT_NE(start, std::string::npos);
  const std::string example = "```cpp\n" + source.substr(start) + "```\n";
  EXPECT_NE(readme.find(example), std::string::npos)
      << "README.md must show tools/accept_loop_example.cc as:\n"
      << example;
}

class HeaderExamplesTest : public ::testing::TestWithParam<const char*> {};

TEST_P(HeaderExamplesTest, EveryExampleIsCompiled) {
  const std::string header = GetParam();
  const std::vector<std::string> shown = ExamplesInHeader(ReadFile(header));
  const std::vector<std::string> compiled =
      CompiledExamples(ReadFile("tests/header_examples.cc"), header);
  ASSERT_EQ(shown.size(), compiled.size())
      << header << " shows " << shown.size()
      << " examples; tests/header_examples.cc compiles " << compiled.size()
      << " marked \"BEGIN EXAMPLE " << header << "\"";
  for (std::size_t i = 0; i < shown.size(); ++i) {
    EXPECT_EQ(shown[i], compiled[i]) << header << ", example " << i + 1;
  }
}

// Every public header, whether or not it has an example today.
INSTANTIATE_TEST_SUITE_P(PublicHeaders, HeaderExamplesTest,
                         ::testing::Values("event/event.h", "poller/poller.h",
                                           "factory/factory.h",
                                           "factory/os_poller.h",
                                           "backends/epoll/epoll_poller.h",
                                           "backends/kqueue/kqueue_poller.h",
                                           "backends/poll/poll_poller.h",
                                           "backends/uring/uring_poller.h"));

TEST(HeaderExamplesTest, TheEventExamplePrintsWhatItsCommentSays) {
  std::stringstream printed;
  std::streambuf* const cout = std::cout.rdbuf(printed.rdbuf());
  examples::EventHeaderExample(/*listen_fd=*/7, /*conn_fd=*/8);
  std::cout.rdbuf(cout);
  EXPECT_EQ(printed.str(), "{fd=8 kind=client events=R|W}");
}

TEST(HeaderExamplesTest, TheFactoryAndOsPollerExamplesCreatePollers) {
  EXPECT_TRUE(examples::FactoryHeaderExample("poll").ok());
  EXPECT_FALSE(examples::FactoryHeaderExample("no such backend").ok());
  EXPECT_TRUE(examples::OsPollerHeaderExample().ok());
}

TEST(HeaderExamplesTest, TheAcceptLoopStopsOnItsFirstError) {
  // A negative fd: the loop's add fails, and the example returns the error.
  const absl::Status status = examples::PollerHeaderExample(-1);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
}

}  // namespace
}  // namespace pollio
