// Copyright 2026 The pollio Authors.
//
// The kqueue emulation of sys/event.h, on epoll. One epoll instance per
// filter, both nested in a master epoll whose fd is the kqueue fd: a
// registration is per (ident, filter), so each can carry its own EV_CLEAR
// (EPOLLET) and EV_ONESHOT / EV_DISPATCH (EPOLLONESHOT) mode, which one epoll
// registration per fd could not. EVFILT_USER events live in a map, with an
// eventfd in the master set kept readable while one is triggered.
//
// fork(): BSD gives a child none of the parent's kqueues, but the epoll fds
// here would be inherited, and a child's kevent() would change the parent's
// registrations. A pthread_atfork child handler closes the child's copies
// and forgets every queue, so that in the child a kqueue fd is as absent as
// on BSD (kevent() fails with EBADF, and the number is free for reuse). A
// kqueue number its owner closed, and something else may have reused since,
// is left open.

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/event.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

namespace {

constexpr uint16_t kModeFlags = EV_CLEAR | EV_ONESHOT | EV_DISPATCH;

struct Knote {
  uint16_t mode = 0;  // EV_CLEAR, EV_ONESHOT, EV_DISPATCH as registered
  void* udata = nullptr;
  bool enabled = true;
  // Whether the fd is in the filter's epoll set. A knote disabled with
  // EV_DISABLE is taken out: epoll reports EPOLLHUP and EPOLLERR whatever
  // the mask, so left in, it would keep the kqueue fd readable with nothing
  // to harvest, and kevent() would spin until its timeout. (One that
  // EV_DISPATCH disabled stays in: EPOLLONESHOT has disarmed it entirely.)
  bool in_epoll = false;
};

struct UserEvent {
  uint16_t mode = 0;
  void* udata = nullptr;
  bool enabled = true;
  bool triggered = false;
};

struct Queue {
  int master = -1;  // the kqueue fd; closed by its owner with close()
  int read_epoll = -1;
  int write_epoll = -1;
  int user_fd = -1;
  std::mutex mutex;
  std::map<uintptr_t, Knote> reads;
  std::map<uintptr_t, Knote> writes;
  std::map<uintptr_t, UserEvent> users;
  std::vector<epoll_event> buffer;

