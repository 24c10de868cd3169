// SPDX-License-Identifier: GPL-3.0-or-later
#include "compare/CompareWindow.h"

#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QSplitter>
#include <QTableWidget>
#include <QVBoxLayout>
#include <vector>

#include "dglm/metrics.h"
#include "plot/PerplexityPlot.h"
#include "worker/WorkerHost.h"

namespace {

enum SummaryColumn { SettingsColumn, PerplexityColumn, Dist3Column, AdherenceColumn, FirstProbeColumn };

}  // namespace

PaneSummary summarizeRun(const dglm::GenerateResult& result, const GenerationSettings& settings,
                         const QVector<ProbeDescription>& probes) {
  PaneSummary summary;
  if (result.candidates.empty()) return summary;
  std::vector<std::string> texts;
  double adherence = 0;
  int planned = 0;
  for (const dglm::Candidate& candidate : result.candidates) {
    summary.meanPerplexity += candidate.perplexity / double(result.candidates.size());
    texts.push_back(candidate.text);
    if (candidate.adherence) {
      adherence += *candidate.adherence;
      ++planned;
    }
  }
  if (planned > 0) summary.meanAdherence = adherence / planned;
  summary.dist3 = dglm::distinct_n(texts, 3);
  for (const ProbeDescription& probe : probes) {
    const int wanted = scoredClassIndex(probe, settings);
    const auto meanInto = [&](std::map<std::string, std::vector<float>> dglm::Candidate::*scoresOf,
                              QMap<QString, double>& means) {
      double total = 0;
      int scored = 0;
      for (const dglm::Candidate& candidate : result.candidates) {
        if (const auto probability = classProbability(candidate.*scoresOf, probe.name, wanted)) {
          total += *probability;
          ++scored;
        }
      }
      if (scored > 0) means.insert(probe.name, total / scored);
    };
    meanInto(&dglm::Candidate::probe_scores, summary.meanProbeScores);
    meanInto(&dglm::Candidate::plan_scores, summary.meanPlanScores);
  }
  return summary;
}

CompareWindow::CompareWindow(WorkerHost* host, QWidget* parent) : QWidget(parent, Qt::Window), host_(host) {
  setWindowTitle(tr("Compare settings"));
  setObjectName("CompareWindow");
  auto* layout = new QVBoxLayout(this);

  auto* controls = new QHBoxLayout;
  paneCount_ = new QSpinBox;
  paneCount_->setRange(kMinPanes, kMaxPanes);
  paneCount_->setToolTip(tr("How many settings to compare side by side"));
  runButton_ = new QPushButton(tr("&Run all on the text before the cursor"));
  runButton_->setToolTip(tr("Every pane writes from the same prefix with its pinned settings"));
  status_ = new QLabel;
  auto* paneCountLabel = new QLabel(tr("&Panes:"));
  paneCountLabel->setBuddy(paneCount_);
  controls->addWidget(paneCountLabel);
  controls->addWidget(paneCount_);
  controls->addWidget(runButton_);
  controls->addWidget(status_, 1);
  layout->addLayout(controls);

  paneRow_ = new QWidget;
  new QHBoxLayout(paneRow_);
  plot_ = new PerplexityPlot;
  table_ = new QTableWidget;
  table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  table_->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
  table_->horizontalHeader()->setStretchLastSection(true);
  auto* splitter = new QSplitter(Qt::Vertical);
  splitter->addWidget(paneRow_);
  splitter->addWidget(plot_);
  splitter->addWidget(table_);
  splitter->setStretchFactor(0, 3);
  splitter->setStretchFactor(1, 2);
  splitter->setStretchFactor(2, 1);
  layout->addWidget(splitter, 1);

  connect(paneCount_, &QSpinBox::valueChanged, this, &CompareWindow::setPaneCount);
  connect(runButton_, &QPushButton::clicked, this, &CompareWindow::runRequested);
  connect(host_, &WorkerHost::token, this, &CompareWindow::onToken);
  connect(host_, &WorkerHost::finished, this, &CompareWindow::onFinished);
  connect(host_, &WorkerHost::failed, this, [this](quint64 requestId, const QString& message) {
    if (const int pane = paneOf(requestId); pane >= 0) settlePane(pane, tr("failed: %1").arg(message));
  });
  connect(host_, &WorkerHost::cancelled, this, [this](quint64 requestId) {
    if (const int pane = paneOf(requestId); pane >= 0) settlePane(pane, tr("cancelled"));
  });
  setPaneCount(kMinPanes);
  resize(1200, 760);
}

