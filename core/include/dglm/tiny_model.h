// SPDX-License-Identifier: GPL-3.0-or-later
// A tiny model directory with random weights: for tests, benchmarks of the plumbing, and the app before a
// trained model is installed. It writes nothing sensible, but every part of the data path runs on it.
#pragma once

#include <cstdint>
#include <string>

namespace dglm {

// A few KB of deterministic plain-English sentences (the tiny tokenizer's training text).
std::string tiny_corpus();

// Writes config.json, tokenizer.model, the four weight files and probes (sentiment: negative/positive,
// offensive: clean/offensive, topic: four classes) into `directory` (created if needed).
void make_tiny_model(const std::string& directory, std::uint64_t seed = 0);

}  // namespace dglm
