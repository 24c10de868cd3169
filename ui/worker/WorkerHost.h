// SPDX-License-Identifier: GPL-3.0-or-later
// The GUI side of the worker: owns its thread, hands out request ids, and forwards the worker's signals.
// Everything here returns at once; results arrive later as signals on the GUI thread.
#pragma once

#include <QObject>
#include <QThread>

#include "worker/CoreTypes.h"

class GenerationWorker;

class WorkerHost : public QObject {
  Q_OBJECT

 public:
  explicit WorkerHost(QObject* parent = nullptr);
  // Stops the running request, then quits and joins the thread (the core notices within one callback).
  ~WorkerHost() override;

  void loadModel(const QString& directory);
  // Starts a generation that supersedes any running one; returns its id.
  quint64 generate(const dglm::GenerateParams& params);
  void stop();
  quint64 latestRequestId() const { return latestRequestId_; }

  GenerationWorker* worker() const { return worker_; }

 signals:
  void modelLoadProgress(double fraction);
  void modelLoaded(const dglm::ModelInfo& info, const QString& device);
  void modelFailed(const QString& message);
  void progress(quint64 requestId, int stage, double fraction);
  void token(quint64 requestId, int sample, const QString& text, double logprob);
  void finished(quint64 requestId, const dglm::GenerateResult& result);
  void failed(quint64 requestId, const QString& message);
  void cancelled(quint64 requestId);

  // To the worker (queued: it lives on the other thread).
  void loadRequested(const QString& directory);
  void generateRequested(quint64 requestId, const dglm::GenerateParams& params);

 private:
  QThread thread_;
  GenerationWorker* worker_ = nullptr;  // deleted on its thread when the thread finishes
  quint64 latestRequestId_ = 0;
};
