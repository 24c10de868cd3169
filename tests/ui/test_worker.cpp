// SPDX-License-Identifier: GPL-3.0-or-later
// The worker on its thread with a real (tiny, random) model: signal order, stop, latest request (and latest
// model load) wins, the device choice, the decoding settings and the token limit as the core sees them.
#include <QElapsedTimer>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include "dglm/runtime.h"
#include "dglm/tiny_model.h"
#include "worker/GenerationWorker.h"
#include "worker/WorkerHost.h"
#include "worker_gate.h"

namespace {
constexpr int kTimeoutMs = 120000;

dglm::GenerateParams smallRequest(int tokens = 6) {
  dglm::GenerateParams params;
  params.prefix = "The weather today";
  params.samples = 2;
  params.max_new_tokens = tokens;
  params.steps = 4;
  return params;
}
}  // namespace

class TestWorker : public QObject {
  Q_OBJECT

 private:
  QTemporaryDir modelDir_;

  // Returns the loaded model's description.
  dglm::ModelInfo loadTinyModel(WorkerHost& host) {
    QSignalSpy loaded(&host, &WorkerHost::modelLoaded);
    host.loadModel(modelDir_.path());
    if (!loaded.wait(kTimeoutMs)) qFatal("the tiny model did not load");
    return loaded.first().first().value<dglm::ModelInfo>();
  }

 private slots:
  void initTestCase() {
    QVERIFY(modelDir_.isValid());
    dglm::make_tiny_model(modelDir_.path().toStdString(), /*seed=*/1);
  }

  void missingModelFailsWithTheCoreMessage() {
    WorkerHost host;
    QSignalSpy failed(&host, &WorkerHost::modelFailed);
    QSignalSpy loaded(&host, &WorkerHost::modelLoaded);
    host.loadModel(modelDir_.filePath("does-not-exist"));
    QVERIFY(failed.wait(kTimeoutMs));
    QVERIFY(failed.first().first().toString().contains("does-not-exist"));
    QCOMPARE(loaded.count(), 0);
  }

  void generateBeforeLoadFails() {
    WorkerHost host;
    QSignalSpy failed(&host, &WorkerHost::failed);
    const quint64 id = host.generate(smallRequest());
    QVERIFY(failed.wait(kTimeoutMs));
    QCOMPARE(failed.first().first().toULongLong(), id);
  }

  void signalsArriveInOrder() {
    WorkerHost host;
    const dglm::ModelInfo info = loadTinyModel(host);
    QCOMPARE(int(info.probes.size()), 3);

    QStringList order;  // "p" progress, "t" token, "f" finished
    QVector<int> tokensPerSample(2);
    connect(&host, &WorkerHost::progress, this, [&](quint64, int, double) { order << "p"; });
    connect(&host, &WorkerHost::token, this, [&](quint64, int sample, const QString&, double logprob) {
      order << "t";
      QVERIFY(sample >= 0 && sample < 2);
      QVERIFY(logprob <= 0);
      ++tokensPerSample[sample];
    });
    QSignalSpy finished(&host, &WorkerHost::finished);
    connect(&host, &WorkerHost::finished, this, [&] { order << "f"; });
    const quint64 id = host.generate(smallRequest());
    QVERIFY(finished.wait(kTimeoutMs));
    QCOMPARE(finished.first().first().toULongLong(), id);
    const auto result = finished.first().at(1).value<dglm::GenerateResult>();
    QCOMPARE(int(result.candidates.size()), 2);
    QCOMPARE(result.status, dglm::Status::Ok);

    QVERIFY(!order.isEmpty());
    QCOMPARE(order.first(), QString("p"));  // work is reported before any token
    for (int sample = 0; sample < 2; ++sample) {
      QVERIFY(tokensPerSample[sample] >= 1);
      QCOMPARE(tokensPerSample[sample], int(result.candidates[size_t(sample)].tokens.size()));
    }
    QTest::qWait(50);  // nothing may follow `finished`
    QCOMPARE(order.last(), QString("f"));
    QCOMPARE(order.count("f"), 1);
  }

  void stopCancelsTheRunningRequest() {
    WorkerHost host;
    loadTinyModel(host);

    QSignalSpy cancelled(&host, &WorkerHost::cancelled);
    QSignalSpy finished(&host, &WorkerHost::finished);
    dglm::GenerateParams slow = smallRequest(/*tokens=*/64);
    slow.steps = 1000;
    // Stop from the GUI thread as soon as the worker reports progress: it must not wait for the run to end.
    connect(&host, &WorkerHost::progress, &host, &WorkerHost::stop, Qt::SingleShotConnection);
    const quint64 id = host.generate(slow);
    QVERIFY(cancelled.wait(kTimeoutMs));
    QCOMPARE(cancelled.first().first().toULongLong(), id);
    QCOMPARE(finished.count(), 0);

    // The worker is usable again after a stop.
    const quint64 next = host.generate(smallRequest());
    QVERIFY(finished.wait(kTimeoutMs));
    QCOMPARE(finished.first().first().toULongLong(), next);
  }

