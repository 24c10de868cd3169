// SPDX-License-Identifier: GPL-3.0-or-later
#include <QAbstractItemModelTester>
#include <QSignalSpy>
#include <QTest>

#include "history/HistoryModel.h"

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
