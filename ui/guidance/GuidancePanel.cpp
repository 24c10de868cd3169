// SPDX-License-Identifier: GPL-3.0-or-later
#include "guidance/GuidancePanel.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QSignalBlocker>
#include <QSlider>
#include <QSpinBox>
#include <QVBoxLayout>
#include <climits>
#include <cmath>

namespace {
constexpr int kSigma2SliderSteps = 100;  // sigma² in [0, 1] at 0.01 resolution
constexpr int kMaxTokensWithoutModel = 512;

QString tokensToolTip() { return GuidancePanel::tr("Maximum number of new tokens per continuation"); }
}  // namespace

ProbeGuideRow::ProbeGuideRow(const ProbeDescription& probe, QWidget* parent) : QWidget(parent), probe_(probe) {
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 4, 0, 4);

  const QString away = probe.classes.size() == 2 ? probe.classes.front() : tr("away");
  const QString towards = probe.classes.size() == 2 ? probe.classes.back() : tr("towards");
  auto* title = new QLabel(QStringLiteral("<b>%1</b>  <small>%2 ◀ ▶ %3</small>")
                               .arg(probe.name.toHtmlEscaped(), away.toHtmlEscaped(), towards.toHtmlEscaped()));
  title->setToolTip(probe.description);
  auto* titleRow = new QHBoxLayout;
  titleRow->addWidget(title, 1);
  layout->addLayout(titleRow);

  auto* controls = new QHBoxLayout;
  slider_ = new QSlider(Qt::Horizontal);
  slider_->setRange(-kSliderSteps, kSliderSteps);
  slider_->setTickPosition(QSlider::TicksBelow);
  slider_->setTickInterval(kSliderSteps);  // ticks at -max, 0, +max: the zero detent is visible
  slider_->setToolTip(tr("Negative: away from the class, positive: towards it. Fine steps near the middle, where "
                         "it snaps to 0; up to %1 at the ends.").arg(kMaxWeight));
  slider_->setAccessibleName(tr("%1 guidance weight").arg(probe.name));
  controls->addWidget(slider_, 1);

  spinBox_ = new QDoubleSpinBox;
  spinBox_->setRange(-kMaxWeight, kMaxWeight);
  spinBox_->setSingleStep(1);
  spinBox_->setDecimals(2);
  spinBox_->setAccessibleName(tr("%1 guidance weight value").arg(probe.name));
  controls->addWidget(spinBox_);

  if (probe.classes.size() > 2) {
    classPicker_ = new QComboBox;
    classPicker_->addItems(probe.classes);
    classPicker_->setCurrentIndex(int(probe.classes.size()) - 1);
    classPicker_->setToolTip(tr("The class the weight steers towards (or away from, when negative)"));
    titleRow->addWidget(classPicker_);  // on the title line, so that all sliders have the same width
    connect(classPicker_, &QComboBox::currentIndexChanged, this, &ProbeGuideRow::changed);
  }
  layout->addLayout(controls);

  connect(slider_, &QSlider::valueChanged, this, &ProbeGuideRow::onSliderMoved);
  connect(spinBox_, &QDoubleSpinBox::valueChanged, this, &ProbeGuideRow::onSpinBoxChanged);
}

ProbeGuide ProbeGuideRow::guide() const {
  return ProbeGuide{probe_.name, spinBox_->value(), classPicker_ ? classPicker_->currentText() : QString()};
}

void ProbeGuideRow::setGuide(double weight, const QString& targetClass) {
  spinBox_->setValue(weight);  // moves the slider through onSpinBoxChanged
  if (classPicker_) {
    const int index = targetClass.isEmpty() ? classPicker_->count() - 1 : classPicker_->findText(targetClass);
    if (index >= 0) classPicker_->setCurrentIndex(index);
  }
}

void ProbeGuideRow::onSliderMoved(int position) {
  if (position != 0 && std::abs(position) <= kDetentSteps) {
    slider_->setValue(0);  // re-enters this slot with 0
    return;
  }
  const QSignalBlocker blocker(spinBox_);
  spinBox_->setValue(weightAt(position));
  emit changed();
}

