// SPDX-License-Identifier: GPL-3.0-or-later
#include <QAbstractItemModelTester>
#include <QFile>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include "history/HistoryModel.h"
#include "persistence/HistoryFile.h"

class TestHistoryModel : public QObject {
  Q_OBJECT

 private slots:
  void runsGroupUnderTheirPrefix() {
    HistoryModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);

    GenerationSettings first;
    first.guides = {{"sentiment", 2.0, ""}};
    const QModelIndex run1 = model.addRun("Once upon a time", first, {{"there was a fox.", 12.5}, {"a king.", 30.0}});
    QCOMPARE(model.rowCount(), 1);
    QCOMPARE(model.rowCount(run1), 2);
    QCOMPARE(run1.parent().row(), 0);

    GenerationSettings second;
    second.samples = 1;
    model.addRun("Once upon a time", second, {{"it rained.", 8.0}});
    model.addRun("Another prefix", first, {});
    QCOMPARE(model.rowCount(), 2);
    const QModelIndex prefix = model.index(0, 0);
    QCOMPARE(model.rowCount(prefix), 2);  // alternatives are kept, not replaced

    QCOMPARE(prefix.data(HistoryModel::KindRole).toInt(), int(HistoryModel::NodeKind::Prefix));
    QCOMPARE(prefix.data(HistoryModel::FullTextRole).toString(), QString("Once upon a time"));

    const QModelIndex run = model.index(0, 0, prefix);
    QCOMPARE(run.data(HistoryModel::KindRole).toInt(), int(HistoryModel::NodeKind::Run));
    QCOMPARE(run.data(HistoryModel::SettingsRole).value<GenerationSettings>(), first);

