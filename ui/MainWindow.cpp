// SPDX-License-Identifier: GPL-3.0-or-later
#include "MainWindow.h"

#include <QAction>
#include <QCloseEvent>
#include <QComboBox>
#include <QDockWidget>
#include <QFileInfo>
#include <QFileDialog>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QInputDialog>
#include <QJsonDocument>
#include <QLabel>
#include <QMenuBar>
#include <QMessageBox>
#include <QProgressBar>
#include <QPushButton>
#include <QScrollArea>
#include <QSettings>
#include <QSplitter>
#include <QStatusBar>
#include <QToolBar>
#include <QTreeView>
#include <QVBoxLayout>
#include <algorithm>

#include "candidates/CandidateCard.h"
#include "compare/CompareWindow.h"
#include "dglm/runtime.h"
#include "editor/DraftEditor.h"
#include "guidance/GuidancePanel.h"
#include "history/HistoryModel.h"
#include "persistence/AtomicFile.h"
#include "persistence/Autosave.h"
#include "persistence/DraftExport.h"
#include "persistence/HistoryFile.h"
#include "persistence/PresetStore.h"
#include "plot/PerplexityPlot.h"
#include "plot/ProbeScorePlot.h"
#include "probes/ProbeTrainingDialog.h"
#include "worker/WorkerHost.h"

namespace {

QString stageName(int stage) {
  switch (dglm::Stage(stage)) {
    case dglm::Stage::Encode: return MainWindow::tr("Reading the prefix");
    case dglm::Stage::Diffusion: return MainWindow::tr("Planning (diffusion)");
    case dglm::Stage::Prompt: return MainWindow::tr("Building prompts");
    case dglm::Stage::Decode: return MainWindow::tr("Writing");
    case dglm::Stage::Score: return MainWindow::tr("Scoring");
  }
  return {};
}

// The device picker's entries and the words QSettings keeps them as.
struct DeviceEntry {
  DeviceChoice choice;
  const char* key;
  const char* label;
};
constexpr DeviceEntry kDeviceEntries[] = {{DeviceChoice::Auto, "auto", QT_TRANSLATE_NOOP("MainWindow", "Auto")},
                                          {DeviceChoice::Cpu, "cpu", QT_TRANSLATE_NOOP("MainWindow", "CPU")},
                                          {DeviceChoice::Cuda, "cuda", QT_TRANSLATE_NOOP("MainWindow", "CUDA")}};
constexpr auto kDeviceSetting = "model/device";

}  // namespace

MainWindow::MainWindow(const Options& options, QWidget* parent)
    : QMainWindow(parent),
      options_(options),
      host_(new WorkerHost(this)),
      editor_(new DraftEditor),
      guidance_(new GuidancePanel),
      plot_(new PerplexityPlot),
      scorePlot_(new ProbeScorePlot),
      history_(new HistoryModel(this)),
      historyWriter_(new HistoryWriter(historyPath(), this)),  // options_ is set by now
      autosave_(new Autosave(options.dataDirectory + "/draft.txt", options.dataDirectory + "/recovery.txt",
                             Autosave::kDefaultIntervalMs, this)),
      presets_(std::make_unique<PresetStore>(options.dataDirectory + "/presets.json")) {
  setWindowTitle(tr("DGLM Writer"));
  setObjectName("MainWindow");

  auto* cardsHost = new QWidget;
  cardLayout_ = new QVBoxLayout(cardsHost);
  cardsPlaceholder_ =
      new QLabel(tr("The continuations appear here, as they are written or once their drafts are compared."));
  cardsPlaceholder_->setAlignment(Qt::AlignCenter);
  cardsPlaceholder_->setEnabled(false);  // drawn in the disabled (grey) colour, like a placeholder text
  cardLayout_->addWidget(cardsPlaceholder_);
  cardLayout_->addStretch(1);
  auto* cardsScroll = new QScrollArea;
  cardsScroll->setWidgetResizable(true);
  cardsScroll->setWidget(cardsHost);

  auto* splitter = new QSplitter(Qt::Vertical);
  splitter->addWidget(editor_);
  splitter->addWidget(cardsScroll);
  // Draft and continuations share the height evenly: the cards are what one reads after each run.
  splitter->setStretchFactor(0, 1);
  splitter->setStretchFactor(1, 1);
  splitter->setSizes({1, 1});
  setCentralWidget(splitter);

  buildActions();
  buildDocks();
  buildStatusBar();
  connectWorker();
  restoreState();
  restoreHistory();

  editor_->setPlainText(autosave_->savedDraft());
  connect(editor_, &QPlainTextEdit::textChanged, this, [this] { autosave_->noteEdited(editor_->toPlainText()); });
  connect(autosave_, &Autosave::writeFailed, this, [this](const QString& message) {
    statusBar()->showMessage(tr("Autosave failed: %1").arg(message), 10000);
  });
  if (autosave_->hasRecovery()) QMetaObject::invokeMethod(this, &MainWindow::offerRecovery, Qt::QueuedConnection);
  setBusy(false);
}

