"""Wires pollio's dependencies from Debian's packages, fully offline.

A WORKSPACE that depends on pollio calls, after declaring `pollio` itself:

    load("@pollio//:repositories.bzl", "pollio_system_dependencies")
    pollio_system_dependencies()

Every repository is declared only if the workspace has not declared one of the
same name already, so a consumer who brings upstream Abseil, GoogleTest,
Benchmark or platforms keeps theirs: pollio's BUILD files use only the
upstream repository names and labels.

The system copies come from these Debian packages (tools/bazel installs them):
libabsl-dev, googletest, libbenchmark-dev, liburing-dev, libevent-dev,
libev-dev, libuv1-dev, libboost-dev (header-only Boost.Asio, for the
benchmark's peers only), bazel-platforms, bazel-rules-java.

Bzlmod builds (Bazel 7 and newer) do not use this file: MODULE.bazel asks the
Bazel Central Registry for the same repositories under the same names.
"""

def _maybe(repo_rule, name, **kwargs):
    if not native.existing_rule(name):
        repo_rule(name = name, **kwargs)

def _generated_repository_impl(ctx):
    ctx.file("WORKSPACE", "workspace(name = \"%s\")\n" % ctx.name)
    for path, content in ctx.attr.files.items():
        ctx.file(path, content)

# A repository made only of generated BUILD and .bzl files: the headers and
# shared libraries it describes are found in the system's default search
# paths (/usr/include, /usr/lib/<triple>), where Debian installs them.
_generated_repository = repository_rule(
    implementation = _generated_repository_impl,
    attrs = {"files": attr.string_dict(mandatory = True)},
    local = True,
)

# Bazel 4.2.3's @bazel_tools loads the C++ rules from @rules_cc; Debian's
# rules_cc is too new for it, so this stand-in re-exports the native rules.
_RULES_CC_DEFS = """\
def _reexport(rule):
    return rule

cc_binary = _reexport(native.cc_binary)
cc_import = _reexport(native.cc_import)
cc_library = _reexport(native.cc_library)
cc_proto_library = _reexport(native.cc_proto_library)
cc_shared_library = getattr(native, "cc_shared_library", None)
cc_test = _reexport(native.cc_test)
cc_toolchain = _reexport(native.cc_toolchain)
cc_toolchain_suite = _reexport(native.cc_toolchain_suite)
fdo_prefetch_hints = _reexport(native.fdo_prefetch_hints)
fdo_profile = _reexport(native.fdo_profile)
objc_import = _reexport(native.objc_import)
objc_library = _reexport(native.objc_library)
"""

_REMOTE_COVERAGE_TOOLS_BUILD = """\
package(default_visibility = ["//visibility:public"])

filegroup(name = "coverage_report_generator")

filegroup(name = "lcov_merger")
"""

def _system_library_build(targets):
    """BUILD text for cc_library targets that link Debian shared libraries.

    Args:
      targets: dict of target name -> list of library names (without -l).
    """
    lines = ['package(default_visibility = ["//visibility:public"])', ""]
    for name in sorted(targets.keys()):
        libs = targets[name]
        lines.append("cc_library(")
        lines.append('    name = "%s",' % name)
        lines.append("    linkopts = [%s]," % ", ".join(
            ['"-l%s"' % lib for lib in libs],
        ))
        lines.append(")")
        lines.append("")
    return "\n".join(lines)

