// SPDX-License-Identifier: GPL-3.0-or-later
// The history kept across sessions: one JSON file in the app's data folder, rewritten atomically after each run.
// A file that cannot be read back is renamed aside, never deleted, so that nothing a person wrote is lost.
#pragma once

#include <QString>

class HistoryModel;

struct HistoryLoad {
  QString warning;        // empty when the file was read (or there was none yet)
  bool writable = true;   // false: an unreadable file could not be set aside, so saving would overwrite it
};

// Fills `history` from `path`. A missing file is an empty history; an unreadable one is renamed to
// PATH.corrupt (PATH.corrupt-2, … when taken) and the warning says where it went.
HistoryLoad loadHistory(const QString& path, HistoryModel& history);

// Writes the whole history to `path`; on failure returns false and says why in *error.
bool saveHistory(const QString& path, const HistoryModel& history, QString* error);
