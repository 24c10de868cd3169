// SPDX-License-Identifier: GPL-3.0-or-later
#include "plot/PerplexityPlot.h"

PerplexityPlot::PerplexityPlot(QWidget* parent) : QCustomPlot(parent) {
  xAxis->setLabel(tr("tokens"));
  yAxis->setLabel(tr("running perplexity"));
  xAxis->setRange(0, 32);
  yAxis->setRange(1, 100);
  legend->setVisible(false);  // shown once there are samples to name
  legend->setFont(font());
  axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignTop | Qt::AlignRight);
  setMinimumHeight(160);
}

void PerplexityPlot::startRun(int samples) {
  clearGraphs();
  series_ = QVector<RunningPerplexity>(samples);
  for (int sample = 0; sample < samples; ++sample) {
    QCPGraph* graph = addGraph();
    graph->setName(tr("Sample %1").arg(sample + 1));
    // Hues spread evenly so that K lines stay apart.
    graph->setPen(QPen(QColor::fromHsv((sample * 360 / qMax(samples, 1) + 210) % 360, 200, 200), 2));
  }
  legend->setVisible(samples > 0);
  replot(QCustomPlot::rpQueuedReplot);
}

void PerplexityPlot::addToken(int sample, double logprob) {
  if (sample < 0 || sample >= series_.size()) return;
  const double value = series_[sample].add(logprob);
  graph(sample)->addData(series_[sample].tokens(), value);
  rescaleAxes();
  xAxis->setRangeLower(0);
  yAxis->setRangeLower(qMin(1.0, yAxis->range().lower));
  yAxis->setRangeUpper(yAxis->range().upper * 1.1);
  replot(QCustomPlot::rpQueuedReplot);  // many tokens per frame coalesce into one repaint
}