MainWindow::~MainWindow() {
  // Both talk to the worker host while they close (cancelling their runs), so they go before it does.
  delete probeTraining_;
  delete compare_;
}

void MainWindow::buildActions() {
  QMenu* fileMenu = menuBar()->addMenu(tr("&File"));
  QAction* openAction = fileMenu->addAction(tr("&Open model directory…"), this, [this] {
    const QString directory = QFileDialog::getExistingDirectory(this, tr("Open model directory"));
    if (!directory.isEmpty()) openModel(directory);
  });
  openAction->setShortcut(QKeySequence::Open);
  QAction* saveAction = fileMenu->addAction(tr("&Save draft"), this, [this] {
    if (autosave_->saveDraft(editor_->toPlainText())) {
      statusBar()->showMessage(tr("Draft saved"), 3000);
    } else {
      showError(tr("Could not save the draft"), autosave_->errorString());
    }
  });
  saveAction->setShortcut(QKeySequence::Save);
  QMenu* exportMenu = fileMenu->addMenu(tr("&Export draft as"));
  exportMenu->setToolTip(tr("The draft, the settings and every candidate of the history"));
  exportMenu->addAction(tr("&Markdown…"), this, [this] { exportDraft(int(ExportFormat::Markdown)); });
  exportMenu->addAction(tr("&Plain text…"), this, [this] { exportDraft(int(ExportFormat::PlainText)); });
  exportMenu->addAction(tr("&JSON…"), this, [this] { exportDraft(int(ExportFormat::Json)); });
  fileMenu->addSeparator();
  fileMenu->addAction(tr("&Import presets…"), this, [this] {
    const QString path = QFileDialog::getOpenFileName(this, tr("Import presets"), {}, tr("Presets (*.json)"));
    if (path.isEmpty()) return;
    const int imported = presets_->importFrom(path);
    if (imported < 0) return showError(tr("Could not import presets"), presets_->errorString());
    reloadPresetNames();
    statusBar()->showMessage(tr("Imported %n preset(s)", nullptr, imported), 5000);
  });
  fileMenu->addAction(tr("&Export presets…"), this, [this] {
    const QString path = QFileDialog::getSaveFileName(this, tr("Export presets"), "presets.json", tr("Presets (*.json)"));
    if (!path.isEmpty() && !presets_->exportTo(path)) showError(tr("Could not export presets"), presets_->errorString());
  });
  fileMenu->addSeparator();
  QAction* quitAction = fileMenu->addAction(tr("&Quit"), this, &QWidget::close);
  quitAction->setShortcut(QKeySequence::Quit);

  generateAction_ = new QAction(tr("Generate"), this);
  generateAction_->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_Return));
  generateAction_->setToolTip(tr("Write K continuations of the text before the cursor (Ctrl+Return)"));
  connect(generateAction_, &QAction::triggered, this, &MainWindow::generate);
  stopAction_ = new QAction(tr("Stop"), this);
  stopAction_->setShortcut(QKeySequence(Qt::Key_Escape));
  stopAction_->setToolTip(tr("Stop the running generation (Esc)"));
  connect(stopAction_, &QAction::triggered, this, &MainWindow::stop);

  QToolBar* toolBar = addToolBar(tr("Generation"));
  toolBar->setObjectName("GenerationToolBar");
  toolBar->setToolButtonStyle(Qt::ToolButtonTextOnly);
  toolBar->addAction(generateAction_);
  toolBar->addAction(stopAction_);

  QMenu* generationMenu = menuBar()->addMenu(tr("&Generation"));
  generationMenu->addAction(generateAction_);
  generationMenu->addAction(stopAction_);
  generationMenu->addSeparator();
  QAction* compareAction = generationMenu->addAction(tr("&Compare settings…"), this, &MainWindow::showCompare);
  compareAction->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_C));
  compareAction->setToolTip(tr("Run 2 to 4 pinned settings side by side on the same prefix"));
  toolBar->addAction(compareAction);
  toolBar->addSeparator();
  toolBar->addWidget(new QLabel(tr("Device")));
  toolBar->addWidget(buildDevicePicker());

  QMenu* probesMenu = menuBar()->addMenu(tr("&Probes"));
  QAction* trainProbe = probesMenu->addAction(tr("&Train a probe from a CSV file…"), this, &MainWindow::showProbeTraining);
  trainProbe->setToolTip(tr("Teach the model a new direction to steer in from labelled examples"));
}

