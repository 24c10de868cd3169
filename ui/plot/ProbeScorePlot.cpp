// SPDX-License-Identifier: GPL-3.0-or-later
#include "plot/ProbeScorePlot.h"

#include "plot/PerplexityPlot.h"

ProbeScorePlot::ProbeScorePlot(QWidget* parent) : QCustomPlot(parent) {
  xAxis->setLabel(tr("sample"));
  yAxis->setLabel(tr("probe score"));
  yAxis->setRange(0, 1.05);
  styleLegend(this);
  setMinimumHeight(160);
  addPlotExportMenu(this);
  clearScores();
}

void ProbeScorePlot::clearScores() {
  clearPlottables();
  legend->setVisible(false);
  xAxis->setRange(0.5, 1.5);
  replot(QCustomPlot::rpQueuedReplot);
}

void ProbeScorePlot::showScores(const std::vector<dglm::Candidate>& candidates, const GenerationSettings& settings,
                                const QVector<ProbeDescription>& probes) {
  clearPlottables();
  const double barWidth = 0.8 / qMax<qsizetype>(1, probes.size());
  QSharedPointer<QCPAxisTickerText> ticker(new QCPAxisTickerText);
  for (size_t sample = 0; sample < candidates.size(); ++sample) ticker->addTick(double(sample + 1), QString::number(sample + 1));
  xAxis->setTicker(ticker);
  QVector<double> planKeys, planValues;
  for (int index = 0; index < probes.size(); ++index) {
    const ProbeDescription& probe = probes[index];
    const int scored = scoredClassIndex(probe, settings);
    auto* bars = new QCPBars(xAxis, yAxis);
    bars->setName(tr("%1: %2").arg(probe.name, probe.classes.value(scored)));
    const QColor colour = QColor::fromHsv((index * 360 / qMax<qsizetype>(1, probes.size()) + 30) % 360, 170, 220);
    bars->setBrush(colour);
    bars->setPen(colour.darker(130));
    bars->setWidth(barWidth);
    const double offset = (index - (probes.size() - 1) / 2.0) * barWidth;  // the probes' bars side by side
    for (size_t sample = 0; sample < candidates.size(); ++sample) {
      const double x = double(sample + 1) + offset;
      if (const auto written = classProbability(candidates[sample].probe_scores, probe.name, scored))
        bars->addData(x, *written);
      if (const auto planned = classProbability(candidates[sample].plan_scores, probe.name, scored)) {
        planKeys << x;
        planValues << *planned;
      }
    }
  }
  // Added last, so that the markers are drawn over the bars.
  if (!planKeys.isEmpty()) {
    QCPGraph* plan = addGraph();
    plan->setName(tr("plan: the proposal the sliders steered"));
    plan->setLineStyle(QCPGraph::lsNone);
    plan->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDiamond, QPen(Qt::black, 1.5), QBrush(Qt::white), 8));
    plan->setData(planKeys, planValues);
  }
  legend->setVisible(!probes.isEmpty());
  xAxis->setRange(0.5, double(candidates.size()) + 0.5);
  replot(QCustomPlot::rpQueuedReplot);
}