    const QModelIndex candidate = model.index(1, 0, run);
    QCOMPARE(candidate.data(HistoryModel::FullTextRole).toString(), QString("a king."));
    QCOMPARE(candidate.data(HistoryModel::PerplexityRole).toDouble(), 30.0);
    QCOMPARE(model.index(1, HistoryModel::PerplexityColumn, run).data().toString(), QString("30.0"));
    QCOMPARE(candidate.parent(), run);
    QCOMPARE(run.parent(), prefix);
  }

  void roundTripsThroughTheHistoryFile() {
    QTemporaryDir dir;
    const QString path = dir.filePath("history.json");
    HistoryModel saved;
    GenerationSettings steered;
    steered.temperature = 0.7;
    steered.guides = {{"topic", -1.5, "sports"}};
    saved.addRun("Once upon a time", steered, {{"there was a fox.", 12.5}, {"a king.", 30.0}});
    saved.addRun("Once upon a time", {}, {{"it rained.", 8.0}}, "candidate 1 written again from token 2");
    saved.addRun("Another prefix", {}, {});
    {
      HistoryWriter writer(path);
      writer.save(saved.toJson());
    }  // the writer waits for its last write

    HistoryModel loaded;
    QAbstractItemModelTester tester(&loaded, QAbstractItemModelTester::FailureReportingMode::QtTest);
    loaded.addRun("replaced by the file", {}, {{"gone", 1.0}});
    QSignalSpy reset(&loaded, &QAbstractItemModel::modelReset);
    const HistoryLoad load = loadHistory(path, loaded);
    QVERIFY2(load.warning.isEmpty(), qPrintable(load.warning));
    QVERIFY(load.writable);
    QCOMPARE(reset.count(), 1);
    QCOMPARE(loaded.toJson(), saved.toJson());  // texts, perplexities, settings and times
    QCOMPARE(loaded.rowCount(), 2);
    const QModelIndex run = loaded.index(0, 0, loaded.index(0, 0));
    QCOMPARE(run.data(HistoryModel::SettingsRole).value<GenerationSettings>(), steered);
    QCOMPARE(run.data().toString(), saved.index(0, 0, saved.index(0, 0)).data().toString());  // same time shown
    QCOMPARE(loaded.index(1, 0, run).data(HistoryModel::FullTextRole).toString(), QString("a king."));
    QCOMPARE(loaded.index(1, 0, run).data(HistoryModel::PerplexityRole).toDouble(), 30.0);
    QVERIFY(!run.data().toString().contains(" · candidate"));  // no note: settings only
    const QModelIndex rewrite = loaded.index(1, 0, loaded.index(0, 0));
    QVERIFY2(rewrite.data().toString().endsWith(" · candidate 1 written again from token 2"),
             qPrintable(rewrite.data().toString()));

    loaded.addRun("Another prefix", {}, {{"more", 2.0}});  // runs after a restore join their prefix
    QCOMPARE(loaded.rowCount(), 2);
    QCOMPARE(loaded.rowCount(loaded.index(1, 0)), 2);
  }

  // Snapshots are written in order, newest last (older ones may be skipped); a failed write says where.
  void writerKeepsTheNewestSnapshotAndReportsFailures() {
    QTemporaryDir dir;
    const QString path = dir.filePath("history.json");
    HistoryModel model;
    HistoryWriter writer(path);
    QSignalSpy failed(&writer, &HistoryWriter::failed);
    for (int run = 0; run < 20; ++run) {
      model.addRun("p", {}, {{QString::number(run), 1.0}});
      writer.save(model.toJson());
    }
    writer.waitForWrites();
    HistoryModel loaded;
    QVERIFY(loadHistory(path, loaded).warning.isEmpty());
    QCOMPARE(loaded.toJson(), model.toJson());
    QCOMPARE(loaded.rowCount(loaded.index(0, 0)), 20);

    QFile blocker(dir.filePath("not-a-folder"));  // a file where the history's folder should be
    QVERIFY(blocker.open(QIODevice::WriteOnly));
    blocker.close();
    HistoryWriter blocked(dir.filePath("not-a-folder/history.json"));
    QSignalSpy blockedFailed(&blocked, &HistoryWriter::failed);
    blocked.save(model.toJson());
    QVERIFY(blockedFailed.wait(10000));
    QVERIFY2(blockedFailed.first().first().toString().contains("not-a-folder/history.json"),
             qPrintable(blockedFailed.first().first().toString()));
    QVERIFY(failed.isEmpty());
  }

  void missingFileIsAnEmptyHistory() {
    QTemporaryDir dir;
    HistoryModel model;
    const HistoryLoad load = loadHistory(dir.filePath("history.json"), model);
    QVERIFY(load.warning.isEmpty());
    QVERIFY(load.writable);
    QCOMPARE(model.rowCount(), 0);
  }

  void unreadableFilesAreMovedAsideWithAWarning_data() {
    QTest::addColumn<QByteArray>("contents");
    QTest::newRow("truncated JSON") << QByteArray(R"({"format": "dglm-writer-history", "version": 1, "history": [)");
    QTest::newRow("binary garbage") << QByteArray("\x00\xff\xfe not json", 12);
    QTest::newRow("another file") << QByteArray(R"({"format": 1, "presets": []})");
    QTest::newRow("newer version") << QByteArray(R"({"format": "dglm-writer-history", "version": 99, "history": []})");
    QTest::newRow("malformed entry")
        << QByteArray(R"({"format": "dglm-writer-history", "version": 1, "history": [{"prefix": "p", "runs": 3}]})");
  }

  void unreadableFilesAreMovedAsideWithAWarning() {
    QFETCH(QByteArray, contents);
    QTemporaryDir dir;
    const QString path = dir.filePath("history.json");
    HistoryModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.addRun("kept", {}, {{"as it was", 3.0}});
    for (const QString& aside : {path + ".corrupt", path + ".corrupt-2"}) {
      QFile file(path);
      QVERIFY(file.open(QIODevice::WriteOnly));
      file.write(contents);
      file.close();

      const HistoryLoad load = loadHistory(path, model);
      QVERIFY(load.writable);
      QVERIFY2(load.warning.contains(aside), qPrintable(load.warning));
      QVERIFY(!QFile::exists(path));
      QFile moved(aside);  // renamed, never deleted
      QVERIFY(moved.open(QIODevice::ReadOnly));
      QCOMPARE(moved.readAll(), contents);
      QCOMPARE(model.rowCount(), 1);  // the model is untouched
    }
  }

  void clearEmptiesTheTree() {
    HistoryModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.addRun("p", {}, {{"c", 1.0}});
    QSignalSpy reset(&model, &QAbstractItemModel::modelReset);
    model.clear();
    QCOMPARE(reset.count(), 1);
    QCOMPARE(model.rowCount(), 0);
  }
};

QTEST_MAIN(TestHistoryModel)
#include "test_history_model.moc"