QComboBox* MainWindow::buildDevicePicker() {
  devicePicker_ = new QComboBox;
  devicePicker_->setObjectName("DevicePicker");
  devicePicker_->setToolTip(tr("Where the model runs; Auto takes CUDA when it is available. Changing it reloads "
                               "the model."));
  const bool cuda = dglm::cuda_available();
  for (const DeviceEntry& entry : kDeviceEntries) {
    if (entry.choice != DeviceChoice::Cuda || cuda) devicePicker_->addItem(tr(entry.label), QString(entry.key));
  }
  // A choice the machine no longer offers (CUDA gone) falls back to Auto, the first entry.
  devicePicker_->setCurrentIndex(qMax(0, devicePicker_->findData(QSettings().value(kDeviceSetting).toString())));
  connect(devicePicker_, &QComboBox::currentIndexChanged, this, [this] {
    QSettings().setValue(kDeviceSetting, devicePicker_->currentData().toString());
    if (!modelDirectory_.isEmpty()) openModel(modelDirectory_);
  });
  return devicePicker_;
}

DeviceChoice MainWindow::deviceChoice() const {
  const QString key = devicePicker_->currentData().toString();
  for (const DeviceEntry& entry : kDeviceEntries) {
    if (key == QLatin1String(entry.key)) return entry.choice;
  }
  return DeviceChoice::Auto;
}

