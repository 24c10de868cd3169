// SPDX-License-Identifier: GPL-3.0-or-later
// Probe scores per sample of the last generation: one group of bars per sample, one bar per probe (the
// probability of the class it steers towards, else its last class, in the written text) and on each bar a
// diamond, the same probability in the plan (the proposal the sliders steered). Right-click saves it as PNG or PDF.
#pragma once

#include <qcustomplot.h>

#include "dglm/generator.h"
#include "guidance/GenerationSettings.h"

class ProbeScorePlot : public QCustomPlot {
  Q_OBJECT

 public:
  explicit ProbeScorePlot(QWidget* parent = nullptr);

  void showScores(const std::vector<dglm::Candidate>& candidates, const GenerationSettings& settings,
                  const QVector<ProbeDescription>& probes);
  void clearScores();
};
