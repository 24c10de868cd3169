// SPDX-License-Identifier: GPL-3.0-or-later
// One of the K continuations: streams its tokens as they arrive, each shaded by how surprised the model was
// (tooltip: the token's log-probability), then shows perplexity and probe scores. Its text can be inserted,
// replace the selection, or be continued from. Once finished, right-clicking a token (or the menu key at the
// caret) offers the tokens the model weighed there: picking one asks for the continuation to be written again.
#pragma once

#include <QColor>
#include <QFrame>
#include <QVector>

#include "dglm/generator.h"
#include "guidance/GenerationSettings.h"
#include "plot/RunningPerplexity.h"

class QContextMenuEvent;
class QLabel;
class QMenu;
class QPushButton;
class QTextBrowser;

// "plan followed 0.91 · sentiment: positive 0.82 (plan 0.97) · topic: sports 0.61 (plan: science 0.88)": the
// candidate's adherence to the plan (the proposal the sliders steered), then each probe's most likely class for the
// written text and, in brackets, for the plan, named when it differs.
QString describeScores(const dglm::Candidate& candidate, const QVector<ProbeDescription>& probes);

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
  // The run ended early (`reason`: "stopped", "failed"): the card keeps what streamed in, except one being
  // written again, which shows its previous candidate.
  void markInterrupted(const QString& reason);
  // The continuation is being written again from a picked token: its tokens stream in anew.
  void beginRewrite();
  bool isRewriting() const { return rewriting_; }
  QString text() const { return text_; }
  // The last finished candidate (empty before the first).
  const dglm::Candidate& candidate() const { return candidate_; }
  QTextBrowser* body() const { return body_; }

  // Picking another token needs the model that wrote the card: turned off for good once another one loads.
  void disablePicking() { pickingEnabled_ = false; }

  // The token of the finished candidate at a character position of the body; -1 when none (still streaming,
  // or text that no longer lines up with its tokens).
  int tokenAt(int position) const;
  // The token a context menu event on the body is about: the one under the mouse, or after the keyboard's caret.
  int tokenFor(const QContextMenuEvent& event) const;
  // "Write on with another token" for token `tokenIndex`: one action per alternative the model weighed
  // there, other than the token in the text; null when there are none or picking is off.
  QMenu* alternativesMenu(int tokenIndex, QWidget* parent);

 signals:
  void insertRequested(const QString& text);
  void replaceRequested(const QString& text);
  // Insert this text, then write on from the end of it.
  void continueRequested(const QString& text);
  // Write this candidate again: its tokens before tokenIndex, then tokenId, then whatever follows.
  void rewriteRequested(int sample, int tokenIndex, int tokenId);

 private:
  void appendShaded(const QString& text, double logprob);
  void showCandidate();
  // The body's context menu (right-click, or the menu key at the caret), with the token's alternatives.
  bool eventFilter(QObject* watched, QEvent* event) override;
  void updateStatus(const QString& extra = {});
  void enableActions(bool enabled);

  int sample_;
  QString text_;
  RunningPerplexity perplexity_;
  dglm::Candidate candidate_;
  QString scores_;
  QVector<int> tokenEnds_;  // character position after each token of candidate_; empty: no picking
  bool rewriting_ = false;
  bool pickingEnabled_ = true;
  QLabel* title_ = nullptr;
  QTextBrowser* body_ = nullptr;
  QLabel* status_ = nullptr;
  QList<QPushButton*> actions_;
};