void MainWindow::buildDocks() {
  auto* guidanceHost = new QWidget;
  auto* guidanceLayout = new QVBoxLayout(guidanceHost);
  auto* presetRow = new QHBoxLayout;
  presetPicker_ = new QComboBox;
  presetPicker_->setPlaceholderText(tr("Presets"));
  presetPicker_->setToolTip(tr("Apply saved settings"));
  auto* savePreset = new QPushButton(tr("Save…"));
  auto* deletePreset = new QPushButton(tr("Delete"));
  presetRow->addWidget(presetPicker_, 1);
  presetRow->addWidget(savePreset);
  presetRow->addWidget(deletePreset);
  guidanceLayout->addLayout(presetRow);
  guidanceLayout->addWidget(guidance_);
  reloadPresetNames();

  connect(presetPicker_, &QComboBox::textActivated, this, [this](const QString& name) {
    if (const auto settings = presets_->preset(name)) guidance_->setSettings(*settings);
  });
  connect(savePreset, &QPushButton::clicked, this, [this] {
    const QString name = QInputDialog::getText(this, tr("Save preset"), tr("Name:"), QLineEdit::Normal,
                                               presetPicker_->currentText());
    if (name.trimmed().isEmpty()) return;
    if (!presets_->save(name, guidance_->settings())) return showError(tr("Could not save the preset"), presets_->errorString());
    reloadPresetNames();
    presetPicker_->setCurrentText(name.trimmed());
  });
  connect(deletePreset, &QPushButton::clicked, this, [this] {
    if (presetPicker_->currentIndex() < 0) return;
    if (!presets_->remove(presetPicker_->currentText())) return showError(tr("Could not delete the preset"), presets_->errorString());
    reloadPresetNames();
  });

  auto* guidanceScroll = new QScrollArea;
  guidanceScroll->setWidgetResizable(true);
  guidanceScroll->setWidget(guidanceHost);
  auto* guidanceDock = new QDockWidget(tr("Guidance"));
  guidanceDock->setObjectName("GuidanceDock");
  guidanceDock->setWidget(guidanceScroll);
  addDockWidget(Qt::RightDockWidgetArea, guidanceDock);

  auto* plotDock = new QDockWidget(tr("Perplexity"));
  plotDock->setObjectName("PerplexityDock");
  plotDock->setWidget(plot_);
  addDockWidget(Qt::BottomDockWidgetArea, plotDock);

  auto* scoreDock = new QDockWidget(tr("Probe scores"));
  scoreDock->setObjectName("ProbeScoreDock");
  scoreDock->setWidget(scorePlot_);
  addDockWidget(Qt::BottomDockWidgetArea, scoreDock);

  auto* historyView = new QTreeView;
  historyView->setModel(history_);
  historyView->setUniformRowHeights(true);
  historyView->header()->setSectionResizeMode(HistoryModel::TextColumn, QHeaderView::Stretch);
  historyView->header()->setStretchLastSection(false);
  historyView->setToolTip(tr("Double-click a run to restore its settings, a candidate to insert it"));
  connect(historyView, &QTreeView::doubleClicked, this, [this](const QModelIndex& index) {
    const auto kind = HistoryModel::NodeKind(index.data(HistoryModel::KindRole).toInt());
    if (kind == HistoryModel::NodeKind::Run) {
      guidance_->setSettings(index.data(HistoryModel::SettingsRole).value<GenerationSettings>());
    } else if (kind == HistoryModel::NodeKind::Candidate) {
      editor_->insertContinuation(index.data(HistoryModel::FullTextRole).toString());
    }
  });
  auto* historyDock = new QDockWidget(tr("History"));
  historyDock->setObjectName("HistoryDock");
  historyDock->setWidget(historyView);
  addDockWidget(Qt::BottomDockWidgetArea, historyDock);
  tabifyDockWidget(plotDock, scoreDock);
  tabifyDockWidget(plotDock, historyDock);
  plotDock->raise();
}

void MainWindow::buildStatusBar() {
  stageLabel_ = new QLabel;
  progressBar_ = new QProgressBar;
  progressBar_->setRange(0, 100);
  progressBar_->setMaximumWidth(160);
  progressBar_->setTextVisible(false);
  speedLabel_ = new QLabel;
  modelLabel_ = new QLabel(tr("No model"));
  deviceLabel_ = new QLabel;
  deviceLabel_->setObjectName("DeviceLabel");
  statusBar()->addWidget(stageLabel_);
  statusBar()->addWidget(progressBar_);
  statusBar()->addPermanentWidget(speedLabel_);
  statusBar()->addPermanentWidget(modelLabel_);
  statusBar()->addPermanentWidget(deviceLabel_);
}

