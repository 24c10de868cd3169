// SPDX-License-Identifier: GPL-3.0-or-later
// The writer's window: draft editor, guidance panel, K streaming candidate cards, live perplexity plot and
// the history of every run. All engine work goes through WorkerHost; nothing here waits for the core.
#pragma once

#include <QElapsedTimer>
#include <QMainWindow>
#include <QVector>
#include <memory>

#include "guidance/GenerationSettings.h"
#include "worker/CoreTypes.h"

class Autosave;
class CandidateCard;
class CompareWindow;
class DraftEditor;
class GuidancePanel;
class HistoryModel;
class HistoryWriter;
class PerplexityPlot;
class ProbeScorePlot;
class PresetStore;
class ProbeTrainingDialog;
class QAction;
class QComboBox;
class QLabel;
class QProgressBar;
class QVBoxLayout;
class WorkerHost;

class MainWindow : public QMainWindow {
  Q_OBJECT

 public:
  struct Options {
    QString dataDirectory;     // presets, draft and recovery files live here
    bool interactive = true;   // false (screenshots, tests): no dialogs that wait for a person
  };

  explicit MainWindow(const Options& options, QWidget* parent = nullptr);
  ~MainWindow() override;

  void openModel(const QString& directory);

  DraftEditor* editor() const { return editor_; }
  GuidancePanel* guidancePanel() const { return guidance_; }
  QVector<CandidateCard*> candidateCards() const { return cards_; }
  HistoryModel* historyModel() const { return history_; }
  HistoryWriter* historyWriter() const { return historyWriter_; }
  WorkerHost* workerHost() const { return host_; }
  PerplexityPlot* perplexityPlot() const { return plot_; }
  ProbeScorePlot* probeScorePlot() const { return scorePlot_; }
  // Where trained probes are saved, and loaded from with every model.
  QString userProbeDirectory() const;
  // Where the history is kept between sessions.
  QString historyPath() const;
  // Where the model runs: the device picker's choice, kept in QSettings.
  DeviceChoice deviceChoice() const;

 public slots:
  void generate();
  // Writes candidate `sample` again: its tokens before tokenIndex, then tokenId, then new ones.
  void rewriteCandidate(int sample, int tokenIndex, int tokenId);
  void stop();
  // Opens (or raises) the dialog that trains a probe from a CSV file.
  ProbeTrainingDialog* showProbeTraining();
  // Opens (or raises) compare mode; a new one starts with every pane pinned to the current settings.
  CompareWindow* showCompare();

 signals:
  // The model finished loading (true) or could not be opened (false).
  void modelSettled(bool loaded);
  // A generation ended: finished, failed or cancelled.
  void generationSettled();

 protected:
  void closeEvent(QCloseEvent* event) override;

 private:
  void buildActions();
  void exportDraft(int format);  // ExportFormat as int (the header stays free of persistence types)
  void buildDocks();
  void buildStatusBar();
  QComboBox* buildDevicePicker();
  void restoreHistory();
  void connectWorker();
  void restoreState();
  void offerRecovery();
  void showError(const QString& title, const QString& message);
  // True when a model is loaded; else says so.
  bool haveModel();
  void setBusy(bool busy);
  void resetCards(int samples);
  // Draws a card's curve again from its finished candidate.
  void replotCard(int sample);
  // The running request ended early (`reason`: stopped, failed…): the cards keep what streamed in, except a
  // card being written again, which shows the candidate it started from.
  void interruptRun(const QString& reason);
  void reloadPresetNames();

  void onModelLoaded(const dglm::ModelInfo& info, const QString& device);
  void onModelFailed(const QString& message);
  void onModelLoadCancelled(quint64 loadId);
  // After a load that did not replace the model: whatever was loaded before stays in use.
  void settleKeepingTheModel();
  void onProgress(quint64 requestId, int stage, double fraction);
  void onToken(quint64 requestId, int sample, const QString& text, double logprob);
  void onFinished(quint64 requestId, const dglm::GenerateResult& result);
  void onFailed(quint64 requestId, const QString& message);
  void onCancelled(quint64 requestId);

  Options options_;
  WorkerHost* host_ = nullptr;
  DraftEditor* editor_ = nullptr;
  GuidancePanel* guidance_ = nullptr;
  PerplexityPlot* plot_ = nullptr;
  ProbeScorePlot* scorePlot_ = nullptr;
  HistoryModel* history_ = nullptr;
  HistoryWriter* historyWriter_ = nullptr;
  Autosave* autosave_ = nullptr;
  std::unique_ptr<PresetStore> presets_;
  ProbeTrainingDialog* probeTraining_ = nullptr;
  CompareWindow* compare_ = nullptr;
  QComboBox* presetPicker_ = nullptr;
  QComboBox* devicePicker_ = nullptr;
  QVBoxLayout* cardLayout_ = nullptr;
  QLabel* cardsPlaceholder_ = nullptr;
  QVector<CandidateCard*> cards_;

  QAction* generateAction_ = nullptr;
  QAction* stopAction_ = nullptr;
  QLabel* deviceLabel_ = nullptr;
  QLabel* modelLabel_ = nullptr;
  QLabel* speedLabel_ = nullptr;
  QLabel* stageLabel_ = nullptr;
  QProgressBar* progressBar_ = nullptr;

  bool modelReady_ = false;
  QString modelDirectory_;        // the model opened last: a new device choice reloads it
  bool historyWritable_ = true;   // false: an unreadable history file is still in the way
  quint64 runningRequest_ = 0;  // 0: none
  int rewritingSample_ = -1;    // the card the running request writes again; -1: it writes all of them
  QString rewriteNote_;         // what the history says of that rewrite
  QString runningPrefix_;
  GenerationSettings runningSettings_;
  QElapsedTimer tokenClock_;
  int tokensThisRun_ = 0;
  QVector<ProbeDescription> probes_;
};
