// SPDX-License-Identifier: GPL-3.0-or-later
// The GUI side of the worker: owns its thread, hands out request ids, and forwards the worker's signals.
// Everything here returns at once; results arrive later as signals on the GUI thread.
#pragma once

#include <QObject>
#include <QThread>
#include <QVector>

#include "worker/CoreTypes.h"

class GenerationWorker;

class WorkerHost : public QObject {
  Q_OBJECT

 public:
  explicit WorkerHost(QObject* parent = nullptr);
  // Stops the running request, then quits and joins the thread (the core notices within one callback).
  ~WorkerHost() override;

  // Opens a model on `device` and adds the user's own probes from userProbeDirectory (may be empty: none).
  // Supersedes any load still running or queued (it ends in modelLoadCancelled); returns the load's id.
  quint64 loadModel(const QString& directory, const QString& userProbeDirectory = {},
                    DeviceChoice device = DeviceChoice::Auto);
  quint64 latestLoadId() const { return latestLoadId_; }
  // Starts a generation that supersedes any running one; returns its id.
  quint64 generate(const dglm::GenerateParams& params);
  // Starts one request per entry, run one after the other; together they supersede any running request but
  // never each other. Returns their ids in order.
  QVector<quint64> generateBatch(const QVector<dglm::GenerateParams>& batch);
  // Starts writing a candidate again from a picked token (Generator::rewrite); supersedes like generate().
  quint64 rewrite(const dglm::RewriteParams& params);
  void stop();
  quint64 latestRequestId() const { return latestRequestId_; }

  // Trains a probe after the requests queued before it; returns the job's id. A newer job supersedes it.
  quint64 trainProbe(const ProbeTrainingRequest& request);
  void cancelTraining();

  GenerationWorker* worker() const { return worker_; }

 signals:
  void modelLoadProgress(double fraction);
  void modelLoaded(const dglm::ModelInfo& info, const QString& device);
  void modelFailed(const QString& message);
  void modelLoadCancelled(quint64 loadId);
  void modelInfoChanged(const dglm::ModelInfo& info);
  void warning(const QString& message);
  void progress(quint64 requestId, int stage, double fraction);
  void token(quint64 requestId, int sample, const QString& text, double logprob);
  void finished(quint64 requestId, const dglm::GenerateResult& result);
  void failed(quint64 requestId, const QString& message);
  void cancelled(quint64 requestId);
  void trainingProgress(quint64 jobId, double fraction);
  void probeTrained(quint64 jobId, const ProbeTrainingResult& result);
  void trainingFailed(quint64 jobId, const QString& message);
  void trainingCancelled(quint64 jobId);

  // To the worker (queued: it lives on the other thread).
  void loadRequested(quint64 loadId, const QString& directory, const QString& userProbeDirectory, DeviceChoice device);
  void generateRequested(quint64 requestId, const dglm::GenerateParams& params);
  void rewriteRequested(quint64 requestId, const dglm::RewriteParams& params);
  void trainProbeRequested(quint64 jobId, const ProbeTrainingRequest& request);

 private:
  // Numbers `count` new requests as the newest batch, which supersedes every older one; returns the first id.
  quint64 issueRequests(int count);

  QThread thread_;
  GenerationWorker* worker_ = nullptr;  // deleted on its thread when the thread finishes
  quint64 latestRequestId_ = 0;
  quint64 latestTrainingJob_ = 0;
  quint64 latestLoadId_ = 0;
};