  ~Queue() {
    for (int fd : {read_epoll, write_epoll, user_fd}) {
      if (fd >= 0) ::close(fd);
    }
  }
};

std::mutex registry_mutex;
std::map<int, std::shared_ptr<Queue>>& Registry() {
  static auto* registry = new std::map<int, std::shared_ptr<Queue>>();
  return *registry;
}

std::shared_ptr<Queue> Lookup(int kq) {
  std::lock_guard<std::mutex> lock(registry_mutex);
  const auto it = Registry().find(kq);
  return it == Registry().end() ? nullptr : it->second;
}

uint32_t EpollEvents(int16_t filter, const Knote& knote) {
  if (!knote.enabled) return 0;  // stays registered, reports nothing
  uint32_t events =
      filter == EVFILT_READ ? (EPOLLIN | EPOLLRDHUP) : uint32_t{EPOLLOUT};
  if (knote.mode & EV_CLEAR) events |= EPOLLET;
  if (knote.mode & (EV_ONESHOT | EV_DISPATCH)) events |= EPOLLONESHOT;
  return events;
}

void SignalUserFd(const Queue& queue) {
  const uint64_t one = 1;
  (void)!::write(queue.user_fd, &one, sizeof(one));
}

// Applies one change to an fd filter; returns 0 or an errno.
int ApplyFdChange(Queue& queue, const struct kevent& change) {
  const bool read = change.filter == EVFILT_READ;
  std::map<uintptr_t, Knote>& knotes = read ? queue.reads : queue.writes;
  const int epoll_fd = read ? queue.read_epoll : queue.write_epoll;
  const int fd = static_cast<int>(change.ident);
  const auto it = knotes.find(change.ident);
  const bool in_epoll = it != knotes.end() && it->second.in_epoll;
  if (change.flags & EV_DELETE) {
    if (it == knotes.end()) return ENOENT;
    if (in_epoll) ::epoll_ctl(epoll_fd, EPOLL_CTL_DEL, fd, nullptr);
    knotes.erase(it);
    return 0;
  }
  Knote knote;
  if (change.flags & EV_ADD) {
    if (::fcntl(fd, F_GETFD) < 0) return EBADF;
    knote.mode = change.flags & kModeFlags;
    knote.udata = change.udata;
    knote.enabled = (change.flags & EV_DISABLE) == 0;
  } else if (change.flags & (EV_ENABLE | EV_DISABLE)) {
    if (it == knotes.end()) return ENOENT;
    knote = it->second;
    knote.enabled = (change.flags & EV_ENABLE) != 0;
  } else {
    return EINVAL;
  }
  if (knote.enabled) {
    epoll_event event{};
    event.events = EpollEvents(change.filter, knote);
    event.data.u64 = change.ident;
    const int op = in_epoll ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
    if (::epoll_ctl(epoll_fd, op, fd, &event) != 0) return errno;
    knote.in_epoll = true;
  } else {
    if (in_epoll) ::epoll_ctl(epoll_fd, EPOLL_CTL_DEL, fd, nullptr);
    knote.in_epoll = false;
  }
  knotes[change.ident] = knote;
  return 0;
}

int ApplyUserChange(Queue& queue, const struct kevent& change) {
  auto it = queue.users.find(change.ident);
  if (change.flags & EV_DELETE) {
    if (it == queue.users.end()) return ENOENT;
    queue.users.erase(it);
    return 0;
  }
  if (change.flags & EV_ADD) {
    UserEvent& user = queue.users[change.ident];
    user.mode = change.flags & kModeFlags;
    user.udata = change.udata;
    user.enabled = (change.flags & EV_DISABLE) == 0;
    it = queue.users.find(change.ident);
  } else if (it == queue.users.end()) {
    return ENOENT;
  }
  UserEvent& user = it->second;
  if (change.flags & EV_ENABLE) user.enabled = true;
  if (change.flags & EV_DISABLE) user.enabled = false;
  if (change.fflags & NOTE_TRIGGER) user.triggered = true;
  if (user.triggered && user.enabled) SignalUserFd(queue);
  return 0;
}

// Collects ready events into `out`; caller holds the queue's mutex.
int Harvest(Queue& queue, struct kevent* out, int capacity) {
  int count = 0;
  if (static_cast<int>(queue.buffer.size()) < capacity) {
    queue.buffer.resize(static_cast<std::size_t>(capacity));
  }
  for (const int16_t filter : {int16_t{EVFILT_READ}, int16_t{EVFILT_WRITE}}) {
    if (count == capacity) break;
    const bool read = filter == EVFILT_READ;
    std::map<uintptr_t, Knote>& knotes = read ? queue.reads : queue.writes;
    const int epoll_fd = read ? queue.read_epoll : queue.write_epoll;
    // One epoll_wait per filter: a second would return level-triggered
    // items again.
    const int ready =
        ::epoll_wait(epoll_fd, queue.buffer.data(), capacity - count, 0);
    for (int i = 0; i < ready; ++i) {
      const uintptr_t ident = queue.buffer[i].data.u64;
      const uint32_t events = queue.buffer[i].events;
      const auto it = knotes.find(ident);
      if (it == knotes.end() || !it->second.enabled) continue;
      Knote& knote = it->second;
      struct kevent& ev = out[count++];
      ev = {};
      ev.ident = ident;
      ev.filter = filter;
      ev.flags = knote.mode;
      ev.udata = knote.udata;
      const int fd = static_cast<int>(ident);
      if (read) {
        int available = 0;
        ::ioctl(fd, FIONREAD, &available);
        ev.data = available;
      }
      // BSD's read filter sets EV_EOF once the peer will send no more
      // (EPOLLRDHUP; EPOLLHUP for a pipe, which has no EPOLLRDHUP), its
      // write filter once nothing more can be sent (EPOLLHUP).
      uint32_t hangup = EPOLLHUP;
      if (read) hangup |= EPOLLRDHUP;
      if (events & hangup) ev.flags |= EV_EOF;
      if (events & EPOLLERR) {
        // BSD reports so_error in fflags and leaves it pending, but Linux
        // has no way to read SO_ERROR without clearing it, which would take
        // it from the caller (and from the other filter and later waits).
        // So fflags carries EIO: nonzero, as the backend needs.
        ev.flags |= EV_EOF;
        ev.fflags = EIO;
      }
      if (knote.mode & EV_ONESHOT) {
        ::epoll_ctl(epoll_fd, EPOLL_CTL_DEL, fd, nullptr);
        knotes.erase(it);
      } else if (knote.mode & EV_DISPATCH) {
        knote.enabled = false;  // EPOLLONESHOT has disarmed it already
      }
    }
  }
  uint64_t drained;
  (void)!::read(queue.user_fd, &drained, sizeof(drained));
  bool still_triggered = false;
  for (auto it = queue.users.begin(); it != queue.users.end();) {
    UserEvent& user = it->second;
    if (user.triggered && user.enabled && count < capacity) {
      struct kevent& ev = out[count++];
      ev = {};
      ev.ident = it->first;
      ev.filter = EVFILT_USER;
      ev.flags = user.mode;
      ev.udata = user.udata;
      if (user.mode & EV_CLEAR) user.triggered = false;
      if (user.mode & EV_ONESHOT) {
        it = queue.users.erase(it);
        continue;
      }
      if (user.mode & EV_DISPATCH) user.enabled = false;
    }
    still_triggered = still_triggered || (user.triggered && user.enabled);
    ++it;
  }
  if (still_triggered) SignalUserFd(queue);
  return count;
}

// pthread_atfork handlers: no queue may be mid-change at the fork, so the
// child's copies are consistent; the child then drops them all (BSD gives
// a child no kqueue).
void LockAllForFork() {
  registry_mutex.lock();
  for (auto& [kq, queue] : Registry()) queue->mutex.lock();
}

void UnlockAllAfterFork() {
  for (auto& [kq, queue] : Registry()) queue->mutex.unlock();
  registry_mutex.unlock();
}

// Whether fd number `queue.master` is still the queue's master epoll
// instance rather than a number its owner closed (the registry never
// learns of that) and something else reused: only the master lists the
// queue's read_epoll among its targets.
bool StillMaster(const Queue& queue) {
  char path[64];
  std::snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", queue.master);
  const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  char text[4096];
  const ssize_t got = ::read(fd, text, sizeof(text) - 1);
  ::close(fd);
  if (got <= 0) return false;
  text[got] = '\0';
  for (const char* line = std::strstr(text, "tfd:"); line != nullptr;
       line = std::strstr(line + 1, "tfd:")) {
    int target = -1;
    if (std::sscanf(line, "tfd: %d", &target) == 1 &&
        target == queue.read_epoll) {
      return true;
    }
  }
  return false;
}

void DropAllInForkChild() {
  UnlockAllAfterFork();
  for (auto& [kq, queue] : Registry()) {
    if (StillMaster(*queue)) ::close(queue->master);
  }
  Registry().clear();  // ~Queue closes the nested fds, always its own
}

void InstallForkHandlers() {
  static const bool installed = [] {
    ::pthread_atfork(&LockAllForFork, &UnlockAllAfterFork, &DropAllInForkChild);
    return true;
  }();
  (void)installed;
}

}  // namespace