QColor CompareWindow::paneColour(int pane) {
  static const QColor kColours[kMaxPanes] = {QColor(31, 119, 180), QColor(214, 39, 40), QColor(44, 160, 44),
                                             QColor(148, 103, 189)};
  return kColours[qBound(0, pane, kMaxPanes - 1)];
}

void CompareWindow::setPaneCount(int panes) {
  panes = qBound(kMinPanes, panes, kMaxPanes);
  paneCount_->setValue(panes);
  while (panes_.size() > panes) {
    delete panes_.last().box;
    panes_.removeLast();
    summaries_.remove(int(panes_.size()));
  }
  while (panes_.size() < panes) {
    const int index = int(panes_.size());
    Pane pane;
    pane.settings = panes_.isEmpty() ? GenerationSettings{} : panes_.last().settings;
    auto* box = new QGroupBox(tr("Pane %1").arg(index + 1));
    box->setStyleSheet(QStringLiteral("QGroupBox { font-weight: bold; color: %1; }").arg(paneColour(index).name()));
    auto* boxLayout = new QVBoxLayout(box);
    auto* pinButton = new QPushButton(tr("Pin current settings"));
    pinButton->setToolTip(tr("Copy the Guidance panel's settings (weights, σ², seed, …) into this pane"));
    pinButton->setStyleSheet(QStringLiteral("font-weight: normal;"));
    connect(pinButton, &QPushButton::clicked, this, [this, index] { emit pinRequested(index); });
    pane.summary = new QLabel(pane.settings.summary());
    pane.summary->setWordWrap(true);
    pane.summary->setStyleSheet(QStringLiteral("font-weight: normal; color: palette(text);"));
    pane.output = new QPlainTextEdit;
    pane.output->setReadOnly(true);
    pane.output->setStyleSheet(QStringLiteral("font-weight: normal; color: palette(text);"));
    boxLayout->addWidget(pinButton);
    boxLayout->addWidget(pane.summary);
    boxLayout->addWidget(pane.output, 1);
    paneRow_->layout()->addWidget(box);
    pane.box = box;
    panes_.append(pane);
  }
  rebuildTable();
}

void CompareWindow::pin(int pane, const GenerationSettings& settings) {
  if (pane < 0 || pane >= panes_.size()) return;
  panes_[pane].settings = settings;
  panes_[pane].summary->setText(settings.summary());
  summaries_.remove(pane);  // its numbers no longer describe these settings
  rebuildTable();
}

GenerationSettings CompareWindow::pinned(int pane) const { return panes_.value(pane).settings; }

void CompareWindow::setProbes(const QVector<ProbeDescription>& probes) {
  probes_ = probes;
  rebuildTable();
}

void CompareWindow::run(const QString& prefix) {
  QVector<dglm::GenerateParams> batch;
  QVector<PerplexityPlot::Series> series;
  for (int index = 0; index < panes_.size(); ++index) {
    Pane& pane = panes_[index];
    batch.append(toGenerateParams(prefix, pane.settings));
    pane.firstSeries = int(series.size());
    for (int sample = 0; sample < pane.settings.samples; ++sample) {
      series.append({sample == 0 ? tr("Pane %1").arg(index + 1) : QString(), paneColour(index)});
    }
    pane.output->clear();
  }
  summaries_.clear();
  rebuildTable();
  plot_->startSeries(series);
  const QVector<quint64> ids = host_->generateBatch(batch);
  for (int index = 0; index < panes_.size(); ++index) panes_[index].requestId = ids[index];
  runButton_->setEnabled(false);
  status_->setText(tr("Running %n pane(s)…", nullptr, int(panes_.size())));
}

int CompareWindow::paneOf(quint64 requestId) const {
  if (requestId == 0) return -1;
  for (int index = 0; index < panes_.size(); ++index) {
    if (panes_[index].requestId == requestId) return index;
  }
  return -1;
}

