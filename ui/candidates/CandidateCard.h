// SPDX-License-Identifier: GPL-3.0-or-later
// One of the K continuations: streams its tokens as they arrive, each shaded by how surprised the model was
// (tooltip: the token's log-probability), then shows perplexity and probe scores. Its text can be inserted,
// replace the selection, or be continued from.
#pragma once

#include <QColor>
#include <QFrame>

#include "dglm/generator.h"
#include "plot/RunningPerplexity.h"

class QLabel;
class QPushButton;
class QTextBrowser;

class CandidateCard : public QFrame {
  Q_OBJECT

 public:
  // Surprise (-log-prob, nats) at which the shading is strongest: p = e^-8 ≈ 0.0003.
  static constexpr double kMaxSurprise = 8.0;

  CandidateCard(int sample, QWidget* parent = nullptr);

  // Background for a token: transparent when the model was sure, deep orange when it was surprised.
  static QColor surpriseColour(double logprob);

  void appendToken(const QString& text, double logprob);
  // The final text replaces the streamed one (the core may tidy whitespace); `scores` is HTML-free text.
  void finish(const dglm::Candidate& candidate, const QString& scores);
  void markStopped();
  QString text() const { return text_; }
  QTextBrowser* body() const { return body_; }

 signals:
  void insertRequested(const QString& text);
  void replaceRequested(const QString& text);
  // Insert this text, then write on from the end of it.
  void continueRequested(const QString& text);

 private:
  void appendShaded(const QString& text, double logprob);
  void updateStatus(const QString& extra = {});
  void enableActions(bool enabled);

  int sample_;
  QString text_;
  RunningPerplexity perplexity_;
  QLabel* title_ = nullptr;
  QTextBrowser* body_ = nullptr;
  QLabel* status_ = nullptr;
  QList<QPushButton*> actions_;
};
