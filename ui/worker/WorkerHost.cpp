// SPDX-License-Identifier: GPL-3.0-or-later
#include "worker/WorkerHost.h"

#include "worker/GenerationWorker.h"

WorkerHost::WorkerHost(QObject* parent) : QObject(parent), worker_(new GenerationWorker) {
  registerCoreMetaTypes();
  thread_.setObjectName(QStringLiteral("dglm-worker"));
  worker_->moveToThread(&thread_);
  connect(&thread_, &QThread::finished, worker_, &QObject::deleteLater);

  connect(this, &WorkerHost::loadRequested, worker_, &GenerationWorker::loadModel, Qt::QueuedConnection);
  connect(this, &WorkerHost::generateRequested, worker_, &GenerationWorker::generate, Qt::QueuedConnection);
  connect(this, &WorkerHost::rewriteRequested, worker_, &GenerationWorker::rewrite, Qt::QueuedConnection);
  connect(this, &WorkerHost::trainProbeRequested, worker_, &GenerationWorker::trainProbe, Qt::QueuedConnection);

  // Signal to signal, queued: everything below arrives on the GUI thread.
  const auto forward = [this](auto workerSignal, auto hostSignal) {
    connect(worker_, workerSignal, this, hostSignal, Qt::QueuedConnection);
  };
  forward(&GenerationWorker::modelLoadProgress, &WorkerHost::modelLoadProgress);
  forward(&GenerationWorker::modelLoaded, &WorkerHost::modelLoaded);
  forward(&GenerationWorker::modelFailed, &WorkerHost::modelFailed);
  forward(&GenerationWorker::modelLoadCancelled, &WorkerHost::modelLoadCancelled);
  forward(&GenerationWorker::modelInfoChanged, &WorkerHost::modelInfoChanged);
  forward(&GenerationWorker::warning, &WorkerHost::warning);
  forward(&GenerationWorker::progress, &WorkerHost::progress);
  forward(&GenerationWorker::token, &WorkerHost::token);
  forward(&GenerationWorker::finished, &WorkerHost::finished);
  forward(&GenerationWorker::failed, &WorkerHost::failed);
  forward(&GenerationWorker::cancelled, &WorkerHost::cancelled);
  forward(&GenerationWorker::trainingProgress, &WorkerHost::trainingProgress);
  forward(&GenerationWorker::probeTrained, &WorkerHost::probeTrained);
  forward(&GenerationWorker::trainingFailed, &WorkerHost::trainingFailed);
  forward(&GenerationWorker::trainingCancelled, &WorkerHost::trainingCancelled);
  thread_.start();
}

WorkerHost::~WorkerHost() {
  worker_->shutdown();
  thread_.quit();
  thread_.wait();
}

quint64 WorkerHost::loadModel(const QString& directory, const QString& userProbeDirectory, DeviceChoice device) {
  const quint64 loadId = ++latestLoadId_;
  worker_->noteLoad(loadId);  // before queuing, so that a running load gives up right away
  emit loadRequested(loadId, directory, userProbeDirectory, device);
  return loadId;
}

quint64 WorkerHost::generate(const dglm::GenerateParams& params) { return generateBatch({params}).first(); }

QVector<quint64> WorkerHost::generateBatch(const QVector<dglm::GenerateParams>& batch) {
  if (batch.isEmpty()) return {};
  const quint64 first = issueRequests(int(batch.size()));
  QVector<quint64> ids;
  for (qsizetype i = 0; i < batch.size(); ++i) {
    ids.append(first + quint64(i));
    emit generateRequested(ids.last(), batch[i]);
  }
  return ids;
}

quint64 WorkerHost::issueRequests(int count) {
  const quint64 first = latestRequestId_ + 1;
  latestRequestId_ += quint64(count);
  worker_->supersede(first, latestRequestId_);  // before queuing, so that the running request aborts right away
  return first;
}

quint64 WorkerHost::rewrite(const dglm::RewriteParams& params) {
  const quint64 requestId = issueRequests(1);
  emit rewriteRequested(requestId, params);
  return requestId;
}

void WorkerHost::stop() { worker_->stop(); }

quint64 WorkerHost::trainProbe(const ProbeTrainingRequest& request) {
  const quint64 jobId = ++latestTrainingJob_;
  worker_->noteTrainingJob(jobId);
  emit trainProbeRequested(jobId, request);
  return jobId;
}

void WorkerHost::cancelTraining() { worker_->cancelTraining(); }
