// SPDX-License-Identifier: GPL-3.0-or-later
// The steering controls: one signed slider per probe of the loaded model, sigma², the sampling knobs and the
// decoder's temperature, top-p and repetition penalty.
#pragma once

#include <QVector>
#include <QWidget>

#include "guidance/GenerationSettings.h"

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QSlider;
class QSpinBox;
class QVBoxLayout;

// One probe: a slider with a zero detent for quick moves, a spin box for exact numbers, and for probes
// with more than two classes a picker for the class to steer towards.
class ProbeGuideRow : public QWidget {
  Q_OBJECT

 public:
  // Measured on the default model (docs/EVALUATION.md): a weight of 3 already moves the topic, 30 steers it
  // clearly, and avoiding offensive language needs 100 to 300.
  static constexpr double kMaxWeight = 300.0;
  static constexpr int kSliderSteps = 1000;  // on each side of zero
  // Slider positions this close to zero snap to it, so "off" is easy to hit while dragging.
  static constexpr int kDetentSteps = 20;
  // The weight grows with the square of the slider position: fine steps near zero, the reach of kMaxWeight at
  // the ends.
  static double weightAt(int position);
  static int positionOf(double weight);

  ProbeGuideRow(const ProbeDescription& probe, QWidget* parent = nullptr);

  QString probeName() const { return probe_.name; }
  ProbeGuide guide() const;
  void setGuide(double weight, const QString& targetClass);

  QSlider* slider() const { return slider_; }
  QDoubleSpinBox* spinBox() const { return spinBox_; }
  QComboBox* classPicker() const { return classPicker_; }

 signals:
  void changed();

 private:
  void onSliderMoved(int position);
  void onSpinBoxChanged(double weight);

  ProbeDescription probe_;
  QSlider* slider_ = nullptr;
  QDoubleSpinBox* spinBox_ = nullptr;
  QComboBox* classPicker_ = nullptr;  // null for binary probes: they steer towards their last class
};

class GuidancePanel : public QWidget {
  Q_OBJECT

 public:
  explicit GuidancePanel(QWidget* parent = nullptr);

  // Rebuilds the probe rows for a newly loaded model; guides of probes it lacks are dropped.
  void setProbes(const QVector<ProbeDescription>& probes);
  QVector<ProbeGuideRow*> probeRows() const { return probeRows_; }

  GenerationSettings settings() const;
  // Values outside a control's range are clamped to it (the token count to the model's limit).
  void setSettings(const GenerationSettings& settings);

  // The most new tokens the loaded model can write, and why (shown in the token count's tooltip).
  void setMaxNewTokensLimit(int limit, const QString& reason);

 public slots:
  void resetToDefaults();

 signals:
  void settingsChanged();

 private:
  void setSigma2(double sigma2);

  QVBoxLayout* probeLayout_ = nullptr;
  QLabel* noProbesLabel_ = nullptr;
  QVector<ProbeGuideRow*> probeRows_;
  QSlider* sigma2Slider_ = nullptr;
  QLabel* sigma2Value_ = nullptr;
  QDoubleSpinBox* proposalGuidance_ = nullptr;
  QCheckBox* againstReversed_ = nullptr;  // plan guidance contrasts with the sliders reversed
  QSpinBox* drafts_ = nullptr;  // continuations per plan, the closest shown
  QSpinBox* samples_ = nullptr;
  QSpinBox* tokens_ = nullptr;
  QDoubleSpinBox* cfg_ = nullptr;
  QSpinBox* steps_ = nullptr;
  QSpinBox* seed_ = nullptr;
  QDoubleSpinBox* temperature_ = nullptr;
  QDoubleSpinBox* topP_ = nullptr;
  QDoubleSpinBox* repetitionPenalty_ = nullptr;
};
