// Copyright 2026 The pollio Authors.
//
// The conformance suite's one instantiation: every test of
// tests/conformance_*_test.cc (fixture: tests/conformance.h) on each Backend.

#include "tests/conformance.h"

#include "gtest/gtest.h"
#include "poller/poller.h"
#include "tests/test_util.h"

namespace pollio {
namespace testing {
namespace {

INSTANTIATE_TEST_SUITE_P(Backends, ConformanceTest,
                         ::testing::ValuesIn(::pollio::kAllBackends),
                         BackendTestName());

}  // namespace
}  // namespace testing
}  // namespace pollio
