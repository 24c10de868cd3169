// SPDX-License-Identifier: GPL-3.0-or-later
// JSON text parsed with the position of a syntax error, for every JSON file the core reads.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace dglm {

// Throws Error(Corrupt, "invalid JSON: ...") at the line and column of the offending byte in `source`.
nlohmann::json parse_json_text(const std::string& text, const std::string& source);

}  // namespace dglm
