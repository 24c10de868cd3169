// SPDX-License-Identifier: GPL-3.0-or-later
// The main window end to end on a tiny model: a missing model is reported, probes become sliders, a
// generation fills the cards and the history, inserting a candidate is one undo step, the history survives a
// restart, the device picker reloads the model, the token count fits the model's context, and picking another
// token writes a card again from there.
#include <QAbstractItemModelTester>
#include <QApplication>
#include <QComboBox>
#include <QContextMenuEvent>
#include <QFileInfo>
#include <QLabel>
#include <QMenu>
#include <QSettings>
#include <QSignalSpy>
#include <QStatusBar>
#include <QTemporaryDir>
#include <QTest>
#include <QTextBlock>
#include <QTextBrowser>
#include <QTimer>
#include <memory>
#include <qcustomplot.h>

#include "MainWindow.h"
#include "candidates/CandidateCard.h"
#include "dglm/runtime.h"
#include "dglm/tiny_model.h"
#include "editor/DraftEditor.h"
#include "guidance/GuidancePanel.h"
#include "history/HistoryModel.h"
#include "persistence/HistoryFile.h"
#include "plot/PerplexityPlot.h"
#include "plot/ProbeScorePlot.h"
#include "worker/WorkerHost.h"
#include "worker_gate.h"

namespace {
constexpr int kTimeoutMs = 120000;
}

class TestMainWindow : public QObject {
  Q_OBJECT

 private:
  QTemporaryDir modelDir_;
  std::unique_ptr<QTemporaryDir> dataDir_;  // a fresh one per test: the history persists in it

  MainWindow::Options options() const { return {dataDir_->path(), /*interactive=*/false}; }

  // Opens the tiny model in `window` and waits for it.
  void loadTinyModel(MainWindow& window) {
    QSignalSpy settled(&window, &MainWindow::modelSettled);
    window.openModel(modelDir_.path());
    QVERIFY(settled.wait(kTimeoutMs));
    QCOMPARE(settled.first().first().toBool(), true);
  }

  // One short run of `samples` candidates on `prefix`.
  void generateOnce(MainWindow& window, const QString& prefix, int samples = 2, int maxNewTokens = 5) {
    GenerationSettings settings;
    settings.samples = samples;
    settings.maxNewTokens = maxNewTokens;
    settings.steps = 3;
    generateWith(window, prefix, settings);
  }

  void generateWith(MainWindow& window, const QString& prefix, const GenerationSettings& settings) {
    window.guidancePanel()->setSettings(settings);
    window.editor()->setPlainText(prefix);
    window.editor()->moveCursor(QTextCursor::End);
    QSignalSpy generated(&window, &MainWindow::generationSettled);
    window.generate();
    QVERIFY(generated.wait(kTimeoutMs));
  }

 private slots:
  void initTestCase() {
    QCoreApplication::setOrganizationName("dglm-writer-tests");  // keep QSettings away from the user's
    QSettings().remove("model/device");
    dglm::make_tiny_model(modelDir_.path().toStdString(), /*seed=*/2);
  }

  void init() { dataDir_ = std::make_unique<QTemporaryDir>(); }

  void cleanup() { QSettings().remove("model/device"); }

