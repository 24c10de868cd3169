// SPDX-License-Identifier: GPL-3.0-or-later
#include "io/json_text.h"

#include "dglm/error.h"

namespace dglm {

nlohmann::json parse_json_text(const std::string& text, const std::string& source) {
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& error) {
    // nlohmann counts the offending byte from 1; walk the text up to it for its line and column.
    Location where{source, 1, 1, {}};
    for (std::size_t i = 0; i + 1 < error.byte && i < text.size(); ++i) {
      if (text[i] == '\n') {
        ++where.line;
        where.column = 1;
      } else {
        ++where.column;
      }
    }
    throw Error(ErrorKind::Corrupt, std::string("invalid JSON: ") + error.what(), where);
  }
}

}  // namespace dglm
