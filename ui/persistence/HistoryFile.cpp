// SPDX-License-Identifier: GPL-3.0-or-later
#include "persistence/HistoryFile.h"

#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>
#include <QObject>

#include "history/HistoryModel.h"
#include "persistence/AtomicFile.h"

namespace {
constexpr auto kFormat = "dglm-writer-history";
constexpr int kVersion = 1;

// Why `path` does not hold a history this version reads; empty when `history` was filled from it.
QString readInto(const QString& path, HistoryModel& history) {
  QFile file(path);
  if (!file.open(QIODevice::ReadOnly)) return file.errorString();
  QJsonParseError parseError;
  const QJsonDocument document = QJsonDocument::fromJson(file.readAll(), &parseError);
  if (parseError.error != QJsonParseError::NoError) {
    return QObject::tr("offset %1: %2").arg(parseError.offset).arg(parseError.errorString());
  }
  const QJsonObject root = document.object();
  if (root.value("format").toString() != QLatin1String(kFormat)) return QObject::tr("not a history file");
  if (root.value("version").toInt() != kVersion) {
    return QObject::tr("history version %1; this version reads %2")
        .arg(root.value("version").toInt())
        .arg(kVersion);
  }
  if (!root.value("history").isArray() || !history.restore(root.value("history").toArray())) {
    return QObject::tr("malformed history entries");
  }
  return {};
}

QString freeAsideName(const QString& path) {
  const QString base = path + QStringLiteral(".corrupt");
  QString name = base;
  for (int n = 2; QFileInfo::exists(name); ++n) name = QStringLiteral("%1-%2").arg(base).arg(n);
  return name;
}
}  // namespace

HistoryLoad loadHistory(const QString& path, HistoryModel& history) {
  if (!QFileInfo::exists(path)) return {};
  const QString problem = readInto(path, history);
  if (problem.isEmpty()) return {};
  const QString aside = freeAsideName(path);
  if (!QFile::rename(path, aside)) {
    return {QObject::tr("Could not read the history (%1) nor move it aside; this session's runs are not saved: %2")
                .arg(problem, path),
            false};
  }
  return {QObject::tr("Could not read the history (%1); it was moved to %2 and a new one started.")
              .arg(problem, aside),
          true};
}

HistoryWriter::HistoryWriter(const QString& path, QObject* parent) : QObject(parent), path_(path) {
  pool_.setMaxThreadCount(1);
}

HistoryWriter::~HistoryWriter() { waitForWrites(); }

void HistoryWriter::save(const QJsonArray& history) {
  const quint64 snapshot = ++latest_;
  pool_.start([this, snapshot, history] {
    if (snapshot != latest_.load()) return;  // a newer snapshot is queued behind this one
    const QJsonObject root{{"format", kFormat}, {"version", kVersion}, {"history", history}};
    QString error;
    if (!writeFileAtomically(path_, QJsonDocument(root).toJson(QJsonDocument::Compact), &error)) {
      // Delivered on this object's thread; the destructor waits for this task, so `this` outlives it.
      QMetaObject::invokeMethod(this, [this, error] { emit failed(error); }, Qt::QueuedConnection);
    }
  });
}

void HistoryWriter::waitForWrites() { pool_.waitForDone(); }
