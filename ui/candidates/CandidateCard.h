// SPDX-License-Identifier: GPL-3.0-or-later
// One of the K continuations: streams its tokens as they arrive, then shows perplexity and probe scores.
#pragma once

#include <QFrame>

#include "plot/RunningPerplexity.h"

class QLabel;
class QPushButton;
class QTextBrowser;

class CandidateCard : public QFrame {
  Q_OBJECT

 public:
  CandidateCard(int sample, QWidget* parent = nullptr);

  void appendToken(const QString& text, double logprob);
  // The final text replaces the streamed one (the core may tidy whitespace); `scores` is HTML-free text.
  void finish(const QString& text, double perplexity, const QString& scores);
  void markStopped();
  QString text() const { return text_; }

 signals:
  void insertRequested(const QString& text);

 private:
  void updateStatus(const QString& extra = {});

  int sample_;
  QString text_;
  RunningPerplexity perplexity_;
  QLabel* title_ = nullptr;
  QTextBrowser* body_ = nullptr;
  QLabel* status_ = nullptr;
  QPushButton* insert_ = nullptr;
  QPushButton* copy_ = nullptr;
};
