// SPDX-License-Identifier: GPL-3.0-or-later
#include "candidates/CandidateCard.h"

#include <QApplication>
#include <QClipboard>
#include <QContextMenuEvent>
#include <QHBoxLayout>
#include <QLabel>
#include <QMenu>
#include <QPushButton>
#include <QTextBrowser>
#include <QVBoxLayout>
#include <algorithm>
#include <cmath>
#include <memory>

QString describeScores(const dglm::Candidate& candidate, const QVector<ProbeDescription>& probes) {
  const auto className = [&](const std::string& probe, int index) {
    for (const ProbeDescription& description : probes)
      if (description.name == QString::fromStdString(probe) && index < description.classes.size())
        return description.classes[index];
    return QString::number(index);
  };
  const auto mostLikely = [](const std::vector<float>& probabilities) {
    return int(std::max_element(probabilities.begin(), probabilities.end()) - probabilities.begin());
  };
  QStringList parts;
  if (candidate.adherence) parts << QObject::tr("plan followed %1").arg(double(*candidate.adherence), 0, 'f', 2);
  for (const auto& [probe, probabilities] : candidate.probe_scores) {
    if (probabilities.empty()) continue;
    const int written = mostLikely(probabilities);
    QString part = QStringLiteral("%1: %2 %3")
                       .arg(QString::fromStdString(probe), className(probe, written))
                       .arg(probabilities[size_t(written)], 0, 'f', 2);
    const auto plan = candidate.plan_scores.find(probe);
    if (plan != candidate.plan_scores.end() && !plan->second.empty()) {
      const int planned = mostLikely(plan->second);
      const QString score = QString::number(plan->second[size_t(planned)], 'f', 2);
      part += planned == written ? QStringLiteral(" (plan %1)").arg(score)
                                 : QStringLiteral(" (plan: %1 %2)").arg(className(probe, planned), score);
    }
    parts << part;
  }
  return parts.join(QStringLiteral(" · "));
}

CandidateCard::CandidateCard(int sample, QWidget* parent) : QFrame(parent), sample_(sample) {
  setFrameShape(QFrame::StyledPanel);
  auto* layout = new QVBoxLayout(this);

  title_ = new QLabel(tr("<b>Candidate %1</b>").arg(sample + 1));
  layout->addWidget(title_);

  body_ = new QTextBrowser;
  body_->setOpenLinks(false);
  // About four lines each, so that several cards fit on screen at once.
  body_->setFixedHeight(body_->fontMetrics().lineSpacing() * 4 + 2 * body_->frameWidth() + 8);
  body_->setToolTip(tr("Shading: how surprised the model was by each token. Hover a token for its log-probability; "
                       "right-click it (or press the menu key at the caret) to pick another token there and write "
                       "on from it."));
  // The caret moves with the keyboard too, so that the menu key picks a token as a right-click does.
  body_->setTextInteractionFlags(Qt::TextBrowserInteraction | Qt::TextSelectableByKeyboard);
  body_->installEventFilter(this);  // the menu key's event arrives here, a right-click's at the viewport
  body_->viewport()->installEventFilter(this);
  layout->addWidget(body_);

  status_ = new QLabel;
  status_->setWordWrap(true);
  status_->setToolTip(tr("Perplexity of the continuation; how closely its meaning follows the plan, the proposal "
                         "the sliders steered before any word was written (cosine, 1: the same meaning); and what "
                         "each probe reads in the written text, in brackets what it reads in the plan. The words "
                         "follow the plan only in part; plan guidance makes them follow it more closely."));
  layout->addWidget(status_);

  auto* buttons = new QHBoxLayout;
  const auto addAction = [&](const QString& label, const QString& toolTip, auto onClick) {
    auto* button = new QPushButton(label);
    button->setToolTip(toolTip);
    connect(button, &QPushButton::clicked, this, onClick);
    buttons->addWidget(button);
    actions_.append(button);
  };
  addAction(tr("Insert at cursor"), tr("Insert this continuation into the draft (undo with Ctrl+Z)"),
            [this] { emit insertRequested(text_); });
  addAction(tr("Replace selection"), tr("Put this continuation in place of the selected text (undo with Ctrl+Z)"),
            [this] { emit replaceRequested(text_); });
  addAction(tr("Continue from this card"), tr("Insert this continuation, then write on from its end"),
            [this] { emit continueRequested(text_); });
  addAction(tr("Copy"), tr("Copy this continuation to the clipboard"),
            [this] { QApplication::clipboard()->setText(text_); });
  buttons->addStretch(1);
  layout->addLayout(buttons);

  enableActions(false);
  updateStatus(tr("waiting…"));
}

QColor CandidateCard::surpriseColour(double logprob) {
  const double strength = qBound(0.0, -logprob / kMaxSurprise, 1.0);
  return QColor(255, 140, 0, int(std::lround(strength * 170)));
}

void CandidateCard::appendShaded(const QString& text, double logprob) {
  QTextCharFormat format;
  format.setBackground(surpriseColour(logprob));
  format.setToolTip(tr("log-prob %1 (p = %2)").arg(logprob, 0, 'f', 2).arg(std::exp(logprob), 0, 'g', 2));
  QTextCursor cursor(body_->document());
  cursor.movePosition(QTextCursor::End);
  cursor.insertText(text, format);
}

void CandidateCard::appendToken(const QString& text, double logprob) {
  text_ += text;
  perplexity_.add(logprob);
  appendShaded(text, logprob);
  updateStatus();
}

