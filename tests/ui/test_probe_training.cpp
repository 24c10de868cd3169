// SPDX-License-Identifier: GPL-3.0-or-later
// Training a probe from a CSV file in the app: the import preview with dialect detection and overrides, one
// distinct message (with its line) per malformed file, and training on the tiny model end to end: the slider
// appears at once, the probe comes back on the next start, and Cancel stops training without saving anything.
#include <QAbstractItemModelTester>
#include <QCheckBox>
#include <QComboBox>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QSet>
#include <QSignalSpy>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTest>
#include <numeric>

#include "MainWindow.h"
#include "candidates/CandidateCard.h"
#include "dglm/tiny_model.h"
#include "editor/DraftEditor.h"
#include "guidance/GuidancePanel.h"
#include "probes/CsvPreviewModel.h"
#include "probes/ProbeTrainingDialog.h"
#include "worker/WorkerHost.h"

namespace {
constexpr int kTimeoutMs = 120000;
const QString kSentimentCsv = QStringLiteral(DGLM_TEST_DATA_DIR "/csv/sentiment.csv");

QStringList probeNames(const GuidancePanel* panel) {
  QStringList names;
  for (const ProbeGuideRow* row : panel->probeRows()) names << row->probeName();
  return names;
}
}  // namespace

class TestProbeTraining : public QObject {
  Q_OBJECT

 private:
  QTemporaryDir modelDir_;
  QTemporaryDir scratch_;
  QSet<QString> malformedMessages_;