extern "C" int kqueue(void) {
  InstallForkHandlers();
  auto queue = std::make_shared<Queue>();
  queue->master = ::epoll_create1(EPOLL_CLOEXEC);
  queue->read_epoll = ::epoll_create1(EPOLL_CLOEXEC);
  queue->write_epoll = ::epoll_create1(EPOLL_CLOEXEC);
  queue->user_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (queue->master < 0 || queue->read_epoll < 0 || queue->write_epoll < 0 ||
      queue->user_fd < 0) {
    const int error = errno;
    if (queue->master >= 0) ::close(queue->master);
    errno = error;
    return -1;
  }
  for (int fd : {queue->read_epoll, queue->write_epoll, queue->user_fd}) {
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.fd = fd;
    ::epoll_ctl(queue->master, EPOLL_CTL_ADD, fd, &event);
  }
  std::lock_guard<std::mutex> lock(registry_mutex);
  // A stale entry under this number is a kqueue its owner closed.
  Registry()[queue->master] = queue;
  return queue->master;
}

extern "C" int kevent(int kq, const struct kevent* changelist, int nchanges,
                      struct kevent* eventlist, int nevents,
                      const struct timespec* timeout) {
  const std::shared_ptr<Queue> queue = Lookup(kq);
  if (queue == nullptr) {
    errno = EBADF;
    return -1;
  }
  int placed = 0;
  {
    std::lock_guard<std::mutex> lock(queue->mutex);
    for (int i = 0; i < nchanges; ++i) {
      const struct kevent& change = changelist[i];
      int error;
      if (change.filter == EVFILT_READ || change.filter == EVFILT_WRITE) {
        error = ApplyFdChange(*queue, change);
      } else if (change.filter == EVFILT_USER) {
        error = ApplyUserChange(*queue, change);
      } else {
        error = EINVAL;
      }
      if (error == 0 && (change.flags & EV_RECEIPT) == 0) continue;
      if (placed < nevents) {
        eventlist[placed] = change;
        eventlist[placed].flags = EV_ERROR;
        eventlist[placed].data = error;
        ++placed;
      } else if (error != 0) {
        errno = error;
        return -1;
      }
    }
  }
  if (placed > 0 || nevents == 0) return placed;

  using Clock = std::chrono::steady_clock;
  const bool forever = timeout == nullptr;
  const Clock::time_point deadline =
      forever ? Clock::time_point::max()
              : Clock::now() + std::chrono::seconds(timeout->tv_sec) +
                    std::chrono::nanoseconds(timeout->tv_nsec);
  for (;;) {
    {
      std::lock_guard<std::mutex> lock(queue->mutex);
      const int count = Harvest(*queue, eventlist, nevents);
      if (count > 0) return count;
    }
    timespec remaining{};
    if (!forever) {
      const auto left = deadline - Clock::now();
      if (left <= Clock::duration::zero()) return 0;
      const auto ns =
          std::chrono::duration_cast<std::chrono::nanoseconds>(left).count();
      remaining.tv_sec = static_cast<time_t>(ns / 1000000000);
      remaining.tv_nsec = static_cast<long>(ns % 1000000000);
    }
    pollfd entry{queue->master, POLLIN, 0};
    const int ready =
        ::ppoll(&entry, 1, forever ? nullptr : &remaining, nullptr);
    if (ready < 0) return -1;  // EINTR and all: errno is set
    if (ready == 0) return 0;
  }
}
