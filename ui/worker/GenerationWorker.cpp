// SPDX-License-Identifier: GPL-3.0-or-later
#include "worker/GenerationWorker.h"

#include <QDir>
#include <QFileInfo>
#include <exception>

#include "dglm/csv.h"
#include "dglm/error.h"
#include "dglm/probe.h"
#include "dglm/runtime.h"

GenerationWorker::GenerationWorker(QObject* parent) : QObject(parent) {}

GenerationWorker::~GenerationWorker() = default;

void GenerationWorker::supersede(quint64 firstRequestId, quint64 lastRequestId) {
  latestRequest_.store(lastRequestId);
  latestBatchFirst_.store(firstRequestId);
}

void GenerationWorker::noteTrainingJob(quint64 jobId) { latestTrainingJob_.store(jobId); }

void GenerationWorker::noteLoad(quint64 loadId) { latestLoad_.store(loadId); }

void GenerationWorker::cancelTraining() { trainingStoppedThrough_.store(latestTrainingJob_.load()); }

void GenerationWorker::stop() {
  stoppedThrough_.store(latestRequest_.load());
  cancelTraining();
  loadsStoppedThrough_.store(latestLoad_.load());
}

void GenerationWorker::shutdown() {
  shuttingDown_.store(true);
  stop();
}

bool GenerationWorker::isAbandoned(quint64 requestId) const {
  return shuttingDown_.load() || requestId < latestBatchFirst_.load() || requestId <= stoppedThrough_.load();
}

bool GenerationWorker::isTrainingAbandoned(quint64 jobId) const {
  return shuttingDown_.load() || jobId != latestTrainingJob_.load() || jobId <= trainingStoppedThrough_.load();
}

bool GenerationWorker::isLoadAbandoned(quint64 loadId) const {
  return shuttingDown_.load() || loadId != latestLoad_.load() || loadId <= loadsStoppedThrough_.load();
}

void GenerationWorker::loadModel(quint64 loadId, const QString& directory, const QString& userProbeDirectory,
                                 DeviceChoice device) {
  // In every failure below the previous model, if any, stays loaded and usable.
  if (isLoadAbandoned(loadId)) {  // queued behind a newer load: never started
    emit modelLoadCancelled(loadId);
    return;
  }
  // Torch uses half the cores by default; a writing tool wants all of them.
  dglm::set_threads(0);
  try {
    dglm::Model model = dglm::Model::open(directory.toStdString(), resolveDevice(device), [&](float fraction) {
      if (isLoadAbandoned(loadId)) return false;
      emit modelLoadProgress(fraction);
      return true;
    });
    addUserProbes(model, userProbeDirectory);
    if (isLoadAbandoned(loadId)) {  // superseded after the last progress callback: keep what the user has
      emit modelLoadCancelled(loadId);
      return;
    }
    generator_.reset();  // the old generator holds the old model
    model_ = model;
    generator_.emplace(model);
    emit modelLoaded(model.info(), QString::fromLatin1(dglm::to_string(model.device())));
  } catch (const dglm::Error& error) {
    if (error.kind() == dglm::ErrorKind::Cancelled) {
      emit modelLoadCancelled(loadId);
    } else {
      emit modelFailed(QString::fromStdString(error.what()));  // the whole path: which model matters here
    }
  } catch (const std::exception& error) {
    emit modelFailed(QString::fromStdString(error.what()));
  }
}

void GenerationWorker::generate(quint64 requestId, const dglm::GenerateParams& params) {
  runRequest(requestId, [&](const dglm::GenerateCallbacks& callbacks) { return generator_->run(params, callbacks); });
}

void GenerationWorker::rewrite(quint64 requestId, const dglm::RewriteParams& params) {
  runRequest(requestId,
             [&](const dglm::GenerateCallbacks& callbacks) { return generator_->rewrite(params, callbacks); });
}