void MainWindow::connectWorker() {
  connect(host_, &WorkerHost::modelLoadProgress, this, [this](double fraction) {
    progressBar_->setValue(int(fraction * 100));
  });
  connect(host_, &WorkerHost::modelLoaded, this, &MainWindow::onModelLoaded);
  connect(host_, &WorkerHost::modelFailed, this, &MainWindow::onModelFailed);
  connect(host_, &WorkerHost::modelLoadCancelled, this, &MainWindow::onModelLoadCancelled);
  connect(host_, &WorkerHost::modelInfoChanged, this, [this](const dglm::ModelInfo& info) {
    probes_ = probeDescriptions(info);
    guidance_->setProbes(probes_);  // a newly trained probe gets its slider at once
    if (compare_) compare_->setProbes(probes_);
  });
  connect(host_, &WorkerHost::warning, this, [this](const QString& message) {
    statusBar()->showMessage(message, 15000);
  });
  connect(host_, &WorkerHost::progress, this, &MainWindow::onProgress);
  connect(host_, &WorkerHost::token, this, &MainWindow::onToken);
  connect(host_, &WorkerHost::finished, this, &MainWindow::onFinished);
  connect(host_, &WorkerHost::failed, this, &MainWindow::onFailed);
  connect(host_, &WorkerHost::cancelled, this, &MainWindow::onCancelled);
}

void MainWindow::restoreState() {
  QSettings settings;
  restoreGeometry(settings.value("window/geometry").toByteArray());
  QMainWindow::restoreState(settings.value("window/state").toByteArray());
  const QJsonObject last = QJsonDocument::fromJson(settings.value("generation/last").toByteArray()).object();
  if (!last.isEmpty()) guidance_->setSettings(GenerationSettings::fromJson(last));
}

void MainWindow::restoreHistory() {
  const HistoryLoad load = loadHistory(historyPath(), *history_);
  historyWritable_ = load.writable;
  if (!load.warning.isEmpty()) statusBar()->showMessage(load.warning, 30000);
  connect(historyWriter_, &HistoryWriter::failed, this, [this](const QString& message) {
    statusBar()->showMessage(tr("History not saved: %1").arg(message), 15000);
  });
}

QString MainWindow::historyPath() const { return options_.dataDirectory + QStringLiteral("/history.json"); }

void MainWindow::closeEvent(QCloseEvent* event) {
  QSettings settings;
  settings.setValue("window/geometry", saveGeometry());
  settings.setValue("window/state", saveState());
  settings.setValue("generation/last", QJsonDocument(guidance_->settings().toJson()).toJson(QJsonDocument::Compact));
  // A clean exit keeps the text: the draft is saved and the recovery file goes away. With a recovery still
  // unresolved, only this session's latest edits are flushed to it.
  if (autosave_->hasRecovery()) {
    autosave_->flushRecovery();
  } else if (!autosave_->saveDraft(editor_->toPlainText())) {
    autosave_->noteEdited(editor_->toPlainText());
    autosave_->flushRecovery();
    QMessageBox::warning(this, tr("Draft not saved"),
                         tr("The draft could not be saved (%1). It is kept in the recovery file, and the window "
                            "stays open.").arg(autosave_->errorString()));
    event->ignore();
    return;
  }
  event->accept();
}

void MainWindow::offerRecovery() {
  if (!options_.interactive) return;  // keep the recovery file for a session with a person in front of it
  const auto answer = QMessageBox::question(
      this, tr("Recover unsaved text?"),
      tr("DGLM Writer did not close cleanly last time. Restore the text autosaved then?"),
      QMessageBox::Yes | QMessageBox::No, QMessageBox::Yes);
  if (answer == QMessageBox::Yes) editor_->setPlainText(autosave_->recoveredText());
  autosave_->discardRecovery();
}

void MainWindow::showError(const QString& title, const QString& message) {
  statusBar()->showMessage(message, 15000);
  if (!options_.interactive) return;
  // Window-modal and non-blocking: the event loop (and the worker's signals) keep flowing.
  auto* box = new QMessageBox(QMessageBox::Warning, title, message, QMessageBox::Ok, this);
  box->setAttribute(Qt::WA_DeleteOnClose);
  box->open();
}

