// SPDX-License-Identifier: GPL-3.0-or-later
// The one error type of the core: what went wrong, and where (file, line, column, field or tensor name).
#pragma once

#include <stdexcept>
#include <string>

namespace dglm {

enum class ErrorKind {
  InvalidArgument,  // a parameter or input the caller can fix
  NotFound,         // a file, probe, class or tensor that does not exist
  Corrupt,          // a file whose bytes are malformed or truncated
  Incompatible,     // a well-formed file this version does not understand (format version, shapes)
  Io,               // the operating system refused a read or write
  Cancelled,        // a callback asked to stop
  Internal,         // a bug: an invariant of the core broke
};

const char* to_string(ErrorKind kind);

// Where an error points. Empty/zero members are unknown and left out of the message.
struct Location {
  std::string file;
  long line = 0;    // 1-based
  long column = 0;  // 1-based
  std::string field;  // JSON field, CSV column or tensor name
};

class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, const std::string& message, Location where = {});

  ErrorKind kind() const { return kind_; }
  const Location& where() const { return where_; }
  // The message without the location prefix.
  const std::string& message() const { return message_; }

 private:
  ErrorKind kind_;
  Location where_;
  std::string message_;
};

}  // namespace dglm
