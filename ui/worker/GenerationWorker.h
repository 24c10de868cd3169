// SPDX-License-Identifier: GPL-3.0-or-later
// Owns the model and generator on its own thread. Requests arrive through queued signals; the newest request
// wins: a running generation aborts at the core's next progress callback once a newer one (or a stop) exists.
#pragma once

#include <QObject>
#include <QString>
#include <atomic>
#include <optional>

#include "worker/CoreTypes.h"

class GenerationWorker : public QObject {
  Q_OBJECT

 public:
  explicit GenerationWorker(QObject* parent = nullptr);
  ~GenerationWorker() override;

  // Thread-safe (atomics only), called directly from the GUI thread: the worker's own thread is busy inside
  // the core while a request runs, so a queued call would arrive too late.
  // Marks `requestId` as the newest request; anything older is abandoned.
  void supersede(quint64 requestId);
  // Abandons every request issued so far, and any model load in progress.
  void stop();
  // Stop for good: used while the thread shuts down.
  void shutdown();

 public slots:
  void loadModel(const QString& directory);
  void generate(quint64 requestId, const dglm::GenerateParams& params);

 signals:
  void modelLoadProgress(double fraction);
  void modelLoaded(const dglm::ModelInfo& info, const QString& device);
  void modelFailed(const QString& message);

  void progress(quint64 requestId, int stage, double fraction);  // stage: dglm::Stage as int
  void token(quint64 requestId, int sample, const QString& text, double logprob);
  void finished(quint64 requestId, const dglm::GenerateResult& result);
  void failed(quint64 requestId, const QString& message);
  void cancelled(quint64 requestId);

 private:
  bool isAbandoned(quint64 requestId) const;

  std::optional<dglm::Model> model_;
  std::optional<dglm::Generator> generator_;
  std::atomic<quint64> latestRequest_{0};
  std::atomic<quint64> stoppedThrough_{0};  // requests with ids up to this one were stopped
  std::atomic<quint64> loadGeneration_{0};  // bumped by stop(): a load that started earlier gives up
  std::atomic<bool> shuttingDown_{false};
};
