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

}  // namespace

LexiconJudge LexiconJudge::load(const std::string& path) {
  const auto root = parse_json_text(read_file_text(path), path);
  const JsonFields fields(root, path);
  const auto entries = fields.object("words");
  if (entries.json().empty()) fields.fail(ErrorKind::Corrupt, "words", "must be a non-empty object of word: score");
  std::map<std::string, double> words;
  for (const auto& item : entries.json().items()) {
    const auto score = entries.number(item.key());
    const auto entry_words = lower_case_words(item.key());
    if (!entry_words.empty()) words[joined(entry_words.begin(), entry_words.end())] = score;
  }
  std::vector<std::string> negators;
  for (const auto& negator : fields.has("negators") ? fields.strings("negators") : std::vector<std::string>{})
    for (auto& word : lower_case_words(negator)) negators.push_back(std::move(word));
  try {
    return LexiconJudge(std::move(words), std::move(negators), fields.non_empty_string("class_if_positive"),
                        fields.non_empty_string("class_if_zero"),
                        fields.has("class_if_negative") ? fields.non_empty_string("class_if_negative") : std::string());
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
