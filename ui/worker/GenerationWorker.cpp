// SPDX-License-Identifier: GPL-3.0-or-later
#include "worker/GenerationWorker.h"

#include <exception>

#include "dglm/error.h"
#include "dglm/runtime.h"

GenerationWorker::GenerationWorker(QObject* parent) : QObject(parent) {}

GenerationWorker::~GenerationWorker() = default;

void GenerationWorker::supersede(quint64 requestId) { latestRequest_.store(requestId); }

void GenerationWorker::stop() {
  stoppedThrough_.store(latestRequest_.load());
  ++loadGeneration_;
}

void GenerationWorker::shutdown() {
  shuttingDown_.store(true);
  stop();
}

bool GenerationWorker::isAbandoned(quint64 requestId) const {
  return shuttingDown_.load() || requestId != latestRequest_.load() || requestId <= stoppedThrough_.load();
}

void GenerationWorker::loadModel(const QString& directory) {
  const quint64 generation = loadGeneration_.load();
  // Torch uses half the cores by default; a writing tool wants all of them.
  dglm::set_threads(0);
  try {
    dglm::Model model = dglm::Model::open(directory.toStdString(), dglm::Device::Cpu, [&](float fraction) {
      emit modelLoadProgress(fraction);
      return !shuttingDown_.load() && loadGeneration_.load() == generation;
    });
    generator_.reset();  // the old generator holds the old model
    model_ = model;
    generator_.emplace(model);
    emit modelLoaded(model.info(), QString::fromLatin1(dglm::to_string(model.device())));
  } catch (const std::exception& error) {
    // The previous model, if any, stays loaded and usable.
    emit modelFailed(QString::fromStdString(error.what()));
  }
}

void GenerationWorker::generate(quint64 requestId, const dglm::GenerateParams& params) {
  if (isAbandoned(requestId)) {  // queued behind a newer request: never started
    emit cancelled(requestId);
    return;
  }
  if (!generator_) {
    emit failed(requestId, tr("No model is loaded."));
    return;
  }
  dglm::GenerateCallbacks callbacks;
  callbacks.progress = [&](dglm::Stage stage, float fraction) {
    if (isAbandoned(requestId)) return false;
    emit progress(requestId, int(stage), fraction);
    return true;
  };
  callbacks.token = [&](int sample, const dglm::Token& token) {
    if (!isAbandoned(requestId)) emit this->token(requestId, sample, QString::fromStdString(token.text), token.logprob);
  };
  try {
    const dglm::GenerateResult result = generator_->run(params, callbacks);
    if (result.status == dglm::Status::Cancelled || isAbandoned(requestId)) {
      emit cancelled(requestId);
    } else {
      emit finished(requestId, result);
    }
  } catch (const dglm::Error& error) {
    if (error.kind() == dglm::ErrorKind::Cancelled) {
      emit cancelled(requestId);
    } else {
      emit failed(requestId, QString::fromStdString(error.what()));
    }
  } catch (const std::exception& error) {
    emit failed(requestId, QString::fromStdString(error.what()));
  }
}