# Debian's libabsl-dev ships one shared library per component; each shared
# library records its own dependencies, so a target names only its own.
_ABSEIL_PACKAGES = {
    "absl/algorithm": {"algorithm": [], "container": []},
    "absl/base": {
        "base": ["absl_base", "absl_raw_logging_internal"],
        "config": [],
        "core_headers": [],
        "log_severity": ["absl_log_severity"],
    },
    "absl/cleanup": {"cleanup": []},
    "absl/container": {
        "fixed_array": [],
        "flat_hash_map": ["absl_raw_hash_set", "absl_hash"],
        "flat_hash_set": ["absl_raw_hash_set", "absl_hash"],
        "inlined_vector": [],
    },
    "absl/debugging": {
        "failure_signal_handler": ["absl_failure_signal_handler"],
        "symbolize": ["absl_symbolize"],
    },
    "absl/flags": {
        "flag": [
            "absl_flags_internal",
            "absl_flags_marshalling",
            "absl_flags_reflection",
            "absl_flags_config",
            "absl_flags_commandlineflag",
            "absl_flags_private_handle_accessor",
            "absl_flags_program_name",
        ],
        "parse": [
            "absl_flags_parse",
            "absl_flags_usage",
            "absl_flags_usage_internal",
        ],
        "usage": ["absl_flags_usage"],
    },
    "absl/functional": {
        "any_invocable": [],
        "bind_front": [],
        "function_ref": [],
    },
    "absl/hash": {"hash": ["absl_hash"]},
    "absl/memory": {"memory": []},
    "absl/random": {
        "random": [
            "absl_random_distributions",
            "absl_random_internal_pool_urbg",
            "absl_random_internal_randen",
            "absl_random_seed_sequences",
        ],
    },
    "absl/status": {
        "status": ["absl_status"],
        "statusor": ["absl_statusor", "absl_status"],
    },
    "absl/strings": {
        "cord": ["absl_cord"],
        "str_format": ["absl_str_format_internal"],
        "strings": ["absl_strings", "absl_strings_internal"],
    },
    "absl/synchronization": {"synchronization": ["absl_synchronization"]},
    "absl/time": {"time": ["absl_time", "absl_time_zone", "absl_civil_time"]},
    "absl/types": {
        "optional": ["absl_bad_optional_access"],
        "span": [],
        "variant": ["absl_bad_variant_access"],
    },
    "absl/utility": {"utility": []},
}

def _abseil_files():
    files = {"BUILD": ""}
    for package, targets in _ABSEIL_PACKAGES.items():
        files[package + "/BUILD"] = _system_library_build(targets)
    return files

def pollio_system_dependencies():
    """Declares every repository pollio's build needs, from system packages."""

    # Bazel's own offline needs.
    _maybe(
        _generated_repository,
        name = "rules_cc",
        files = {"BUILD": "", "cc/BUILD": "", "cc/defs.bzl": _RULES_CC_DEFS},
    )
    _maybe(
        native.local_repository,
        name = "rules_java",
        path = "/usr/share/bazel/rules/java",
    )
    _maybe(
        native.local_repository,
        name = "platforms",
        path = "/usr/share/bazel/tools/platforms",
    )
    _maybe(
        _generated_repository,
        name = "remote_coverage_tools",
        files = {"BUILD": _REMOTE_COVERAGE_TOOLS_BUILD},
    )

    # Libraries, under their upstream repository names.
    _maybe(
        _generated_repository,
        name = "com_google_absl",
        files = _abseil_files(),
    )
    _maybe(
        native.new_local_repository,
        name = "com_google_googletest",
        path = "/usr/src/googletest",
        build_file = "@pollio//third_party:googletest.BUILD",
    )
    _maybe(
        _generated_repository,
        name = "com_github_google_benchmark",
        files = {"BUILD": _system_library_build({
            "benchmark": ["benchmark", "pthread"],
            "benchmark_main": ["benchmark_main", "benchmark", "pthread"],
        })},
    )
    _maybe(
        _generated_repository,
        name = "liburing",
        files = {"BUILD": _system_library_build({"liburing": ["uring"]})},
    )
    _maybe(
        _generated_repository,
        name = "libevent",
        files = {"BUILD": _system_library_build({
            "event_core": ["event_core"],
            "event_pthreads": ["event_pthreads", "event_core"],
        })},
    )
    _maybe(
        _generated_repository,
        name = "libev",
        files = {"BUILD": _system_library_build({"libev": ["ev"]})},
    )
    _maybe(
        _generated_repository,
        name = "libuv",
        files = {"BUILD": _system_library_build({"libuv": ["uv"]})},
    )

    # Boost.Asio is header-only (Boost.System, its one dependency, has been
    # header-only since 1.69; Debian 12 has 1.74), so the target only adds
    # the threads library its scheduler's mutex needs. rules_boost names it
    # @boost//:asio, the name kept here.
    _maybe(
        _generated_repository,
        name = "boost",
        files = {"BUILD": _system_library_build({"asio": ["pthread"]})},
    )
