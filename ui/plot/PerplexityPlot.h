// SPDX-License-Identifier: GPL-3.0-or-later
// Live running perplexity of each sample as its tokens arrive: where the model starts to struggle shows up
// as a rising curve. Right-click saves the plot as PNG or PDF.
#pragma once

#include <QColor>
#include <QVector>
#include <qcustomplot.h>

#include "plot/PlotStyle.h"
#include "plot/RunningPerplexity.h"

class PerplexityPlot : public QCustomPlot {
  Q_OBJECT

 public:
  // One curve: its legend name (empty: not in the legend) and colour.
  struct Series {
    QString name;
    QColor colour;
  };

  explicit PerplexityPlot(QWidget* parent = nullptr);

  // One curve per sample, in hues spread evenly so that K lines stay apart.
  void startRun(int samples);
  // Any curves, e.g. compare mode's samples coloured per pane.
  void startSeries(const QVector<Series>& series);
  void addToken(int series, double logprob);
  // Empties one curve, to be drawn again (a candidate written again from a picked token).
  void restartSeries(int series);

 private:
  QVector<RunningPerplexity> series_;
};

// Adds "Save plot as PNG…" and "Save plot as PDF…" to the plot's context menu.
void addPlotExportMenu(QCustomPlot* plot);
