// Copyright 2026 The pollio Authors.

#include "tools/send_pending.h"

#include <errno.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <cstddef>
#include <string>

namespace pollio {
namespace tools {

SendResult SendPending(int fd, std::string& pending) {
  while (!pending.empty()) {
    const ssize_t sent =
        ::send(fd, pending.data(), pending.size(), MSG_NOSIGNAL);
    if (sent > 0) {
      pending.erase(0, static_cast<std::size_t>(sent));
      continue;
    }
    if (sent < 0 && errno == EINTR) continue;
    if (sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      return SendResult::kWouldBlock;
    }
    return SendResult::kFailed;
  }
  return SendResult::kAllSent;
}

}  // namespace tools
}  // namespace pollio
