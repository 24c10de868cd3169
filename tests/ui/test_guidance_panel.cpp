// SPDX-License-Identifier: GPL-3.0-or-later
#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QSignalSpy>
#include <QSlider>
#include <QSpinBox>
#include <QTest>

#include "guidance/GuidancePanel.h"
#include "plot/RunningPerplexity.h"

class TestGuidancePanel : public QObject {
  Q_OBJECT

 private:
  static QVector<ProbeDescription> probes() {
    return {{"sentiment", "Positive vs negative", {"negative", "positive"}},
            {"topic", "News topic", {"world", "sports", "business", "science"}}};
  }

 private slots:
  void oneRowPerProbeWithClassPickerOnlyForMultiClass() {
    GuidancePanel panel;
    panel.setProbes(probes());
    QCOMPARE(panel.probeRows().size(), 2);
    QVERIFY(panel.probeRows()[0]->classPicker() == nullptr);
    QVERIFY(panel.probeRows()[1]->classPicker() != nullptr);
    QCOMPARE(panel.probeRows()[1]->classPicker()->count(), 4);
    QVERIFY(panel.settings().guides.isEmpty());  // all sliders start at zero
  }

  void sliderSnapsToZeroNearTheMiddleAndDrivesTheSpinBox() {
    GuidancePanel panel;
    panel.setProbes(probes());
    ProbeGuideRow* row = panel.probeRows()[0];
    row->slider()->setValue(ProbeGuideRow::kDetentSteps);
    QCOMPARE(row->slider()->value(), 0);
    QCOMPARE(row->spinBox()->value(), 0.0);

    // Quadratic: a tenth of the way out is a weight of 3, the ends are the maximum, both signs.
    row->slider()->setValue(ProbeGuideRow::kSliderSteps / 10);
    QCOMPARE(row->spinBox()->value(), 3.0);
    row->slider()->setValue(-ProbeGuideRow::kSliderSteps);
    QCOMPARE(row->spinBox()->value(), -ProbeGuideRow::kMaxWeight);
    row->slider()->setValue(ProbeGuideRow::positionOf(30));
    QVERIFY(qAbs(row->spinBox()->value() - 30) < 0.1);

    // Typed values are exact, even inside the detent, and move the slider to where they lie.
    row->spinBox()->setValue(0.1);
    QCOMPARE(panel.settings().guides.size(), 1);
    QCOMPARE(panel.settings().guides[0].weight, 0.1);
    row->spinBox()->setValue(-100);
    QCOMPARE(panel.settings().guides[0].weight, -100.0);
    QCOMPARE(row->slider()->value(), ProbeGuideRow::positionOf(-100));
    QVERIFY(row->slider()->value() < -ProbeGuideRow::kSliderSteps / 2);
  }

  void settingsRoundTripAndReset() {
    GuidancePanel panel;
    panel.setProbes(probes());
    QSignalSpy changed(&panel, &GuidancePanel::settingsChanged);

    GenerationSettings wanted;
    wanted.samples = 3;
    wanted.maxNewTokens = 20;
    wanted.sigma2 = 0.4;
    wanted.proposalGuidance = 2.5;
    wanted.planContrast = dglm::PlanContrast::Unplanned;
    wanted.drafts = 3;
    wanted.cfg = 2.0;
    wanted.steps = 25;
    wanted.seed = 7;
    wanted.temperature = 0.7;
    wanted.topP = 0.95;
    wanted.repetitionPenalty = 1.1;
    wanted.guides = {{"sentiment", 1.5, ""}, {"topic", -2.0, "sports"}};
    panel.setSettings(wanted);
    QCOMPARE(panel.settings(), wanted);
    QVERIFY(changed.count() > 0);

    // The contrast is offered only while plan guidance is on.
    auto* contrast = panel.findChild<QCheckBox*>("planContrast");
    QVERIFY(contrast && contrast->isEnabled() && !contrast->isChecked());
    panel.findChild<QDoubleSpinBox*>("proposalGuidance")->setValue(1.0);
    QVERIFY(!contrast->isEnabled());

    // The writer's defaults: plan guidance 2 against the sliders reversed, best of 4 drafts.
    panel.resetToDefaults();
    QCOMPARE(panel.settings(), GenerationSettings{});
    QVERIFY(contrast->isEnabled() && contrast->isChecked());
    QCOMPARE(panel.findChild<QDoubleSpinBox*>("proposalGuidance")->value(), 2.0);
    QCOMPARE(panel.findChild<QSpinBox*>("drafts")->value(), 4);
    QCOMPARE(panel.probeRows()[1]->classPicker()->currentText(), QString("science"));
  }

