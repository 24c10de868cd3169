// SPDX-License-Identifier: GPL-3.0-or-later
#include "persistence/PresetStore.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>

#include "persistence/AtomicFile.h"

namespace {
constexpr int kPresetFormatVersion = 1;
}

PresetStore::PresetStore(QString filePath) : filePath_(std::move(filePath)) {
  if (!QFileInfo::exists(filePath_)) return;
  if (auto presets = readFile(filePath_)) presets_ = *presets;
}

QStringList PresetStore::names() const { return presets_.keys(); }

std::optional<GenerationSettings> PresetStore::preset(const QString& name) const {
  const auto found = presets_.constFind(name);
  if (found == presets_.constEnd()) return std::nullopt;
  return *found;
}

bool PresetStore::save(const QString& name, const GenerationSettings& settings) {
  if (name.trimmed().isEmpty()) {
    error_ = QStringLiteral("A preset needs a name.");
    return false;
  }
  auto changed = presets_;
  changed.insert(name.trimmed(), settings);
  if (!writeFile(filePath_, changed)) return false;
  presets_ = changed;
  return true;
}

bool PresetStore::remove(const QString& name) {
  auto changed = presets_;
  if (changed.remove(name) == 0) return true;
  if (!writeFile(filePath_, changed)) return false;
  presets_ = changed;
  return true;
}

bool PresetStore::exportTo(const QString& path, const QStringList& names) const {
  if (names.isEmpty()) return writeFile(path, presets_);
  QMap<QString, GenerationSettings> chosen;
  for (const QString& name : names) {
    const auto found = presets_.constFind(name);
    if (found == presets_.constEnd()) {
      error_ = QStringLiteral("No preset named \"%1\".").arg(name);
      return false;
    }
    chosen.insert(name, *found);
  }
  return writeFile(path, chosen);
}

int PresetStore::importFrom(const QString& path) {
  const auto imported = readFile(path);
  if (!imported) return -1;
  auto changed = presets_;
  changed.insert(*imported);
  if (!writeFile(filePath_, changed)) return -1;
  presets_ = changed;
  return int(imported->size());
}

bool PresetStore::writeFile(const QString& path, const QMap<QString, GenerationSettings>& presets) const {
  QJsonArray array;
  for (auto it = presets.constBegin(); it != presets.constEnd(); ++it) {
    array.append(QJsonObject{{"name", it.key()}, {"settings", it.value().toJson()}});
  }
  const QJsonObject root{{"format", kPresetFormatVersion}, {"presets", array}};

  return writeFileAtomically(path, QJsonDocument(root).toJson(), &error_);
}

std::optional<QMap<QString, GenerationSettings>> PresetStore::readFile(const QString& path) const {
  QFile file(path);
  if (!file.open(QIODevice::ReadOnly)) {
    error_ = QStringLiteral("Could not read %1: %2").arg(path, file.errorString());
    return std::nullopt;
  }
  QJsonParseError parseError;
  const QJsonDocument document = QJsonDocument::fromJson(file.readAll(), &parseError);
  if (parseError.error != QJsonParseError::NoError || !document.isObject()) {
    error_ = QStringLiteral("%1 is not a preset file (offset %2: %3).")
                 .arg(path)
                 .arg(parseError.offset)
                 .arg(parseError.errorString());
    return std::nullopt;
  }
  const QJsonObject root = document.object();
  if (root.value("format").toInt() != kPresetFormatVersion) {
    error_ = QStringLiteral("%1 has preset format %2; this version reads format %3.")
                 .arg(path)
                 .arg(root.value("format").toInt())
                 .arg(kPresetFormatVersion);
    return std::nullopt;
  }
  QMap<QString, GenerationSettings> presets;
  for (const QJsonValue& value : root.value("presets").toArray()) {
    const QJsonObject entry = value.toObject();
    const QString name = entry.value("name").toString();
    if (!name.isEmpty()) presets.insert(name, GenerationSettings::fromJson(entry.value("settings").toObject()));
  }
  return presets;
}
