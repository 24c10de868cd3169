// SPDX-License-Identifier: GPL-3.0-or-later
#include "plot/PerplexityPlot.h"

#include <QFileDialog>
#include <QMenu>
#include <QMessageBox>

PerplexityPlot::PerplexityPlot(QWidget* parent) : QCustomPlot(parent) {
  xAxis->setLabel(tr("tokens"));
  yAxis->setLabel(tr("running perplexity"));
  // Running perplexity spans orders of magnitude (thousands after a surprising first token, tens once a
  // sample settles): on a log axis every curve stays readable.
  yAxis->setScaleType(QCPAxis::stLogarithmic);
  yAxis->setTicker(QSharedPointer<QCPAxisTickerLog>::create());
  xAxis->setRange(0, 32);
  yAxis->setRange(1, 100);
  legend->setVisible(false);  // shown once there are samples to name
  styleLegend(this);
  setMinimumHeight(160);
  addPlotExportMenu(this);
}

void PerplexityPlot::startRun(int samples) {
  QVector<Series> series;
  for (int sample = 0; sample < samples; ++sample) {
    series.append({tr("Sample %1").arg(sample + 1), seriesColour(sample, samples)});
  }
  startSeries(series);
}

void PerplexityPlot::startSeries(const QVector<Series>& series) {
  clearGraphs();
  series_ = QVector<RunningPerplexity>(series.size());
  bool anyNamed = false;
  for (const Series& curve : series) {
    QCPGraph* graph = addGraph();
    graph->setPen(QPen(curve.colour, 2));
    graph->setName(curve.name);
    if (curve.name.isEmpty()) graph->removeFromLegend();
    anyNamed = anyNamed || !curve.name.isEmpty();
  }
  legend->setVisible(anyNamed);
  replot(QCustomPlot::rpQueuedReplot);
}

void PerplexityPlot::addToken(int series, double logprob) {
  if (series < 0 || series >= series_.size()) return;
  const double value = series_[series].add(logprob);
  graph(series)->addData(series_[series].tokens(), value);
  rescaleAxes();
  xAxis->setRangeLower(0);
  yAxis->setRangeLower(qMin(1.0, yAxis->range().lower));
  yAxis->setRangeUpper(yAxis->range().upper * 1.5);  // headroom for the legend, on the log scale
  replot(QCustomPlot::rpQueuedReplot);  // many tokens per frame coalesce into one repaint
}

void PerplexityPlot::restartSeries(int series) {
  if (series < 0 || series >= series_.size()) return;
  series_[series] = {};
  graph(series)->data()->clear();
  replot(QCustomPlot::rpQueuedReplot);
}

void addPlotExportMenu(QCustomPlot* plot) {
  plot->setContextMenuPolicy(Qt::CustomContextMenu);
  QObject::connect(plot, &QWidget::customContextMenuRequested, plot, [plot](const QPoint& position) {
    QMenu menu(plot);
    const auto saveAs = [plot](const QString& filter, const QString& suffix) {
      QString path = QFileDialog::getSaveFileName(plot, QCustomPlot::tr("Save plot"), QStringLiteral("plot.") + suffix, filter);
      if (path.isEmpty()) return;
      if (!path.endsWith("." + suffix, Qt::CaseInsensitive)) path += "." + suffix;
      if (!savePlot(plot, path)) QMessageBox::warning(plot, QCustomPlot::tr("Save plot"), QCustomPlot::tr("Could not write %1").arg(path));
    };
    menu.addAction(QCustomPlot::tr("Save plot as PNG…"), plot, [saveAs] { saveAs(QCustomPlot::tr("PNG images (*.png)"), "png"); });
    menu.addAction(QCustomPlot::tr("Save plot as PDF…"), plot, [saveAs] { saveAs(QCustomPlot::tr("PDF documents (*.pdf)"), "pdf"); });
    menu.exec(plot->mapToGlobal(position));
  });
}
