// SPDX-License-Identifier: GPL-3.0-or-later
// Named generation settings kept in one JSON file, written atomically so that a crash never leaves half a file.
#pragma once

#include <QMap>
#include <QString>
#include <QStringList>
#include <optional>

#include "guidance/GenerationSettings.h"

class PresetStore {
 public:
  // Reads `filePath` if it exists; a missing file is an empty store, an unreadable one sets errorString().
  explicit PresetStore(QString filePath);

  QStringList names() const;  // sorted
  std::optional<GenerationSettings> preset(const QString& name) const;

  // Each change is written to disk at once; false (see errorString()) when the write failed.
  bool save(const QString& name, const GenerationSettings& settings);
  bool remove(const QString& name);

  // Export writes the named presets (all when `names` is empty) to another file in the same format.
  bool exportTo(const QString& path, const QStringList& names = {}) const;
  // Import merges a file written by exportTo (same names are replaced); returns how many were imported, or -1.
  int importFrom(const QString& path);

  QString errorString() const { return error_; }

 private:
  bool writeFile(const QString& path, const QMap<QString, GenerationSettings>& presets) const;
  std::optional<QMap<QString, GenerationSettings>> readFile(const QString& path) const;

  QString filePath_;
  QMap<QString, GenerationSettings> presets_;
  mutable QString error_;
};
