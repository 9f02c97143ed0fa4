// Copyright 2026 The pollio Authors.
//
// A consumer's accept loop: a listener on 127.0.0.1, one client, one echo,
// over the OS poller and over every backend the factory offers.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <memory>
#include <string>

#include "event/event.h"
#include "gtest/gtest.h"
#include "poller/factory.h"
#include "poller/os_poller.h"
#include "poller/poller.h"

namespace {

int Listen(int* port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
      listen(fd, 16) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    return -1;
  }
  *port = ntohs(address.sin_port);
  return fd;
}

// Accepts one client and echoes what it sends, through `poller`.
void EchoOnce(pollio::Poller& poller) {
  int port = 0;
  const int listener = Listen(&port);
  ASSERT_GE(listener, 0);
  ASSERT_TRUE(poller.add(pollio::EventObject::Server(listener)).ok());

  const int client = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<uint16_t>(port));
  ASSERT_EQ(
      connect(client, reinterpret_cast<sockaddr*>(&address), sizeof(address)),
      0);
  ASSERT_EQ(write(client, "ping", 4), 4);

  bool echoed = false;
  for (int round = 0; round < 100 && !echoed; ++round) {
    auto events = poller.wait(100);
    ASSERT_TRUE(events.ok()) << events.status();
    for (const pollio::EventObject& ev : *events) {
      if (ev.fd < 0) continue;
      if (ev.kind == pollio::EventKind::kServer) {
        const int conn = accept4(listener, nullptr, nullptr, SOCK_NONBLOCK);
        if (conn >= 0) {
          ASSERT_TRUE(poller.add(pollio::EventObject::Client(conn)).ok());
        }
      } else {
        char buffer[16];
        const ssize_t got = read(ev.fd, buffer, sizeof(buffer));
        if (got > 0) {
          ASSERT_EQ(write(ev.fd, buffer, static_cast<size_t>(got)), got);
          echoed = true;
        }
        ASSERT_TRUE(poller.del(ev.fd).ok());
        close(ev.fd);
      }
    }
  }
  ASSERT_TRUE(echoed);
  char reply[4] = {};
  ASSERT_EQ(read(client, reply, sizeof(reply)), 4);
  EXPECT_EQ(std::string(reply, 4), "ping");
  close(client);
  ASSERT_TRUE(poller.del(listener).ok());
  close(listener);
}

TEST(ConsumerTest, AcceptLoopOnTheOsPoller) {
  auto poller = pollio::OsPoller::Create();
  ASSERT_TRUE(poller.ok()) << poller.status();
  EchoOnce(**poller);
}

TEST(ConsumerTest, AcceptLoopOnEveryAvailableBackend) {
  for (pollio::Backend backend : pollio::AvailableBackends()) {
    SCOPED_TRACE(std::string(pollio::BackendName(backend)));
    auto poller = pollio::NewPoller(backend);
    ASSERT_TRUE(poller.ok()) << poller.status();
    EchoOnce(**poller);
  }
}

}  // namespace
