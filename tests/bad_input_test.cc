// Copyright 2026 The pollio Authors.
//
// Every public method against bad input, on every backend. The expected
// status code per backend lives in one table, kCases; the test also renders
// it as Markdown and checks docs/reliability.md carries exactly that text, so
// the documentation cannot drift from what is tested. Every failed call must
// leave size() and the registrations unchanged.
//
// kqueue runs in //tests:bad_input_emulated_kqueue_test, this file built
// against the kqueue backend on the emulation (backends/kqueue/emulation),
// and its column is the emulation's answer. Where a BSD kernel answers
// otherwise, the case also carries that answer, as documented, and the table
// prints both; no BSD machine runs them. The emulation has no vnode or
// device filters: EV_ADD of a regular file, a directory or /dev/null fails
// with EPERM there, as epoll_ctl does, while a BSD kernel accepts regular
// files and directories (kqueue(2): readable while the file offset is before
// the end) and answers for a device as its driver does.

#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <fstream>
#include <functional>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "event/event.h"
#include "factory/factory.h"
#include "gtest/gtest.h"
#include "poller/poller.h"
#include "tests/test_util.h"

namespace pollio {
namespace {

using ::absl::StatusCode;
using ::pollio::testing::MakeSocketPair;
using ::pollio::testing::SocketPair;
using ::pollio::testing::UniqueFd;

// The fds a case may use, opened fresh for each case.
struct Fds {
  SocketPair registered = MakeSocketPair();  // already added, level, R
  SocketPair spare = MakeSocketPair();       // not registered
  int closed = -1;                           // a closed fd number
  UniqueFd regular;
  UniqueFd directory;
  UniqueFd dev_null;
  UniqueFd event;
  UniqueFd timer;