void MainWindow::openModel(const QString& directory) {
  // The current model (if any) stays usable until the new one has loaded: the worker swaps them only then.
  stageLabel_->setText(tr("Loading model…"));
  setBusy(true);  // Stop also cancels a load
  for (CandidateCard* card : cards_) card->disablePicking();  // their proposals and tokens are this model's
  modelDirectory_ = directory;
  host_->loadModel(directory, userProbeDirectory(), deviceChoice());
}

QString MainWindow::userProbeDirectory() const { return options_.dataDirectory + QStringLiteral("/probes"); }

CompareWindow* MainWindow::showCompare() {
  if (!compare_) {
    compare_ = new CompareWindow(host_, this);
    compare_->setProbes(probes_);
    for (int pane = 0; pane < compare_->paneCount(); ++pane) compare_->pin(pane, guidance_->settings());
    connect(compare_, &CompareWindow::pinRequested, this, [this](int pane) { compare_->pin(pane, guidance_->settings()); });
    connect(compare_, &CompareWindow::runRequested, this, [this] {
      if (haveModel()) compare_->run(editor_->prefix());
    });
  }
  compare_->show();
  compare_->raise();
  compare_->activateWindow();
  return compare_;
}

ProbeTrainingDialog* MainWindow::showProbeTraining() {
  if (!probeTraining_) probeTraining_ = new ProbeTrainingDialog(host_, userProbeDirectory(), this);
  probeTraining_->show();
  probeTraining_->raise();
  probeTraining_->activateWindow();
  return probeTraining_;
}

void MainWindow::generate() {
  if (!haveModel()) return;
  runningSettings_ = guidance_->settings();
  runningPrefix_ = editor_->prefix();
  resetCards(runningSettings_.samples);
  plot_->startRun(runningSettings_.samples);
  scorePlot_->clearScores();
  tokensThisRun_ = 0;
  speedLabel_->clear();
  rewritingSample_ = -1;
  runningRequest_ = host_->generate(toGenerateParams(runningPrefix_, runningSettings_));
  setBusy(true);
}

void MainWindow::rewriteCandidate(int sample, int tokenIndex, int tokenId) {
  if (!haveModel() || sample < 0 || sample >= cards_.size()) return;
  CandidateCard* card = cards_[sample];
  const dglm::Candidate& candidate = card->candidate();
  if (tokenIndex < 0 || tokenIndex >= int(candidate.tokens.size())) return;
  if (rewritingSample_ >= 0) interruptRun(tr("replaced by another pick"));
  // The cards are the last generation's: its prefix and settings, this card's proposal.
  dglm::RewriteParams params;
  static_cast<dglm::WriteParams&>(params) = toGenerateParams(runningPrefix_, runningSettings_);
  params.samples = 1;
  params.proposal = candidate.proposal;
  params.opposite_proposal = candidate.opposite_proposal;  // the plan it was contrasted with, if any
  for (int i = 0; i < tokenIndex; ++i) params.kept_tokens.push_back(candidate.tokens[size_t(i)].id);
  params.kept_tokens.push_back(tokenId);

  const dglm::Token& replaced = candidate.tokens[size_t(tokenIndex)];
  QString picked;
  for (const dglm::TokenChoice& choice : replaced.alternatives) {
    if (choice.id == tokenId) picked = QString::fromStdString(choice.text);
  }
  rewriteNote_ = tr("candidate %1 written again from token %2: “%3” for “%4”")
                     .arg(sample + 1)
                     .arg(tokenIndex + 1)
                     .arg(picked, QString::fromStdString(replaced.text));
  card->beginRewrite();
  plot_->restartSeries(sample);
  speedLabel_->clear();  // kept tokens arrive at once: no speed to show for a rewrite
  rewritingSample_ = sample;
  runningRequest_ = host_->rewrite(params);
  setBusy(true);
}

void MainWindow::interruptRun(const QString& reason) {
  if (rewritingSample_ < 0) {
    for (CandidateCard* card : cards_) card->markInterrupted(reason);
    return;
  }
  cards_[rewritingSample_]->markInterrupted(reason);  // shows the candidate it started from again
  replotCard(rewritingSample_);
  rewritingSample_ = -1;
}