  void historySurvivesARestart() {
    {
      MainWindow window(options());
      loadTinyModel(window);
      generateOnce(window, "It was a quiet morning");
      generateOnce(window, "It was a quiet morning", /*samples=*/1);
    }
    QVERIFY(QFile::exists(dataDir_->filePath("history.json")));
    MainWindow restarted(options());
    HistoryModel* history = restarted.historyModel();
    QAbstractItemModelTester tester(history, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QCOMPARE(history->rowCount(), 1);
    const QModelIndex prefix = history->index(0, 0);
    QCOMPARE(prefix.data(HistoryModel::FullTextRole).toString(), QString("It was a quiet morning"));
    QCOMPARE(history->rowCount(prefix), 2);
    QCOMPARE(history->rowCount(history->index(0, 0, prefix)), 2);
    QCOMPARE(history->rowCount(history->index(1, 0, prefix)), 1);
    QVERIFY(restarted.statusBar()->currentMessage().isEmpty());
  }

  void corruptHistoryIsSetAsideWithAWarning() {
    const QString path = dataDir_->filePath("history.json");
    {
      QFile file(path);
      QVERIFY(file.open(QIODevice::WriteOnly));
      file.write("{\"format\": \"dglm-writer-history\", \"version\": 1, \"hist");
    }
    MainWindow window(options());
    QVERIFY2(window.statusBar()->currentMessage().contains(path + ".corrupt"),
             qPrintable(window.statusBar()->currentMessage()));
    QVERIFY(QFile::exists(path + ".corrupt"));
    QCOMPARE(window.historyModel()->rowCount(), 0);

    // The next run starts a new history file.
    loadTinyModel(window);
    generateOnce(window, "A fresh start");
    window.historyWriter()->waitForWrites();  // written off the GUI thread
    QCOMPARE(MainWindow(options()).historyModel()->rowCount(), 1);
    QVERIFY(QFile::exists(path + ".corrupt"));
  }

  void devicePickerChoosesWhereTheModelRunsAndReloadsIt() {
    QSettings().setValue("model/device", "cpu");
    MainWindow window(options());
    auto* picker = window.findChild<QComboBox*>("DevicePicker");
    QVERIFY(picker);
    QCOMPARE(picker->findData("auto"), 0);
    QVERIFY(picker->findData("cpu") > 0);
    QCOMPARE(picker->findData("cuda") >= 0, dglm::cuda_available());  // CUDA only where the core has it
    QCOMPARE(picker->currentData().toString(), QString("cpu"));
    QCOMPARE(window.deviceChoice(), DeviceChoice::Cpu);

    QSignalSpy loadRequests(window.workerHost(), &WorkerHost::loadRequested);
    loadTinyModel(window);
    QCOMPARE(loadRequests.count(), 1);
    QCOMPARE(loadRequests.first().at(3).value<DeviceChoice>(), DeviceChoice::Cpu);

    // Another choice is remembered and reloads the open model on it.
    QSignalSpy settled(&window, &MainWindow::modelSettled);
    picker->setCurrentIndex(picker->findData("auto"));
    QCOMPARE(QSettings().value("model/device").toString(), QString("auto"));
    QCOMPARE(loadRequests.count(), 2);
    QCOMPARE(loadRequests.last().at(1).toString(), modelDir_.path());
    QCOMPARE(loadRequests.last().at(3).value<DeviceChoice>(), DeviceChoice::Auto);
    QVERIFY(settled.wait(kTimeoutMs));
    QCOMPARE(settled.first().first().toBool(), true);
    const QString expected = dglm::cuda_available() ? "cuda" : "cpu";
    QCOMPARE(window.findChild<QLabel*>("DeviceLabel")->text(), expected);  // the device it runs on now

    QCOMPARE(MainWindow(options()).deviceChoice(), DeviceChoice::Auto);  // kept for the next session
  }

  void tokenCountIsLimitedToWhatTheModelsContextHolds() {
    MainWindow window(options());
    GenerationSettings settings;
    settings.maxNewTokens = 500;
    window.guidancePanel()->setSettings(settings);
    loadTinyModel(window);
    // The tiny model: a context of 96 positions, one start token and 4 soft prompts.
    QCOMPARE(window.guidancePanel()->settings().maxNewTokens, 91);
    const QString toolTip = window.guidancePanel()->findChild<QSpinBox*>("tokens")->toolTip();
    QVERIFY2(toolTip.contains("91") && toolTip.contains("96"), qPrintable(toolTip));
  }

  void missingModelIsReportedWithoutCrashing() {
    MainWindow window(options());
    QSignalSpy settled(&window, &MainWindow::modelSettled);
    window.openModel(modelDir_.filePath("missing"));
    QVERIFY(settled.wait(kTimeoutMs));
    QCOMPARE(settled.first().first().toBool(), false);
    QVERIFY(window.statusBar()->currentMessage().contains("missing"));
    window.generate();  // without a model: a message, no crash
  }

  void onlyTheNewestModelLoadSettlesAndStoppingOneIsNoError() {
    MainWindow window(options());
    loadTinyModel(window);
    QSignalSpy settled(&window, &MainWindow::modelSettled);
    auto gate = holdTheWorker(*window.workerHost());
    window.openModel(modelDir_.filePath("missing"));  // superseded before it starts: never reported
    window.openModel(modelDir_.path());
    gate->release();
    QVERIFY(settled.wait(kTimeoutMs));
    QTest::qWait(50);
    QCOMPARE(settled.count(), 1);
    QCOMPARE(settled.first().first().toBool(), true);

    gate = holdTheWorker(*window.workerHost());
    window.openModel(modelDir_.filePath("missing"));
    window.stop();
    gate->release();
    QVERIFY(settled.wait(kTimeoutMs));
    QCOMPARE(settled.last().first().toBool(), false);
    QCOMPARE(window.statusBar()->currentMessage(), QString("Stopped loading the model"));
    generateOnce(window, "The model loaded before still writes");
  }

  void generatesIntoCardsAndHistory() {
    MainWindow window(options());
    loadTinyModel(window);

    GuidancePanel* panel = window.guidancePanel();
    QCOMPARE(panel->probeRows().size(), 3);
    int pickers = 0;
    for (ProbeGuideRow* row : panel->probeRows()) pickers += row->classPicker() ? 1 : 0;
    QCOMPARE(pickers, 1);  // only "topic" has more than two classes

    GenerationSettings settings;
    settings.samples = 2;
    settings.maxNewTokens = 5;
    settings.steps = 3;
    settings.guides = {{"sentiment", 2.0, ""}};
    panel->setSettings(settings);
    window.editor()->setPlainText("It was a quiet morning");
    window.editor()->moveCursor(QTextCursor::End);

    QSignalSpy generated(&window, &MainWindow::generationSettled);
    window.generate();
    QVERIFY(generated.wait(kTimeoutMs));
    QCOMPARE(window.candidateCards().size(), 2);
    QCOMPARE(window.historyModel()->rowCount(), 1);
    const QModelIndex run = window.historyModel()->index(0, 0, window.historyModel()->index(0, 0));
    QCOMPARE(window.historyModel()->rowCount(run), 2);

    CandidateCard* card = window.candidateCards().first();
    QVERIFY(!card->text().isEmpty());
    emit card->insertRequested(card->text());
    QCOMPARE(window.editor()->toPlainText(), "It was a quiet morning" + card->text());
    window.editor()->undo();
    QCOMPARE(window.editor()->toPlainText(), QString("It was a quiet morning"));
  }

  void scoresGiveAdherenceThenTheTextsClassThenThePlansNamedWhenItDiffers() {
    dglm::Candidate candidate;
    candidate.probe_scores = {{"sentiment", {0.27f, 0.73f}}, {"topic", {0.6f, 0.1f, 0.3f}}};
    candidate.plan_scores = {{"sentiment", {0.03f, 0.97f}}, {"topic", {0.12f, 0.0f, 0.88f}}};
    const QVector<ProbeDescription> probes{{"sentiment", "", {"negative", "positive"}},
                                           {"topic", "", {"fiction", "politics", "science"}}};
    QCOMPARE(describeScores(candidate, probes),
             QString("sentiment: positive 0.73 (plan 0.97) · topic: fiction 0.60 (plan: science 0.88)"));
    candidate.adherence = 0.8765f;
    QCOMPARE(describeScores(candidate, probes),
             QString("plan followed 0.88 · sentiment: positive 0.73 (plan 0.97) · "
                     "topic: fiction 0.60 (plan: science 0.88)"));
    candidate.plan_scores.clear();  // the baselines write without a plan
    candidate.adherence.reset();
    QCOMPARE(describeScores(candidate, probes), QString("sentiment: positive 0.73 · topic: fiction 0.60"));
  }

  void cardsShadeTokensReplaceTheSelectionAndContinue() {
    QVERIFY(CandidateCard::surpriseColour(0.0).alpha() == 0);
    QVERIFY(CandidateCard::surpriseColour(-2.0).alpha() < CandidateCard::surpriseColour(-6.0).alpha());
    QCOMPARE(CandidateCard::surpriseColour(-50.0), CandidateCard::surpriseColour(-CandidateCard::kMaxSurprise));

    MainWindow window(options());
    QSignalSpy settled(&window, &MainWindow::modelSettled);
    window.openModel(modelDir_.path());
    QVERIFY(settled.wait(kTimeoutMs));
    GenerationSettings settings;
    settings.samples = 3;
    settings.maxNewTokens = 5;
    settings.steps = 3;
    window.guidancePanel()->setSettings(settings);
    window.editor()->setPlainText("one two three");
    window.editor()->moveCursor(QTextCursor::End);
    QSignalSpy generated(&window, &MainWindow::generationSettled);
    window.generate();
    QVERIFY(generated.wait(kTimeoutMs));

    // Every token carries its log-probability as a tooltip.
    CandidateCard* card = window.candidateCards().first();
    QStringList tooltips;
    for (QTextBlock block = card->body()->document()->begin(); block.isValid(); block = block.next()) {
      for (auto fragment = block.begin(); !fragment.atEnd(); ++fragment) tooltips << fragment.fragment().charFormat().toolTip();
    }
    QVERIFY(!tooltips.isEmpty());
    for (const QString& tooltip : tooltips) QVERIFY2(tooltip.startsWith("log-prob -") || tooltip.startsWith("log-prob 0"), qPrintable(tooltip));

    // Running perplexity on a log axis that shows every point, however surprising the first token was.
    PerplexityPlot* perplexity = window.perplexityPlot();
    QCOMPARE(perplexity->yAxis->scaleType(), QCPAxis::stLogarithmic);
    for (int sample = 0; sample < perplexity->graphCount(); ++sample) {
      bool found = false;
      const QCPRange values = perplexity->graph(sample)->getValueRange(found);
      QVERIFY(found);
      QVERIFY(perplexity->yAxis->range().contains(values.lower) && perplexity->yAxis->range().contains(values.upper));
    }

    // One bar per probe and sample in the probe-score plot (the texts), and a diamond on each (the plans).
    ProbeScorePlot* scores = window.probeScorePlot();
    QCOMPARE(scores->plottableCount(), 3 + 1);
    for (int probe = 0; probe < 3; ++probe)
      QCOMPARE(qobject_cast<QCPBars*>(scores->plottable(probe))->data()->size(), 3);
    QCOMPARE(scores->graphCount(), 1);
    QCOMPARE(scores->graph(0)->data()->size(), 3 * 3);
    QList<double> planned;
    for (auto point = scores->graph(0)->data()->constBegin(); point != scores->graph(0)->data()->constEnd(); ++point)
      planned << point->value;
    for (CandidateCard* card : window.candidateCards())  // unguided: each probe's last class, "positive" here
      QVERIFY(planned.contains(double(card->candidate().plan_scores.at("sentiment")[1])));

    // Both plots save as PNG and PDF.
    QTemporaryDir plots;
    for (QCustomPlot* plot : {static_cast<QCustomPlot*>(window.perplexityPlot()), static_cast<QCustomPlot*>(window.probeScorePlot())}) {
      for (const QString& name : {QStringLiteral("plot.png"), QStringLiteral("plot.pdf")}) {
        QVERIFY(savePlot(plot, plots.filePath(name)));
        QVERIFY(QFileInfo(plots.filePath(name)).size() > 0);
      }
    }

    // Replace selection: "two" becomes the candidate, one undo step.
    QTextCursor cursor = window.editor()->textCursor();
    cursor.setPosition(4);
    cursor.setPosition(7, QTextCursor::KeepAnchor);
    window.editor()->setTextCursor(cursor);
    emit card->replaceRequested(card->text());
    QCOMPARE(window.editor()->toPlainText(), "one " + card->text() + " three");
    window.editor()->undo();
    QCOMPARE(window.editor()->toPlainText(), QString("one two three"));

    // Continue from this card: inserted at the end, then a new run starts from there.
    window.editor()->moveCursor(QTextCursor::End);
    generated.clear();
    const QString continued = card->text();
    emit card->continueRequested(continued);
    QCOMPARE(window.editor()->toPlainText(), "one two three" + continued);
    QVERIFY(generated.wait(kTimeoutMs));
    const QModelIndex secondPrefix = window.historyModel()->index(1, 0);
    QCOMPARE(secondPrefix.data(HistoryModel::FullTextRole).toString(), "one two three" + continued);
  }

  // A finished card maps characters to tokens and offers each token's alternatives, never the drawn one.
  void cardOffersTheTokensTheModelWeighed() {
    dglm::Candidate candidate;
    candidate.text = " the cat sat";
    candidate.tokens = {{11, " the", -0.5f, {{11, " the", -0.5f}, {12, " a", -1.5f}}},
                        {21, " cat", -2.0f, {{22, " dog", -1.0f}, {21, " cat", -2.0f}, {23, "\n", -3.0f},
                                             {24, "%2&", -4.0f}}},
                        {31, " sat", -0.1f, {{31, " sat", -0.1f}}}};
    CandidateCard card(0);
    card.finish(candidate, {});
    QCOMPARE(card.tokenAt(0), 0);
    QCOMPARE(card.tokenAt(3), 0);
    QCOMPARE(card.tokenAt(4), 1);
    QCOMPARE(card.tokenAt(11), 2);
    QCOMPARE(card.tokenAt(12), -1);

    std::unique_ptr<QMenu> menu(card.alternativesMenu(1, nullptr));
    QVERIFY(menu);
    QStringList offered;
    for (QAction* action : menu->actions()) {
      if (action->isEnabled() && !action->isSeparator()) offered << action->text();
    }
    QCOMPARE(offered.size(), 3);
    QCOMPARE(offered[0], QStringLiteral("“ dog” (p = 0.37)"));
    QCOMPARE(offered[1], QStringLiteral("“↵” (p = 0.05)"));
    QCOMPARE(offered[2], QStringLiteral("“%2&&” (p = 0.018)"));  // shown as typed, not as a mnemonic
    // A context menu asks about the token under the mouse, or the one after the keyboard's caret.
    card.show();
    QVERIFY(QTest::qWaitForWindowExposed(&card));
    QTextCursor caret(card.body()->document());
    caret.setPosition(5);  // inside " cat"
    card.body()->setTextCursor(caret);
    QCOMPARE(card.tokenFor(QContextMenuEvent(QContextMenuEvent::Keyboard, {}, {})), 1);
    caret.setPosition(8);  // after the "t" of " cat"
    const QPoint rightHalfOfT = card.body()->cursorRect(caret).center() - QPoint(2, 0);
    QCOMPARE(card.tokenFor(QContextMenuEvent(QContextMenuEvent::Mouse, rightHalfOfT, rightHalfOfT)), 1);
    const QPoint leftHalfOfSpace = card.body()->cursorRect(caret).center() + QPoint(1, 0);
    QCOMPARE(card.tokenFor(QContextMenuEvent(QContextMenuEvent::Mouse, leftHalfOfSpace, leftHalfOfSpace)), 2);
    const QPoint pastTheEnd = card.body()->cursorRect(QTextCursor(card.body()->document())).center() + QPoint(600, 0);
    QCOMPARE(card.tokenFor(QContextMenuEvent(QContextMenuEvent::Mouse, pastTheEnd, pastTheEnd)), -1);

    // The menu itself, opened by the menu key (at the card's body) or a right-click (at its viewport), ends with
    // the token's alternatives.
    for (QWidget* target : {static_cast<QWidget*>(card.body()), card.body()->viewport()}) {
      QStringList lastItems;
      QTimer::singleShot(200, &card, [&lastItems] {
        if (QMenu* open = qobject_cast<QMenu*>(QApplication::activePopupWidget())) {
          lastItems << open->actions().last()->text();
          open->close();
        }
      });
      const bool byKeyboard = target == card.body();
      QContextMenuEvent request(byKeyboard ? QContextMenuEvent::Keyboard : QContextMenuEvent::Mouse,
                                byKeyboard ? QPoint() : rightHalfOfT, target->mapToGlobal(rightHalfOfT));
      QApplication::sendEvent(target, &request);
      QCOMPARE(lastItems, QStringList{"Write on with another token"});
    }

    QSignalSpy picked(&card, &CandidateCard::rewriteRequested);
    menu->actions().at(2)->trigger();
    QCOMPARE(picked.count(), 1);
    QCOMPARE(picked.first(), (QVariantList{0, 1, 22}));
    QVERIFY2(!card.alternativesMenu(2, nullptr), "the only token weighed there was the one drawn");

    candidate.text = "the cat sat";  // tidied by the core: the tokens no longer line up with the text
    card.finish(candidate, {});
    QCOMPARE(card.tokenAt(0), -1);
  }

  // Picking another token writes that card again from it; stopping the rewrite keeps the card's text.
  void pickingAnotherTokenWritesTheCardAgainFromIt() {
    MainWindow window(options());
    loadTinyModel(window);
    generateOnce(window, "It was a quiet morning", /*samples=*/2, /*maxNewTokens=*/8);

    CandidateCard* card = window.candidateCards().at(1);
    const dglm::Candidate before = card->candidate();
    const QString otherText = window.candidateCards().at(0)->text();
    QVERIFY(before.tokens.size() >= 3);
    const int start = int(QString::fromStdString(before.tokens[0].text + before.tokens[1].text).size());
    QCOMPARE(card->tokenAt(start), 2);
    std::unique_ptr<QMenu> menu(card->alternativesMenu(2, nullptr));
    QVERIFY(menu);
    QSignalSpy picked(card, &CandidateCard::rewriteRequested);
    QSignalSpy generated(&window, &MainWindow::generationSettled);
    menu->actions().at(2)->trigger();  // the first alternative after the drawn token's line
    QCOMPARE(picked.count(), 1);
    const int pick = picked.first().at(2).toInt();
    QVERIFY(pick != before.tokens[2].id);
    QVERIFY(card->isRewriting());
    QVERIFY(generated.wait(kTimeoutMs));

    const dglm::Candidate after = card->candidate();
    QVERIFY(!card->isRewriting());
    QVERIFY(after.tokens.size() >= 3);
    QCOMPARE(after.tokens[0].id, before.tokens[0].id);
    QCOMPARE(after.tokens[1].id, before.tokens[1].id);
    QCOMPARE(after.tokens[2].id, pick);
    QCOMPARE(after.proposal, before.proposal);
    QCOMPARE(card->text(), QString::fromStdString(after.text));
    QCOMPARE(window.candidateCards().at(0)->text(), otherText);
    QCOMPARE(window.perplexityPlot()->graph(1)->data()->size(), int(after.tokens.size()));
    const QModelIndex prefix = window.historyModel()->index(0, 0);
    QCOMPARE(window.historyModel()->rowCount(prefix), 2);  // the generation, then the rewrite
    const QModelIndex rewriteRun = window.historyModel()->index(1, 0, prefix);
    QCOMPARE(window.historyModel()->rowCount(rewriteRun), 1);
    QVERIFY2(rewriteRun.data().toString().contains("candidate 2 written again from token 3"),
             qPrintable(rewriteRun.data().toString()));

    // Stopped before it ends, a rewrite leaves the card as it was.
    const auto gate = holdTheWorker(*window.workerHost());
    menu.reset(card->alternativesMenu(0, nullptr));
    QVERIFY(menu);
    generated.clear();
    menu->actions().at(2)->trigger();
    QVERIFY(card->isRewriting());
    QVERIFY(card->text().isEmpty());
    window.stop();
    gate->release();
    QVERIFY(generated.wait(kTimeoutMs));
    QVERIFY(!card->isRewriting());
    QCOMPARE(card->text(), QString::fromStdString(after.text));
    QCOMPARE(window.perplexityPlot()->graph(1)->data()->size(), int(after.tokens.size()));
    QCOMPARE(window.historyModel()->rowCount(prefix), 2);

    // Another model's load makes the cards' proposals and tokens foreign: no more picking on them.
    QVERIFY(std::unique_ptr<QMenu>(card->alternativesMenu(0, nullptr)));
    loadTinyModel(window);
    QVERIFY(!std::unique_ptr<QMenu>(card->alternativesMenu(0, nullptr)));
  }

  // Against the sliders reversed, a rewrite contrasts the card's plan with the opposite plan of its run.
  void aRewriteKeepsTheOppositePlanOfItsRun() {
    MainWindow window(options());
    loadTinyModel(window);
    GenerationSettings settings;
    settings.samples = 2;
    settings.maxNewTokens = 6;
    settings.steps = 3;
    settings.guides = {{"sentiment", 2.0, ""}};
    settings.proposalGuidance = 2;
    settings.planContrast = dglm::PlanContrast::Opposite;
    generateWith(window, "It was a quiet morning", settings);

    CandidateCard* card = window.candidateCards().at(0);
    const dglm::Candidate before = card->candidate();
    QCOMPARE(before.opposite_proposal.size(), before.proposal.size());
    std::unique_ptr<QMenu> menu(card->alternativesMenu(0, nullptr));
    QVERIFY(menu);
    QSignalSpy generated(&window, &MainWindow::generationSettled);
    menu->actions().at(2)->trigger();
    QVERIFY(generated.wait(kTimeoutMs));
    const dglm::Candidate after = card->candidate();
    QCOMPARE(after.opposite_proposal.size(), before.opposite_proposal.size());
    for (size_t i = 0; i < before.opposite_proposal.size(); ++i)
      QVERIFY(qAbs(after.opposite_proposal[i] - before.opposite_proposal[i]) < 1e-6f);
  }

  void prefixIsTheSelectionOrTheTextBeforeTheCursor() {
    DraftEditor editor;
    editor.setPlainText("one two three");
    QTextCursor cursor = editor.textCursor();
    cursor.setPosition(7);
    editor.setTextCursor(cursor);
    QCOMPARE(editor.prefix(), QString("one two"));
    cursor.setPosition(4);
    cursor.setPosition(13, QTextCursor::KeepAnchor);
    editor.setTextCursor(cursor);
    QCOMPARE(editor.prefix(), QString("two three"));
    editor.insertContinuation(" four");
    QCOMPARE(editor.toPlainText(), QString("one two three four"));
  }
};

QTEST_MAIN(TestMainWindow)
#include "test_main_window.moc"
