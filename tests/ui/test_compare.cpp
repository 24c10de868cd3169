// SPDX-License-Identifier: GPL-3.0-or-later
// Compare mode: the per-pane summary (mean perplexity, Dist-3, plan followed, mean probe scores), and panes run on the tiny
// model as one batch: every pane finishes with its own curves and row, and a newer generation cancels them all.
#include <QPlainTextEdit>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTest>

#include "MainWindow.h"
#include "compare/CompareWindow.h"
#include "dglm/tiny_model.h"
#include "editor/DraftEditor.h"
#include "plot/PerplexityPlot.h"

namespace {
constexpr int kTimeoutMs = 120000;

dglm::Candidate candidate(const std::string& text, double perplexity, std::vector<float> sentiment,
                          std::vector<float> planned, float adherence) {
  dglm::Candidate made;
  made.text = text;
  made.perplexity = perplexity;
  made.adherence = adherence;
  made.probe_scores["sentiment"] = std::move(sentiment);
  made.plan_scores["sentiment"] = std::move(planned);
  return made;
}

GenerationSettings quickSettings(double sigma2, quint64 seed) {
  GenerationSettings settings;
  settings.samples = 2;
  settings.maxNewTokens = 4;
  settings.steps = 3;
  settings.sigma2 = sigma2;
  settings.seed = seed;
  return settings;
}
}  // namespace

class TestCompare : public QObject {
  Q_OBJECT

 private:
  QTemporaryDir modelDir_;
  QTemporaryDir dataDir_;

  void openTinyModel(MainWindow& window) {
    QSignalSpy settled(&window, &MainWindow::modelSettled);
    window.openModel(modelDir_.path());
    QVERIFY(settled.wait(kTimeoutMs));
    QCOMPARE(settled.first().first().toBool(), true);
  }

 private slots:
  void initTestCase() {
    QCoreApplication::setOrganizationName("dglm-writer-tests");
    dglm::make_tiny_model(modelDir_.path().toStdString(), /*seed=*/4);
  }

  void summaryAveragesPerplexityAndScoresTheGuidedClass() {
    dglm::GenerateResult result;
    result.candidates = {candidate("a b c d", 10, {0.2f, 0.8f}, {0.1f, 0.9f}, 0.9f),
                         candidate("a b c e", 20, {0.4f, 0.6f}, {0.3f, 0.7f}, 0.8f)};
    const QVector<ProbeDescription> probes{{"sentiment", "", {"negative", "positive"}}};
    GenerationSettings unguided;
    const PaneSummary plain = summarizeRun(result, unguided, probes);
    QCOMPARE(plain.meanPerplexity, 15.0);
    QCOMPARE(plain.dist3, 3.0 / 8.0);  // trigrams a-b-c (twice), b-c-d, b-c-e over 8 words
    QVERIFY(qAbs(plain.meanProbeScores.value("sentiment") - 0.7) < 1e-6);  // the last class: positive
    QVERIFY(qAbs(plain.meanPlanScores.value("sentiment") - 0.8) < 1e-6);
    QVERIFY(plain.meanAdherence && qAbs(*plain.meanAdherence - 0.85) < 1e-6);

    GenerationSettings towardsNegative;
    towardsNegative.guides = {{"sentiment", -1.5, "negative"}};
    const PaneSummary negative = summarizeRun(result, towardsNegative, probes);
    QVERIFY(qAbs(negative.meanProbeScores.value("sentiment") - 0.3) < 1e-6);
    QVERIFY(qAbs(negative.meanPlanScores.value("sentiment") - 0.2) < 1e-6);
    QCOMPARE(summarizeRun(dglm::GenerateResult{}, unguided, probes).meanProbeScores.size(), 0);
    for (auto& written : result.candidates) written.adherence.reset();  // the baselines write without a plan
    QVERIFY(!summarizeRun(result, unguided, probes).meanAdherence);
  }

  void panesRunOnOnePrefixAsOneBatch() {
    MainWindow window({dataDir_.path(), /*interactive=*/false});
    openTinyModel(window);
    CompareWindow* compare = window.showCompare();
    QCOMPARE(compare->paneCount(), CompareWindow::kMinPanes);
    compare->setPaneCount(3);
    compare->pin(0, quickSettings(0.0, 1));
    compare->pin(1, quickSettings(0.5, 2));
    GenerationSettings guided = quickSettings(0.05, 3);
    guided.guides = {{"sentiment", 3.0, ""}};
    compare->pin(2, guided);
    QCOMPARE(compare->pinned(2), guided);

    QSignalSpy settled(compare, &CompareWindow::runSettled);
    compare->run("The garden was");
    QVERIFY(settled.wait(kTimeoutMs));

    const QTableWidget* table = compare->summaryTable();
    QCOMPARE(table->rowCount(), 3);
    QCOMPARE(table->columnCount(), 4 + 3);  // settings, perplexity, Dist-3, plan followed, one column per probe
    for (int pane = 0; pane < 3; ++pane) {
      QVERIFY(table->item(pane, 1)->data(Qt::UserRole).toDouble() >= 1.0);
      const double dist3 = table->item(pane, 2)->data(Qt::UserRole).toDouble();
      QVERIFY(dist3 >= 0 && dist3 <= 1);
      const double followed = table->item(pane, 3)->data(Qt::UserRole).toDouble();
      QVERIFY2(followed > -1 && followed < 1 && followed != 0, qPrintable(table->item(pane, 3)->text()));
      const double score = table->item(pane, 4)->data(Qt::UserRole).toDouble();
      QVERIFY(score > 0 && score < 1);
      // The text's mean, then the plans' in brackets: "0.42 (plan 0.97)".
      QVERIFY2(QRegularExpression(R"(^[01]\.\d\d \(plan [01]\.\d\d\)$)").match(table->item(pane, 4)->text()).hasMatch(),
               qPrintable(table->item(pane, 4)->text()));
    }
    PerplexityPlot* plot = compare->plot();
    QCOMPARE(plot->graphCount(), 3 * 2);
    for (int series = 0; series < plot->graphCount(); ++series) {
      QVERIFY(!plot->graph(series)->data()->isEmpty());
      QCOMPARE(plot->graph(series)->pen().color(), CompareWindow::paneColour(series / 2));
    }
  }

  void aNewerGenerationCancelsTheWholeComparison() {
    MainWindow window({dataDir_.path(), /*interactive=*/false});
    openTinyModel(window);
    CompareWindow* compare = window.showCompare();
    compare->pin(0, quickSettings(0.0, 1));
    compare->pin(1, quickSettings(0.5, 2));
    window.editor()->setPlainText("A letter arrived");
    window.editor()->moveCursor(QTextCursor::End);

    QSignalSpy compared(compare, &CompareWindow::runSettled);
    QSignalSpy generated(&window, &MainWindow::generationSettled);
    compare->run(window.editor()->prefix());
    window.generate();  // latest wins: the comparison gives way as a whole
    QVERIFY(compared.wait(kTimeoutMs));
    if (generated.isEmpty()) QVERIFY(generated.wait(kTimeoutMs));
    QCOMPARE(window.candidateCards().size(), GenerationSettings{}.samples);
    QVERIFY(!window.candidateCards().isEmpty());
    for (int pane = 0; pane < 2; ++pane) QCOMPARE(compare->summaryTable()->item(pane, 1)->text(), QString("—"));
  }
};

QTEST_MAIN(TestCompare)
#include "test_compare.moc"