void ProbeGuideRow::onSpinBoxChanged(double weight) {
  // Numeric entry is exact: the slider follows without its detent pulling small weights to zero.
  const QSignalBlocker blocker(slider_);
  slider_->setValue(positionOf(weight));
  emit changed();
}

double ProbeGuideRow::weightAt(int position) {
  const double fraction = double(position) / kSliderSteps;
  return std::copysign(kMaxWeight * fraction * fraction, fraction);
}

int ProbeGuideRow::positionOf(double weight) {
  return int(std::lround(std::copysign(kSliderSteps * std::sqrt(std::abs(weight) / kMaxWeight), weight)));
}

GuidancePanel::GuidancePanel(QWidget* parent) : QWidget(parent) {
  auto* layout = new QVBoxLayout(this);

  auto* probeBox = new QGroupBox(tr("Steer with probes"));
  probeLayout_ = new QVBoxLayout(probeBox);
  noProbesLabel_ = new QLabel(tr("Open a model to steer with its probes."));
  noProbesLabel_->setWordWrap(true);
  probeLayout_->addWidget(noProbesLabel_);
  layout->addWidget(probeBox);

  auto* samplingBox = new QGroupBox(tr("Sampling"));
  auto* form = new QFormLayout(samplingBox);

  auto* sigma2Row = new QHBoxLayout;
  sigma2Slider_ = new QSlider(Qt::Horizontal);
  sigma2Slider_->setRange(0, kSigma2SliderSteps);
  sigma2Slider_->setAccessibleName(tr("sigma squared"));
  sigma2Value_ = new QLabel;
  sigma2Value_->setMinimumWidth(sigma2Value_->fontMetrics().horizontalAdvance(QStringLiteral("0.00 ")));
  sigma2Row->addWidget(sigma2Slider_, 1);
  sigma2Row->addWidget(sigma2Value_);
  form->addRow(tr("σ²"), sigma2Row);
  auto* sigma2Help = new QLabel(tr("How freely the text may drift from the steered plan: 0 follows it, 1 ignores it."));
  sigma2Help->setWordWrap(true);
  form->addRow(sigma2Help);
  connect(sigma2Slider_, &QSlider::valueChanged, this, [this](int position) {
    sigma2Value_->setText(QString::number(double(position) / kSigma2SliderSteps, 'f', 2));
    emit settingsChanged();
  });

  proposalGuidance_ = new QDoubleSpinBox;
  proposalGuidance_->setObjectName(QStringLiteral("proposalGuidance"));
  proposalGuidance_->setRange(0.0, double(dglm::kMaxProposalGuidance));
  proposalGuidance_->setSingleStep(0.5);
  proposalGuidance_->setAccessibleName(tr("plan guidance"));
  proposalGuidance_->setToolTip(tr("Each word is chosen as if the plan mattered this many times as much: 1 is the "
                                   "method as published and off; 0 writes as if there were no plan"));
  form->addRow(tr("Plan guidance"), proposalGuidance_);
  againstReversed_ = new QCheckBox(tr("against the sliders reversed"));
  againstReversed_->setObjectName(QStringLiteral("planContrast"));
  againstReversed_->setToolTip(
      tr("Contrast each plan with the plan of the same noise steered the other way (every slider reversed), "
         "not with no plan: the words show what the sliders changed, about twice as far, but vary less and, "
         "at plan guidance 3, repeat what marks the direction most. The plan is sampled twice. Needs plan "
         "guidance other than 1; with every slider at 0 there is nothing to contrast, and the words are written "
         "as without plan guidance."));
  form->addRow(againstReversed_);

  drafts_ = new QSpinBox;
  drafts_->setObjectName(QStringLiteral("drafts"));
  drafts_->setRange(1, dglm::kMaxDrafts);
  drafts_->setAccessibleName(tr("drafts per continuation"));
  drafts_->setToolTip(tr("Write each plan this many times and show the version that follows it most closely: the "
                         "sliders show more, without less fluent words. Each draft takes one more decoding, and "
                         "the words appear once the drafts are compared; 1 is off, the method as published."));
  form->addRow(tr("Drafts"), drafts_);
  const GenerationSettings defaults;
  auto* followPlanHelp = new QLabel(
      tr("How closely the words follow what the sliders put in the plan. The defaults (%1 against the sliders "
         "reversed, best of %2 drafts) make a slider show in the words; plan guidance 1 and one draft are the "
         "method as published: faster, the words appear as they are written, and a slider shows mostly in the "
         "plan. Plan guidance 3 shows more, less fluently.")
          .arg(defaults.proposalGuidance)
          .arg(defaults.drafts));
  followPlanHelp->setWordWrap(true);
  form->addRow(followPlanHelp);

  samples_ = new QSpinBox;
  samples_->setRange(1, 16);
  samples_->setToolTip(tr("How many alternative continuations to write at once"));
  form->addRow(tr("Samples K"), samples_);

  tokens_ = new QSpinBox;
  tokens_->setObjectName(QStringLiteral("tokens"));
  tokens_->setRange(1, kMaxTokensWithoutModel);
  tokens_->setToolTip(tokensToolTip());
  form->addRow(tr("Tokens"), tokens_);

  cfg_ = new QDoubleSpinBox;
  cfg_->setRange(0.0, 10.0);
  cfg_->setSingleStep(0.25);
  cfg_->setToolTip(tr("Classifier-free guidance on the prefix; 1 is off and twice as fast. Above 1 the plan "
                      "follows the prefix more and the sliders less: keep it at 1 when steering."));
  form->addRow(tr("CFG"), cfg_);

  steps_ = new QSpinBox;
  steps_->setRange(1, 1000);
  steps_->setToolTip(tr("Diffusion sampling steps: fewer is faster, more is smoother"));
  form->addRow(tr("Steps"), steps_);

  seed_ = new QSpinBox;
  seed_->setRange(0, INT_MAX);
  seed_->setToolTip(tr("Same seed and settings give the same text"));
  form->addRow(tr("Seed"), seed_);
  layout->addWidget(samplingBox);

  // How the decoder picks each token once the plan is made; the core requires all three to be > 0.
  auto* decodingBox = new QGroupBox(tr("Decoding"));
  auto* decodingForm = new QFormLayout(decodingBox);
  const auto addDecodingBox = [&](const QString& label, const QString& name, double minimum, double maximum,
                                  double step, const QString& toolTip) {
    auto* box = new QDoubleSpinBox;
    box->setObjectName(name);
    box->setRange(minimum, maximum);
    box->setSingleStep(step);
    box->setDecimals(2);
    box->setToolTip(toolTip);
    connect(box, &QDoubleSpinBox::valueChanged, this, &GuidancePanel::settingsChanged);
    decodingForm->addRow(label, box);
    return box;
  };
  temperature_ = addDecodingBox(tr("Temperature"), QStringLiteral("temperature"), 0.05, 5.0, 0.05,
                                tr("Below 1: safer, more predictable words; above 1: more surprising ones"));
  topP_ = addDecodingBox(tr("Top-p"), QStringLiteral("topP"), 0.01, 1.0, 0.05,
                         tr("Sample only from the most likely tokens that together hold this much probability; "
                            "1 considers every token"));
  repetitionPenalty_ =
      addDecodingBox(tr("Repetition penalty"), QStringLiteral("repetitionPenalty"), 0.5, 3.0, 0.05,
                     tr("Above 1: tokens already in the prefix or continuation become less likely; 1 is off"));
  layout->addWidget(decodingBox);

  auto* reset = new QPushButton(tr("Reset to defaults"));
  connect(reset, &QPushButton::clicked, this, &GuidancePanel::resetToDefaults);
  layout->addWidget(reset);
  layout->addStretch(1);

  for (QSpinBox* box : {drafts_, samples_, tokens_, steps_, seed_}) {
    connect(box, &QSpinBox::valueChanged, this, &GuidancePanel::settingsChanged);
  }
  for (QDoubleSpinBox* box : {proposalGuidance_, cfg_}) {
    connect(box, &QDoubleSpinBox::valueChanged, this, &GuidancePanel::settingsChanged);
  }
  connect(againstReversed_, &QCheckBox::toggled, this, &GuidancePanel::settingsChanged);
  // The contrast matters only while plan guidance is on.
  connect(proposalGuidance_, &QDoubleSpinBox::valueChanged, this,
          [this](double weight) { againstReversed_->setEnabled(weight != 1); });
  resetToDefaults();
}