void MainWindow::replotCard(int sample) {
  plot_->restartSeries(sample);
  for (const dglm::Token& token : cards_[sample]->candidate().tokens) plot_->addToken(sample, token.logprob);
}

void MainWindow::stop() { host_->stop(); }

void MainWindow::exportDraft(int format) {
  const auto chosen = ExportFormat(format);
  const QString suffix = exportSuffix(chosen);
  QString path = QFileDialog::getSaveFileName(this, tr("Export draft"), "draft." + suffix,
                                              tr("*.%1 files (*.%1)").arg(suffix));
  if (path.isEmpty()) return;
  if (QFileInfo(path).suffix().isEmpty()) path += "." + suffix;
  QString error;
  const QByteArray bytes = ::exportDraft(chosen, editor_->toPlainText(), guidance_->settings(), *history_);
  if (!writeFileAtomically(path, bytes, &error)) return showError(tr("Could not export the draft"), error);
  statusBar()->showMessage(tr("Exported to %1").arg(path), 5000);
}

bool MainWindow::haveModel() {
  if (!modelReady_) showError(tr("No model"), tr("Open a model directory first (File ▸ Open model directory)."));
  return modelReady_;
}

void MainWindow::setBusy(bool busy) {
  generateAction_->setEnabled(modelReady_);  // generating again while busy supersedes the running request
  stopAction_->setEnabled(busy);
  progressBar_->setVisible(busy || !modelReady_);
  if (!busy) progressBar_->setValue(0);
}

void MainWindow::resetCards(int samples) {
  // Later, not now: "Continue from this card" gets here from inside that card's own click handler.
  for (auto* card : cards_) {
    card->hide();
    card->deleteLater();
  }
  cards_.clear();
  cardsPlaceholder_->setVisible(samples == 0);
  for (int sample = 0; sample < samples; ++sample) {
    auto* card = new CandidateCard(sample);
    connect(card, &CandidateCard::insertRequested, editor_, &DraftEditor::insertContinuation);
    connect(card, &CandidateCard::replaceRequested, editor_, &DraftEditor::replaceSelection);
    connect(card, &CandidateCard::continueRequested, this, [this](const QString& text) {
      editor_->insertContinuation(text);  // the cursor ends after it: the next prefix
      generate();
    });
    connect(card, &CandidateCard::rewriteRequested, this, &MainWindow::rewriteCandidate);
    cardLayout_->insertWidget(cardLayout_->count() - 1, card);  // before the stretch
    cards_.append(card);
  }
}

void MainWindow::reloadPresetNames() {
  presetPicker_->clear();
  presetPicker_->addItems(presets_->names());
  presetPicker_->setCurrentIndex(-1);
}

void MainWindow::onModelLoaded(const dglm::ModelInfo& info, const QString& device) {
  modelReady_ = true;
  probes_ = probeDescriptions(info);
  guidance_->setProbes(probes_);
  if (compare_) compare_->setProbes(probes_);
  const QString name = QString::fromStdString(info.config.name);
  modelLabel_->setText(name.isEmpty() ? QString::fromStdString(info.directory) : name);
  modelLabel_->setToolTip(QString::fromStdString(info.directory));
  deviceLabel_->setText(device);
  const dglm::ModelConfig& config = info.config;
  const int tokenLimit = dglm::max_new_tokens(config);
  guidance_->setMaxNewTokensLimit(
      tokenLimit,
      tr("At most %1 with this model: its decoder sees %2 tokens, of which one starts the text and %3 carry the "
         "plan; the prefix is cut from the left to fit the rest.")
          .arg(tokenLimit)
          .arg(config.decoder.context)
          .arg(config.prompt.prompt_tokens));
  stageLabel_->setText(tr("Ready"));
  setBusy(false);
  emit modelSettled(true);
}

void MainWindow::onModelFailed(const QString& message) {
  showError(tr("Could not open the model"), message);
  settleKeepingTheModel();
}

