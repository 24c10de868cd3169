// SPDX-License-Identifier: GPL-3.0-or-later
// Live running perplexity of each sample as its tokens arrive: where the model starts to struggle shows up
// as a rising curve.
#pragma once

#include <QVector>
#include <qcustomplot.h>

#include "plot/RunningPerplexity.h"

class PerplexityPlot : public QCustomPlot {
  Q_OBJECT

 public:
  explicit PerplexityPlot(QWidget* parent = nullptr);

  void startRun(int samples);
  void addToken(int sample, double logprob);

 private:
  QVector<RunningPerplexity> series_;
};