void GuidancePanel::setProbes(const QVector<ProbeDescription>& probes) {
  const GenerationSettings kept = settings();
  qDeleteAll(probeRows_);
  probeRows_.clear();
  for (const ProbeDescription& probe : probes) {
    auto* row = new ProbeGuideRow(probe);
    connect(row, &ProbeGuideRow::changed, this, &GuidancePanel::settingsChanged);
    probeLayout_->addWidget(row);
    probeRows_.append(row);
  }
  noProbesLabel_->setText(tr("This model has no probes. Train one with Probes ▸ Train a probe from a CSV file."));
  noProbesLabel_->setVisible(probes.isEmpty());
  setSettings(kept);
}

GenerationSettings GuidancePanel::settings() const {
  GenerationSettings settings;
  settings.samples = samples_->value();
  settings.maxNewTokens = tokens_->value();
  settings.sigma2 = double(sigma2Slider_->value()) / kSigma2SliderSteps;
  settings.proposalGuidance = proposalGuidance_->value();
  settings.planContrast = againstReversed_->isChecked() ? dglm::PlanContrast::Opposite : dglm::PlanContrast::Unplanned;
  settings.drafts = drafts_->value();
  settings.cfg = cfg_->value();
  settings.steps = steps_->value();
  settings.seed = quint64(seed_->value());
  settings.temperature = temperature_->value();
  settings.topP = topP_->value();
  settings.repetitionPenalty = repetitionPenalty_->value();
  for (const ProbeGuideRow* row : probeRows_) {
    const ProbeGuide guide = row->guide();
    if (guide.weight != 0) settings.guides.append(guide);
  }
  return settings;
}

