// Copyright 2026 The pollio Authors.
//
// A consumer's accept loop over the installed pollio: a listener on
// 127.0.0.1 (port 0), one connection to itself, accepted through
// NewOsPoller and, over every available backend, through NewPoller. Exits 0
// when every accept happened, 1 otherwise.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <string>

#include "event/event.h"
#include "factory/factory.h"
#include "factory/os_poller.h"
#include "poller/poller.h"

namespace {

// One listener, one client, one accept through `poller`; true on success.
bool AcceptOnce(pollio::Poller& poller, const std::string& name) {
  const int listener = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  if (listener < 0 ||
      bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof(address)) ||
      listen(listener, 16) ||
      getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length)) {
    std::perror("listen");
    return false;
  }
  if (!poller.add(pollio::EventObject::Server(listener)).ok()) {
    std::fprintf(stderr, "%s: add failed\n", name.c_str());
    return false;
  }
  const int client = socket(AF_INET, SOCK_STREAM, 0);
  if (client < 0 ||
      connect(client, reinterpret_cast<sockaddr*>(&address), sizeof(address))) {
    std::perror("connect");
    return false;
  }
  bool accepted = false;
  for (int round = 0; round < 50 && !accepted; ++round) {
    auto events = poller.wait(100);
    if (!events.ok()) {
      std::fprintf(stderr, "%s: wait: %s\n", name.c_str(),
                   std::string(events.status().message()).c_str());
      return false;
    }
    for (const pollio::EventObject& ev : *events) {
      if (ev.fd == listener && ev.kind == pollio::EventKind::kServer) {
        const int conn = accept4(listener, nullptr, nullptr, SOCK_NONBLOCK);
        if (conn >= 0) {
          accepted = true;
          close(conn);
        }
      }
    }
  }
  close(client);
  if (!poller.del(listener).ok()) accepted = false;
  close(listener);
  std::printf("%s: %s\n", name.c_str(), accepted ? "accepted" : "FAILED");
  return accepted;
}

}  // namespace

int main() {
  auto os_poller = pollio::NewOsPoller();
  if (!os_poller.ok()) return 1;
  bool ok = AcceptOnce(**os_poller, "NewOsPoller");

  auto native = pollio::OsPoller::Create();
  ok = native.ok() && AcceptOnce(**native, "OsPoller") && ok;

  for (pollio::Backend backend : pollio::AvailableBackends()) {
    auto poller = pollio::NewPoller(backend);
    const std::string name(pollio::BackendName(backend));
    ok = poller.ok() && AcceptOnce(**poller, name) && ok;
  }
  return ok ? 0 : 1;
}
