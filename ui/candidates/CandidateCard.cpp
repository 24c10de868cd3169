// SPDX-License-Identifier: GPL-3.0-or-later
#include "candidates/CandidateCard.h"

#include <QApplication>
#include <QClipboard>
#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QTextBrowser>
#include <QVBoxLayout>

CandidateCard::CandidateCard(int sample, QWidget* parent) : QFrame(parent), sample_(sample) {
  setFrameShape(QFrame::StyledPanel);
  auto* layout = new QVBoxLayout(this);

  title_ = new QLabel(tr("<b>Candidate %1</b>").arg(sample + 1));
  layout->addWidget(title_);

  body_ = new QTextBrowser;
  body_->setOpenLinks(false);
  body_->setMinimumHeight(70);
  layout->addWidget(body_, 1);

  status_ = new QLabel;
  status_->setWordWrap(true);
  layout->addWidget(status_);

  auto* buttons = new QHBoxLayout;
  insert_ = new QPushButton(tr("Insert at cursor"));
  insert_->setToolTip(tr("Insert this continuation into the draft (undo with Ctrl+Z)"));
  copy_ = new QPushButton(tr("Copy"));
  buttons->addWidget(insert_);
  buttons->addWidget(copy_);
  buttons->addStretch(1);
  layout->addLayout(buttons);

  connect(insert_, &QPushButton::clicked, this, [this] { emit insertRequested(text_); });
  connect(copy_, &QPushButton::clicked, this, [this] { QApplication::clipboard()->setText(text_); });
  insert_->setEnabled(false);
  copy_->setEnabled(false);
  updateStatus(tr("waiting…"));
}

void CandidateCard::appendToken(const QString& text, double logprob) {
  text_ += text;
  perplexity_.add(logprob);
  body_->moveCursor(QTextCursor::End);
  body_->insertPlainText(text);
  updateStatus();
}

void CandidateCard::finish(const QString& text, double perplexity, const QString& scores) {
  text_ = text;
  body_->setPlainText(text);
  status_->setText(tr("perplexity %1%2").arg(perplexity, 0, 'f', 1).arg(scores.isEmpty() ? QString() : " · " + scores));
  insert_->setEnabled(true);
  copy_->setEnabled(true);
}

void CandidateCard::markStopped() {
  updateStatus(tr("stopped"));
  const bool hasText = !text_.isEmpty();
  insert_->setEnabled(hasText);
  copy_->setEnabled(hasText);
}

void CandidateCard::updateStatus(const QString& extra) {
  QString line = tr("%n token(s)", nullptr, perplexity_.tokens());
  if (perplexity_.tokens() > 0) line += tr(" · running perplexity %1").arg(perplexity_.value(), 0, 'f', 1);
  if (!extra.isEmpty()) line += " · " + extra;
  status_->setText(line);
}
