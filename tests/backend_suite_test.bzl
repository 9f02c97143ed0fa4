"""A test suite run over every backend, in the two builds that have them."""

load("@rules_cc//cc:defs.bzl", "cc_test")

# What every suite links besides the factory.
_SUITE_DEPS = [
    ":backend_test",
    ":test_util",
    "//event",
    "//poller",
    "@com_google_absl//absl/status",
    "@com_google_absl//absl/status:statusor",
    "@com_google_absl//absl/time",
    "@com_google_googletest//:gtest_main",
]

def backend_suite_test(name, srcs, deps = [], size = "medium", data = []):
    """Two cc_tests of the same sources, parameterised over every Backend.

    `<name>_test` links //factory (the backends this platform has);
    `<name>_emulated_kqueue_test` links //factory:factory_emulated_kqueue, the
    kqueue backend built against the Linux emulation, so that kqueue runs in
    CI instead of skipping.

    Args:
      name: the suite's name, without the _test suffix.
      srcs: the test sources.
      deps: what the suite needs beyond _SUITE_DEPS and the factory.
      size: the tests' size.
      data: runfiles both tests read.
    """
    cc_test(
        name = name + "_test",
        size = size,
        srcs = srcs,
        data = data,
        deps = _SUITE_DEPS + deps + ["//factory"],
    )
    cc_test(
        name = name + "_emulated_kqueue_test",
        size = size,
        srcs = srcs,
        data = data,
        target_compatible_with = ["@platforms//os:linux"],
        deps = _SUITE_DEPS + deps + ["//factory:factory_emulated_kqueue"],
    )
