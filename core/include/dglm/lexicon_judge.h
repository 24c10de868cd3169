// SPDX-License-Identifier: GPL-3.0-or-later
// A judge that learns nothing: it sums the scores of the words (and phrases) of a text found in a hand-made
// lexicon, and names the text by the sign of the sum. An AFINN-style sentiment lexicon or a profanity list
// judges generated text without sharing any training data, or the encoder, with the probes that steer it.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace dglm {

class LexiconJudge {
 public:
  // A JSON file:
  //   {"class_if_positive": "positive", "class_if_negative": "negative", "class_if_zero": "neutral",
  //    "negators": ["not", "never"], "words": {"good": 3, "bad": -3, "no fun": -3}}
  // class_if_negative and negators are optional (a profanity list has no negative words). Entries may hold
  // several words. Errors name the file and the field.
  static LexiconJudge load(const std::string& path);
  LexiconJudge(std::map<std::string, double> words, std::vector<std::string> negators, std::string class_if_positive,
               std::string class_if_zero, std::string class_if_negative = {});

  // The sum over the text's words (ASCII letters, digits, ' and -, compared lower-case) of their scores; at each
  // position the longest entry matches, and its score flips sign after a negator.
  double score(const std::string& text) const;
  // Index into classes() of the text's class.
  std::size_t classify(const std::string& text) const;
  // class_if_negative (when given), class_if_zero, class_if_positive.
  const std::vector<std::string>& classes() const { return classes_; }

 private:
  std::map<std::string, double> words_;  // entries, words joined by one space
  std::vector<std::string> negators_;
  std::size_t longest_entry_ = 1;  // in words
  std::vector<std::string> classes_;
};

}  // namespace dglm
