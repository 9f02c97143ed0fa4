// Copyright 2026 The pollio Authors.

#include "backends/internal/errors.h"

#include <cstring>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "poller/poller.h"

namespace pollio {
namespace internal {
namespace {

absl::string_view View(std::string_view text) {
  return absl::string_view(text.data(), text.size());
}

std::string Describe(std::string_view call, std::string_view op, int fd) {
  std::string out(call);
  out += '(';
  out += std::string(op);
  if (fd != kNoFd) {
    if (!op.empty()) out += ", ";
    absl::StrAppend(&out, "fd=", fd);
  }
  out += ')';
  return out;
}

}  // namespace

absl::Status ErrnoError(int error_number, std::string_view call,
                        std::string_view op, int fd,
                        std::string_view consequence) {
  std::string message =
      absl::StrCat(Describe(call, op, fd), ": ", std::strerror(error_number));
  if (!consequence.empty()) absl::StrAppend(&message, "; ", View(consequence));
  absl::Status status(absl::ErrnoToStatusCode(error_number), message);
  status.SetPayload(View(kErrnoPayloadUrl),
                    absl::Cord(absl::StrCat(error_number)));
  return status;
}

absl::Status CallError(absl::StatusCode code, std::string_view method, int fd,
                       std::string_view message) {
  return absl::Status(
      code, absl::StrCat(Describe(method, {}, fd), ": ", View(message)));
}

absl::Status CheckOptions(std::string_view backend,
                          const PollerOptions& options) {
  if (options.max_events < 1 ||
      options.max_events > PollerOptions::kMaxEvents) {
    return absl::InvalidArgumentError(
        absl::StrCat(View(backend), " Create: max_events=", options.max_events,
                     " is outside 1..", PollerOptions::kMaxEvents));
  }
  return absl::OkStatus();
}

}  // namespace internal
}  // namespace pollio