  QString writeFile(const QString& name, const QByteArray& bytes) {
    const QString path = scratch_.filePath(name);
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly) || file.write(bytes) != bytes.size()) qFatal("cannot write %s", qPrintable(path));
    return path;
  }

  void loadTinyModel(MainWindow& window) {
    QSignalSpy settled(&window, &MainWindow::modelSettled);
    window.openModel(modelDir_.path());
    QVERIFY(settled.wait(kTimeoutMs));
    QCOMPARE(settled.first().first().toBool(), true);
  }

  static void inspect(ProbeTrainingDialog& dialog, const QString& path) {
    QSignalSpy inspected(&dialog, &ProbeTrainingDialog::inspected);
    dialog.setCsvPath(path);
    QVERIFY(inspected.wait(kTimeoutMs));
  }

 private slots:
  void initTestCase() {
    QCoreApplication::setOrganizationName("dglm-writer-tests");  // keep QSettings away from the user's
    QVERIFY(modelDir_.isValid() && scratch_.isValid());
    dglm::make_tiny_model(modelDir_.path().toStdString(), /*seed=*/3);
  }

  void goodFileShowsPreviewDialectColumnsAndClassCounts() {
    WorkerHost host;
    ProbeTrainingDialog dialog(&host, scratch_.filePath("probes"));
    QAbstractItemModelTester tester(dialog.previewModel(), QAbstractItemModelTester::FailureReportingMode::QtTest);
    inspect(dialog, kSentimentCsv);
    QVERIFY2(dialog.inspection().error.isEmpty(), qPrintable(dialog.inspection().error));
    QCOMPARE(dialog.inspection().dialect.delimiter, ',');
    QVERIFY(dialog.headerCheck()->isChecked());
    QCOMPARE(dialog.inspection().columns, QStringList({"id", "text", "label"}));
    QCOMPARE(dialog.textColumnPicker()->currentData().toString(), QString("text"));
    QCOMPARE(dialog.labelColumnPicker()->currentData().toString(), QString("label"));
    QCOMPARE(dialog.previewModel()->rowCount(), ProbeTrainingDialog::kPreviewRows);
    QCOMPARE(dialog.previewModel()->headerData(0, Qt::Vertical).toString(), QString("line 2"));
    QCOMPARE(dialog.inspection().dataRows, 40);
    QCOMPARE(dialog.inspection().classCounts.keys(), QStringList({"negative", "positive"}));
    QCOMPARE(dialog.inspection().classCounts.value("negative") + dialog.inspection().classCounts.value("positive"), 40);
  }

  void detectedDialectCanBeOverridden() {
    const QString path = writeFile("semicolons.csv",
                                   "a fine and sunny morning;pos\n"
                                   "rain all day long again;neg\n"
                                   "the best meal in years;pos\n"
                                   "cold soup and a late bus;neg\n");
    WorkerHost host;
    ProbeTrainingDialog dialog(&host, scratch_.filePath("probes"));
    inspect(dialog, path);
    QCOMPARE(dialog.inspection().dialect.delimiter, ';');
    QVERIFY(!dialog.headerCheck()->isChecked());
    QCOMPARE(dialog.inspection().columns, QStringList({"1", "2"}));
    QCOMPARE(dialog.inspection().textColumn, QString("1"));  // the longer cells
    QCOMPARE(dialog.inspection().labelColumn, QString("2"));
    QCOMPARE(dialog.inspection().dataRows, 4);

    // The person says the first row is a header: the columns take its names, one data row fewer.
    QSignalSpy inspected(&dialog, &ProbeTrainingDialog::inspected);
    dialog.headerCheck()->click();
    QVERIFY(inspected.wait(kTimeoutMs));
    QVERIFY(!dialog.inspection().dialectDetected);
    QCOMPARE(dialog.inspection().columns, QStringList({"a fine and sunny morning", "pos"}));
    QCOMPARE(dialog.inspection().dataRows, 3);

    // Picking comma splits nothing: one column cannot hold both text and label.
    inspected.clear();
    dialog.delimiterPicker()->setCurrentIndex(dialog.delimiterPicker()->findData(QChar(',')));
    emit dialog.delimiterPicker()->activated(dialog.delimiterPicker()->currentIndex());
    QVERIFY(inspected.wait(kTimeoutMs));
    QCOMPARE(dialog.inspection().dialect.delimiter, ',');
    QVERIFY(dialog.messageText().contains("different columns"));
  }

  void malformedFileExplainsItself_data() {
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<QStringList>("expected");  // parts the message must contain
    QTest::newRow("empty") << QByteArray() << QStringList{"line 1", "the file is empty"};
    QTest::newRow("header_only") << QByteArray("text,label\n") << QStringList{"line 1", "header but no data rows"};
    QTest::newRow("one_class") << QByteArray("text,label\na,pos\nb,pos\nc,pos\n")
                               << QStringList{"line 2", "one class only"};
    QTest::newRow("invalid_utf8") << QByteArray("text,label\na,x\n\"caf\xE9\",y\n")
                                  << QStringList{"line 3", "(field 1)", "invalid UTF-8"};
    QTest::newRow("unterminated_quote") << QByteArray("text,label\na,x\n\"never closed,y\nb,z\n")
                                        << QStringList{"line 3", "unterminated quoted field"};
    QTest::newRow("stray_quote") << QByteArray("text,label\na,x\nsay \"hi\",y\n")
                                 << QStringList{"line 3", "column 5", "malformed quoting"};
    QTest::newRow("ragged_row") << QByteArray("text,label\na,x\nb,y\nc,x,extra\n")
                                << QStringList{"line 4", "ragged row"};
    QTest::newRow("empty_label") << QByteArray("text,label\na,x\nb,\n") << QStringList{"line 3", "empty label"};
    QTest::newRow("empty_text") << QByteArray("text,label\na,x\n  ,y\n") << QStringList{"line 3", "empty text"};
    QTest::newRow("one_column") << QByteArray("just some text\nmore text\n") << QStringList{"different columns"};
  }

  void malformedFileExplainsItself() {
    QFETCH(QByteArray, bytes);
    QFETCH(QStringList, expected);
    const QString name = QString::fromLatin1(QTest::currentDataTag()) + ".csv";
    const QString path = writeFile(name, bytes);
    WorkerHost host;
    ProbeTrainingDialog dialog(&host, scratch_.filePath("probes"));
    inspect(dialog, path);
    const QString message = dialog.messageText();
    QVERIFY2(!dialog.inspection().error.isEmpty(), qPrintable(name + " was accepted"));
    QCOMPARE(message, dialog.inspection().error);
    if (!expected.contains("different columns")) QVERIFY2(message.startsWith(name + ", "), qPrintable(message));
    for (const QString& part : expected) QVERIFY2(message.contains(part), qPrintable(message));
    QVERIFY2(!malformedMessages_.contains(message), qPrintable("message shared with another file: " + message));
    malformedMessages_.insert(message);
    QVERIFY(!dialog.startTraining());  // nothing to train on
  }

  void missingFileIsNamed() {
    WorkerHost host;
    ProbeTrainingDialog dialog(&host, scratch_.filePath("probes"));
    inspect(dialog, scratch_.filePath("absent.csv"));
    QVERIFY2(dialog.messageText().contains("absent.csv: no such file"), qPrintable(dialog.messageText()));
  }

  void trainsAProbeWhoseSliderAppearsAtOnceAndAfterARestart() {
    QTemporaryDir dataDir;
    {
      MainWindow window({dataDir.path(), /*interactive=*/false});
      loadTinyModel(window);
      QCOMPARE(window.guidancePanel()->probeRows().size(), 3);

      ProbeTrainingDialog* dialog = window.showProbeTraining();
      inspect(*dialog, kSentimentCsv);
      dialog->setProbeName("mood");
      dialog->setHeldoutFraction(0.25);
      QSignalSpy progress(window.workerHost(), &WorkerHost::trainingProgress);
      QSignalSpy settled(dialog, &ProbeTrainingDialog::trainingSettled);
      QVERIFY(dialog->startTraining());
      QVERIFY(settled.wait(kTimeoutMs));
      QVERIFY2(settled.first().first().toBool(), qPrintable(dialog->messageText()));
      QVERIFY(!progress.isEmpty());

      QTableWidget* confusion = dialog->confusionTable();
      QCOMPARE(confusion->rowCount(), 2);
      QCOMPARE(confusion->columnCount(), 2);
      int heldout = 0;
      for (int row = 0; row < 2; ++row) {
        for (int column = 0; column < 2; ++column) heldout += confusion->item(row, column)->text().toInt();
      }
      QVERIFY(heldout >= 8);  // a quarter of 40 rows, per class
      QVERIFY(QFile::exists(dataDir.filePath("probes/mood.json")));
      QVERIFY(!QDir(dataDir.filePath("probes")).entryList({QStringLiteral("mood.*.safetensors")}).isEmpty());
      QVERIFY(probeNames(window.guidancePanel()).contains("mood"));

      // Guidance with the new probe runs.
      GenerationSettings settings;
      settings.samples = 2;
      settings.maxNewTokens = 4;
      settings.steps = 3;
      settings.guides = {{"mood", 2.0, "positive"}};
      window.guidancePanel()->setSettings(settings);
      window.editor()->setPlainText("The day began");
      window.editor()->moveCursor(QTextCursor::End);
      QSignalSpy generated(&window, &MainWindow::generationSettled);
      window.generate();
      QVERIFY(generated.wait(kTimeoutMs));
      QVERIFY(!window.candidateCards().first()->text().isEmpty());
    }
    MainWindow restarted({dataDir.path(), /*interactive=*/false});
    loadTinyModel(restarted);
    QCOMPARE(probeNames(restarted.guidancePanel()).count("mood"), 1);
  }

  void aHeldOutFileMeasuresTheProbeAndNamesItsOwnBadLine() {
    QTemporaryDir dataDir;
    MainWindow window({dataDir.path(), /*interactive=*/false});
    loadTinyModel(window);
    ProbeTrainingDialog* dialog = window.showProbeTraining();
    inspect(*dialog, kSentimentCsv);
    dialog->setProbeName("measured");
    dialog->setHeldoutCsvPath(writeFile("heldout.csv", "id,text,label\n1,a lovely day,positive\n2,awful food,negative\n"
                                                      "3,kind people,positive\n4,a rude waiter,negative\n"
                                                      "5,so dull,negative\n"));
    QSignalSpy trained(window.workerHost(), &WorkerHost::probeTrained);
    QSignalSpy settled(dialog, &ProbeTrainingDialog::trainingSettled);
    QVERIFY(dialog->startTraining());
    QVERIFY(settled.wait(kTimeoutMs));
    QVERIFY2(settled.first().first().toBool(), qPrintable(dialog->messageText()));
    const auto result = trained.first().at(1).value<ProbeTrainingResult>();
    QCOMPARE(result.trainRows, 40);  // every row of the training file
    QCOMPARE(result.heldoutRows, 5);  // exactly the held-out file's rows
    int confusionTotal = 0;
    for (const QVector<qint64>& row : result.confusion) confusionTotal += int(std::accumulate(row.begin(), row.end(), 0));
    QCOMPARE(confusionTotal, 5);

    // A class the training file lacks: the held-out file and its line, and nothing saved.
    dialog->setProbeName("unmeasured");
    dialog->setHeldoutCsvPath(writeFile("heldout-bad.csv", "id,text,label\n1,a lovely day,positive\n2,meh,neutral\n"));
    settled.clear();
    QVERIFY(dialog->startTraining());
    QVERIFY(settled.wait(kTimeoutMs));
    QCOMPARE(settled.first().first().toBool(), false);
    const QString message = dialog->messageText();
    QVERIFY2(message.contains("heldout-bad.csv, line 3") && message.contains("unknown label 'neutral'"),
             qPrintable(message));
    QVERIFY(!QFile::exists(dataDir.filePath("probes/unmeasured.json")));
  }

  void cancelStopsTrainingAndSavesNothing() {
    QByteArray rows = "text,label\n";
    for (int row = 0; row < 4000; ++row) {
      rows += QByteArray("sentence number ") + QByteArray::number(row) + " about nothing much," +
              (row % 2 ? "odd" : "even") + "\n";
    }
    const QString path = writeFile("large.csv", rows);
    QTemporaryDir dataDir;
    MainWindow window({dataDir.path(), /*interactive=*/false});
    loadTinyModel(window);
    ProbeTrainingDialog* dialog = window.showProbeTraining();
    inspect(*dialog, path);
    dialog->setProbeName("parity");

    QElapsedTimer sinceCancel;
    // Cancel once embedding is under way (past the 10% spent reading the file).
    connect(window.workerHost(), &WorkerHost::trainingProgress, dialog, [&](quint64, double fraction) {
      if (fraction > 0.15 && !sinceCancel.isValid()) {
        sinceCancel.start();
        dialog->cancelTraining();
      }
    });
    QSignalSpy settled(dialog, &ProbeTrainingDialog::trainingSettled);
    QVERIFY(dialog->startTraining());
    QVERIFY(settled.wait(kTimeoutMs));
    QCOMPARE(settled.first().first().toBool(), false);
    QVERIFY(sinceCancel.isValid());
    const qint64 latencyMs = sinceCancel.elapsed();
    qInfo("probe training stopped %lld ms after Cancel", latencyMs);
    QVERIFY2(latencyMs < 5000, "Cancel waited for the rest of the training");
    QVERIFY(dialog->messageText().contains("cancelled"));
    QVERIFY(!QFile::exists(dataDir.filePath("probes/parity.json")));
    QVERIFY(!probeNames(window.guidancePanel()).contains("parity"));
  }
};

QTEST_MAIN(TestProbeTraining)
#include "test_probe_training.moc"