void GenerationWorker::runRequest(quint64 requestId,
                                  const std::function<dglm::GenerateResult(const dglm::GenerateCallbacks&)>& write) {
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
    const dglm::GenerateResult result = write(callbacks);
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

void GenerationWorker::addUserProbes(dglm::Model& model, const QString& userProbeDirectory) {
  if (userProbeDirectory.isEmpty()) return;
  const QDir directory(userProbeDirectory);
  for (const QFileInfo& metadata : directory.entryInfoList({QStringLiteral("*.json")}, QDir::Files, QDir::Name)) {
    const QString stem = directory.filePath(metadata.completeBaseName());
    try {
      model.add_probe(stem.toStdString());
    } catch (const dglm::Error& error) {  // e.g. trained on a model with another embedding size
      emit warning(tr("Skipped your probe %1: %2").arg(metadata.completeBaseName(), describeCoreError(error)));
    }
  }
}

void GenerationWorker::trainProbe(quint64 jobId, const ProbeTrainingRequest& request) {
  if (isTrainingAbandoned(jobId)) {
    emit trainingCancelled(jobId);
    return;
  }
  if (!model_) {
    emit trainingFailed(jobId, tr("No model is loaded: a probe is trained on the model's embeddings."));
    return;
  }
  // Reading the file is the first tenth of the bar; embedding the rows and fitting the rest.
  constexpr double kReadingShare = 0.1;
  const auto reportProgress = [&](double fraction) {
    if (isTrainingAbandoned(jobId)) return false;
    emit trainingProgress(jobId, fraction);
    return true;
  };
  try {
    dglm::LabelledCsvOptions csvOptions;
    csvOptions.csv.dialect = dglm::CsvDialect{request.delimiter.toLatin1(), request.hasHeader};
    const std::string textColumn = request.textColumn.toStdString();
    const std::string labelColumn = request.labelColumn.toStdString();
    const dglm::LabelledCsv csv =
        dglm::read_labelled_csv(request.csvPath.toStdString(), textColumn, labelColumn, csvOptions,
                                [&](float fraction) { return reportProgress(kReadingShare * fraction); });
    dglm::LabelledCsv heldout;
    if (!request.heldoutCsvPath.isEmpty()) {
      heldout = dglm::read_heldout_csv(request.heldoutCsvPath.toStdString(), textColumn, labelColumn, csv,
                                       csvOptions.csv, [&](float) { return reportProgress(kReadingShare); });
    }

    dglm::ProbeTrainParams params;
    params.name = request.name.toStdString();
    params.description = tr("Trained in DGLM Writer from %1").arg(QFileInfo(request.csvPath).fileName()).toStdString();
    params.heldout_fraction = request.heldoutFraction;
    params.batch_size = kTrainingBatchRows;
    QDir().mkpath(QFileInfo(request.outputPath).absolutePath());
    const dglm::ProbeReport report = dglm::train_probe(
        *model_, csv.data, params, request.outputPath.toStdString(),
        [&](float fraction) { return reportProgress(kReadingShare + (1 - kReadingShare) * fraction); }, heldout.data);
    model_->add_probe(request.outputPath.toStdString());  // shared with the generator: guidance sees it at once

    ProbeTrainingResult result;
    result.name = request.name;
    for (const std::string& name : report.classes) result.classes << QString::fromStdString(name);
    result.trainRows = qint64(report.train_rows);
    result.heldoutRows = qint64(report.heldout_rows);
    result.trainAccuracy = report.train_accuracy;
    result.heldoutAccuracy = report.heldout_accuracy;
    for (const std::vector<std::int64_t>& row : report.confusion) {
      result.confusion.append(QVector<qint64>(row.begin(), row.end()));
    }
    emit modelInfoChanged(model_->info());
    emit probeTrained(jobId, result);
  } catch (const dglm::Error& error) {
    if (error.kind() == dglm::ErrorKind::Cancelled) {
      emit trainingCancelled(jobId);
    } else {
      emit trainingFailed(jobId, describeCoreError(error));
    }
  } catch (const std::exception& error) {
    emit trainingFailed(jobId, QString::fromStdString(error.what()));
  }
}