void MainWindow::onModelLoadCancelled(quint64 loadId) {
  if (loadId != host_->latestLoadId()) return;  // a newer load replaced it and is still running
  statusBar()->showMessage(tr("Stopped loading the model"), 5000);
  settleKeepingTheModel();
}

void MainWindow::settleKeepingTheModel() {
  stageLabel_->setText(modelReady_ ? tr("Ready (kept the previous model)") : tr("No model"));
  if (!modelReady_) modelLabel_->setText(tr("No model"));
  setBusy(false);
  emit modelSettled(false);
}

void MainWindow::onProgress(quint64 requestId, int stage, double fraction) {
  if (requestId != runningRequest_) return;
  stageLabel_->setText(stageName(stage));
  progressBar_->setValue(int(fraction * 100));
}

void MainWindow::onToken(quint64 requestId, int sample, const QString& text, double logprob) {
  if (requestId != runningRequest_) return;
  const bool rewriting = rewritingSample_ >= 0;
  if (rewriting) sample = rewritingSample_;  // a rewrite writes one sample
  if (sample < 0 || sample >= cards_.size()) return;
  cards_[sample]->appendToken(text, logprob);
  plot_->addToken(sample, logprob);
  if (rewriting) return;
  if (tokensThisRun_++ == 0) tokenClock_.start();
  const qint64 elapsedMs = tokenClock_.elapsed();
  if (elapsedMs > 200) speedLabel_->setText(tr("%1 tokens/s").arg(1000.0 * (tokensThisRun_ - 1) / elapsedMs, 0, 'f', 1));
}

void MainWindow::onFinished(quint64 requestId, const dglm::GenerateResult& result) {
  if (requestId != runningRequest_) return;
  runningRequest_ = 0;
  const bool rewrite = rewritingSample_ >= 0;
  const int firstCard = rewrite ? rewritingSample_ : 0;  // a rewrite's one candidate replaces its card's
  rewritingSample_ = -1;
  QVector<HistoryCandidate> historyCandidates;
  for (size_t i = 0; i < result.candidates.size() && firstCard + int(i) < cards_.size(); ++i) {
    const dglm::Candidate& candidate = result.candidates[i];
    cards_[firstCard + int(i)]->finish(candidate, describeScores(candidate, probes_));
    historyCandidates.append({QString::fromStdString(candidate.text), candidate.perplexity});
  }
  std::vector<dglm::Candidate> shown;
  for (const CandidateCard* card : cards_) shown.push_back(card->candidate());
  scorePlot_->showScores(shown, runningSettings_, probes_);
  history_->addRun(runningPrefix_, runningSettings_, historyCandidates, rewrite ? rewriteNote_ : QString());
  if (historyWritable_) historyWriter_->save(history_->toJson());
  if (!rewrite && result.times.decode_s > 0 && tokensThisRun_ > 0) {
    speedLabel_->setText(tr("%1 tokens/s").arg(tokensThisRun_ / result.times.decode_s, 0, 'f', 1));
  }
  QStringList warnings;
  for (const std::string& warning : result.warnings) warnings << QString::fromStdString(warning);
  stageLabel_->setText(warnings.isEmpty() ? tr("Done") : warnings.join("; "));
  setBusy(false);
  emit generationSettled();
}

void MainWindow::onFailed(quint64 requestId, const QString& message) {
  if (requestId != runningRequest_) return;
  runningRequest_ = 0;
  interruptRun(tr("failed"));
  stageLabel_->setText(tr("Generation failed"));
  setBusy(false);
  showError(tr("Generation failed"), message);
  emit generationSettled();
}

void MainWindow::onCancelled(quint64 requestId) {
  if (requestId != runningRequest_) return;  // a superseded request: its successor is already running
  runningRequest_ = 0;
  interruptRun(tr("stopped"));
  stageLabel_->setText(tr("Stopped"));
  setBusy(false);
  emit generationSettled();
}