void CompareWindow::onToken(quint64 requestId, int sample, const QString& text, double logprob) {
  const int index = paneOf(requestId);
  if (index < 0 || sample < 0 || sample >= panes_[index].settings.samples) return;
  plot_->addToken(panes_[index].firstSeries + sample, logprob);
  if (sample == 0) {  // the pane streams its first sample; all of them are listed once finished
    panes_[index].output->moveCursor(QTextCursor::End);
    panes_[index].output->insertPlainText(text);
  }
}

void CompareWindow::onFinished(quint64 requestId, const dglm::GenerateResult& result) {
  const int index = paneOf(requestId);
  if (index < 0) return;
  QStringList texts;
  for (size_t sample = 0; sample < result.candidates.size(); ++sample) {
    texts << tr("%1. %2").arg(sample + 1).arg(QString::fromStdString(result.candidates[sample].text).trimmed());
  }
  panes_[index].output->setPlainText(texts.join(QStringLiteral("\n\n")));
  summaries_.insert(index, summarizeRun(result, panes_[index].settings, probes_));
  rebuildTable();
  settlePane(index, QString());
}

void CompareWindow::settlePane(int pane, const QString& status) {
  panes_[pane].requestId = 0;
  if (!status.isEmpty()) panes_[pane].output->appendPlainText(QStringLiteral("\n(%1)").arg(status));
  for (const Pane& each : panes_) {
    if (each.requestId != 0) return;
  }
  runButton_->setEnabled(true);
  status_->setText(tr("Done"));
  emit runSettled();
}

void CompareWindow::rebuildTable() {
  QStringList headers{tr("Settings"), tr("Mean perplexity"), tr("Dist-3"), tr("Plan followed")};
  for (const ProbeDescription& probe : probes_) headers << tr("%1 (mean score)").arg(probe.name);
  table_->clear();
  table_->setColumnCount(int(headers.size()));
  table_->setHorizontalHeaderLabels(headers);
  table_->setRowCount(int(panes_.size()));
  for (int index = 0; index < panes_.size(); ++index) {
    table_->setVerticalHeaderItem(index, new QTableWidgetItem(tr("Pane %1").arg(index + 1)));
    table_->verticalHeaderItem(index)->setForeground(paneColour(index));
    table_->setItem(index, SettingsColumn, new QTableWidgetItem(panes_[index].settings.summary()));
    const auto summary = summaries_.constFind(index);
    const auto number = [&](int column, double value, int decimals) {
      auto* item = new QTableWidgetItem(summary == summaries_.cend() ? QStringLiteral("—")
                                                                     : QString::number(value, 'f', decimals));
      item->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
      item->setData(Qt::UserRole, value);
      table_->setItem(index, column, item);
      return item;
    };
    if (summary == summaries_.cend()) {
      for (int column = PerplexityColumn; column < headers.size(); ++column) number(column, 0, 0);
      continue;
    }
    number(PerplexityColumn, summary->meanPerplexity, 1);
    number(Dist3Column, summary->dist3, 3);
    QTableWidgetItem* followed = number(AdherenceColumn, summary->meanAdherence.value_or(0), 2);
    if (!summary->meanAdherence) followed->setText(QStringLiteral("—"));
    followed->setToolTip(tr("Mean cosine between the meaning of each written text and its plan (1: the same)"));
    for (int probe = 0; probe < probes_.size(); ++probe) {
      const ProbeDescription& description = probes_[probe];
      QTableWidgetItem* item = number(FirstProbeColumn + probe, summary->meanProbeScores.value(description.name), 2);
      const auto plan = summary->meanPlanScores.constFind(description.name);
      if (plan != summary->meanPlanScores.cend())
        item->setText(tr("%1 (plan %2)").arg(item->text(), QString::number(*plan, 'f', 2)));
      item->setToolTip(tr("Mean probability of “%1” over the pane's samples, in the written texts and (plan) in "
                          "the proposals the sliders steered")
                           .arg(description.classes.value(scoredClassIndex(description, panes_[index].settings))));
    }
  }
}