  void decodingControlsExplainThemselvesAndDriveTheSettings() {
    GuidancePanel panel;
    QSignalSpy changed(&panel, &GuidancePanel::settingsChanged);
    const GenerationSettings defaults;
    struct Control {
      const char* name;
      double defaultValue;
      double GenerationSettings::*field;
    };
    for (const Control& control : {Control{"temperature", defaults.temperature, &GenerationSettings::temperature},
                                   Control{"topP", defaults.topP, &GenerationSettings::topP},
                                   Control{"repetitionPenalty", defaults.repetitionPenalty,
                                           &GenerationSettings::repetitionPenalty}}) {
      auto* box = panel.findChild<QDoubleSpinBox*>(control.name);
      QVERIFY2(box, control.name);
      QVERIFY2(!box->toolTip().isEmpty(), control.name);
      QCOMPARE(box->value(), control.defaultValue);
      QVERIFY2(box->minimum() > 0, control.name);  // the core rejects 0 for all three
      changed.clear();
      box->setValue(control.defaultValue - 0.05);
      QCOMPARE(changed.count(), 1);
      QCOMPARE(panel.settings().*control.field, control.defaultValue - 0.05);
    }
    QCOMPARE(panel.findChild<QDoubleSpinBox*>("topP")->maximum(), 1.0);
    panel.resetToDefaults();
    QCOMPARE(panel.settings(), defaults);
  }

  void tokenLimitClampsTheCountAndSaysWhy() {
    GuidancePanel panel;
    auto* tokens = panel.findChild<QSpinBox*>("tokens");
    QVERIFY(tokens);
    GenerationSettings settings;
    settings.maxNewTokens = 200;
    panel.setSettings(settings);
    QCOMPARE(panel.settings().maxNewTokens, 200);

    panel.setMaxNewTokensLimit(119, "At most 119 with this model");
    QCOMPARE(panel.settings().maxNewTokens, 119);
    QCOMPARE(tokens->maximum(), 119);
    QVERIFY(tokens->toolTip().contains("At most 119 with this model"));
    panel.setSettings(settings);  // a preset asking for more gets the most the model allows
    QCOMPARE(panel.settings().maxNewTokens, 119);
  }

  void newModelKeepsGuidesOfProbesItStillHas() {
    GuidancePanel panel;
    panel.setProbes(probes());
    GenerationSettings settings;
    settings.guides = {{"sentiment", 1.0, ""}, {"topic", 2.0, "world"}};
    panel.setSettings(settings);
    panel.setProbes({probes()[0]});
    QCOMPARE(panel.settings().guides.size(), 1);
    QCOMPARE(panel.settings().guides[0].probe, QString("sentiment"));
  }

  void runningPerplexityIsExpOfMeanNegativeLogprob() {
    RunningPerplexity perplexity;
    QCOMPARE(perplexity.value(), 0.0);
    QVERIFY(qFuzzyCompare(perplexity.add(std::log(0.5)), 2.0));
    QVERIFY(qFuzzyCompare(perplexity.add(std::log(0.125)), 4.0));  // exp((ln 2 + ln 8) / 2) = 4
    QCOMPARE(perplexity.tokens(), 2);
  }
};

QTEST_MAIN(TestGuidancePanel)
#include "test_guidance_panel.moc"
