// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <functional>

#include <CLI/CLI.hpp>

// A subcommand registered on the app, and what runs it once parsed (returns the exit code).
struct Subcommand {
  CLI::App* command = nullptr;
  std::function<int()> run;
};

// `dglm eval`: generation measured per setting against held-out prompts (see dglm/evaluate.h).
Subcommand add_eval_command(CLI::App& app);
