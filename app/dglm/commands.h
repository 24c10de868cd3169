// SPDX-License-Identifier: GPL-3.0-or-later
// The subcommands of `dglm` that live in files of their own, and the exit codes every command shares.
#pragma once

#include <functional>

#include <CLI/CLI.hpp>

// 0 success, 1 an error in the input or the model (a message on stderr says what and where), 2 a usage error,
// 3 cancelled.
constexpr int kExitError = 1;
constexpr int kExitUsage = 2;
constexpr int kExitCancelled = 3;

// A subcommand registered on the app, and what runs it once parsed (returns the exit code).
struct Subcommand {
  CLI::App* command = nullptr;
  std::function<int()> run;
};

// `dglm eval`: generation measured per setting against held-out prompts (see dglm/evaluate.h).
Subcommand add_eval_command(CLI::App& app);
// `dglm train STAGE`: the tokenizer, the model's parts one stage at a time (resumable), probes, assembly.
Subcommand add_train_commands(CLI::App& app);