void GuidancePanel::setSettings(const GenerationSettings& settings) {
  samples_->setValue(settings.samples);
  tokens_->setValue(settings.maxNewTokens);
  setSigma2(settings.sigma2);
  proposalGuidance_->setValue(settings.proposalGuidance);
  againstReversed_->setChecked(settings.planContrast == dglm::PlanContrast::Opposite);
  drafts_->setValue(settings.drafts);
  cfg_->setValue(settings.cfg);
  steps_->setValue(settings.steps);
  seed_->setValue(int(qMin<quint64>(settings.seed, INT_MAX)));
  temperature_->setValue(settings.temperature);
  topP_->setValue(settings.topP);
  repetitionPenalty_->setValue(settings.repetitionPenalty);
  for (ProbeGuideRow* row : probeRows_) {
    ProbeGuide wanted{row->probeName(), 0, {}};
    for (const ProbeGuide& guide : settings.guides) {
      if (guide.probe == row->probeName()) wanted = guide;
    }
    row->setGuide(wanted.weight, wanted.targetClass);
  }
}

void GuidancePanel::resetToDefaults() { setSettings(GenerationSettings{}); }

void GuidancePanel::setMaxNewTokensLimit(int limit, const QString& reason) {
  tokens_->setMaximum(limit);  // a larger value is clamped, and settingsChanged follows
  tokens_->setToolTip(QStringLiteral("%1\n%2").arg(tokensToolTip(), reason));
}

void GuidancePanel::setSigma2(double sigma2) {
  sigma2Slider_->setValue(int(std::lround(sigma2 * kSigma2SliderSteps)));
  sigma2Value_->setText(QString::number(double(sigma2Slider_->value()) / kSigma2SliderSteps, 'f', 2));
}
