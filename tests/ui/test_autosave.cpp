// SPDX-License-Identifier: GPL-3.0-or-later
#include <QDateTime>
#include <QFile>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include "persistence/Autosave.h"

namespace {

void writeFile(const QString& path, const QByteArray& bytes, const QDateTime& modified) {
  QFile file(path);
  QVERIFY(file.open(QIODevice::WriteOnly));
  file.write(bytes);
  file.flush();  // a later flush would reset the modification time
  QVERIFY(file.setFileTime(modified, QFileDevice::FileModificationTime));
}

}  // namespace

class TestAutosave : public QObject {
  Q_OBJECT

 private slots:
  void recoveryAfterCrashIsOffered() {
    QTemporaryDir dir;
    const QDateTime now = QDateTime::currentDateTime();
    writeFile(dir.filePath("draft.txt"), "saved text", now.addSecs(-60));
    // The crashed session: its autosave ran after the last explicit save.
    writeFile(dir.filePath("recovery.txt"), "saved text and unsaved words", now);

    Autosave autosave(dir.filePath("draft.txt"), dir.filePath("recovery.txt"));
    QVERIFY(autosave.hasRecovery());
    QCOMPARE(autosave.recoveredText(), QString("saved text and unsaved words"));
    QCOMPARE(autosave.savedDraft(), QString("saved text"));

    autosave.discardRecovery();
    QVERIFY(!autosave.hasRecovery());
    QVERIFY(!QFile::exists(dir.filePath("recovery.txt")));
  }

  void recoveryWithoutDraftIsOffered() {
    QTemporaryDir dir;
    writeFile(dir.filePath("recovery.txt"), "never saved", QDateTime::currentDateTime());
    Autosave autosave(dir.filePath("draft.txt"), dir.filePath("recovery.txt"));
    QVERIFY(autosave.hasRecovery());
    QCOMPARE(autosave.recoveredText(), QString("never saved"));
  }

  void olderRecoveryIsIgnored() {
    QTemporaryDir dir;
    const QDateTime now = QDateTime::currentDateTime();
    writeFile(dir.filePath("recovery.txt"), "stale", now.addSecs(-60));
    writeFile(dir.filePath("draft.txt"), "newer save", now);
    Autosave autosave(dir.filePath("draft.txt"), dir.filePath("recovery.txt"));
    QVERIFY(!autosave.hasRecovery());
  }

  void editsReachTheRecoveryFileAndSavingClearsIt() {
    QTemporaryDir dir;
    Autosave autosave(dir.filePath("draft.txt"), dir.filePath("recovery.txt"), /*intervalMs=*/20);
    QSignalSpy written(&autosave, &Autosave::recoveryWritten);
    autosave.noteEdited("typed so far");
    QVERIFY(written.wait(2000));
    QFile recovery(dir.filePath("recovery.txt"));
    QVERIFY(recovery.open(QIODevice::ReadOnly));
    QCOMPARE(recovery.readAll(), QByteArray("typed so far"));
    recovery.close();

    // A new session started now (the previous one "crashed") sees it.
    QVERIFY(Autosave(dir.filePath("draft.txt"), dir.filePath("recovery.txt")).hasRecovery());

    QVERIFY(autosave.saveDraft("typed so far"));
    QVERIFY(!QFile::exists(dir.filePath("recovery.txt")));
    QCOMPARE(autosave.savedDraft(), QString("typed so far"));
    QVERIFY(!Autosave(dir.filePath("draft.txt"), dir.filePath("recovery.txt")).hasRecovery());
  }

  void nothingIsWrittenWithoutEdits() {
    QTemporaryDir dir;
    Autosave autosave(dir.filePath("draft.txt"), dir.filePath("recovery.txt"), /*intervalMs=*/10);
    QTest::qWait(60);
    QVERIFY(!QFile::exists(dir.filePath("recovery.txt")));
  }
};

QTEST_GUILESS_MAIN(TestAutosave)
#include "test_autosave.moc"
