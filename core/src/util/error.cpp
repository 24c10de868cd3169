// SPDX-License-Identifier: GPL-3.0-or-later
#include "dglm/error.h"

namespace dglm {
namespace {

std::string format(const std::string& message, const Location& where) {
  std::string text;
  if (!where.file.empty()) {
    text += where.file;
    if (where.line > 0) text += ":" + std::to_string(where.line);
    if (where.column > 0) text += ":" + std::to_string(where.column);
    text += ": ";
  }
  if (!where.field.empty()) text += where.field + ": ";
  return text + message;
}

}  // namespace

const char* to_string(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::InvalidArgument: return "invalid argument";
    case ErrorKind::NotFound: return "not found";
    case ErrorKind::Corrupt: return "corrupt";
    case ErrorKind::Incompatible: return "incompatible";
    case ErrorKind::Io: return "i/o error";
    case ErrorKind::Cancelled: return "cancelled";
    case ErrorKind::Internal: return "internal error";
  }
  return "error";
}

Error::Error(ErrorKind kind, const std::string& message, Location where)
    : std::runtime_error(format(message, where)), kind_(kind), where_(std::move(where)), message_(message) {}

}  // namespace dglm
