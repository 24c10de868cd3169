// SPDX-License-Identifier: GPL-3.0-or-later
// Keeps the draft safe: the saved draft file, plus a recovery file rewritten every few seconds while there are
// unsaved edits. A recovery file newer than the draft means the last session ended without saving.
#pragma once

#include <QObject>
#include <QString>
#include <QTimer>

class Autosave : public QObject {
  Q_OBJECT

 public:
  static constexpr int kDefaultIntervalMs = 5000;

  Autosave(QString draftPath, QString recoveryPath, int intervalMs = kDefaultIntervalMs, QObject* parent = nullptr);

  // Read once at construction: what a crashed session left behind, if it is newer than the saved draft.
  bool hasRecovery() const { return hasRecovery_; }
  QString recoveredText() const { return recoveredText_; }
  // The user declined the recovery (or took it and saved): forget it and delete the file.
  void discardRecovery();

  QString savedDraft() const;
  // Writes the draft and removes the recovery file (nothing is unsaved any more). False on a write error.
  bool saveDraft(const QString& text);

  QString errorString() const { return error_; }
  // Writes unsaved edits to the recovery file now instead of at the next tick. False on a write error.
  bool flushRecovery();

 public slots:
  // The editor's text changed; it is written to the recovery file at the next tick.
  void noteEdited(const QString& text);

 signals:
  void recoveryWritten();
  void writeFailed(const QString& message);

 private:
  QString draftPath_;
  QString recoveryPath_;
  QTimer timer_;
  QString pendingText_;
  bool dirty_ = false;
  bool hasRecovery_ = false;
  QString recoveredText_;
  QString error_;
};