void CandidateCard::finish(const dglm::Candidate& candidate, const QString& scores) {
  candidate_ = candidate;
  scores_ = scores;
  rewriting_ = false;
  showCandidate();
  status_->setText(tr("perplexity %1%2").arg(candidate.perplexity, 0, 'f', 1).arg(scores.isEmpty() ? QString() : " · " + scores));
  enableActions(true);
}

void CandidateCard::showCandidate() {
  text_ = QString::fromStdString(candidate_.text);
  body_->clear();
  tokenEnds_.clear();
  QString joined;
  for (const dglm::Token& token : candidate_.tokens) joined += QString::fromStdString(token.text);
  if (joined != text_) {
    body_->setPlainText(text_);  // tidied text no longer lines up with its tokens: no shading, no picking
    return;
  }
  for (const dglm::Token& token : candidate_.tokens) {
    const QString piece = QString::fromStdString(token.text);
    appendShaded(piece, token.logprob);
    tokenEnds_.append((tokenEnds_.isEmpty() ? 0 : tokenEnds_.last()) + int(piece.size()));
  }
}

void CandidateCard::markInterrupted(const QString& reason) {
  if (rewriting_) {  // the rewrite did not finish: the candidate it started from is still the card's
    finish(candidate_, scores_);
    status_->setText(tr("%1 · writing again %2: kept this text").arg(status_->text(), reason));
    return;
  }
  updateStatus(reason);
  enableActions(!text_.isEmpty());
}

void CandidateCard::beginRewrite() {
  rewriting_ = true;
  text_.clear();
  perplexity_ = {};
  body_->clear();
  tokenEnds_.clear();
  enableActions(false);
  updateStatus(tr("writing again from the picked token…"));
}

int CandidateCard::tokenAt(int position) const {
  const auto after = std::upper_bound(tokenEnds_.begin(), tokenEnds_.end(), position);
  return after == tokenEnds_.end() ? -1 : int(after - tokenEnds_.begin());
}

// Quoted, with the line breaks and leading spaces that matter between tokens made visible, and '&' doubled so that
// a menu shows it rather than taking it for a mnemonic.
static QString shownToken(const std::string& text) {
  QString shown = QString::fromStdString(text).replace('\n', QStringLiteral("↵")).replace('&', QStringLiteral("&&"));
  return QStringLiteral("“") + shown + QStringLiteral("”");
}

QMenu* CandidateCard::alternativesMenu(int tokenIndex, QWidget* parent) {
  if (!pickingEnabled_ || tokenIndex < 0 || tokenIndex >= int(candidate_.tokens.size())) return nullptr;
  const dglm::Token& current = candidate_.tokens[size_t(tokenIndex)];
  auto* menu = new QMenu(tr("Write on with another token"), parent);
  menu->setToolTipsVisible(true);
  // One arg() call: a token's own text may hold "%2".
  const auto probability = [](float logprob) { return QString::number(std::exp(logprob), 'g', 2); };
  menu->addAction(tr("In the text: %1 (p = %2)").arg(shownToken(current.text), probability(current.logprob)))
      ->setEnabled(false);
  menu->addSeparator();
  for (const dglm::TokenChoice& choice : current.alternatives) {
    if (choice.id == current.id) continue;
    QAction* action =
        menu->addAction(tr("%1 (p = %2)").arg(shownToken(choice.text), probability(choice.logprob)));
    action->setToolTip(tr("Keep the text before it, put this token here, and write the rest again"));
    const int id = choice.id;
    connect(action, &QAction::triggered, this,
            [this, tokenIndex, id] { emit rewriteRequested(sample_, tokenIndex, id); });
  }
  if (menu->actions().size() > 2) return menu;
  delete menu;
  return nullptr;
}

int CandidateCard::tokenFor(const QContextMenuEvent& event) const {
  if (event.reason() == QContextMenuEvent::Keyboard) return tokenAt(body_->textCursor().position());
  // The cursor lands on the nearer edge of the clicked character: step back when that is its right edge.
  const QTextCursor cursor = body_->cursorForPosition(event.pos());
  return tokenAt(cursor.position() - (body_->cursorRect(cursor).left() > event.pos().x() ? 1 : 0));
}

bool CandidateCard::eventFilter(QObject* watched, QEvent* event) {
  if ((watched != body_ && watched != body_->viewport()) || event->type() != QEvent::ContextMenu)
    return QFrame::eventFilter(watched, event);
  const auto& request = static_cast<const QContextMenuEvent&>(*event);
  std::unique_ptr<QMenu> menu(body_->createStandardContextMenu());
  if (QMenu* alternatives = alternativesMenu(tokenFor(request), menu.get())) {  // none while streaming
    menu->addSeparator();
    menu->addMenu(alternatives);
  }
  const bool byKeyboard = request.reason() == QContextMenuEvent::Keyboard;
  menu->exec(byKeyboard ? body_->viewport()->mapToGlobal(body_->cursorRect().bottomLeft()) : request.globalPos());
  return true;
}

void CandidateCard::enableActions(bool enabled) {
  for (QPushButton* button : actions_) button->setEnabled(enabled);
}

void CandidateCard::updateStatus(const QString& extra) {
  QString line = tr("%n token(s)", nullptr, perplexity_.tokens());
  if (perplexity_.tokens() > 0) line += tr(" · running perplexity %1").arg(perplexity_.value(), 0, 'f', 1);
  if (!extra.isEmpty()) line += " · " + extra;
  status_->setText(line);
}
