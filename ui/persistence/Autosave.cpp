// SPDX-License-Identifier: GPL-3.0-or-later
#include "persistence/Autosave.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QSaveFile>

namespace {

bool writeAtomically(const QString& path, const QString& text, QString* error) {
  QDir().mkpath(QFileInfo(path).absolutePath());
  QSaveFile file(path);
  if (!file.open(QIODevice::WriteOnly) || file.write(text.toUtf8()) < 0 || !file.commit()) {
    *error = QStringLiteral("Could not write %1: %2").arg(path, file.errorString());
    return false;
  }
  return true;
}

QString readText(const QString& path) {
  QFile file(path);
  return file.open(QIODevice::ReadOnly) ? QString::fromUtf8(file.readAll()) : QString();
}

}  // namespace

Autosave::Autosave(QString draftPath, QString recoveryPath, int intervalMs, QObject* parent)
    : QObject(parent), draftPath_(std::move(draftPath)), recoveryPath_(std::move(recoveryPath)) {
  const QFileInfo recovery(recoveryPath_);
  const QFileInfo draft(draftPath_);
  if (recovery.exists() && (!draft.exists() || recovery.lastModified() > draft.lastModified())) {
    recoveredText_ = readText(recoveryPath_);
    // A recovery identical to the draft holds nothing to recover.
    hasRecovery_ = recoveredText_ != savedDraft();
  }
  timer_.setInterval(intervalMs);
  connect(&timer_, &QTimer::timeout, this, &Autosave::writeRecovery);
  timer_.start();
}

void Autosave::discardRecovery() {
  hasRecovery_ = false;
  recoveredText_.clear();
  QFile::remove(recoveryPath_);
}

QString Autosave::savedDraft() const { return readText(draftPath_); }

bool Autosave::saveDraft(const QString& text) {
  if (!writeAtomically(draftPath_, text, &error_)) return false;
  dirty_ = false;
  QFile::remove(recoveryPath_);
  return true;
}

void Autosave::noteEdited(const QString& text) {
  pendingText_ = text;
  dirty_ = true;
}

bool Autosave::writeRecovery() {
  if (!dirty_) return true;
  if (!writeAtomically(recoveryPath_, pendingText_, &error_)) {
    emit writeFailed(error_);
    return false;
  }
  dirty_ = false;
  emit recoveryWritten();
  return true;
}
