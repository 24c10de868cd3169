// SPDX-License-Identifier: GPL-3.0-or-later
// Whole-file reads and crash-safe writes: a write either lands completely or leaves the old file untouched.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace dglm {

// Reads a whole file. Throws Error(NotFound/Io) naming the path.
std::vector<std::uint8_t> read_file_bytes(const std::string& path);
std::string read_file_text(const std::string& path);

// Writes to a temporary file beside `path`, fsyncs it, then renames it over `path`.
void write_file_atomic(const std::string& path, std::string_view bytes);

}  // namespace dglm
