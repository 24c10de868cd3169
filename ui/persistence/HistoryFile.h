// SPDX-License-Identifier: GPL-3.0-or-later
// The history kept across sessions: one JSON file in the app's data folder, rewritten atomically after each run,
// off the GUI thread. A file that cannot be read back is renamed aside, never deleted, so that nothing a person
// wrote is lost.
#pragma once

#include <QJsonArray>
#include <QObject>
#include <QString>
#include <QThreadPool>
#include <atomic>

class HistoryModel;

struct HistoryLoad {
  QString warning;        // empty when the file was read (or there was none yet)
  bool writable = true;   // false: an unreadable file could not be set aside, so saving would overwrite it
};

// Fills `history` from `path`. A missing file is an empty history; an unreadable one is renamed to
// PATH.corrupt (PATH.corrupt-2, … when taken) and the warning says where it went.
HistoryLoad loadHistory(const QString& path, HistoryModel& history);

// Writes the history file on a thread of its own. save() takes a snapshot (HistoryModel::toJson, cheap: its
// values are shared, not copied) and returns at once; the thread serialises and writes snapshots atomically in
// the order they were taken, skipping one that a newer snapshot replaced before its turn. The destructor waits
// for the last write, so that closing the app never loses a run.
class HistoryWriter : public QObject {
  Q_OBJECT

 public:
  explicit HistoryWriter(const QString& path, QObject* parent = nullptr);
  ~HistoryWriter() override;

  void save(const QJsonArray& history);
  // Blocks until every snapshot taken so far is written (or has failed).
  void waitForWrites();

 signals:
  // A write failed: the file keeps the last history that was written. Arrives on the writer's own thread.
  void failed(const QString& message);

 private:
  QString path_;
  QThreadPool pool_;                // one thread: writes never overtake each other
  std::atomic<quint64> latest_{0};  // the newest snapshot's number
};
