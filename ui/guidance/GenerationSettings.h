// SPDX-License-Identifier: GPL-3.0-or-later
// The knobs of one generation as the UI sees them: a Qt value type that presets, history and the guidance
// panel share. Defaults come from dglm::GenerateParams so that the UI and the core never disagree, except in how
// closely the words follow a steered plan (below).
#pragma once

#include <QJsonObject>
#include <QMetaType>
#include <QString>
#include <QStringList>
#include <QVector>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "dglm/generator.h"

struct ProbeGuide {
  QString probe;
  double weight = 0;
  QString targetClass;  // empty: the probe's last class

  bool operator==(const ProbeGuide& other) const {
    return probe == other.probe && weight == other.weight && targetClass == other.targetClass;
  }
};

// The core's float defaults as the decimals a user would type (0.05f is 0.0500000007 as a double).
inline double asTypedDecimal(float value) { return QString::number(double(value), 'g', 7).toDouble(); }

struct GenerationSettings {
  int samples = dglm::GenerateParams{}.samples;
  int maxNewTokens = dglm::GenerateParams{}.max_new_tokens;
  double sigma2 = asTypedDecimal(dglm::GenerateParams{}.sigma2);
  // The writer's defaults make a slider show in the words, where the published method (plan guidance 1, one
  // draft: the core's and the command line's defaults) mostly shows it in the plan: on the default model sentiment
  // +30 writes 84 % of its texts positive against 44 %, as fluent to the scorer as unguided ones (docs/EVALUATION.md,
  // "The writer's defaults"). With every slider at 0 the contrast has nothing to amplify.
  double proposalGuidance = 2;
  dglm::PlanContrast planContrast = dglm::PlanContrast::Opposite;  // what plan guidance contrasts the plan with
  int drafts = 4;  // continuations written per plan; the closest is kept
  double cfg = asTypedDecimal(dglm::GenerateParams{}.cfg);
  int steps = dglm::GenerateParams{}.steps;
  quint64 seed = dglm::GenerateParams{}.seed;
  // How the decoder samples each token (dglm::DecodingParams).
  double temperature = asTypedDecimal(dglm::DecodingParams{}.temperature);
  double topP = asTypedDecimal(dglm::DecodingParams{}.top_p);
  double repetitionPenalty = asTypedDecimal(dglm::DecodingParams{}.repetition_penalty);
  QVector<ProbeGuide> guides;  // only probes with a non-zero weight

  QJsonObject toJson() const;
  // Missing or mistyped fields keep their defaults (plan guidance and drafts: the published method's, which older
  // versions wrote with): presets written by older versions stay usable and mean what they meant.
  static GenerationSettings fromJson(const QJsonObject& json);
  // One line for a history row or tooltip, e.g. "K 4 · 32 tokens · σ² 0.05 · sentiment +2.0"; CFG, the
  // proposal guidance (and its contrast), drafts and the decoding knobs appear only when they differ from their
  // defaults.
  QString summary() const;

  bool operator==(const GenerationSettings& other) const {
    return samples == other.samples && maxNewTokens == other.maxNewTokens && sigma2 == other.sigma2 &&
           proposalGuidance == other.proposalGuidance && planContrast == other.planContrast && drafts == other.drafts &&
           cfg == other.cfg && steps == other.steps && seed == other.seed && temperature == other.temperature &&
           topP == other.topP && repetitionPenalty == other.repetitionPenalty && guides == other.guides;
  }
  bool operator!=(const GenerationSettings& other) const { return !(*this == other); }
};
Q_DECLARE_METATYPE(GenerationSettings)

// What the guidance panel needs to know about a probe of the loaded model.
struct ProbeDescription {
  QString name;
  QString description;
  QStringList classes;
};

// The class whose probability is reported for `probe` under `settings`: the class a guide steers towards, else
// the probe's last class (the one guidance uses when no class is named).
int scoredClassIndex(const ProbeDescription& probe, const GenerationSettings& settings);

// The probability of class `index` that `probe` gave in a candidate's scores (Candidate::probe_scores, of the text,
// or plan_scores, of the proposal); none when the probe or the class is not there.
std::optional<double> classProbability(const std::map<std::string, std::vector<float>>& scores,
                                       const QString& probe, int index);