  void latestRequestWins() {
    WorkerHost host;
    loadTinyModel(host);

    QSignalSpy cancelled(&host, &WorkerHost::cancelled);
    QSignalSpy finished(&host, &WorkerHost::finished);
    QSignalSpy tokens(&host, &WorkerHost::token);
    dglm::GenerateParams slow = smallRequest(/*tokens=*/64);
    slow.steps = 1000;
    const quint64 first = host.generate(slow);
    const quint64 second = host.generate(smallRequest());
    QVERIFY(finished.wait(kTimeoutMs));
    QCOMPARE(finished.count(), 1);
    QCOMPARE(finished.first().first().toULongLong(), second);
    QCOMPARE(cancelled.count(), 1);
    QCOMPARE(cancelled.first().first().toULongLong(), first);
    for (const QList<QVariant>& token : tokens) QCOMPARE(token.first().toULongLong(), second);

    // Superseded while running (not only while queued): the core aborts at its next progress callback.
    cancelled.clear();
    finished.clear();
    quint64 third = 0;
    connect(&host, &WorkerHost::progress, this, [&] { third = host.generate(smallRequest()); },
            Qt::SingleShotConnection);
    const quint64 running = host.generate(slow);
    QVERIFY(finished.wait(kTimeoutMs));
    QCOMPARE(finished.first().first().toULongLong(), third);
    QCOMPARE(cancelled.count(), 1);
    QCOMPARE(cancelled.first().first().toULongLong(), running);
  }

  void requestsOfOneBatchNeverCancelEachOtherButANewerRequestCancelsThemAll() {
    WorkerHost host;
    loadTinyModel(host);

    QSignalSpy cancelled(&host, &WorkerHost::cancelled);
    QSignalSpy finished(&host, &WorkerHost::finished);
    const QVector<quint64> panes = host.generateBatch({smallRequest(), smallRequest(), smallRequest()});
    QCOMPARE(panes.size(), 3);
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 3, kTimeoutMs);
    for (int pane = 0; pane < 3; ++pane) QCOMPARE(finished.at(pane).first().toULongLong(), panes[pane]);
    QCOMPARE(cancelled.count(), 0);

