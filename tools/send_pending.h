// Copyright 2026 The pollio Authors.
//
// SendPending(): the write half every server in tools/ shares: send what a
// connection has buffered on its non-blocking socket until it is all gone,
// the socket is full, or the connection failed.

#ifndef POLLIO_TOOLS_SEND_PENDING_H_
#define POLLIO_TOOLS_SEND_PENDING_H_

#include <string>

namespace pollio {
namespace tools {

enum class SendResult {
  kAllSent,     // `pending` is empty
  kWouldBlock,  // the socket is full: wait for kWritable, then call again
  kFailed,      // the peer is gone or the socket failed: close it
};

// Sends `pending` on `fd` (with MSG_NOSIGNAL, retrying EINTR) and erases
// what went from its front.
SendResult SendPending(int fd, std::string& pending);

}  // namespace tools
}  // namespace pollio

#endif  // POLLIO_TOOLS_SEND_PENDING_H_
