// SPDX-License-Identifier: GPL-3.0-or-later
#include "persistence/AtomicFile.h"

#include <QDir>
#include <QFileInfo>
#include <QSaveFile>

bool writeFileAtomically(const QString& path, const QByteArray& bytes, QString* error) {
  QDir().mkpath(QFileInfo(path).absolutePath());
  QSaveFile file(path);
  if (!file.open(QIODevice::WriteOnly) || file.write(bytes) != bytes.size() || !file.commit()) {
    if (error) *error = QStringLiteral("Could not write %1: %2").arg(path, file.errorString());
    return false;
  }
  return true;
}
