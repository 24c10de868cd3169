// SPDX-License-Identifier: GPL-3.0-or-later
#include "worker/CoreTypes.h"

#include <QFileInfo>
#include <QObject>

#include "dglm/runtime.h"

void registerCoreMetaTypes() {
  qRegisterMetaType<dglm::GenerateParams>();
  qRegisterMetaType<dglm::GenerateResult>();
  qRegisterMetaType<dglm::RewriteParams>();
  qRegisterMetaType<dglm::ModelInfo>();
  qRegisterMetaType<DeviceChoice>();
  qRegisterMetaType<GenerationSettings>();
  qRegisterMetaType<ProbeTrainingRequest>();
  qRegisterMetaType<ProbeTrainingResult>();
}

dglm::Device resolveDevice(DeviceChoice choice) {
  switch (choice) {
    case DeviceChoice::Cpu: return dglm::Device::Cpu;
    case DeviceChoice::Cuda: return dglm::Device::Cuda;
    case DeviceChoice::Auto: break;
  }
  return dglm::cuda_available() ? dglm::Device::Cuda : dglm::Device::Cpu;
}

dglm::GenerateParams toGenerateParams(const QString& prefix, const GenerationSettings& settings) {
  dglm::GenerateParams params;
  params.prefix = prefix.toStdString();
  params.samples = settings.samples;
  params.max_new_tokens = settings.maxNewTokens;
  params.sigma2 = float(settings.sigma2);
  params.proposal_guidance = float(settings.proposalGuidance);
  params.contrast = settings.planContrast;
  params.drafts = settings.drafts;
  params.cfg = float(settings.cfg);
  params.steps = settings.steps;
  params.seed = settings.seed;
  params.decoding.temperature = float(settings.temperature);
  params.decoding.top_p = float(settings.topP);
  params.decoding.repetition_penalty = float(settings.repetitionPenalty);
  params.decoding.alternatives = kTokenAlternatives;
  for (const ProbeGuide& guide : settings.guides) {
    params.guides.push_back({guide.probe.toStdString(), float(guide.weight), guide.targetClass.toStdString()});
  }
  return params;
}

QVector<ProbeDescription> probeDescriptions(const dglm::ModelInfo& info) {
  QVector<ProbeDescription> probes;
  for (const dglm::ProbeInfo& probe : info.probes) {
    QStringList classes;
    for (const std::string& name : probe.classes) classes << QString::fromStdString(name);
    probes.append({QString::fromStdString(probe.name), QString::fromStdString(probe.description), classes});
  }
  return probes;
}

QString describeCoreError(const dglm::Error& error) {
  const dglm::Location& where = error.where();
  QStringList place;
  if (!where.file.empty()) place << QFileInfo(QString::fromStdString(where.file)).fileName();
  if (where.line > 0) place << QObject::tr("line %1").arg(where.line);
  if (where.column > 0) place << QObject::tr("column %1").arg(where.column);
  QString text = place.join(QStringLiteral(", "));
  if (!where.field.empty()) text += QStringLiteral(" (%1)").arg(QString::fromStdString(where.field));
  const QString message = QString::fromStdString(error.message());
  return text.isEmpty() ? message : text + QStringLiteral(": ") + message;
}
