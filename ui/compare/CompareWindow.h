// SPDX-License-Identifier: GPL-3.0-or-later
// Compare mode: 2 to 4 panes side by side, each pinning a snapshot of the settings (guidance weights, sigma²,
// seed, ...), all run on the same prefix in one go. The panes' requests go to the worker as one batch: one
// request id per pane, run one after the other; a newer generation anywhere supersedes the whole comparison,
// but a pane never cancels its siblings. Perplexity curves are overlaid in one colour per pane, and a table
// sums up each pane: mean perplexity, Dist-3, how closely the texts followed their plans and mean probe scores.
#pragma once

#include <QMap>
#include <QVector>
#include <QWidget>
#include <optional>

#include "guidance/GenerationSettings.h"
#include "worker/CoreTypes.h"

class PerplexityPlot;
class QLabel;
class QPlainTextEdit;
class QPushButton;
class QSpinBox;
class QTableWidget;
class WorkerHost;

// What the table shows for one pane's finished run.
struct PaneSummary {
  double meanPerplexity = 0;
  double dist3 = 0;
  std::optional<double> meanAdherence;  // how closely the texts followed their plans (cosine); none without plans
  // probe -> mean probability of the class the pane steers towards (the probe's last class when unguided), in
  // the written texts and in the plans (the proposals the sliders steered)
  QMap<QString, double> meanProbeScores;
  QMap<QString, double> meanPlanScores;
};

// The summary of a finished run; the probes give class names for the guided targets.
PaneSummary summarizeRun(const dglm::GenerateResult& result, const GenerationSettings& settings,
                         const QVector<ProbeDescription>& probes);

class CompareWindow : public QWidget {
  Q_OBJECT

 public:
  static constexpr int kMinPanes = 2;
  static constexpr int kMaxPanes = 4;

  CompareWindow(WorkerHost* host, QWidget* parent = nullptr);

  void setPaneCount(int panes);
  int paneCount() const { return int(panes_.size()); }
  // Pins a snapshot of settings to a pane; the pane keeps it until pinned again.
  void pin(int pane, const GenerationSettings& settings);
  GenerationSettings pinned(int pane) const;
  void setProbes(const QVector<ProbeDescription>& probes);
  // Runs every pane on `prefix`.
  void run(const QString& prefix);

  QTableWidget* summaryTable() const { return table_; }
  PerplexityPlot* plot() const { return plot_; }
  static QColor paneColour(int pane);

 signals:
  // The pane's "Pin current settings" button: the owner answers with pin(pane, its settings).
  void pinRequested(int pane);
  // "Run all": the owner answers with run(its prefix).
  void runRequested();
  // Every pane of the last run finished, failed or was cancelled.
  void runSettled();

 private:
  struct Pane {
    GenerationSettings settings;
    QWidget* box = nullptr;
    QLabel* summary = nullptr;
    QPlainTextEdit* output = nullptr;
    quint64 requestId = 0;  // of the running request; 0: idle
    int firstSeries = 0;    // its first curve in the plot
  };

  int paneOf(quint64 requestId) const;
  void settlePane(int pane, const QString& status);
  void onToken(quint64 requestId, int sample, const QString& text, double logprob);
  void onFinished(quint64 requestId, const dglm::GenerateResult& result);
  void rebuildTable();

  WorkerHost* host_;
  QVector<Pane> panes_;
  QVector<ProbeDescription> probes_;
  QMap<int, PaneSummary> summaries_;  // pane -> its summary of the last run
  QSpinBox* paneCount_ = nullptr;
  QWidget* paneRow_ = nullptr;
  QPushButton* runButton_ = nullptr;
  QLabel* status_ = nullptr;
  PerplexityPlot* plot_ = nullptr;
  QTableWidget* table_ = nullptr;
};