    // A newer request while the first pane runs: that pane and its queued siblings give way.
    finished.clear();
    dglm::GenerateParams slow = smallRequest(/*tokens=*/64);
    slow.steps = 1000;
    quint64 newer = 0;
    connect(&host, &WorkerHost::progress, this, [&] { newer = host.generate(smallRequest()); },
            Qt::SingleShotConnection);
    const QVector<quint64> superseded = host.generateBatch({slow, smallRequest()});
    QVERIFY(finished.wait(kTimeoutMs));
    QCOMPARE(finished.count(), 1);
    QCOMPARE(finished.first().first().toULongLong(), newer);
    QCOMPARE(cancelled.count(), 2);
    QCOMPARE(cancelled.at(0).first().toULongLong(), superseded[0]);
    QCOMPARE(cancelled.at(1).first().toULongLong(), superseded[1]);
  }

  void latestModelLoadWins() {
    WorkerHost host;
    QSignalSpy loaded(&host, &WorkerHost::modelLoaded);
    QSignalSpy failed(&host, &WorkerHost::modelFailed);
    QSignalSpy cancelled(&host, &WorkerHost::modelLoadCancelled);
    const auto gate = holdTheWorker(host);
    const quint64 superseded = host.loadModel(modelDir_.path());
    const quint64 latest = host.loadModel(modelDir_.filePath("does-not-exist"));
    QCOMPARE(host.latestLoadId(), latest);
    gate->release();
    // The superseded load never ran: the newer one's failure is the only outcome, and no model was swapped in.
    QVERIFY(failed.wait(kTimeoutMs));
    QCOMPARE(cancelled.count(), 1);
    QCOMPARE(cancelled.first().first().toULongLong(), superseded);
    QCOMPARE(loaded.count(), 0);
  }

  void stopCancelsAQueuedModelLoadAndKeepsTheModel() {
    WorkerHost host;
    loadTinyModel(host);
    QSignalSpy loaded(&host, &WorkerHost::modelLoaded);
    QSignalSpy failed(&host, &WorkerHost::modelFailed);
    QSignalSpy cancelled(&host, &WorkerHost::modelLoadCancelled);
    const auto gate = holdTheWorker(host);
    const quint64 load = host.loadModel(modelDir_.path());
    host.stop();
    gate->release();
    QVERIFY(cancelled.wait(kTimeoutMs));
    QCOMPARE(cancelled.first().first().toULongLong(), load);
    QTest::qWait(50);
    QCOMPARE(loaded.count() + failed.count(), 0);

    // The model loaded before the stop still generates.
    QSignalSpy finished(&host, &WorkerHost::finished);
    host.generate(smallRequest());
    QVERIFY(finished.wait(kTimeoutMs));
  }

  void theDeviceChoiceTravelsWithTheLoadRequest() {
    QCOMPARE(resolveDevice(DeviceChoice::Cpu), dglm::Device::Cpu);
    QCOMPARE(resolveDevice(DeviceChoice::Cuda), dglm::Device::Cuda);
    QCOMPARE(resolveDevice(DeviceChoice::Auto), dglm::cuda_available() ? dglm::Device::Cuda : dglm::Device::Cpu);

    WorkerHost host;
    QSignalSpy loaded(&host, &WorkerHost::modelLoaded);
    host.loadModel(modelDir_.path(), {}, DeviceChoice::Cpu);
    QVERIFY(loaded.wait(kTimeoutMs));
    QCOMPARE(loaded.first().at(1).toString(), QString("cpu"));
    if (!dglm::cuda_available()) {  // asking for CUDA where there is none: the core's error, the model kept
      QSignalSpy failed(&host, &WorkerHost::modelFailed);
      host.loadModel(modelDir_.path(), {}, DeviceChoice::Cuda);
      QVERIFY(failed.wait(kTimeoutMs));
      QVERIFY2(failed.first().first().toString().contains("CUDA", Qt::CaseInsensitive),
               qPrintable(failed.first().first().toString()));
    }
  }

  void decodingSettingsReachTheCore() {
    GenerationSettings settings;
    settings.temperature = 0.7;
    settings.topP = 0.5;
    settings.repetitionPenalty = 1.4;
    settings.proposalGuidance = 2.5;
    settings.planContrast = dglm::PlanContrast::Opposite;
    settings.drafts = 3;
    const dglm::GenerateParams params = toGenerateParams("prefix", settings);
    QCOMPARE(params.drafts, 3);
    QCOMPARE(params.proposal_guidance, 2.5f);
    QCOMPARE(params.contrast, dglm::PlanContrast::Opposite);
    QCOMPARE(params.decoding.temperature, 0.7f);
    QCOMPARE(params.decoding.top_p, 0.5f);
    QCOMPARE(params.decoding.repetition_penalty, 1.4f);

    // The core checks them: a temperature of 0 comes back as the core's error, not as a run.
    WorkerHost host;
    loadTinyModel(host);
    QSignalSpy failed(&host, &WorkerHost::failed);
    dglm::GenerateParams frozen = smallRequest();
    frozen.decoding.temperature = 0;
    host.generate(frozen);
    QVERIFY(failed.wait(kTimeoutMs));
    QVERIFY(failed.first().at(1).toString().contains("temperature"));
  }

  void maxNewTokensIsTheCoresOwnBound() {
    WorkerHost host;
    const dglm::ModelInfo info = loadTinyModel(host);
    const int limit = dglm::max_new_tokens(info.config);
    QCOMPARE(limit, info.config.decoder.context - 1 - info.config.prompt.prompt_tokens);

    QSignalSpy finished(&host, &WorkerHost::finished);
    QSignalSpy failed(&host, &WorkerHost::failed);
    dglm::GenerateParams longest = smallRequest(limit);
    longest.samples = 1;
    longest.steps = 1;
    host.generate(longest);
    QVERIFY(finished.wait(kTimeoutMs));
    QCOMPARE(failed.count(), 0);

    dglm::GenerateParams tooLong = longest;
    tooLong.max_new_tokens = limit + 1;
    host.generate(tooLong);
    QVERIFY(failed.wait(kTimeoutMs));
    const QString message = failed.first().at(1).toString();
    QVERIFY2(message.contains("max_new_tokens") && message.contains(QString::number(limit)), qPrintable(message));
  }

  void destroyingTheHostDuringARunReturnsPromptly() {
    auto host = std::make_unique<WorkerHost>();
    QSignalSpy loaded(host.get(), &WorkerHost::modelLoaded);
    QSignalSpy progress(host.get(), &WorkerHost::progress);
    host->loadModel(modelDir_.path());
    QVERIFY(loaded.wait(kTimeoutMs));
    dglm::GenerateParams slow = smallRequest(/*tokens=*/64);
    slow.steps = 1000;
    host->generate(slow);
    QVERIFY(progress.wait(kTimeoutMs));
    QElapsedTimer clock;
    clock.start();
    host.reset();
    QVERIFY2(clock.elapsed() < 5000, "the destructor waited for the whole generation");
  }
};

QTEST_GUILESS_MAIN(TestWorker)
#include "test_worker.moc"
