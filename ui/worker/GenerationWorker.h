// SPDX-License-Identifier: GPL-3.0-or-later
// Owns the model and generator on its own thread. Requests arrive through queued signals; the newest batch of
// requests wins: a running generation aborts at the core's next progress callback once a newer batch (or a
// stop) exists. A batch is one or more request ids issued together (a plain generation is a batch of one;
// compare mode issues one id per pane), so the panes of one comparison never cancel each other. Model loads
// follow the same rule: only the newest load runs to the end.
#pragma once

#include <QObject>
#include <QString>
#include <atomic>
#include <functional>
#include <optional>

#include "worker/CoreTypes.h"

class GenerationWorker : public QObject {
  Q_OBJECT

 public:
  explicit GenerationWorker(QObject* parent = nullptr);
  ~GenerationWorker() override;

  // Thread-safe (atomics only), called directly from the GUI thread: the worker's own thread is busy inside
  // the core while a request runs, so a queued call would arrive too late.
  // Marks the ids firstRequestId..lastRequestId as the newest batch; anything older is abandoned.
  void supersede(quint64 firstRequestId, quint64 lastRequestId);
  // Marks `jobId` as the newest probe-training job.
  void noteTrainingJob(quint64 jobId);
  // Marks `loadId` as the newest model load; an older one gives up at its next progress callback.
  void noteLoad(quint64 loadId);
  // Abandons the running probe training (Error(Cancelled) at its next batch of rows).
  void cancelTraining();
  // Abandons every request and training job issued so far, and any model load in progress.
  void stop();
  // Stop for good: used while the thread shuts down.
  void shutdown();

  // Rows embedded per encoder pass while training a probe: small, so that a cancel lands within ~100 ms.
  static constexpr int kTrainingBatchRows = 16;

 public slots:
  // Opens the model on `device`, then adds every probe saved in userProbeDirectory (those that do not fit are
  // skipped with a warning).
  void loadModel(quint64 loadId, const QString& directory, const QString& userProbeDirectory, DeviceChoice device);
  void generate(quint64 requestId, const dglm::GenerateParams& params);
  // Writes a candidate again from a token the writer picked; a request like any generation.
  void rewrite(quint64 requestId, const dglm::RewriteParams& params);
  void trainProbe(quint64 jobId, const ProbeTrainingRequest& request);

 signals:
  void modelLoadProgress(double fraction);
  void modelLoaded(const dglm::ModelInfo& info, const QString& device);
  void modelFailed(const QString& message);
  // A load gave up because a newer one or a stop superseded it; the model loaded before it stays.
  void modelLoadCancelled(quint64 loadId);
  // The loaded model's probes changed (a probe was trained and added).
  void modelInfoChanged(const dglm::ModelInfo& info);
  void warning(const QString& message);

  void progress(quint64 requestId, int stage, double fraction);  // stage: dglm::Stage as int
  void token(quint64 requestId, int sample, const QString& text, double logprob);
  void finished(quint64 requestId, const dglm::GenerateResult& result);
  void failed(quint64 requestId, const QString& message);
  void cancelled(quint64 requestId);

  void trainingProgress(quint64 jobId, double fraction);
  void probeTrained(quint64 jobId, const ProbeTrainingResult& result);
  void trainingFailed(quint64 jobId, const QString& message);
  void trainingCancelled(quint64 jobId);

 private:
  // Runs one request through `write` (a Generator call with these callbacks) and reports how it ended.
  void runRequest(quint64 requestId,
                  const std::function<dglm::GenerateResult(const dglm::GenerateCallbacks&)>& write);
  bool isAbandoned(quint64 requestId) const;
  bool isTrainingAbandoned(quint64 jobId) const;
  bool isLoadAbandoned(quint64 loadId) const;
  void addUserProbes(dglm::Model& model, const QString& userProbeDirectory);

  std::optional<dglm::Model> model_;
  std::optional<dglm::Generator> generator_;
  std::atomic<quint64> latestBatchFirst_{0};
  std::atomic<quint64> latestRequest_{0};
  std::atomic<quint64> stoppedThrough_{0};  // requests with ids up to this one were stopped
  std::atomic<quint64> latestTrainingJob_{0};
  std::atomic<quint64> trainingStoppedThrough_{0};
  std::atomic<quint64> latestLoad_{0};
  std::atomic<quint64> loadsStoppedThrough_{0};
  std::atomic<bool> shuttingDown_{false};
};
