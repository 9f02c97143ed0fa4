// The README's example is tools/accept_loop_example.cc, which the build
// compiles: this keeps the two from drifting apart.

#include <fstream>
#include <sstream>
#include <string>

#include "gtest/gtest.h"

namespace {

std::string ReadFile(const char* path) {
  std::ifstream file(path);
  EXPECT_TRUE(file) << path << " is not in the test's runfiles";
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

TEST(ReadmeExampleTest, TheReadmeShowsTheCompiledExample) {
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

}  // namespace