  Fds() {
    char path[] = "/tmp/pollio_bad_input_XXXXXX";
    regular.Reset(::mkstemp(path));
    ::unlink(path);
    directory.Reset(::open("/tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    dev_null.Reset(::open("/dev/null", O_RDWR | O_CLOEXEC));
    event.Reset(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
    timer.Reset(::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC));
    // Last, so no other open takes the freed number.
    UniqueFd doomed(::dup(spare.left.get()));
    closed = doomed.get();
    doomed.Reset();
  }
};

EventObject Client(int fd) { return EventObject::Client(fd); }
EventObject Empty(int fd) {
  return EventObject{fd, EventKind::kClient, Events::kNone};
}

// A wait that must return OK at once: a wake first makes sure it does even
// when the timeout is years or forever.
absl::Status WokenWait(Poller& poller, absl::Duration timeout) {
  if (absl::Status status = poller.wake(); !status.ok()) return status;
  return poller.wait(timeout).status();
}

struct Case {
  const char* call;
  std::function<absl::Status(Poller&, Fds&)> run;
  StatusCode epoll;
  StatusCode poll;
  StatusCode uring;
  StatusCode kqueue;  // as built against the emulation
  // Where a BSD kernel answers otherwise than the emulation can, its answer
  // as documented (not run: no BSD machine runs CI).
  const char* kqueue_bsd = nullptr;
};

const std::vector<Case>& Cases() {
  static const auto* cases = new std::vector<Case>{
      {"add(fd=-1)", [](Poller& p, Fds&) { return p.add(Client(-1)); },
       StatusCode::kInvalidArgument, StatusCode::kInvalidArgument,
       StatusCode::kInvalidArgument, StatusCode::kInvalidArgument},
      {"modify(fd=-1)", [](Poller& p, Fds&) { return p.modify(Client(-1)); },
       StatusCode::kInvalidArgument, StatusCode::kInvalidArgument,
       StatusCode::kInvalidArgument, StatusCode::kInvalidArgument},
      {"del(fd=-1)", [](Poller& p, Fds&) { return p.del(-1); },
       StatusCode::kInvalidArgument, StatusCode::kInvalidArgument,
       StatusCode::kInvalidArgument, StatusCode::kInvalidArgument},
      {"find(fd=-1)", [](Poller& p, Fds&) { return p.find(-1).status(); },
       StatusCode::kInvalidArgument, StatusCode::kInvalidArgument,
       StatusCode::kInvalidArgument, StatusCode::kInvalidArgument},
      {"add(closed fd)",
       [](Poller& p, Fds& f) { return p.add(Client(f.closed)); },
       StatusCode::kFailedPrecondition, StatusCode::kFailedPrecondition,
       StatusCode::kFailedPrecondition, StatusCode::kFailedPrecondition},
      {"modify(closed fd)",
       [](Poller& p, Fds& f) { return p.modify(Client(f.closed)); },
       StatusCode::kNotFound, StatusCode::kNotFound, StatusCode::kNotFound,
       StatusCode::kNotFound},
      {"del(closed fd)", [](Poller& p, Fds& f) { return p.del(f.closed); },
       StatusCode::kNotFound, StatusCode::kNotFound, StatusCode::kNotFound,
       StatusCode::kNotFound},
      {"add(regular file)",
       [](Poller& p, Fds& f) { return p.add(Client(f.regular.get())); },
       StatusCode::kPermissionDenied, StatusCode::kOk, StatusCode::kOk,
       StatusCode::kPermissionDenied, "OK"},
      {"add(directory)",
       [](Poller& p, Fds& f) { return p.add(Client(f.directory.get())); },
       StatusCode::kPermissionDenied, StatusCode::kOk, StatusCode::kOk,
       StatusCode::kPermissionDenied, "OK"},
      {"add(/dev/null)",
       [](Poller& p, Fds& f) { return p.add(Client(f.dev_null.get())); },
       StatusCode::kPermissionDenied, StatusCode::kOk, StatusCode::kOk,
       StatusCode::kPermissionDenied, "per device driver"},
      {"add(eventfd)",
       [](Poller& p, Fds& f) { return p.add(Client(f.event.get())); },
       StatusCode::kOk, StatusCode::kOk, StatusCode::kOk, StatusCode::kOk},
      {"add(timerfd)",
       [](Poller& p, Fds& f) { return p.add(Client(f.timer.get())); },
       StatusCode::kOk, StatusCode::kOk, StatusCode::kOk, StatusCode::kOk},
      {"add(fd registered twice)",
       [](Poller& p, Fds& f) { return p.add(Client(f.registered.left.get())); },
       StatusCode::kAlreadyExists, StatusCode::kAlreadyExists,
       StatusCode::kAlreadyExists, StatusCode::kAlreadyExists},
      {"add(empty interest)",
       [](Poller& p, Fds& f) { return p.add(Empty(f.spare.left.get())); },
       StatusCode::kInvalidArgument, StatusCode::kInvalidArgument,
       StatusCode::kInvalidArgument, StatusCode::kInvalidArgument},
      {"modify(empty interest)",
       [](Poller& p, Fds& f) {
         return p.modify(Empty(f.registered.left.get()));
       },
       StatusCode::kInvalidArgument, StatusCode::kInvalidArgument,
       StatusCode::kInvalidArgument, StatusCode::kInvalidArgument},
      {"add(interest with a result bit, kHangup)",
       [](Poller& p, Fds& f) {
         return p.add(EventObject{f.spare.left.get(), EventKind::kClient,
                                  Events::kReadable | Events::kHangup});
       },
       StatusCode::kInvalidArgument, StatusCode::kInvalidArgument,
       StatusCode::kInvalidArgument, StatusCode::kInvalidArgument},
      {"add(kPriority interest alone)",
       [](Poller& p, Fds& f) {
         return p.add(EventObject{f.spare.left.get(), EventKind::kClient,
                                  Events::kPriority});
       },
       StatusCode::kOk, StatusCode::kOk, StatusCode::kOk,
       StatusCode::kUnimplemented},
      {"add(kPriority interest, exclusive trigger)",
       [](Poller& p, Fds& f) {
         return p.add(EventObject{f.spare.left.get(), EventKind::kClient,
                                  Events::kPriority},
                      Trigger::kExclusive);
       },
       StatusCode::kUnimplemented, StatusCode::kOk, StatusCode::kOk,
       StatusCode::kUnimplemented},
      {"modify(unregistered fd)",
       [](Poller& p, Fds& f) { return p.modify(Client(f.spare.left.get())); },
       StatusCode::kNotFound, StatusCode::kNotFound, StatusCode::kNotFound,
       StatusCode::kNotFound},
      {"del(unregistered fd)",
       [](Poller& p, Fds& f) { return p.del(f.spare.left.get()); },
       StatusCode::kNotFound, StatusCode::kNotFound, StatusCode::kNotFound,
       StatusCode::kNotFound},
      {"add(trigger outside the enum)",
       [](Poller& p, Fds& f) {
         return p.add(Client(f.spare.left.get()), static_cast<Trigger>(9));
       },
       StatusCode::kInvalidArgument, StatusCode::kInvalidArgument,
       StatusCode::kInvalidArgument, StatusCode::kInvalidArgument},
      {"add(edge trigger)",
       [](Poller& p, Fds& f) {
         return p.add(Client(f.spare.left.get()), Trigger::kEdge);
       },
       StatusCode::kOk, StatusCode::kUnimplemented, StatusCode::kOk,
       StatusCode::kOk},
      {"wait(-1 s): polls, returns at once",
       [](Poller& p, Fds&) { return p.wait(absl::Seconds(-1)).status(); },
       StatusCode::kOk, StatusCode::kOk, StatusCode::kOk, StatusCode::kOk},
      {"wait(-5 ms, int): forever, so woken first",
       [](Poller& p, Fds&) {
         if (absl::Status status = p.wake(); !status.ok()) return status;
         return p.wait(-5).status();
       },
       StatusCode::kOk, StatusCode::kOk, StatusCode::kOk, StatusCode::kOk},
      {"wait(100 years), woken",
       [](Poller& p, Fds&) {
         return WokenWait(p, absl::Hours(24 * 365 * 100));
       },
       StatusCode::kOk, StatusCode::kOk, StatusCode::kOk, StatusCode::kOk},
      {"wait(infinite), woken",
       [](Poller& p, Fds&) { return WokenWait(p, absl::InfiniteDuration()); },
       StatusCode::kOk, StatusCode::kOk, StatusCode::kOk, StatusCode::kOk},
  };
  return *cases;
}

StatusCode Expected(const Case& c, Backend backend) {
  switch (backend) {
    case Backend::kEpoll:
      return c.epoll;
    case Backend::kPoll:
      return c.poll;
    case Backend::kUring:
      return c.uring;
    case Backend::kKqueue:
      return c.kqueue;
  }
  return StatusCode::kUnknown;
}

struct OptionsCase {
  int max_events;
};
constexpr OptionsCase kOptionsCases[] = {
    {0}, {-1}, {PollerOptions::kMaxEvents + 1}};

std::string CodeName(StatusCode code) {
  return code == StatusCode::kOk ? "OK" : absl::StatusCodeToString(code);
}

// The table docs/reliability.md carries, rendered from the cases above.
std::string MarkdownTable() {
  std::ostringstream out;
  out << "| call | epoll | poll | uring | kqueue |\n|---|---|---|---|---|\n";
  for (const Case& c : Cases()) {
    out << "| `" << c.call << "` | " << CodeName(c.epoll) << " | "
        << CodeName(c.poll) << " | " << CodeName(c.uring) << " | "
        << CodeName(c.kqueue);
    if (c.kqueue_bsd != nullptr) out << " (BSD: " << c.kqueue_bsd << ")";
    out << " |\n";
  }
  for (const OptionsCase& o : kOptionsCases) {
    out << "| `Create(max_events=" << o.max_events << ")` | INVALID_ARGUMENT"
        << " | INVALID_ARGUMENT | INVALID_ARGUMENT | INVALID_ARGUMENT |\n";
  }
  return out.str();
}

std::vector<std::string> Snapshot(const Poller& poller) {
  std::vector<std::string> out;
  poller.for_each([&](const Registration& r) {
    out.push_back(std::to_string(r.fd) + "/" + KindName(r.kind) + "/" +
                  EventsName(r.interest) + "/" + TriggerName(r.trigger));
  });
  return out;
}

class BadInputTest : public ::testing::TestWithParam<Backend> {};

TEST_P(BadInputTest, EveryCaseGetsItsCodeAndFailuresChangeNothing) {
  if (!NewPoller(GetParam()).ok()) {
    GTEST_SKIP() << BackendName(GetParam()) << " unavailable here";
  }
  for (const Case& c : Cases()) {
    SCOPED_TRACE(c.call);
    absl::StatusOr<std::unique_ptr<Poller>> poller = NewPoller(GetParam());
    ASSERT_TRUE(poller.ok());
    Fds fds;
    ASSERT_TRUE(
        (*poller)->add(EventObject::Client(fds.registered.left.get())).ok());
    const std::size_t size = (*poller)->size();
    const std::vector<std::string> before = Snapshot(**poller);

    const absl::Status status = c.run(**poller, fds);
    EXPECT_EQ(status.code(), Expected(c, GetParam())) << status;
    if (!status.ok()) {
      EXPECT_FALSE(status.message().empty());
      EXPECT_EQ((*poller)->size(), size);
      EXPECT_EQ(Snapshot(**poller), before);
    }
  }
  for (const OptionsCase& o : kOptionsCases) {
    EXPECT_EQ(
        NewPoller(GetParam(), PollerOptions{o.max_events}).status().code(),
        StatusCode::kInvalidArgument)
        << "max_events=" << o.max_events;
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, BadInputTest,
                         ::testing::ValuesIn(::pollio::kAllBackends),
                         ::pollio::testing::BackendTestName());

TEST(BadInputTableTest, ReadmeCarriesTheTestedTable) {
  std::ifstream readme("docs/reliability.md");
  ASSERT_TRUE(readme) << "docs/reliability.md is not in the test's runfiles";
  std::stringstream text;
  text << readme.rdbuf();
  const std::string table = MarkdownTable();
  EXPECT_NE(text.str().find(table), std::string::npos)
      << "docs/reliability.md must contain this table, as tested:\n"
      << table;
}

}  // namespace
}  // namespace pollio
