// SPDX-License-Identifier: GPL-3.0-or-later
#include "candidates/CandidateCard.h"

#include <QApplication>
#include <QClipboard>
#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QTextBrowser>
#include <QVBoxLayout>
#include <cmath>

CandidateCard::CandidateCard(int sample, QWidget* parent) : QFrame(parent), sample_(sample) {
  setFrameShape(QFrame::StyledPanel);
  auto* layout = new QVBoxLayout(this);

  title_ = new QLabel(tr("<b>Candidate %1</b>").arg(sample + 1));
  layout->addWidget(title_);

  body_ = new QTextBrowser;
  body_->setOpenLinks(false);
  // About four lines each, so that several cards fit on screen at once.
  body_->setFixedHeight(body_->fontMetrics().lineSpacing() * 4 + 2 * body_->frameWidth() + 8);
  body_->setToolTip(tr("Shading: how surprised the model was by each token. Hover a token for its log-probability."));
  layout->addWidget(body_);

  status_ = new QLabel;
  status_->setWordWrap(true);
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
  text_ = QString::fromStdString(candidate.text);
  body_->clear();
  QString joined;
  for (const dglm::Token& token : candidate.tokens) joined += QString::fromStdString(token.text);
  if (joined == text_) {
    for (const dglm::Token& token : candidate.tokens) appendShaded(QString::fromStdString(token.text), token.logprob);
  } else {
    body_->setPlainText(text_);  // tidied text no longer lines up with its tokens: no shading
  }
  status_->setText(tr("perplexity %1%2").arg(candidate.perplexity, 0, 'f', 1).arg(scores.isEmpty() ? QString() : " · " + scores));
  enableActions(true);
}

void CandidateCard::markStopped() {
  updateStatus(tr("stopped"));
  enableActions(!text_.isEmpty());
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
