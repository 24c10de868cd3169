// SPDX-License-Identifier: GPL-3.0-or-later
// How long the GUI thread goes without running its event loop while the app generates: a 5 ms timer on the
// GUI thread records the largest gap between its ticks from Generate until the run settles, once on the tiny
// test model and once on the default model the app ships (DGLM_DEFAULT_MODEL_DIR), both with K = 4 and 32
// tokens and 5,000 earlier runs in the history (saved again when the run ends). The numbers are printed and
// written to DGLM_MEASUREMENT_FILE, one line per model; the test asserts only that the measurement ran (timing
// targets belong to benchmarks, not to a unit test on a shared machine).
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>

#include "MainWindow.h"
#include "dglm/tiny_model.h"
#include "editor/DraftEditor.h"
#include "guidance/GuidancePanel.h"
#include "history/HistoryModel.h"
#include "persistence/HistoryFile.h"

namespace {
constexpr int kTimeoutMs = 300000;
constexpr int kProbeIntervalMs = 5;
constexpr int kHistoryRuns = 5000;

// A timer on the GUI thread that remembers the longest time between two of its ticks.
struct GapProbe {
  QTimer timer;
  QElapsedTimer clock;
  qint64 lastTick = 0;
  qint64 worstGapMs = 0;
  qint64 elapsedMs = 0;
  int ticks = 0;

  GapProbe() {
    timer.setTimerType(Qt::PreciseTimer);
    timer.setInterval(kProbeIntervalMs);
    QObject::connect(&timer, &QTimer::timeout, [this] { tick(); });
  }
  void start() {
    clock.start();
    timer.start();
  }
  void stop() {
    timer.stop();
    tick();  // the stretch after the last tick counts too
    --ticks;
    elapsedMs = clock.elapsed();
  }
  void tick() {
    const qint64 now = clock.elapsed();
    worstGapMs = qMax(worstGapMs, now - lastTick);
    lastTick = now;
    ++ticks;
  }
};
}  // namespace

class TestGuiResponsiveness : public QObject {
  Q_OBJECT

 private slots:
  void initTestCase() {
    QCoreApplication::setOrganizationName("dglm-writer-tests");
    QVERIFY(tinyModelDir_.isValid());
    dglm::make_tiny_model(tinyModelDir_.path().toStdString(), /*seed=*/5);
    QDir().mkpath(QFileInfo(measurementPath()).absolutePath());
    QFile file(measurementPath());
    QVERIFY(file.open(QIODevice::WriteOnly | QIODevice::Truncate));  // each row appends its line
  }

  void largestGapBetweenTimerTicksWhileGenerating_data() {
    QTest::addColumn<QString>("modelDirectory");
    QTest::newRow("tiny") << tinyModelDir_.path();
    QTest::newRow("default") << QStringLiteral(DGLM_DEFAULT_MODEL_DIR);
  }

  void largestGapBetweenTimerTicksWhileGenerating() {
    QFETCH(QString, modelDirectory);
    QTemporaryDir dataDir;
    writeLongHistory(dataDir.filePath("history.json"));
    MainWindow window({dataDir.path(), /*interactive=*/false});
    window.resize(1280, 800);
    window.show();
    QSignalSpy loaded(&window, &MainWindow::modelSettled);
    window.openModel(modelDirectory);
    QVERIFY(loaded.wait(kTimeoutMs));
    QVERIFY2(loaded.first().first().toBool(), qPrintable(modelDirectory));

    GenerationSettings settings;  // what people start with: the default steps, with guidance
    settings.samples = 4;
    settings.maxNewTokens = 32;
    settings.guides = {{"sentiment", 2.0, ""}, {"offensive", -1.0, ""}};
    window.guidancePanel()->setSettings(settings);
    window.editor()->setPlainText("The meeting had gone on for hours, and");
    window.editor()->moveCursor(QTextCursor::End);

    // The same probe first while idle: on a shared machine the baseline shows what the scheduler alone costs.
    GapProbe idle;
    idle.start();
    QTest::qWait(1000);
    idle.stop();

    GapProbe busy;
    QSignalSpy settled(&window, &MainWindow::generationSettled);
    busy.start();
    window.generate();
    QVERIFY(settled.wait(kTimeoutMs));
    busy.stop();

    QVERIFY(busy.ticks > 0 && idle.ticks > 0);
    QVERIFY(!window.candidateCards().isEmpty());
    QCOMPARE(window.historyModel()->rowCount(window.historyModel()->index(0, 0)), kHistoryRuns + 1);
    const QString report =
        QStringLiteral("model=%1 gui_worst_gap_ms=%2 idle_worst_gap_ms=%3 ticks=%4 run_ms=%5 probe_interval_ms=%6 "
                       "samples=%7 tokens=%8 steps=%9 history_runs=%10\n")
            .arg(QString::fromLatin1(QTest::currentDataTag()))
            .arg(busy.worstGapMs).arg(idle.worstGapMs).arg(busy.ticks).arg(busy.elapsedMs).arg(kProbeIntervalMs)
            .arg(settings.samples).arg(settings.maxNewTokens).arg(settings.steps).arg(kHistoryRuns);
    qInfo("%s", qPrintable(report.trimmed()));
    QFile file(measurementPath());
    QVERIFY(file.open(QIODevice::Append));
    file.write(report.toUtf8());
  }

 private:
  static QString measurementPath() { return QStringLiteral(DGLM_MEASUREMENT_FILE); }

  // A long-used app: kHistoryRuns earlier runs of four 30-word candidates under one prefix, which the window
  // reads at start and saves again after the measured run.
  static void writeLongHistory(const QString& path) {
    HistoryModel history;
    const QString words = QStringLiteral("word ").repeated(30);
    for (int run = 0; run < kHistoryRuns; ++run) {
      QVector<HistoryCandidate> candidates;
      for (int k = 0; k < 4; ++k) candidates.append({words + QString::number(k), 50.0});
      history.addRun(QStringLiteral("The meeting had gone on for hours, and"), GenerationSettings{}, candidates);
    }
    HistoryWriter(path).save(history.toJson());  // the destructor waits for the write
  }

  QTemporaryDir tinyModelDir_;
};

QTEST_MAIN(TestGuiResponsiveness)
#include "test_gui_responsiveness.moc"
