// SPDX-License-Identifier: GPL-3.0-or-later
#include "ScreenshotTour.h"

#include <QApplication>
#include <QMenu>
#include <QPainter>
#include <QTextBrowser>
#include <QTextCursor>
#include <algorithm>
#include <cstdio>

#include "MainWindow.h"
#include "candidates/CandidateCard.h"
#include "compare/CompareWindow.h"
#include "editor/DraftEditor.h"
#include "guidance/GuidancePanel.h"
#include "probes/ProbeTrainingDialog.h"

namespace {

constexpr int kWatchdogMs = 15 * 60 * 1000;  // the default model on 2 cores: minutes, not hours
constexpr int kSettleMs = 400;               // for queued replots and layouts before a screenshot
constexpr auto kPrefix = "The old lighthouse keeper climbed the stairs one last time, and";

// Weights that steer the default model clearly (docs/EVALUATION.md): topic 30, avoiding offensive language 100.
GenerationSettings tourSettings(const QString& topic, double sigma2, quint64 seed) {
  GenerationSettings settings;
  settings.samples = 4;
  settings.sigma2 = sigma2;
  settings.seed = seed;
  settings.guides = {{"topic", 30, topic}, {"offensive", -100, ""}};
  return settings;
}

}  // namespace

ScreenshotTour::ScreenshotTour(MainWindow* window, const QString& outputDirectory, const QString& probeCsv,
                               QObject* parent)
    : QObject(parent), window_(window), output_(outputDirectory), probeCsv_(probeCsv) {
  watchdog_.setSingleShot(true);
  watchdog_.setInterval(kWatchdogMs);
  connect(&watchdog_, &QTimer::timeout, this, [this] { fail(tr("the tour took longer than 15 minutes")); });
}

void ScreenshotTour::start() {
  if (!output_.mkpath(".")) return fail(tr("cannot create %1").arg(output_.path()));
  watchdog_.start();
  connect(window_, &MainWindow::modelSettled, this, [this](bool loaded) {
    if (!loaded) return fail(tr("the model did not load"));
    setUpDraft();
  }, Qt::SingleShotConnection);
}

void ScreenshotTour::setUpDraft() {
  window_->editor()->setPlainText(QString::fromLatin1(kPrefix));
  window_->editor()->moveCursor(QTextCursor::End);
  window_->guidancePanel()->setSettings(tourSettings("science", /*sigma2=*/0.1, /*seed=*/11));
  capture(window_, "01-prefix-and-sliders", &ScreenshotTour::generate);
}

void ScreenshotTour::generate() {
  connect(window_, &MainWindow::generationSettled, this,
          [this] { capture(window_, "02-four-continuations", &ScreenshotTour::openAlternatives); },
          Qt::SingleShotConnection);
  window_->generate();
}

// Opens the menu of the first card's most surprising token, as a right-click would.
void ScreenshotTour::openAlternatives() {
  CandidateCard* card = window_->candidateCards().first();
  const std::vector<dglm::Token>& tokens = card->candidate().tokens;
  int chosen = -1, chosenStart = 0, start = 0;
  for (int i = 0; i < int(tokens.size()); ++i) {
    const dglm::Token& token = tokens[size_t(i)];
    const bool hasOthers = std::any_of(token.alternatives.begin(), token.alternatives.end(),
                                       [&](const dglm::TokenChoice& choice) { return choice.id != token.id; });
    if (hasOthers && (chosen < 0 || token.logprob < tokens[size_t(chosen)].logprob)) {
      chosen = i;
      chosenStart = start;
    }
    start += int(QString::fromStdString(token.text).size());
  }
  alternatives_ = card->alternativesMenu(chosen, card);
  if (!alternatives_) return fail(tr("no token of the first card has alternatives"));
  QTextCursor cursor(card->body()->document());
  cursor.setPosition(chosenStart);
  alternatives_->popup(card->body()->viewport()->mapToGlobal(card->body()->cursorRect(cursor).bottomLeft()));
  capture(window_, "03-pick-another-token", &ScreenshotTour::pickAlternative, alternatives_);
}

// Picks the likeliest alternative: the card is written again from there.
void ScreenshotTour::pickAlternative() {
  QAction* likeliest = alternatives_->actions().at(2);  // after the drawn token's line and a separator
  alternatives_->close();
  connect(window_, &MainWindow::generationSettled, this,
          [this] { capture(window_, "04-card-written-again", &ScreenshotTour::compare); }, Qt::SingleShotConnection);
  likeliest->trigger();
}

void ScreenshotTour::compare() {
  CompareWindow* compare = window_->showCompare();
  compare->setPaneCount(2);
  compare->pin(0, tourSettings("science", /*sigma2=*/0.05, /*seed=*/11));
  compare->pin(1, tourSettings("politics", /*sigma2=*/0.05, /*seed=*/11));
  connect(compare, &CompareWindow::runSettled, this, [this, compare] {
    capture(compare, "05-compare-two-settings", &ScreenshotTour::trainProbe);
  }, Qt::SingleShotConnection);
  compare->run(window_->editor()->prefix());
}

void ScreenshotTour::trainProbe() {
  window_->showCompare()->hide();
  ProbeTrainingDialog* dialog = window_->showProbeTraining();
  connect(dialog, &ProbeTrainingDialog::inspected, this, [this, dialog] {
    if (!dialog->inspection().error.isEmpty()) return fail(dialog->inspection().error);
    capture(dialog, "06-probe-from-csv", &ScreenshotTour::startTraining);
  }, Qt::SingleShotConnection);
  dialog->setCsvPath(probeCsv_);
}

void ScreenshotTour::startTraining() {
  ProbeTrainingDialog* dialog = window_->showProbeTraining();
  dialog->setProbeName("formality");
  connect(dialog, &ProbeTrainingDialog::trainingSettled, this, [this, dialog](bool trained) {
    if (!trained) return fail(dialog->messageText());
    capture(dialog, "07-probe-trained", &ScreenshotTour::showNewSlider);
  }, Qt::SingleShotConnection);
  if (!dialog->startTraining()) fail(dialog->messageText());
}

void ScreenshotTour::showNewSlider() {
  window_->showProbeTraining()->hide();
  capture(window_, "08-new-probe-slider", &ScreenshotTour::finish);
}

void ScreenshotTour::finish() { QApplication::exit(0); }

void ScreenshotTour::capture(QWidget* widget, const QString& name, void (ScreenshotTour::*next)(), QWidget* popup) {
  // A moment first, so that queued replots and layouts have run.
  QTimer::singleShot(kSettleMs, this, [this, widget, name, next, popup] {
    const QString path = output_.filePath(name + ".png");
    QPixmap picture = widget->grab();
    if (popup) {
      QPainter painter(&picture);
      painter.drawPixmap(widget->mapFromGlobal(popup->mapToGlobal(QPoint(0, 0))), popup->grab());
    }
    if (!picture.save(path)) return fail(tr("could not write %1").arg(path));
    std::printf("dglm-writer: tour screenshot %s\n", qPrintable(path));
    std::fflush(stdout);
    (this->*next)();
  });
}

void ScreenshotTour::fail(const QString& message) {
  std::fprintf(stderr, "dglm-writer: tour failed: %s\n", qPrintable(message));
  QApplication::exit(1);
}
