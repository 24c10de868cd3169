// SPDX-License-Identifier: GPL-3.0-or-later
#include "persistence/Autosave.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>

#include "persistence/AtomicFile.h"

namespace {

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
  connect(&timer_, &QTimer::timeout, this, &Autosave::flushRecovery);
  timer_.start();
}

void Autosave::discardRecovery() {
  hasRecovery_ = false;
  recoveredText_.clear();
  QFile::remove(recoveryPath_);
}

QString Autosave::savedDraft() const { return readText(draftPath_); }

bool Autosave::saveDraft(const QString& text) {
  if (!writeFileAtomically(draftPath_, text.toUtf8(), &error_)) return false;
  dirty_ = false;
  QFile::remove(recoveryPath_);
  return true;
}

void Autosave::noteEdited(const QString& text) {
  pendingText_ = text;
  dirty_ = true;
}

bool Autosave::flushRecovery() {
  if (!dirty_) return true;
  if (!writeFileAtomically(recoveryPath_, pendingText_.toUtf8(), &error_)) {
    emit writeFailed(error_);
    return false;
  }
  dirty_ = false;
  emit recoveryWritten();
  return true;
}
