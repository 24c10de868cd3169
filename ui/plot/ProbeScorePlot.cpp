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
  auto* group = new QCPBarsGroup(this);
  const double groupWidth = 0.8;
  const double barWidth = groupWidth / qMax<qsizetype>(1, probes.size());
  QSharedPointer<QCPAxisTickerText> ticker(new QCPAxisTickerText);
  for (size_t sample = 0; sample < candidates.size(); ++sample) ticker->addTick(double(sample + 1), QString::number(sample + 1));
  xAxis->setTicker(ticker);
  for (int index = 0; index < probes.size(); ++index) {
    const ProbeDescription& probe = probes[index];
    const int scored = scoredClassIndex(probe, settings);
    auto* bars = new QCPBars(xAxis, yAxis);
    bars->setName(tr("%1: %2").arg(probe.name, probe.classes.value(scored)));
    const QColor colour = QColor::fromHsv((index * 360 / qMax<qsizetype>(1, probes.size()) + 30) % 360, 170, 220);
    bars->setBrush(colour);
    bars->setPen(colour.darker(130));
    bars->setWidth(barWidth);
    bars->setBarsGroup(group);
    for (size_t sample = 0; sample < candidates.size(); ++sample) {
      const auto scores = candidates[sample].probe_scores.find(probe.name.toStdString());
      if (scores == candidates[sample].probe_scores.end() || scored < 0 || scored >= int(scores->second.size())) continue;
      bars->addData(double(sample + 1), scores->second[size_t(scored)]);
    }
  }
  legend->setVisible(!probes.isEmpty());
  xAxis->setRange(0.5, double(candidates.size()) + 0.5);
  replot(QCustomPlot::rpQueuedReplot);
}
