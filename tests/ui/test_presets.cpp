// SPDX-License-Identifier: GPL-3.0-or-later
#include <QFile>
#include <QTemporaryDir>
#include <QTest>

#include "persistence/PresetStore.h"

class TestPresets : public QObject {
  Q_OBJECT

 private:
  static GenerationSettings steered() {
    GenerationSettings settings;
    settings.samples = 6;
    settings.maxNewTokens = 48;
    settings.sigma2 = 0.3;
    settings.proposalGuidance = 3;
    settings.planContrast = dglm::PlanContrast::Opposite;
    settings.drafts = 3;
    settings.cfg = 2.5;
    settings.steps = 20;
    settings.seed = 18446744073709551557ull;  // above 2^53: must survive JSON
    settings.temperature = 0.8;
    settings.topP = 0.95;
    settings.repetitionPenalty = 1.3;
    settings.guides = {{"sentiment", 2.5, ""}, {"topic", -1.25, "sports"}};
    return settings;
  }

 private slots:
  void roundTripThroughFile() {
    QTemporaryDir dir;
    const QString path = dir.filePath("presets.json");
    {
      PresetStore store(path);
      QVERIFY(store.names().isEmpty());
      QVERIFY2(store.save("Cheerful", steered()), qPrintable(store.errorString()));
      QVERIFY(store.save("Plain", GenerationSettings{}));
    }
    PresetStore reopened(path);
    QCOMPARE(reopened.names(), QStringList({"Cheerful", "Plain"}));
    QVERIFY(reopened.preset("Cheerful").has_value());
    QCOMPARE(*reopened.preset("Cheerful"), steered());
    QCOMPARE(*reopened.preset("Plain"), GenerationSettings{});
    QVERIFY(!reopened.preset("Missing").has_value());
  }

  void saveReplacesAndRemoveDeletes() {
    QTemporaryDir dir;
    const QString path = dir.filePath("presets.json");
    PresetStore store(path);
    QVERIFY(store.save("A", GenerationSettings{}));
    QVERIFY(store.save("A", steered()));
    QVERIFY(store.remove("A"));
    QVERIFY(PresetStore(path).names().isEmpty());
    QVERIFY(!store.save("   ", steered()));
  }

  void exportThenImportMerges() {
    QTemporaryDir dir;
    PresetStore source(dir.filePath("mine.json"));
    QVERIFY(source.save("Cheerful", steered()));
    QVERIFY(source.save("Other", GenerationSettings{}));
    QVERIFY(source.exportTo(dir.filePath("shared.json"), {"Cheerful"}));
    QVERIFY(!source.exportTo(dir.filePath("bad.json"), {"Nope"}));

    PresetStore target(dir.filePath("theirs.json"));
    QVERIFY(target.save("Existing", GenerationSettings{}));
    QCOMPARE(target.importFrom(dir.filePath("shared.json")), 1);
    QCOMPARE(target.names(), QStringList({"Cheerful", "Existing"}));
    QCOMPARE(*PresetStore(dir.filePath("theirs.json")).preset("Cheerful"), steered());
  }

  void brokenFileIsReportedNotFatal() {
    QTemporaryDir dir;
    const QString path = dir.filePath("broken.json");
    QFile file(path);
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write("{\"format\": 1, \"presets\": [");
    file.close();

    PresetStore store(path);
    QVERIFY(store.names().isEmpty());
    QVERIFY(store.errorString().contains("broken.json"));
    PresetStore other(dir.filePath("other.json"));
    QCOMPARE(other.importFrom(path), -1);
    QVERIFY(!other.errorString().isEmpty());
  }

  void presetsWrittenBeforeTheDecodingControlsLoadWithTheirDefaults() {
    QTemporaryDir dir;
    const QString path = dir.filePath("presets.json");
    QFile file(path);
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write(R"({"format": 1, "presets": [{"name": "Old", "settings": {"samples": 2, "max_new_tokens": 16,
               "sigma2": 0.2, "cfg": 1, "steps": 30, "seed": "3", "guides": []}}]})");
    file.close();

    const PresetStore store(path);
    QVERIFY2(store.preset("Old").has_value(), qPrintable(store.errorString()));
    const GenerationSettings old = *store.preset("Old");
    QCOMPARE(old.samples, 2);
    const GenerationSettings defaults;
    QCOMPARE(old.temperature, defaults.temperature);
    QCOMPARE(old.topP, defaults.topP);
    QCOMPARE(old.repetitionPenalty, defaults.repetitionPenalty);
    QCOMPARE(old.proposalGuidance, 1.0);  // off: the settings the preset was saved with
    QCOMPARE(old.planContrast, dglm::PlanContrast::Unplanned);
    QCOMPARE(old.drafts, 1);
    QCOMPARE(defaults.temperature, double(dglm::DecodingParams{}.temperature));
    QCOMPARE(defaults.topP, 0.9);  // the core's 0.9f as typed, not 0.89999997615814209
  }

  void summaryNamesOnlyKnobsThatDifferFromTheDefaults() {
    const QString plain = GenerationSettings{}.summary();
    QVERIFY2(!plain.contains("T ") && !plain.contains("plan guidance") && !plain.contains("drafts"), qPrintable(plain));
    // Away from the writer's defaults in the other direction: the published method.
    GenerationSettings published;
    published.proposalGuidance = 1;
    published.drafts = 1;
    const QString publishedSummary = published.summary();
    QVERIFY2(publishedSummary.contains("no plan guidance") && publishedSummary.contains("one draft") &&
                 !publishedSummary.contains("reversed"),
             qPrintable(publishedSummary));
    published.proposalGuidance = 2;
    published.planContrast = dglm::PlanContrast::Unplanned;
    QVERIFY2(published.summary().contains("plan guidance 2 against no plan"), qPrintable(published.summary()));
    const QString summary = steered().summary();
    QVERIFY2(summary.contains("T 0.8") && summary.contains("top-p 0.95") && summary.contains("repetition 1.3") &&
                 summary.contains("plan guidance 3 against the sliders reversed") &&
                 summary.contains("best of 3 drafts"),
             qPrintable(summary));
  }

  void unknownFieldsKeepDefaults() {
    const GenerationSettings settings = GenerationSettings::fromJson(QJsonObject{{"samples", "many"}, {"cfg", 3}});
    QCOMPARE(settings.samples, GenerationSettings{}.samples);
    QCOMPARE(settings.cfg, 3.0);
    // A hand-edited draft count outside what the core accepts is clamped, not passed on to fail later.
    QCOMPARE(GenerationSettings::fromJson(QJsonObject{{"drafts", 0}}).drafts, 1);
    QCOMPARE(GenerationSettings::fromJson(QJsonObject{{"drafts", 500}}).drafts, dglm::kMaxDrafts);
  }
};

QTEST_GUILESS_MAIN(TestPresets)
#include "test_presets.moc"
