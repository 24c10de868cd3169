// SPDX-License-Identifier: GPL-3.0-or-later
#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QTemporaryDir>
#include <QTest>

#include "persistence/DataDirectory.h"

namespace {

void writeFile(const QString& path, const QByteArray& bytes) {
  QDir().mkpath(QFileInfo(path).path());
  QFile file(path);
  QVERIFY(file.open(QIODevice::WriteOnly));
  file.write(bytes);
}

QByteArray readFile(const QString& path) {
  QFile file(path);
  return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray("(missing)");
}

}  // namespace

class TestDataDirectory : public QObject {
  Q_OBJECT

 private slots:
  void earlierVersionsDataMovesUpWhole() {
    QTemporaryDir home;
    const QString target = home.filePath("dglm-writer"), legacy = target + "/dglm-writer";
    writeFile(legacy + "/history.json", "[1]");
    writeFile(legacy + "/draft.txt", "my draft");
    writeFile(legacy + "/probes/formality.json", "{}");
    writeFile(legacy + "/.hidden", "kept too");

    QCOMPARE(moveLegacyUserData(legacy, target), QStringList());
    QCOMPARE(readFile(target + "/history.json"), QByteArray("[1]"));
    QCOMPARE(readFile(target + "/draft.txt"), QByteArray("my draft"));
    QCOMPARE(readFile(target + "/probes/formality.json"), QByteArray("{}"));
    QCOMPARE(readFile(target + "/.hidden"), QByteArray("kept too"));
    QVERIFY2(!QFileInfo::exists(legacy), "the emptied folder of the earlier version is removed");
  }

  void anEntryBothFoldersHoldIsNeverOverwritten() {
    QTemporaryDir home;
    const QString target = home.filePath("dglm-writer"), legacy = target + "/dglm-writer";
    writeFile(target + "/history.json", "newer history");
    writeFile(legacy + "/history.json", "older history");
    writeFile(legacy + "/presets.json", "presets");

    QCOMPARE(moveLegacyUserData(legacy, target), QStringList{legacy + "/history.json"});
    QCOMPARE(readFile(target + "/history.json"), QByteArray("newer history"));
    QCOMPARE(readFile(legacy + "/history.json"), QByteArray("older history"));
    QCOMPARE(readFile(target + "/presets.json"), QByteArray("presets"));
    QVERIFY(!QFileInfo::exists(legacy + "/presets.json"));
  }

  void noEarlierDataIsNothingToDo() {
    QTemporaryDir home;
    const QString target = home.filePath("dglm-writer");
    QCOMPARE(moveLegacyUserData(target + "/dglm-writer", target), QStringList());
    QVERIFY(!QFileInfo::exists(target));
  }

  void theFolderIsTheApplicationsNameUnderTheUsersDataHome() {
    QTemporaryDir home;
    qputenv("XDG_DATA_HOME", QFile::encodeName(home.path()));
    QCoreApplication::setOrganizationName("dglm-writer");
    QCoreApplication::setApplicationName("dglm-writer");
    writeFile(home.filePath("dglm-writer/dglm-writer/presets.json"), "presets");

    QStringList warnings;
    const QString directory = userDataDirectory(&warnings);
    QCOMPARE(directory, home.filePath("dglm-writer"));
    QCOMPARE(warnings, QStringList());
    QCOMPARE(readFile(directory + "/presets.json"), QByteArray("presets"));

    // An entry left behind is reported, with both places named.
    writeFile(home.filePath("dglm-writer/dglm-writer/presets.json"), "older presets");
    userDataDirectory(&warnings);
    QCOMPARE(warnings.size(), 1);
    QVERIFY2(warnings[0].contains(home.filePath("dglm-writer/dglm-writer/presets.json")), qPrintable(warnings[0]));
  }
};

QTEST_GUILESS_MAIN(TestDataDirectory)
#include "test_data_directory.moc"
