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

  connect(worker_, &GenerationWorker::modelLoadProgress, this, &WorkerHost::modelLoadProgress, Qt::QueuedConnection);
  connect(worker_, &GenerationWorker::modelLoaded, this, &WorkerHost::modelLoaded, Qt::QueuedConnection);
  connect(worker_, &GenerationWorker::modelFailed, this, &WorkerHost::modelFailed, Qt::QueuedConnection);
  connect(worker_, &GenerationWorker::progress, this, &WorkerHost::progress, Qt::QueuedConnection);
  connect(worker_, &GenerationWorker::token, this, &WorkerHost::token, Qt::QueuedConnection);
  connect(worker_, &GenerationWorker::finished, this, &WorkerHost::finished, Qt::QueuedConnection);
  connect(worker_, &GenerationWorker::failed, this, &WorkerHost::failed, Qt::QueuedConnection);
  connect(worker_, &GenerationWorker::cancelled, this, &WorkerHost::cancelled, Qt::QueuedConnection);
  thread_.start();
}

WorkerHost::~WorkerHost() {
  worker_->shutdown();
  thread_.quit();
  thread_.wait();
}

void WorkerHost::loadModel(const QString& directory) { emit loadRequested(directory); }

quint64 WorkerHost::generate(const dglm::GenerateParams& params) {
  const quint64 requestId = ++latestRequestId_;
  worker_->supersede(requestId);  // before queuing, so that the running request aborts right away
  emit generateRequested(requestId, params);
  return requestId;
}

void WorkerHost::stop() { worker_->stop(); }
