// SPDX-License-Identifier: GPL-3.0-or-later
#include "dglm/lexicon_judge.h"

#include <algorithm>
#include <set>

#include "dglm/error.h"
#include "dglm/fileio.h"
#include "io/json_text.h"

namespace dglm {
namespace {

bool is_word_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '\'' || c == '-';
}

std::vector<std::string> lower_case_words(const std::string& text) {
  std::vector<std::string> words;
  std::string word;
  for (const char c : text + " ") {
    if (is_word_char(c)) {
      word += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    } else if (!word.empty()) {
      words.push_back(word);
      word.clear();
    }
  }
  return words;
}

std::string joined(std::vector<std::string>::const_iterator begin, std::vector<std::string>::const_iterator end) {
  std::string text;
  for (auto it = begin; it != end; ++it) text += (text.empty() ? "" : " ") + *it;
  return text;
}

std::string required_class(const nlohmann::json& root, const std::string& field, const std::string& path) {
  const auto it = root.find(field);
  if (it == root.end()) throw Error(ErrorKind::Corrupt, "missing field", Location{path, 0, 0, field});
  if (!it->is_string() || it->get<std::string>().empty())
    throw Error(ErrorKind::Corrupt, "must be a non-empty string", Location{path, 0, 0, field});
  return it->get<std::string>();
}

}  // namespace

LexiconJudge LexiconJudge::load(const std::string& path) {
  const auto root = parse_json_text(read_file_text(path), path);
  if (!root.is_object()) throw Error(ErrorKind::Corrupt, "a lexicon must be a JSON object", Location{path});
  const auto words_field = root.find("words");
  if (words_field == root.end()) throw Error(ErrorKind::Corrupt, "missing field", Location{path, 0, 0, "words"});
  if (!words_field->is_object() || words_field->empty())
    throw Error(ErrorKind::Corrupt, "must be a non-empty object of word: score", Location{path, 0, 0, "words"});
  std::map<std::string, double> words;
  for (const auto& [entry, score] : words_field->items()) {
    if (!score.is_number())
      throw Error(ErrorKind::Corrupt, "the score must be a number", Location{path, 0, 0, "words." + entry});
    const auto entry_words = lower_case_words(entry);
    if (!entry_words.empty()) words[joined(entry_words.begin(), entry_words.end())] = score.get<double>();
  }
  std::vector<std::string> negators;
  if (const auto it = root.find("negators"); it != root.end()) {
    if (!it->is_array()) throw Error(ErrorKind::Corrupt, "must be an array of words", Location{path, 0, 0, "negators"});
    for (const auto& negator : *it) {
      if (!negator.is_string())
        throw Error(ErrorKind::Corrupt, "must be an array of words", Location{path, 0, 0, "negators"});
      for (const auto& word : lower_case_words(negator.get<std::string>())) negators.push_back(word);
    }
  }
  const bool has_negative_class = root.contains("class_if_negative");
  try {
    return LexiconJudge(std::move(words), std::move(negators), required_class(root, "class_if_positive", path),
                        required_class(root, "class_if_zero", path),
                        has_negative_class ? required_class(root, "class_if_negative", path) : std::string());
  } catch (const Error& e) {
    if (!e.where().file.empty()) throw;
    throw Error(e.kind(), e.message(), Location{path, 0, 0, e.where().field});
  }
}

LexiconJudge::LexiconJudge(std::map<std::string, double> words, std::vector<std::string> negators,
                           std::string class_if_positive, std::string class_if_zero, std::string class_if_negative)
    : words_(std::move(words)), negators_(std::move(negators)) {
  if (!class_if_negative.empty()) classes_.push_back(std::move(class_if_negative));
  classes_.push_back(std::move(class_if_zero));
  classes_.push_back(std::move(class_if_positive));
  if (std::set<std::string>(classes_.begin(), classes_.end()).size() != classes_.size())
    throw Error(ErrorKind::InvalidArgument, "the classes of a lexicon judge must differ", Location{{}, 0, 0, "classes"});
  for (const auto& [entry, score] : words_)
    longest_entry_ = std::max<std::size_t>(longest_entry_, std::count(entry.begin(), entry.end(), ' ') + 1);
}

double LexiconJudge::score(const std::string& text) const {
  const auto words = lower_case_words(text);
  double total = 0;
  for (std::size_t i = 0; i < words.size();) {
    std::size_t matched = 0;
    for (std::size_t n = std::min(longest_entry_, words.size() - i); n > 0 && !matched; --n) {
      const auto entry = words_.find(joined(words.begin() + i, words.begin() + i + n));
      if (entry == words_.end()) continue;
      const bool negated = i > 0 && std::find(negators_.begin(), negators_.end(), words[i - 1]) != negators_.end();
      total += negated ? -entry->second : entry->second;
      matched = n;
    }
    i += std::max<std::size_t>(matched, 1);
  }
  return total;
}

std::size_t LexiconJudge::classify(const std::string& text) const {
  const double s = score(text);
  const std::size_t zero = classes_.size() - 2;
  if (s > 0) return zero + 1;
  if (s < 0 && zero == 1) return 0;
  return zero;  // a negative sum without a negative class (a negated profanity) counts as none
}

}  // namespace dglm
