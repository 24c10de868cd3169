// SPDX-License-Identifier: GPL-3.0-or-later
#include "guidance/GenerationSettings.h"

#include <QJsonArray>

namespace {

int intOr(const QJsonObject& json, const char* key, int fallback) {
  const QJsonValue value = json.value(QLatin1String(key));
  return value.isDouble() ? value.toInt(fallback) : fallback;
}

double doubleOr(const QJsonObject& json, const char* key, double fallback) {
  const QJsonValue value = json.value(QLatin1String(key));
  return value.isDouble() ? value.toDouble() : fallback;
}

}  // namespace

QJsonObject GenerationSettings::toJson() const {
  QJsonArray guideArray;
  for (const ProbeGuide& guide : guides) {
    guideArray.append(QJsonObject{{"probe", guide.probe}, {"weight", guide.weight}, {"class", guide.targetClass}});
  }
  // The seed is stored as a string: JSON numbers are doubles and lose 64-bit integers above 2^53.
  return QJsonObject{{"samples", samples},
                     {"max_new_tokens", maxNewTokens},
                     {"sigma2", sigma2},
                     {"proposal_guidance", proposalGuidance},
                     {"plan_contrast", QString(dglm::to_string(planContrast))},
                     {"drafts", drafts},
                     {"cfg", cfg},
                     {"steps", steps},
                     {"seed", QString::number(seed)},
                     {"temperature", temperature},
                     {"top_p", topP},
                     {"repetition_penalty", repetitionPenalty},
                     {"guides", guideArray}};
}

GenerationSettings GenerationSettings::fromJson(const QJsonObject& json) {
  GenerationSettings settings;
  settings.samples = intOr(json, "samples", settings.samples);
  settings.maxNewTokens = intOr(json, "max_new_tokens", settings.maxNewTokens);
  settings.sigma2 = doubleOr(json, "sigma2", settings.sigma2);
  const dglm::GenerateParams published;
  settings.proposalGuidance = doubleOr(json, "proposal_guidance", asTypedDecimal(published.proposal_guidance));
  settings.planContrast =
      json.value("plan_contrast").toString() == QLatin1String(dglm::to_string(dglm::PlanContrast::Opposite))
          ? dglm::PlanContrast::Opposite
          : dglm::PlanContrast::Unplanned;
  settings.drafts = qBound(1, intOr(json, "drafts", published.drafts), dglm::kMaxDrafts);
  settings.cfg = doubleOr(json, "cfg", settings.cfg);
  settings.steps = intOr(json, "steps", settings.steps);
  bool seedOk = false;
  const quint64 seed = json.value("seed").toString().toULongLong(&seedOk);
  if (seedOk) settings.seed = seed;
  settings.temperature = doubleOr(json, "temperature", settings.temperature);
  settings.topP = doubleOr(json, "top_p", settings.topP);
  settings.repetitionPenalty = doubleOr(json, "repetition_penalty", settings.repetitionPenalty);
  for (const QJsonValue& value : json.value("guides").toArray()) {
    const QJsonObject object = value.toObject();
    ProbeGuide guide{object.value("probe").toString(), object.value("weight").toDouble(),
                     object.value("class").toString()};
    if (!guide.probe.isEmpty()) settings.guides.append(guide);
  }
  return settings;
}

QString GenerationSettings::summary() const {
  QStringList parts{QStringLiteral("K %1").arg(samples), QStringLiteral("%1 tokens").arg(maxNewTokens),
                    QStringLiteral("σ² %1").arg(sigma2, 0, 'g', 3)};
  const GenerationSettings defaults;
  // The contrast matters only while plan guidance is on.
  if (proposalGuidance != defaults.proposalGuidance ||
      (proposalGuidance != 1 && planContrast != defaults.planContrast)) {
    const QString against = planContrast == dglm::PlanContrast::Opposite ? QStringLiteral("the sliders reversed")
                                                                         : QStringLiteral("no plan");
    parts << (proposalGuidance == 1
                  ? QStringLiteral("no plan guidance")
                  : QStringLiteral("plan guidance %1 against %2").arg(proposalGuidance, 0, 'g', 3).arg(against));
  }
  if (drafts != defaults.drafts)
    parts << (drafts == 1 ? QStringLiteral("one draft") : QStringLiteral("best of %1 drafts").arg(drafts));
  if (cfg != defaults.cfg) parts << QStringLiteral("CFG %1").arg(cfg, 0, 'g', 3);
  if (temperature != defaults.temperature) parts << QStringLiteral("T %1").arg(temperature, 0, 'g', 3);
  if (topP != defaults.topP) parts << QStringLiteral("top-p %1").arg(topP, 0, 'g', 3);
  if (repetitionPenalty != defaults.repetitionPenalty) {
    parts << QStringLiteral("repetition %1").arg(repetitionPenalty, 0, 'g', 3);
  }
  parts << QStringLiteral("seed %1").arg(seed);
  for (const ProbeGuide& guide : guides) {
    const QString target = guide.targetClass.isEmpty() ? QString() : QStringLiteral(" → %1").arg(guide.targetClass);
    parts << QStringLiteral("%1 %2%3").arg(guide.probe).arg(guide.weight, 0, 'f', 2).arg(target);
  }
  return parts.join(QStringLiteral(" · "));
}

int scoredClassIndex(const ProbeDescription& probe, const GenerationSettings& settings) {
  for (const ProbeGuide& guide : settings.guides) {
    if (guide.probe == probe.name && !guide.targetClass.isEmpty()) {
      const int index = int(probe.classes.indexOf(guide.targetClass));
      if (index >= 0) return index;
    }
  }
  return int(probe.classes.size()) - 1;
}

std::optional<double> classProbability(const std::map<std::string, std::vector<float>>& scores,
                                       const QString& probe, int index) {
  const auto found = scores.find(probe.toStdString());
  if (found == scores.end() || index < 0 || index >= int(found->second.size())) return std::nullopt;
  return found->second[size_t(index)];
}
