"""Which operating system builds which pollio backend: the one table.

Every BUILD file that depends on the platform (the factory's backend list,
OsPoller's backend, the kqueue target's compatibility) reads this table, and
so does factory/os_poller.h (through a header generated from it). Adding an
OS is one entry in _PLATFORMS; moving one to kqueue is one edit of its list.
NetBSD, for one, is a kqueue system, but Debian's @platforms predates its
`@platforms//os:netbsd` constraint, and a select() key must name an existing
constraint: with a newer @platforms, add `"netbsd": _KQUEUE_OS` below.

The CMake build (/CMakeLists.txt) chooses by CMAKE_SYSTEM_NAME from the same
facts; change both.
"""

# Backends by name, in the order of preference the factory and Backend's
# kAllBackends (poller/poller.h) use; the class and header each name gives.
_CLASS = {
    "epoll": "EpollPoller",
    "kqueue": "KqueuePoller",
    "uring": "UringPoller",
    "poll": "PollPoller",
}

_LINUX = struct(native = "epoll", backends = ["epoll", "uring", "poll"])
_KQUEUE_OS = struct(native = "kqueue", backends = ["kqueue", "poll"])
_ELSEWHERE = struct(native = "poll", backends = ["poll"])

# @platforms//os:<key> -> what that OS builds. Any other OS: _ELSEWHERE.
_PLATFORMS = {
    "linux": _LINUX,
    "freebsd": _KQUEUE_OS,
    "ios": _KQUEUE_OS,
    "macos": _KQUEUE_OS,
    "openbsd": _KQUEUE_OS,
}

def _per_os(values):
    """A select() over _PLATFORMS.

    Args:
      values: each OS of _PLATFORMS, and "default" for _ELSEWHERE, to its
        value.

    Returns:
      The select().
    """
    branches = {"@platforms//os:" + os: values[os] for os in _PLATFORMS}
    branches["//conditions:default"] = values["default"]
    return select(branches)

def _entries():
    """(OS, entry) pairs, the default last."""
    return list(_PLATFORMS.items()) + [("default", _ELSEWHERE)]

def pollio_backend_targets():
    """Every backend library the target OS builds (for the factory)."""
    return _per_os({
        os: ["//backends/" + name for name in entry.backends]
        for os, entry in _entries()
    })

def pollio_backend_defines():
    """POLLIO_HAVE_<BACKEND> for each backend the target OS builds."""
    return _per_os({
        os: ["POLLIO_HAVE_" + name.upper() for name in entry.backends]
        for os, entry in _entries()
    })

def pollio_native_backend_target():
    """The library of the target OS's native backend (OsPoller's)."""
    return _per_os({
        os: ["//backends/" + entry.native]
        for os, entry in _entries()
    })

def pollio_compatible_with(backend):
    """target_compatible_with for a backend: the OSes whose list has it."""
    return _per_os({
        os: [] if backend in entry.backends else ["@platforms//:incompatible"]
        for os, entry in _entries()
    })

def _native_header_command(entry):
    lines = [
        "// Generated from //backends:platforms.bzl: the native backend.",
        "#ifndef POLLIO_FACTORY_NATIVE_BACKEND_H_",
        "#define POLLIO_FACTORY_NATIVE_BACKEND_H_",
        "#include \"backends/%s/%s_poller.h\"" % (entry.native, entry.native),
        "namespace pollio {",
        "using OsPoller = %s;" % _CLASS[entry.native],
        "}  // namespace pollio",
        "#endif  // POLLIO_FACTORY_NATIVE_BACKEND_H_",
    ]
    return "printf '%s\\n' " + " ".join(["'%s'" % line for line in lines]) + " > $@"

def pollio_native_backend_header(name, out):
    """A genrule writing `out`: OsPoller, the target OS's native class."""
    native.genrule(
        name = name,
        outs = [out],
        cmd = _per_os({
            os: _native_header_command(entry)
            for os, entry in _entries()
        }),
    )
