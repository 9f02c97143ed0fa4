// Copyright 2026 The pollio Authors.
//
// The README's accept loop, compiled by `tools/bazel build //...` so the
// example cannot rot. Serves one "hello\n" per connection on 127.0.0.1:8080.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>

#include "factory/factory.h"

int main() {
  int listener = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  sockaddr_in address{AF_INET, htons(8080), {htonl(INADDR_LOOPBACK)}, {}};
  if (bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address) ||
      listen(listener, SOMAXCONN)) {
    return 1;
  }
  auto poller = pollio::NewOsPoller();  // epoll on Linux
  if (!poller.ok() ||
      !(*poller)->add(pollio::EventObject::Server(listener)).ok()) {
    return 1;
  }
  std::uint64_t accepted = 0;
  for (;;) {
    auto events = (*poller)->wait();  // a span into the poller's own buffer
    if (!events.ok()) return 1;
    for (const pollio::EventObject& ev : *events) {
      if (ev.fd < 0) continue;  // scrubbed: del()'d earlier in this batch
      if (ev.kind == pollio::EventKind::kServer) {
        int client;
        while ((client = accept4(listener, nullptr, nullptr, SOCK_NONBLOCK)) >=
               0) {
          // The token rides with every event of this client: here its
          // number, in a runtime a pointer to its connection.
          if (!(*poller)
                   ->add(pollio::EventObject::Client(client, ++accepted))
                   .ok()) {
            close(client);
          }
        }
      } else {  // a client: answer, then del before close
        char buffer[512];
        if (read(ev.fd, buffer, sizeof buffer) >= 0) {
          char hello[32];
          const int length =
              std::snprintf(hello, sizeof hello, "hello #%llu\n",
                            static_cast<unsigned long long>(ev.token));
          (void)!write(ev.fd, hello, static_cast<std::size_t>(length));
        }
        (void)(*poller)->del(ev.fd);
        close(ev.fd);
      }
    }
  }
}
