"""pollio_backend(): one backend's library, header export and unit test.

Every backend folder holds <name>_poller.h / <name>_poller.cc (a `final`
class over backends/internal's PollerBase) and may hold <name>_poller_test.cc;
this macro declares them the same way for each, on the OSes
//backends:platforms.bzl gives the backend.
"""

load("@rules_cc//cc:defs.bzl", "cc_library", "cc_test")
load("//backends:platforms.bzl", "pollio_compatible_with")

# What every backend's implementation uses.
_SHARED_DEPS = [
    "//backends/internal:errors",
    "//backends/internal:poller_base",
    "//backends/internal:registration_table",
    "//backends/internal:timeout",
    "//backends/internal:wake_fd",
    "//event",
    "//poller",
    "@com_google_absl//absl/functional:function_ref",
    "@com_google_absl//absl/status",
    "@com_google_absl//absl/status:statusor",
    "@com_google_absl//absl/time",
    "@com_google_absl//absl/types:span",
]

def pollio_shared_backend_deps():
    """The dependencies every backend library has, for a variant's own."""
    return list(_SHARED_DEPS)

def pollio_backend(name, deps = [], test_size = None, test_deps = []):
    """Declares backend `name` in its folder backends/<name>/.

    Args:
      name: the backend's name, "epoll" for EpollPoller: the library's name
        and the prefix of its files.
      deps: what the backend needs beyond what every backend does.
      test_size: the size of <name>_poller_test; None when it has none.
      test_deps: what that test needs beyond the backend, //tests:test_util
        and GoogleTest.
    """

    # Read by //tests:examples_test, which checks its examples are compiled.
    native.exports_files(
        [name + "_poller.h"],
        visibility = ["//tests:__pkg__"],
    )

    cc_library(
        name = name,
        srcs = [name + "_poller.cc"],
        hdrs = [name + "_poller.h"],
        target_compatible_with = pollio_compatible_with(name),
        visibility = ["//visibility:public"],
        deps = _SHARED_DEPS + deps,
    )

    if test_size:
        cc_test(
            name = name + "_poller_test",
            size = test_size,
            srcs = [name + "_poller_test.cc"],
            target_compatible_with = pollio_compatible_with(name),
            deps = [
                ":" + name,
                "//event",
                "//poller",
                "//tests:test_util",
                "@com_google_absl//absl/status",
                "@com_google_absl//absl/status:statusor",
                "@com_google_googletest//:gtest_main",
            ] + test_deps,
        )
